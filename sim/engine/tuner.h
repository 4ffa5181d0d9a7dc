// The tuner: which algorithm and protocol run a collective, per operation
// and size. `collsim collective`, `collsim validate` and a training step's
// collectives (`collsim run`, `collsim sweep`) all choose through here.
//
// Candidates:
//   algorithm "auto"     NCCL's own choice: the pair NCCL's cost model
//                        predicts fastest (collective/nccl_tuner.h), alone;
//                        where that model does not apply (all-to-all,
//                        send/recv, a GPU model it lacks), as "tuned";
//   algorithm "tuned"    the algorithms NCCL would run for the op
//                        (collective::nccl_algorithms_for: ring, tree, nvls, nvlstree
//                        for all-reduce; ring, nvls, pat for all-gather and
//                        reduce-scatter), built and run in one backend
//                        call, the fastest kept: NCCL with a perfect tuner;
//   algorithm "fastest"  every algorithm collsim has for the op (adds hier
//                        and rhd), for research comparisons;
//   a name               that algorithm alone;
//   protocol "auto"      LL, LL128 and Simple; or one name (any case).
// A candidate that cannot run here (nvls across NVLink domains, LL on nvls)
// is skipped under a choice, an error when it was the only one asked for;
// nvlstree inside one domain is not a candidate at all (NCCL disables it on
// one node), nor is pat where two ranks share an NVLink domain (NCCL runs
// PAT only with one GPU per node).
//
// Simulation-cost guards, each for the backend it protects, applied only
// while choosing among algorithms (a named algorithm always runs); every
// skipped candidate is reported with its reason:
//   simgrid     work above `simgrid_max_work`, in units of about 1 us of
//               simulation: an explicit transfer x 20 (x 100 for an
//               all-to-all's, which all start at once); a ring it simulates
//               one step at a time (above `simgrid_aggregate_above`
//               transfers) counts one step's flows x 30, a pipeline one
//               copy's transfers x 30, or x 1 when every transfer runs at
//               its channel's share (planned, not simulated: tuner.cc,
//               where the weights' measurements are);
//   analytical  explicit transfers above `analytical_max_transfers` (memory:
//               about 100 bytes each); compact rings cost O(ranks), never skipped.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/collective/algorithms.h"
#include "sim/collective/ops.h"
#include "sim/collective/schedule.h"
#include "sim/core/error.h"
#include "sim/engine/backend.h"
#include "sim/engine/tuner_choice.h"

namespace collsim::engine {

// The algorithms the tuner tries for `op` under `choice`; an error for a
// named one the op lacks (unless named_algorithm_for_every_op).
Expected<std::vector<std::string>> candidate_algorithms(collective::Op op, const TunerChoice& choice);

// One collective to tune: its op, ranks, size and algorithm parameters
// (root, NVLink domains, NVLS efficiency; the protocol is the tuner's).
struct TuneCase {
  collective::Op op = collective::Op::kAllReduce;
  int ranks = 0;
  double bytes = 0;
  collective::AlgoParams params;
};

struct Candidates {
  std::vector<collective::Schedule> schedules;    // every case's, to run in one backend call
  std::vector<std::vector<std::size_t>> of_case;  // per case: indices into schedules, never empty
  // Per case: algorithms not simulated and why, one line each
  // ("tree: 6.1e+07 units of SimGrid work (...), above --auto-max-work 5e+07").
  std::vector<std::vector<std::string>> skipped;
  // Per case under `auto`, when info logging is on: NCCL's predicted time of
  // each pair it would run, fastest first ("tree/LL128 60.41 us, ..."); empty
  // otherwise.
  std::vector<std::string> nccl_model;
  // Per case where NCCL's cost model made the choice (`auto`, or NCCL
  // picking a named algorithm's protocol): its predicted time of the pair
  // it picked, in us; 0 otherwise (point-to-point's rule, `tuned`).
  std::vector<double> nccl_predicted_us;
};

// REQUIRES: `backend` is a Backend::name(). Errors: unknown names, a named
// algorithm or protocol that cannot run a case, or a case left with no
// candidate (the message says why and what to do).
Expected<Candidates> build_candidates(const std::vector<TuneCase>& cases, const TunerChoice& choice,
                                      const std::string& backend);

// Runs every candidate and returns one result per schedule, in order. On a
// flow-level backend (SimGrid) a candidate whose analytical time is above
// the best flow-level time of its case is not simulated: the analytical
// backend is a lower bound of the flow-level time (no transfer beats its
// route's rate, no link carries its bytes faster than its rate;
// analytical_backend.h), so it cannot be the fastest. Its result is that
// bound, with ScheduleResult::pruned set. Two backend calls: each case's
// candidate with the lowest bound, then those whose bound is not above the
// best of the first round. The choice is the same as simulating them all.
Expected<std::vector<ScheduleResult>> run_candidates(const Candidates& candidates, const topology::Network& network,
                                                     Backend& backend, const RunOptions& options);

// The fastest of case `index`'s candidates (ties: the first listed).
// REQUIRES: results[i] is schedules[i]'s result.
std::size_t fastest(const Candidates& candidates, std::size_t index, const std::vector<ScheduleResult>& results);

}  // namespace collsim::engine
