// Ring all-reduce: a reduce-scatter then an all-gather around the ring
// 0 -> 1 -> ... -> p-1 -> 0, each of 2(p-1) steps moving one chunk of n/p
// bytes per rank (Thakur, Rabenseifner & Gropp; formulas.md allreduce_ring).
//
// Chunking and pipelining: each chunk is cut into slices, and a slice moves
// on as soon as that same slice arrived from the previous step; there is no
// barrier between steps. Slices in flight on one link share it max-min
// fairly. On an idle uniform ring this gives exactly the closed form
// 2(p-1)a + 2(p-1)/p n b; on rings with uneven hops it lets fast hops run ahead.
#pragma once

#include "sim/collective/schedule.h"

namespace collsim::collective {

struct RingOptions {
  // Named defaults after NCCL's Simple protocol (nccl-model.md
  // protocol_structure): a 4 MiB buffer in NCCL_STEPS = 8 slots, so slices
  // of at least 512 KiB and at most 8 in flight per connection.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 8;
};

// REQUIRES: ranks >= 1, bytes >= 0.
Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options = {});

}  // namespace collsim::collective
