#include "sim/collective/rhd.h"

namespace collsim::collective {

namespace {

int largest_power_of_two_at_most(int p) {
  int q = 1;
  while (q * 2 <= p) q *= 2;
  return q;
}

}  // namespace

Schedule rhd_allreduce(int ranks, double bytes) {
  const int q = largest_power_of_two_at_most(ranks);  // p'
  const int extra = ranks - q;
  Schedule s = empty_schedule("allreduce", "rhd", ranks, bytes, q);
  if (ranks < 2) return s;
  const double chunk_bytes = bytes / q;

  // last_in[v] = the transfer that last delivered data to rank v (-1: none yet).
  std::vector<int> last_in(ranks, -1);
  auto add = [&](int src, int dst, int first_chunk, int count, Action action) {
    Transfer t;
    t.src = src;
    t.dst = dst;
    t.chunk = first_chunk;
    t.chunk_count = count;
    t.bytes = count * chunk_bytes;
    t.action = action;
    if (last_in[src] >= 0) t.deps.push_back(last_in[src]);
    // The receiver may still be sending the range it is about to overwrite
    // or add into: wait for its own last arrival, so transfers into a rank
    // stay ordered.
    if (last_in[dst] >= 0 && last_in[dst] != last_in[src]) t.deps.push_back(last_in[dst]);
    s.transfers.push_back(t);
    return static_cast<int>(s.transfers.size()) - 1;
  };

  // Fold: extra rank q+i adds its whole buffer into rank i.
  for (int i = 0; i < extra; ++i) last_in[i] = add(q + i, i, 0, q, Action::kReduce);

  // Reduce-scatter by recursive halving: rank v keeps [lo[v], lo[v] + width).
  std::vector<int> lo(q, 0);
  for (int width = q; width > 1; width /= 2) {
    const int half = width / 2;
    std::vector<int> arrived(q, -1);
    for (int v = 0; v < q; ++v) {
      const int partner = v ^ half;
      const bool keeps_upper = (v & half) != 0;
      const int send_lo = keeps_upper ? lo[v] : lo[v] + half;
      arrived[partner] = add(v, partner, send_lo, half, Action::kReduce);
    }
    for (int v = 0; v < q; ++v) {
      if (v & half) lo[v] += half;
      last_in[v] = arrived[v];
    }
  }
  // All-gather by recursive doubling: rank v owns [lo[v], lo[v] + width).
  for (int width = 1; width < q; width *= 2) {
    std::vector<int> arrived(q, -1);
    for (int v = 0; v < q; ++v) arrived[v ^ width] = add(v, v ^ width, lo[v], width, Action::kCopy);
    for (int v = 0; v < q; ++v) {
      lo[v] = std::min(lo[v], lo[v ^ width]);
      last_in[v] = arrived[v];
    }
  }
  // Unfold: ranks 0..extra-1 return the result to the extra ranks.
  for (int i = 0; i < extra; ++i) add(i, q + i, 0, q, Action::kCopy);
  return s;
}

}  // namespace collsim::collective
