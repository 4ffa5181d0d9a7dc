// What a refused workload could say instead: the nearest values of a field
// that would pass the check that refused it, so an error names the fix
// ("nearest valid batch.global: 504 or 522") instead of only the rule.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace collsim::workload {

// The closest valid value below and above a refused one; either may be missing.
struct Nearest {
  std::optional<long long> below, above;
  bool any() const { return below || above; }
};

// The nearest multiples of `step` (> 0) around `value`, other than `value`
// itself; `below` only when it is at least `step` (a count cannot be 0).
Nearest nearest_multiples(long long value, long long step);

// The nearest v in [1, max] other than `value` with ok(v), searching outward
// in both directions.
Nearest nearest_where(long long value, long long max, const std::function<bool(long long)>& ok);

// "504 or 522", "4096" (one side only), or "" when neither exists.
std::string to_string(const Nearest& n);

// How `layers` split over `pp` pipeline stages of `virtual_stages` chunks
// when the first and last stages hold `first` and `last` layers (0: an
// even share; ParallelSpec::first_stage_layers): the layers and stages left
// to the even ones, and whether those split evenly into chunks of at least
// one layer. The rule both the workload's check and the nearest valid pp
// (step_setup.cc) read.
struct StageSplit {
  long long rest = 0, stages = 0;
  bool even = false;
};
StageSplit split_stages(long long layers, long long pp, long long virtual_stages, int first, int last);

}  // namespace collsim::workload
