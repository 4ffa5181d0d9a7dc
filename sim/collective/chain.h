// Pipelined chain collectives (NCCL's ring broadcast and reduce): data flows
// along root -> root+1 -> ... -> root-1 (broadcast) or root+1 -> ... -> root
// (reduce), cut into slices; each rank forwards a slice as soon as it has it,
// and slices queue in order on each connection (FIFO), so the chain fills
// like a pipeline. Slices are NCCL's whole chunks of C bytes and then the
// remainder (schedule.h chunk_pieces); on an idle uniform chain of p-1 hops
// the time is (p-1)(a + C b) + (n - C) b (n >= C).
#pragma once

#include <vector>

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
