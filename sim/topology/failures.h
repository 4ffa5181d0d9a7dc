// Failed and degraded links (issue 17 item 1): config::FailuresSpec resolved
// against a topology's devices and links, applied by build_topology.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

// What the failures took, for reports (collsim topo).
// Counted in cables: a link of `lanes` lanes is that many cables (ports),
// each failed or degraded on its own.
struct FailureSummary {
  int cables_down = 0, cables_degraded = 0;
  int links_down = 0;                                           // links with every cable down (left out of the graph)
  std::map<std::string, int> down_by_class, degraded_by_class;  // cables
  std::vector<std::string> devices_down;                        // every link of these is down
  // The links left out of the graph: (device, device, efficiency, class),
  // devices as TopologySpec::devices indices. Plane merging (network.h)
  // still counts them, so that NVSwitch chips stay one striped plane.
  std::vector<std::tuple<int, int, double, std::string>> links_left_out;
  bool any() const { return cables_down > 0 || cables_degraded > 0; }
  // "3 cables down (infiniband 3), 1 degraded (nvlink5 1); devices down: p0spine0"
  std::string text() const;
};

struct LinkFailures {
  std::vector<double> rate_Bps;  // per TopologySpec::links entry: its rate after the failures, 0 when down
  FailureSummary summary;
};

// Entries apply in order (fail, then degrade lists). An entry selects links
// (by device, device pair or class, narrowed by tier), then their cables
// (each link's lanes), then a random share of the cables, round(fraction x
// cables), drawn with the spec's seed and the entry's position. A failed
// cable carries nothing; a degraded one carries the share of its rate or
// the absolute rate given (per cable); a cable degraded twice keeps the
// lower rate. Errors, at the entry's field: no such device or class; no
// link between the two devices; an entry that selects no cable (a class or
// tier the topology does not have, a share that rounds to none); a device
// that is a GPU or CPU (the job runs on every GPU: fail its NIC or links);
// a degraded rate above a selected cable's.
Expected<LinkFailures> resolve_failures(const config::TopologySpec& spec);

}  // namespace collsim::topology
