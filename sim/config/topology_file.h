// Reads a topology YAML file (format: docs/topology-format.md) into a
// validated, fully expanded TopologySpec. All syntax and schema errors are
// reported here, with file:line:column and the field.
#pragma once

#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::config {

// `overrides` are --set assignments (overrides.h), applied before reading.
Expected<TopologySpec> load_topology_file(const std::string& path, const std::vector<std::string>& overrides = {});
// The file as collsim reads it: overrides applied and any cluster template
// expanded into explicit devices, links and racks, as YAML text that
// load_topology_file reads back to the same topology.
Expected<std::string> expanded_topology_yaml(const std::string& path, const std::vector<std::string>& overrides = {});

// Same, from text already in memory; `file` is used in error messages.
Expected<TopologySpec> load_topology_text(const std::string& text, const std::string& file,
                                          const std::vector<std::string>& overrides = {});

}  // namespace collsim::config
