#include "sim/engine/tuner_choice.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "sim/collective/algorithms.h"
#include "sim/collective/protocol.h"

namespace collsim::engine {

std::vector<std::string> tuner_algorithm_names() {
  std::vector<std::string> names{"auto", "tuned", "fastest"};
  for (const auto& a : collective::algorithm_table())
    if (std::find(names.begin(), names.end(), a.name) == names.end()) names.emplace_back(a.name);
  return names;
}

std::string algorithm_name(std::string algorithm) {
  std::transform(algorithm.begin(), algorithm.end(), algorithm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return algorithm;
}

std::string point_to_point_refusal(collective::Op op, const std::string& protocol) {
  if (!collective::is_point_to_point(op)) return {};
  const auto protos = collective::protocol_candidates(protocol);
  if (!protos || *protos != std::vector{collective::Protocol::kLL128}) return {};
  return fmt::format("{} runs on NCCL's point-to-point operations, which use LL or Simple, never LL128; found '{}'",
                     collective::op_name(op), protocol);
}

bool is_algorithm_list(const std::string& algorithm) { return collective::is_nccl_list(algorithm); }

std::vector<std::string> listed_names(const std::string& list) { return collective::nccl_list_names(list); }

Status check_choice(const TunerChoice& asked) {
  TunerChoice choice = asked;
  choice.algorithm = algorithm_name(asked.algorithm);
  const auto names = tuner_algorithm_names();
  if (is_algorithm_list(choice.algorithm)) {
    // NCCL_ALGO's names that collsim runs (NCCL's CollNetChain it does not):
    // not auto, tuned or fastest, nor collsim's own rhd, hier and direct.
    const std::vector<std::string> algorithms{"ring", "tree", "nvls", "nvlstree", "collnetdirect", "pat"};
    for (const auto& n : listed_names(choice.algorithm)) {
      if (std::find(algorithms.begin(), algorithms.end(), n) == algorithms.end()) {
        return Error{fmt::format("unknown algorithm '{}' in '{}': expected a list of {} (as NCCL_ALGO: "
                                 "'ring,tree', or '^nvls' for all but those)",
                                 n, choice.algorithm, fmt::join(algorithms, ", ")),
                     "algorithm",
                     {}};
      }
    }
  } else if (std::find(names.begin(), names.end(), choice.algorithm) == names.end()) {
    return Error{
        fmt::format("unknown algorithm '{}': expected {}", choice.algorithm, fmt::join(names, ", ")), "algorithm", {}};
  }
  if (auto p = collective::protocol_candidates(choice.protocol); !p) return Error{p.error().message, "protocol", {}};
  return Ok{};
}

}  // namespace collsim::engine
