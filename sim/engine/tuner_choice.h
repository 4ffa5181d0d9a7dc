// What a user asks the tuner for (sim/engine/tuner.h): an algorithm and a
// protocol by name, and the simulation-cost guards. Kept apart from the
// tuner so the file readers check names without linking the engines.
#pragma once

#include <string>
#include <vector>

#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"
#include "sim/core/error.h"

namespace collsim::engine {

// Named default of RunOptions::simgrid_aggregate_above (backend.h): a ring
// schedule of more transfers than 200,000 (about 4 s of flow-level
// simulation on one core: the 128-GPU ring of 32 MiB has 260,000) is
// simulated one step at a time on SimGrid. Measured against the full
// simulation (docs/performance.md): the same busbw on 20 of 21 rings of 128
// to 288 GPUs (H100, GB200, all-reduce, all-gather, reduce-scatter, 4 to
// 256 MiB), 4.5% faster on 16 DGX A100 nodes at 256 MiB; every row of the
// validation tables stays below it, so they are simulated in full.
inline constexpr double kDefaultSimgridAggregateAbove = 2e5;

struct TunerChoice {
  // "auto", "tuned", "fastest", a name from collective::algorithm_table, or
  // NCCL_ALGO's list forms (lower case): "ring,tree", NCCL's model picking
  // among them, and "^nvls,nvlstree", among its own but these.
  std::string algorithm = "auto";
  // "auto", LL, LL128, Simple or none, in any case, or NCCL_PROTO's lists
  // ("LL,Simple", "^LL128": collective::protocol_candidates).
  std::string protocol = "auto";
  // A named algorithm that does not implement an op: an error (false), or
  // the op's NCCL default (true: a training step names one algorithm for
  // its collectives of every op).
  bool named_algorithm_for_every_op = false;
  // Named defaults (sim/engine/tuner.h says what each guards); `--auto-max-work`
  // sets the SimGrid one.
  double simgrid_max_work = 5e7;
  double analytical_max_transfers = 2e7;
  double simgrid_aggregate_above = kDefaultSimgridAggregateAbove;  // RunOptions', for the guard's count
  // The NCCL release modelled (RunOptions::nccl).
  collective::NcclRelease nccl = collective::kDefaultNcclRelease;
};

// Every algorithm name the tuner takes, "auto" and "fastest" first.
std::vector<std::string> tuner_algorithm_names();
// Whether `algorithm` is one of NCCL_ALGO's list forms ("ring,tree",
// "^nvls"), and the names it lists (without the '^').
bool is_algorithm_list(const std::string& algorithm);
std::vector<std::string> listed_names(const std::string& list);
// NCCL_ALGO's names read in any case (Ring, NVLSTree): `algorithm` in
// lower case, as TunerChoice::algorithm holds it.
std::string algorithm_name(std::string algorithm);
// Why `protocol` cannot run `op`, or "": NCCL's point-to-point (all-to-all,
// send/recv) runs LL or Simple, never LL128 (src/enqueue.cc; collective/
// direct.h nccl_p2p_protocol), so LL128 alone is refused for it.
std::string point_to_point_refusal(collective::Op op, const std::string& protocol);
// Whether NCCL's own model picks the algorithm: `auto` or a list.
inline bool nccl_picks_algorithm(const TunerChoice& choice) {
  return choice.algorithm == "auto" || is_algorithm_list(choice.algorithm);
}
// Known names? An Error whose field is "algorithm" or "protocol" otherwise.
Status check_choice(const TunerChoice& choice);

}  // namespace collsim::engine
