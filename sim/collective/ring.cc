#include "sim/collective/ring.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options) {
  Schedule s;
  s.op = "allreduce";
  s.algo = "ring";
  s.ranks = ranks;
  s.bytes = bytes;
  s.chunks = ranks;
  if (ranks < 2) return s;  // nothing to exchange

  const double chunk_bytes = bytes / ranks;
  const int slices = std::clamp(static_cast<int>(std::ceil(chunk_bytes / options.min_slice_bytes)), 1,
                                std::max(1, options.max_slices));
  const double slice_bytes = chunk_bytes / slices;
  const int steps = 2 * (ranks - 1);

  // index(step, rank, slice) of the transfer rank -> rank+1 at that step.
  auto index = [&](int step, int rank, int slice) { return (step * ranks + rank) * slices + slice; };
  s.transfers.reserve(static_cast<std::size_t>(steps) * ranks * slices);
  for (int step = 0; step < steps; ++step) {
    for (int rank = 0; rank < ranks; ++rank) {
      // At step k rank r forwards chunk (r - k) mod p: the one it received at step k-1.
      const int chunk = ((rank - step) % ranks + ranks) % ranks;
      const int prev = (rank - 1 + ranks) % ranks;
      for (int slice = 0; slice < slices; ++slice) {
        Transfer t;
        t.src = rank;
        t.dst = (rank + 1) % ranks;
        t.bytes = slice_bytes;
        t.chunk = chunk;
        t.slice = slice;
        t.action = step < ranks - 1 ? Action::kReduce : Action::kCopy;
        if (step > 0) t.deps.push_back(index(step - 1, prev, slice));
        s.transfers.push_back(std::move(t));
      }
    }
  }
  return s;
}

}  // namespace collsim::collective
