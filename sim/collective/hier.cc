#include "sim/collective/hier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace collsim::collective {

namespace {

// A pass of `steps` steps of a ring over `order` (schedule.h RingPass): at
// step k position i sends block (i - k + shift) mod |order|, covering chunks
// [first + block * stride, ... + width). A rank's send waits for its last
// arrival and for its own previous send (in_order: a GPU runs its steps in
// order, so data that arrives early is not forwarded before the rank's own
// earlier work on it is done); each phase's transfers queue in order per
// connection (FIFO), so the next piece's phase waits for the link, not for
// the previous piece's other phases.
RingPass ring_pass(const std::vector<int>& order, int first, int stride, int width, double block_bytes, int steps,
                   int reduce_steps, int shift) {
  RingPass pass;
  pass.order = order;
  pass.steps = steps;
  pass.block_bytes = block_bytes;
  pass.first_chunk = first;
  pass.stride = stride;
  pass.width = width;
  pass.reduce_steps = reduce_steps;
  pass.shift = shift;
  pass.in_order = true;
  return pass;
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
  // One piece: the compact form (three phases of ring passes). Several
  // pieces: explicit, each piece's phases on the shared per-phase FIFOs.
  std::vector<std::vector<std::vector<RingPass>>> piece_phases(static_cast<std::size_t>(pieces));
  for (int q = 0; q < pieces; ++q) {
    auto& phases = piece_phases[static_cast<std::size_t>(q)];
    const int base = q * g * D;
    if (g > 1) {
      phases.emplace_back();
      for (const auto& m : members) phases.back().push_back(ring_pass(m, base, D, D, domain_chunk, g - 1, g - 1, -1));
    }
    if (D > 1) {
      phases.emplace_back();
      for (int i = 0; i < g; ++i) {
        std::vector<int> across;
        for (const auto& m : members) across.push_back(m[i]);
        phases.back().push_back(ring_pass(across, base + i * D, 1, 1, domain_chunk / D, 2 * (D - 1), D - 1, 0));
      }
    }
    if (g > 1) {
      phases.emplace_back();
      for (const auto& m : members) phases.back().push_back(ring_pass(m, base, D, D, domain_chunk, g - 1, 0, 0));
    }
  }
  if (pieces == 1) {
    s.ring_phases = std::move(piece_phases.front());
    return s;
  }
  QueuedAppender queued(s);
  for (const auto& phases : piece_phases) {
    // Streams 0 (reduce-scatter), 1 (across), 2 (all-gather) as phases are
    // numbered; a single-domain or single-GPU-domain case skips some.
    append_ring_phases(s, phases, 0, queued);
  }
  return s;
}

}  // namespace collsim::collective
