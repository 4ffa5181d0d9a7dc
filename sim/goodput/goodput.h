// Goodput of a training run (issue 17): what fraction of wall-clock time a
// synchronous training job trains, given its parts' failure clocks
// (failure_rates.h), its checkpoints and its restarts. Monte-Carlo over
// whole runs.
//
// One run, as collsim models it:
//   - the job trains for a checkpoint interval (training time), then saves a
//     checkpoint, blocking, for save_s; repeat;
//   - unexpected interruptions arrive as independent Poisson clocks, one per
//     cause (failure_rates.h), at any time, recoveries included. One loses
//     the work since the last completed checkpoint (and a save in
//     progress), then the job restarts: it waits for a replacement when a
//     part of a server failed and no spare is free, then restart_s
//     (detection, teardown, rescheduling, NCCL and framework start) and
//     load_s (reading the checkpoint back). A failure during the restart or
//     the load starts the recovery again;
//   - planned interruptions (maintenance) save first and lose nothing, then
//     restart and load the same way;
//   - spares: a failed GPU, host or NIC takes its blast radius (a server, or
//     a whole NVLink domain when the job's NVLink groups span servers) out
//     of service for repair_s; with `spares` spare units a replacement is
//     free unless that many are already away in repair, else the job waits
//     for the first one back. spares < 0: always one free.
// The effective training time ratio (ETTR) is training time / wall-clock
// time; training time counts only work that was not lost.
//
// Units: seconds. Closed forms, checked against the Monte-Carlo in
// tests/goodput_test.cc: Young's interval sqrt(2 C M) (Young 1974, "A
// first order approximation to the optimum checkpoint interval"); Daly's
// higher-order one (Daly 2006, "A higher order estimate of the optimum
// checkpoint interval for restart dumps", eq. 37); and the expected time to
// finish a segment s with recovery R under failures at rate lambda,
// e^{lambda R} (e^{lambda s} - 1) / lambda.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/goodput/failure_rates.h"

namespace collsim::goodput {

// ASSUMPTION (named default, overridable): restart time, from a failure's
// detection to the first step, checkpoint load excluded. Published
// figures are "tens of minutes" at 10,000+ GPUs before dedicated
// optimisation (MegaScale, Jiang et al. NSDI 2024, as summarised in
// FFTrainer, arXiv 2512.03644) and seconds to minutes after it; 10 minutes.
inline constexpr double kDefaultRestartS = 600;
// ASSUMPTION: a failed server (or NVLink domain) back in service, 48 hours
// (a part swapped by the on-site shift, burn-in tests rerun).
inline constexpr double kDefaultRepairS = 48 * 3600.0;

struct GoodputParams {
  double step_s = 0;                    // one training step (> 0)
  double save_s = 0;                    // blocking checkpoint save (>= 0)
  double load_s = 0;                    // checkpoint read at a restart (>= 0)
  double restart_s = kDefaultRestartS;  // >= 0
  double interval_s = 0;                // training time between checkpoints; 0 = Daly's optimum
  double horizon_s = 0;                 // wall-clock length of each run (run by time), or
  double target_train_s = 0;            // training time to reach (run to a token count); one of the two > 0
  std::vector<FailureCause> causes;     // with rates for the cluster
  double planned_per_hour = 0;          // planned interruptions
  int spares = -1;                      // spare units; < 0 unlimited
  double repair_s = kDefaultRepairS;    // a failed unit's time away
  int samples = 1000;                   // runs
  std::uint64_t seed = 1;
};

// Where a run's time goes, in the order GoodputResult lists the totals.
enum class RunState { kTrain, kCheckpoint, kLost, kRestart, kLoad, kWait };
struct RunSpan {
  double t0 = 0, t1 = 0;
  RunState state = RunState::kTrain;
};
inline constexpr std::size_t kTimelineSpans = 200000;  // of the first run, at most

struct Quantiles {
  double mean = 0, p10 = 0, p50 = 0, p90 = 0;
};

struct GoodputResult {
  double interval_s = 0;  // the interval used (whole steps)
  double mtbi_s = 0;      // mean time between unexpected interruptions, 1 / sum of rates
  double young_s = 0, daly_s = 0;
  Quantiles ettr;      // per run
  Quantiles wall_s;    // run to a token count: wall-clock time to reach it
  int unfinished = 0;  // runs that had not reached it after kWallCapFactor x the training time
  // Mean seconds per run in each state; they sum to the mean wall time.
  double train_s = 0, checkpoint_s = 0, lost_s = 0, restart_s = 0, load_s = 0, wait_s = 0;
  std::vector<double> interruptions;  // mean per run, by cause (GoodputParams::causes' order)
  double planned = 0;                 // mean per run
  std::vector<double> ettr_samples;   // sorted, one per run
  std::vector<RunSpan> timeline;      // the first run's, spans of one state merged
};

// A run to a token count stops, unfinished, after this many times its
// training time in wall-clock time.
inline constexpr double kWallCapFactor = 20;

double young_interval(double save_s, double mtbf_s);
double daly_interval(double save_s, double mtbf_s);
// Expected wall time to complete `segment_s` of uninterruptible work when
// every failure (rate per second) costs the work done plus a recovery of
// `recovery_s` during which failures can also strike.
double expected_segment_time(double segment_s, double recovery_s, double rate_per_s);

// Named limit: interruptions simulated over all runs, 2e8 (about 20 s on
// one core). expected_events() bounds a request from above; the CLI
// refuses one beyond the limit instead of running for minutes.
inline constexpr double kMaxEvents = 2e8;
// Interruptions (unexpected and planned) all runs meet at most: their rate
// times the longest a run may last (the horizon, or kWallCapFactor x the
// training time to reach), times the runs.
double expected_events(const GoodputParams& params);

// Preconditions: as GoodputParams states (the CLI checks them); samples
// >= 1. Deterministic for a seed. `progress(done, total)` is called now and
// then when set.
GoodputResult simulate_goodput(const GoodputParams& params, const std::function<void(int, int)>& progress = {});

}  // namespace collsim::goodput
