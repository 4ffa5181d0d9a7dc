#include "sim/engine/tuner_choice.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/collective/algorithms.h"
#include "sim/collective/protocol.h"

namespace collsim::engine {

std::vector<std::string> tuner_algorithm_names() {
  std::vector<std::string> names{"auto", "tuned", "fastest"};
  for (const auto& a : collective::algorithm_table())
    if (std::find(names.begin(), names.end(), a.name) == names.end()) names.emplace_back(a.name);
  return names;
}

Status check_choice(const TunerChoice& choice) {
  const auto names = tuner_algorithm_names();
  if (std::find(names.begin(), names.end(), choice.algorithm) == names.end()) {
    return Error{
        fmt::format("unknown algorithm '{}': expected {}", choice.algorithm, fmt::join(names, ", ")), "algorithm", {}};
  }
  if (auto p = collective::protocol_candidates(choice.protocol); !p) return Error{p.error().message, "protocol", {}};
  return Ok{};
}

}  // namespace collsim::engine
