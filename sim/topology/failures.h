// Failed and degraded links (issue 17 item 1): config::FailuresSpec resolved
// against a topology's devices and links, applied by build_topology.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

// What the failures took, for reports (collsim topo).
struct FailureSummary {
  int links_down = 0, links_degraded = 0;
  std::map<std::string, int> down_by_class, degraded_by_class;
  std::vector<std::string> devices_down;  // selected by `device` in a fail entry
  bool any() const { return links_down > 0 || links_degraded > 0; }
};

struct LinkFailures {
  std::vector<double> rate_Bps;  // per TopologySpec::links entry: its rate after the failures, 0 when down
  FailureSummary summary;
};

// Entries apply in order (fail, then degrade lists); a link degraded twice
// keeps the lower rate; a random share takes round(fraction x selected)
// links, drawn with the spec's seed and the entry's position. Errors, at
// the entry's field: no such device or class; no link between the two
// devices; a device that is a GPU or CPU (the job runs on every GPU: fail
// its NIC or links); a degraded rate above a selected link's.
Expected<LinkFailures> resolve_failures(const config::TopologySpec& spec);

}  // namespace collsim::topology
