#include "sim/collective/ring.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

namespace {

int mod(int a, int p) { return ((a % p) + p) % p; }

// Appends `steps` steps of the ring `order` (positions 0..p-1 hold ranks).
// At step k the rank at position i sends chunk (i - k + shift) mod p, offset
// by `first_chunk`, to the next position (reducing for the first
// `reduce_steps` steps, copying after); each slice depends on the same slice
// arriving at that rank one step earlier.
void add_ring_steps(Schedule& s, const std::vector<int>& order, double chunk_bytes, int first_chunk, int steps,
                    int reduce_steps, int shift, const RingOptions& options) {
  const int p = static_cast<int>(order.size());
  const int slices = piece_count(chunk_bytes, options.min_slice_bytes, options.max_slices);
  const int base = static_cast<int>(s.transfers.size());
  auto index = [&](int step, int pos, int slice) { return base + (step * p + pos) * slices + slice; };
  s.transfers.reserve(s.transfers.size() + static_cast<std::size_t>(steps) * p * slices);
  for (int step = 0; step < steps; ++step) {
    for (int pos = 0; pos < p; ++pos) {
      for (int slice = 0; slice < slices; ++slice) {
        Transfer t;
        t.src = order[pos];
        t.dst = order[mod(pos + 1, p)];
        t.bytes = chunk_bytes / slices;
        t.chunk = first_chunk + mod(pos - step + shift, p);
        t.slice = slice;
        t.action = step < reduce_steps ? Action::kReduce : Action::kCopy;
        if (step > 0) t.deps.push_back(index(step - 1, mod(pos - 1, p), slice));
        s.transfers.push_back(std::move(t));
      }
    }
  }
}

std::vector<int> identity(int p) {
  std::vector<int> order(p);
  for (int i = 0; i < p; ++i) order[i] = i;
  return order;
}

Schedule empty_ring(const char* op, int ranks, double bytes) { return empty_schedule(op, "ring", ranks, bytes, ranks); }

}  // namespace

Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("allreduce", ranks, bytes);
  // After p-1 reducing steps rank r holds chunk r+1 complete and forwards it.
  if (ranks > 1) add_ring_steps(s, identity(ranks), bytes / ranks, 0, 2 * (ranks - 1), ranks - 1, 0, options);
  return s;
}

Schedule ring_reducescatter(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("reducescatter", ranks, bytes);
  // Shifted by one so that rank r ends with chunk r.
  if (ranks > 1) add_ring_steps(s, identity(ranks), bytes / ranks, 0, ranks - 1, ranks - 1, -1, options);
  return s;
}

Schedule ring_allgather(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("allgather", ranks, bytes);
  // Step 0 sends the rank's own chunk; later steps forward what just arrived.
  if (ranks > 1) add_ring_steps(s, identity(ranks), bytes / ranks, 0, ranks - 1, 0, 0, options);
  return s;
}

}  // namespace collsim::collective

namespace collsim::collective {

Schedule ring_allreduce_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                 const RingOptions& options) {
  const int channels = static_cast<int>(orders.size());
  Schedule s = empty_schedule("allreduce", "ring", ranks, bytes, channels * ranks);
  if (ranks < 2) return s;
  for (int c = 0; c < channels; ++c) {
    add_ring_steps(s, orders[c], bytes / channels / ranks, c * ranks, 2 * (ranks - 1), ranks - 1, 0, options);
  }
  return s;
}

std::vector<std::vector<int>> rings_over_domains(const std::vector<int>& domain_of_rank) {
  const auto members = group_by_domain(domain_of_rank);
  std::size_t per_domain = members.front().size();
  for (const auto& m : members) per_domain = std::min(per_domain, m.size());
  if (members.size() == 1) return {identity(static_cast<int>(domain_of_rank.size()))};
  std::vector<std::vector<int>> orders;
  for (std::size_t c = 0; c < per_domain; ++c) {
    std::vector<int> order;
    for (const auto& m : members) {
      const std::size_t g = m.size();
      for (std::size_t k = 0; k < g; ++k) order.push_back(m[(c + k) % g]);
    }
    orders.push_back(std::move(order));
  }
  return orders;
}

}  // namespace collsim::collective
