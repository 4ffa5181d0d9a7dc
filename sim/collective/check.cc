#include "sim/collective/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace collsim::collective {

namespace {
using Contributions = std::vector<bool>;  // [rank] = contains that rank's data
}

Status check_allreduce(const Schedule& s) {
  const int p = s.ranks;
  int slices = 1;
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    const Transfer& t = s.transfers[i];
    if (t.src < 0 || t.src >= p || t.dst < 0 || t.dst >= p || t.src == t.dst) {
      return make_error(fmt::format("transfer {} goes from rank {} to rank {} (ranks 0-{})", i, t.src, t.dst, p - 1));
    }
    if (t.chunk < 0 || t.chunk >= s.chunks) return make_error(fmt::format("transfer {} names chunk {}", i, t.chunk));
    for (int d : t.deps)
      if (d < 0 || d >= static_cast<int>(i)) return make_error(fmt::format("transfer {} depends on {}, not before it", i, d));
    slices = std::max(slices, t.slice + 1);
  }
  // state[rank][chunk * slices + slice]: each rank starts with its own contribution.
  std::vector<std::vector<Contributions>> state(p);
  for (int r = 0; r < p; ++r) {
    state[r].assign(static_cast<std::size_t>(s.chunks) * slices, Contributions(p, false));
    for (auto& c : state[r]) c[r] = true;
  }
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    const Transfer& t = s.transfers[i];
    const std::size_t piece = static_cast<std::size_t>(t.chunk) * slices + t.slice;
    const Contributions& in = state[t.src][piece];
    Contributions& out = state[t.dst][piece];
    if (t.action == Action::kCopy) {
      out = in;
      continue;
    }
    for (int r = 0; r < p; ++r) {
      if (in[r] && out[r]) {
        return make_error(fmt::format("transfer {} ({} -> {}) adds rank {}'s contribution to chunk {} slice {} twice", i,
                                      t.src, t.dst, r, t.chunk, t.slice));
      }
      out[r] = out[r] || in[r];
    }
  }
  for (int r = 0; r < p; ++r) {
    for (std::size_t piece = 0; piece < state[r].size(); ++piece) {
      const auto& c = state[r][piece];
      const auto have = std::count(c.begin(), c.end(), true);
      if (have != p) {
        return make_error(fmt::format("after the schedule rank {} holds {} of {} contributions in chunk {} slice {}", r,
                                      have, p, piece / slices, piece % slices));
      }
    }
  }
  return Ok{};
}

}  // namespace collsim::collective
