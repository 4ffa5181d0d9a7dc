// `collsim goodput`'s report (issue 17): the inputs it assumed, the
// effective training time ratio's distribution, where wall-clock time went,
// interruptions by cause and the what-ifs, as text and as JSON.
#pragma once

#include <string>
#include <vector>

#include "sim/goodput/goodput.h"

namespace collsim::report {

struct GoodputWhatIf {
  std::string change;     // e.g. "checkpoint storage 2x faster"
  double ettr = 0;        // mean
  double wall_p50_s = 0;  // run to a token count: median time to reach it
};

struct GoodputReport {
  std::string workload, topology;
  std::string failures;  // the topology's failed and degraded cables, applied to the simulated step; empty: none
  goodput::ClusterCounts counts;
  std::string blast_radius;  // "host" or "NVLink domain"
  int unit_gpus = 0;         // GPUs in one blast radius
  double step_s = 0;
  std::string step_source;  // "simulated (simgrid)", "given (--step-time)"
  double tokens_per_step = 0;
  double parameters = 0;
  double checkpoint_bytes = 0, write_Bps = 0, read_Bps = 0;
  std::string interval_source;  // "Daly" or "given"
  double tokens = 0;            // run to this many tokens; 0 = run for horizon_s
  goodput::GoodputParams params;
  goodput::GoodputResult result;
  std::vector<GoodputWhatIf> what_ifs;
  double spares_needed = -1;  // fewest spares within 0.5 points of unlimited; < 0 not computed
};

std::string goodput_text(const GoodputReport& r);
std::string goodput_json(const GoodputReport& r);
// A self-contained page: cards, where the time goes, the ETTR's
// distribution, interruptions by cause, the what-ifs and the first run's
// timeline (docs/goodput.md).
std::string goodput_html(const GoodputReport& r);

}  // namespace collsim::report
