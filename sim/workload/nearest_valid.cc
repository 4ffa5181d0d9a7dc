#include "sim/workload/nearest_valid.h"

#include <fmt/format.h>

#include <algorithm>

namespace collsim::workload {

Nearest nearest_multiples(long long value, long long step) {
  Nearest n;
  const long long down = value / step * step;
  const long long below = down == value ? value - step : down;
  if (below >= step) n.below = below;
  n.above = down + step;
  return n;
}

Nearest nearest_where(long long value, long long max, const std::function<bool(long long)>& ok) {
  Nearest n;
  for (long long v = std::min(value - 1, max); v >= 1; --v) {
    if (ok(v)) {
      n.below = v;
      break;
    }
  }
  for (long long v = std::max(value + 1, 1LL); v <= max; ++v) {
    if (ok(v)) {
      n.above = v;
      break;
    }
  }
  return n;
}

StageSplit split_stages(long long layers, long long pp, long long virtual_stages, int first, int last) {
  StageSplit s{layers, pp};
  for (int n : {first, last}) {
    if (n == 0) continue;
    s.rest -= n;
    --s.stages;
  }
  const long long chunks = s.stages * virtual_stages;
  s.even = s.rest >= 0 && (s.stages == 0 ? s.rest == 0 : s.stages > 0 && s.rest >= chunks && s.rest % chunks == 0);
  return s;
}

std::string to_string(const Nearest& n) {
  if (n.below && n.above) return fmt::format("{} or {}", *n.below, *n.above);
  if (n.below) return fmt::format("{}", *n.below);
  if (n.above) return fmt::format("{}", *n.above);
  return "";
}

}  // namespace collsim::workload
