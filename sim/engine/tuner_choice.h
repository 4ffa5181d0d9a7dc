// What a user asks the tuner for (sim/engine/tuner.h): an algorithm and a
// protocol by name, and the simulation-cost guards. Kept apart from the
// tuner so the file readers check names without linking the engines.
#pragma once

#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::engine {

struct TunerChoice {
  std::string algorithm = "auto";  // "auto", "fastest" or a name from collective::algorithm_table
  std::string protocol = "auto";   // "auto", LL, LL128, Simple or none, in any case
  // A named algorithm that does not implement an op: an error (false), or
  // the op's NCCL default (true: a training step names one algorithm for
  // its collectives of every op).
  bool named_algorithm_for_every_op = false;
  // Named defaults (sim/engine/tuner.h says what each guards); `--auto-max-work`
  // sets the SimGrid one.
  double simgrid_max_work = 5e7;
  double analytical_max_transfers = 2e7;
  double simgrid_aggregate_above = 1e6;  // RunOptions::simgrid_aggregate_above, for the guard's count
};

// Every algorithm name the tuner takes, "auto" and "fastest" first.
std::vector<std::string> tuner_algorithm_names();
// Known names? An Error whose field is "algorithm" or "protocol" otherwise.
Status check_choice(const TunerChoice& choice);

}  // namespace collsim::engine
