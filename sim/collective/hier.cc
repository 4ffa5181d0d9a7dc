#include "sim/collective/hier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace collsim::collective {

namespace {

int mod(int a, int m) { return ((a % m) + m) % m; }

// Appends `steps` steps of a ring over `order`. At step k, position i sends
// block (i - k + shift) mod |order|, where block b covers chunks
// [first + b * stride, first + b * stride + width). The first `reduce_steps`
// steps reduce, the rest copy. A rank's send waits for its last arrival
// (ready[r]) and for its own previous send (sent[r]): a GPU runs its steps in
// order, so data that arrives early is not forwarded before the rank's own
// earlier work on it is done. Both are updated as transfers are added.
// Transfers of one phase queue in order per connection (FIFO), so the next
// piece's phase waits for the link, not for the previous piece's other phases.
void ring_pass(const std::vector<int>& order, int first, int stride, int width, double block_bytes,
               int steps, int reduce_steps, int shift, std::vector<int>& ready, std::vector<int>& sent, int phase,
               QueuedAppender& queued) {
  const int g = static_cast<int>(order.size());
  for (int step = 0; step < steps; ++step) {
    std::vector<int> arrived(g, -1);
    for (int pos = 0; pos < g; ++pos) {
      Transfer t;
      t.src = order[pos];
      t.dst = order[mod(pos + 1, g)];
      t.chunk = first + mod(pos - step + shift, g) * stride;
      t.chunk_count = width;
      t.bytes = block_bytes;
      t.action = step < reduce_steps ? Action::kReduce : Action::kCopy;
      if (ready[t.src] >= 0) t.deps.push_back(ready[t.src]);
      if (sent[t.src] >= 0 && sent[t.src] != ready[t.src]) t.deps.push_back(sent[t.src]);
      const int src = t.src;
      const int id = queued.add(phase, std::move(t));
      sent[src] = id;
      arrived[mod(pos + 1, g)] = id;
    }
    for (int pos = 0; pos < g; ++pos) ready[order[pos]] = arrived[pos];
  }
}

}  // namespace

Expected<Schedule> hier_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                                  const HierOptions& options) {
  if (static_cast<int>(domain_of_rank.size()) != ranks) {
    return make_error(fmt::format("hier needs the NVLink domain of each of the {} ranks", ranks));
  }
  const auto members = group_by_domain(domain_of_rank);
  const int D = static_cast<int>(members.size());
  const int g = static_cast<int>(members.front().size());
  for (const auto& m : members) {
    if (static_cast<int>(m.size()) != g) {
      return make_error(fmt::format("hier needs NVLink domains of equal size; found {} and {} GPUs", g, m.size()));
    }
  }
  const int pieces = piece_count(bytes / g / D, options.min_piece_bytes, options.max_pieces);
  // Piece q's domain chunk i is chunks [q*g*D + i*D, ... + D); its part k is chunk q*g*D + i*D + k.
  Schedule s = empty_schedule("allreduce", "hier", ranks, bytes, pieces * g * D);
  if (ranks < 2) return s;
  const double domain_chunk = bytes / pieces / g;
  QueuedAppender queued(s);
  for (int q = 0; q < pieces; ++q) {
    std::vector<int> ready(ranks, -1), sent(ranks, -1);
    const int base = q * g * D;
    if (g > 1) {
      for (const auto& m : members) ring_pass(m, base, D, D, domain_chunk, g - 1, g - 1, -1, ready, sent, 0, queued);
    }
    if (D > 1) {
      for (int i = 0; i < g; ++i) {
        std::vector<int> across;
        for (const auto& m : members) across.push_back(m[i]);
        ring_pass(across, base + i * D, 1, 1, domain_chunk / D, 2 * (D - 1), D - 1, 0, ready, sent, 1, queued);
      }
    }
    if (g > 1) {
      for (const auto& m : members) ring_pass(m, base, D, D, domain_chunk, g - 1, 0, 0, ready, sent, 2, queued);
    }
  }
  return s;
}

}  // namespace collsim::collective
