// Ring collectives around 0 -> 1 -> ... -> p-1 -> 0 (Thakur, Rabenseifner &
// Gropp; formulas.md allreduce_ring, allgather_ring):
//   all-reduce      2(p-1) steps: a reduce-scatter then an all-gather
//   reduce-scatter  p-1 steps, leaving chunk r fully reduced on rank r
//   all-gather      p-1 steps, each rank forwarding what it just received
// Each step moves one chunk of S/p bytes per rank (S as nccl-tests prints it).
//
// Chunking and pipelining: each chunk is cut into slices, and a slice moves
// on as soon as that same slice arrived from the previous step; there is no
// barrier between steps. Slices of one step share their link max-min fairly
// (they do not queue behind each other), so on an idle uniform ring the time
// is exactly the closed form (p-1 or 2(p-1)) x a + (bytes per rank) x b, with
// the step latency paid once per step, as in NCCL's own cost model.
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
Schedule ring_reducescatter(int ranks, double bytes, const RingOptions& options = {});
Schedule ring_allgather(int ranks, double bytes, const RingOptions& options = {});

}  // namespace collsim::collective
