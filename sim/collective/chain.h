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
  // a 4 MiB buffer in 8 steps; a broadcast's and a reduce's chunk is one
  // step, src/include/collectives.h BROADCAST_CHUNKSTEPS, REDUCE_CHUNKSTEPS).
  // Pipelined (one slice written, repeated), a chain keeps NCCL's steps
  // (and LL128's units, below) at any size, up to max_pipelined_slices per
  // channel (2^22: 2 TiB of 512 KiB steps; chunk ids stay within int): its
  // fill is NCCL's, one step through every hop. LL's 256-byte lines, at
  // most max_ll_slices: past that its units grow, and its fill with them,
  // by hops / max_ll_slices of the time (256 made a 1 GiB LL broadcast on
  // 512 ranks 3x NCCL's model; 4,096 keep it within 13%, and a test that
  // writes every unit out, 4 nodes at 1 GB, to a million transfers).
  // Where every slice is written out (not pipelined), at most max_slices
  // per channel, and fewer where channels x slices x hops would exceed
  // max_transfers.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 256;
  int max_pipelined_slices = 1 << 22;
  int max_ll_slices = 4096;
  // Named default: at most this many transfers written out in all
  // (channels x slices x hops, about 100 bytes each to hold), so 72
  // channels over 9,216 ranks stay within memory.
  double max_transfers = 4e6;
  // The NCCL ring channels (one CTA each) one chain stands for, sending
  // side by side: slices and the LL and LL128 units are that many channels'
  // (Schedule::chain_nccl_channels; the engine's rate inside an NVLink
  // domain, protocol.h ring_chain_channel_Bps). 0: unknown (a GPU NCCL's
  // tables lack), as 1 without that rate.
  double ctas_per_chain = 0;
  // The protocol the chain is built for. Simple forwards whole slices (its
  // step, above); LL and LL128 forward as their lines' flags arrive, so a
  // hop adds its latency and one unit, not a whole slice, and the chain's
  // throughput limit (LL's llMaxBw, plan.cc) sets the pace. LL: a warp's 32
  // lines of 8 data bytes, 256 B (src/device/prims_ll.h, as tree.h's
  // ll_line_bytes). LL128: one pass of its 20 warps (640 threads,
  // NCCL_LL128_MAX_NTHREADS) of 1,920 B each (src/device/prims_ll128.h),
  // 38,400 B. Across the network NCCL's proxy sends a whole step once
  // written, and inside a node a hop's pass is its latency: the engine
  // costs both (engine/plan.h chain_hop_latency_s). Whole slices made a 1 MiB LL
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
