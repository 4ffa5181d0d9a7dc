// Pipelined chain collectives (NCCL's ring broadcast and reduce): data flows
// along root -> root+1 -> ... -> root-1 (broadcast) or root+1 -> ... -> root
// (reduce), cut into slices; each rank forwards a slice as soon as it has it,
// and slices queue in order on each connection (FIFO), so the chain fills
// like a pipeline. Slices are NCCL's whole chunks of C bytes and then the
// remainder (schedule.h chunk_pieces); on an idle uniform chain of p-1 hops
// the time is (p-1)(a + C b) + (n - C) b (n >= C).
#pragma once

#include <vector>

#include "sim/collective/protocol.h"
#include "sim/collective/schedule.h"

namespace collsim::collective {

struct ChainOptions {
  // Named defaults: slices of NCCL Simple's 512 KiB step (NCCL src/init.cc:
  // a 4 MiB buffer in 8 steps), but at most 256 per message so that the number of
  // simulated flows stays bounded; above 128 MiB slices grow instead.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 256;
  // Named default, when not pipelined: at most this many transfers in all
  // (channels x slices x hops, about 100 bytes each to hold); slices per
  // channel shrink to fit, so 72 channels over 9,216 ranks stay within memory.
  double max_transfers = 4e6;
  // The protocol the chain is built for. Simple forwards whole slices (its
  // step, above); LL and LL128 forward as their lines' flags arrive, so a
  // hop adds its latency and one unit, not a whole slice, and the chain's
  // throughput limit (LL's llMaxBw, plan.cc) sets the pace. LL: a warp's 32
  // lines of 8 data bytes, 256 B (src/device/prims_ll.h, as tree.h's
  // ll_line_bytes). LL128: one pass of its 20 warps (640 threads,
  // NCCL_LL128_MAX_NTHREADS) of 1,920 B each (src/device/prims_ll128.h),
  // 38,400 B. APPROXIMATION: across the network NCCL's proxy sends a whole
  // step once written (as for the tree). Whole slices made a 1 MiB LL
  // broadcast on 4 H100 nodes take 1,678 us, 12x the all-gather of the
  // same bytes (134 us), growing with the chain's length.
  Protocol protocol = Protocol::kNone;
  double ll_line_bytes = kLlWarpDataBytes;
  double ll128_pass_bytes = 20 * kLl128GrainBytes;
  // One slice's transfers repeated (Schedule::repeats), which backends cost
  // without holding slices x transfers; max_transfers then does not apply.
  // false: every slice written out (what expand() gives, when the slice
  // counts agree).
  bool pipelined = true;
};

// REQUIRES: ranks >= 1, 0 <= root < ranks, bytes >= 0.
Schedule chain_broadcast(int ranks, double bytes, int root, const ChainOptions& options = {});
Schedule chain_reduce(int ranks, double bytes, int root, const ChainOptions& options = {});

// The same over NCCL-style channels: one chain per ring of `orders` (each a
// permutation of 0..ranks-1, as ring.h rings_over_domains builds them),
// rotated to start (broadcast) or end (reduce) at the root, each carrying an
// equal share of the buffer in its own slices (at most max_slices each, and
// fewer when channels x slices x hops would exceed max_transfers).
// Across NVLink domains every GPU's NIC then carries one channel's hop, as
// for the all-reduce.
Schedule chain_broadcast_channels(int ranks, double bytes, int root, const std::vector<std::vector<int>>& orders,
                                  const ChainOptions& options = {});
Schedule chain_reduce_channels(int ranks, double bytes, int root, const std::vector<std::vector<int>>& orders,
                               const ChainOptions& options = {});

}  // namespace collsim::collective
