// Reading failed and degraded parts (issue 17 item 1; TopologySpec's
// FailuresSpec): the `failures:` section of a topology file
//
//   failures:
//     seed: 7                                   # for random shares (default 1)
//     fail:
//       - {device: spine3}                      # a switch or NIC: every link it terminates
//       - {from: n0nic0, to: leaf0}             # the links between two devices
//       - {class: infiniband, fraction: 0.5%}   # a random share of a class's links
//     degrade:
//       - {class: infiniband, fraction: 1%, rate: 50%}   # lanes lost: half the rate
//       - {from: gpu0, to: nvswitch0, rate: 25GB/s}
//
// and the command-line flags `--fail SELECTOR` and `--degrade SELECTOR`,
// whose selector is the same map written key=value,key=value
// (`--degrade 'class=infiniband,fraction=1%,rate=50%'`), appended to the
// file's lists; `--set failures.seed=7` sets the seed.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/config/yaml_fields.h"
#include "sim/core/error.h"

namespace collsim::config {

// Reads `failures:` (absent: none). Names are resolved when the topology is
// built, so errors about a missing device or class come from there.
Status read_failures(const MapReader& top, TopologySpec& spec);

// One --fail (flag "--fail") or --degrade selector as an entry of the
// overrides list load_topology_file takes, beside --set assignments.
std::string failure_flag(std::string_view flag, std::string_view selector);
// `sets` followed by every --fail and --degrade selector.
std::vector<std::string> with_failure_flags(std::vector<std::string> sets, const std::vector<std::string>& fails,
                                            const std::vector<std::string>& degrades);
// Whether an overrides entry is a failure_flag; then appends it to `root`'s
// failures lists (errors name the flag and its selector).
bool is_failure_flag(const std::string& entry);
Status apply_failure_flag(YAML::Node& root, const std::string& entry);

}  // namespace collsim::config
