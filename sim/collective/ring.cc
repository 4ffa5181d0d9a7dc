#include "sim/collective/ring.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

namespace {

int mod(int a, int p) { return ((a % p) + p) % p; }

// Appends `steps` ring steps. At step k rank r sends chunk (r - k + shift) mod p
// to rank r+1 (reducing for the first `reduce_steps` steps, copying after);
// each slice depends on the same slice arriving at r one step earlier.
void add_ring_steps(Schedule& s, int steps, int reduce_steps, int shift, const RingOptions& options) {
  const int p = s.ranks;
  const double chunk_bytes = s.bytes / p;
  const int slices = std::clamp(static_cast<int>(std::ceil(chunk_bytes / options.min_slice_bytes)), 1,
                                std::max(1, options.max_slices));
  auto index = [&](int step, int rank, int slice) { return (step * p + rank) * slices + slice; };
  s.transfers.reserve(static_cast<std::size_t>(steps) * p * slices);
  for (int step = 0; step < steps; ++step) {
    for (int rank = 0; rank < p; ++rank) {
      for (int slice = 0; slice < slices; ++slice) {
        Transfer t;
        t.src = rank;
        t.dst = mod(rank + 1, p);
        t.bytes = chunk_bytes / slices;
        t.chunk = mod(rank - step + shift, p);
        t.slice = slice;
        t.action = step < reduce_steps ? Action::kReduce : Action::kCopy;
        if (step > 0) t.deps.push_back(index(step - 1, mod(rank - 1, p), slice));
        s.transfers.push_back(std::move(t));
      }
    }
  }
}

Schedule empty_ring(const char* op, int ranks, double bytes) {
  Schedule s;
  s.op = op;
  s.algo = "ring";
  s.ranks = ranks;
  s.bytes = bytes;
  s.chunks = ranks;
  return s;
}

}  // namespace

Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("allreduce", ranks, bytes);
  // After p-1 reducing steps rank r holds chunk r+1 complete and forwards it.
  if (ranks > 1) add_ring_steps(s, 2 * (ranks - 1), ranks - 1, 0, options);
  return s;
}

Schedule ring_reducescatter(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("reducescatter", ranks, bytes);
  // Shifted by one so that rank r ends with chunk r.
  if (ranks > 1) add_ring_steps(s, ranks - 1, ranks - 1, -1, options);
  return s;
}

Schedule ring_allgather(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("allgather", ranks, bytes);
  // Step 0 sends the rank's own chunk; later steps forward what just arrived.
  if (ranks > 1) add_ring_steps(s, ranks - 1, 0, 0, options);
  return s;
}

}  // namespace collsim::collective
