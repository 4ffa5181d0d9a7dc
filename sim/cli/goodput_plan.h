// A goodput study of a simulated (or given) step: the cluster's parts, the
// checkpoint, and goodput::GoodputParams, from a StepRun and what the user
// set. Shared by `collsim goodput` and sweeps (run.goodput, docs/sweeps.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/cli/step_run.h"
#include "sim/goodput/goodput.h"
#include "sim/report/goodput_report.h"

namespace collsim::cli {

// ASSUMPTION (named default): checkpoint storage bandwidth in proportion to
// the job, at Llama 3's 2 TB/s sustained for 16,384 GPUs (Llama 3 paper,
// section 3.3.4, as summarised secondarily), for writes and reads alike.
inline constexpr double kStorageBpsPerGpu = 2e12 / 16384;

// What the user sets (collsim goodput's options); unset: the defaults
// docs/goodput.md lists.
struct GoodputInputs {
  std::optional<double> step_s;  // given; else the run's simulated step
  std::string step_source;       // "given", "simulated, simgrid"
  double days = 30;              // run length when tokens == 0
  double tokens = 0;             // run to this many tokens
  double interval_s = 0;         // 0: Daly's optimum
  std::optional<double> checkpoint_bytes, write_Bps, read_Bps;
  double restart_s = goodput::kDefaultRestartS;
  double repair_s = goodput::kDefaultRepairS;
  int spares = -1;                    // < 0 unlimited
  std::string blast_radius = "auto";  // auto, host or domain
  std::optional<int> gpus_per_host;
  double failure_scale = 1;
  bool planned = true;
  int samples = 1000;
  std::uint64_t seed = 1;
};

// The report with everything but the results. Preconditions: `run` holds a
// topology and workload (simulated unless in.step_s is set). Errors (named
// by option): GPUs per host that do not divide the GPUs; a request beyond
// goodput::kMaxEvents.
Expected<report::GoodputReport> plan_goodput(const StepRun& run, const GoodputInputs& in);

// Fills r.what_ifs (and r.spares_needed with unlimited spares), each with
// at most `samples` runs.
void add_goodput_what_ifs(report::GoodputReport& r, int samples);

}  // namespace collsim::cli
