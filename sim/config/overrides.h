// `--set key.path=value`: change any field of an input file without editing
// it. Paths use the same spelling as error messages: `floor.rack_pitch`,
// `links[3].rate`, `link_classes.nvlink4.efficiency`. The value is YAML
// (`400Gb/s`, `4`, `{efficiency: 0.9}`). Missing map keys are created, so a
// misspelt key surfaces as the reader's "unknown key" error, reported at
// "--set".
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

Status apply_overrides(YAML::Node& root, const std::vector<std::string>& assignments);

}  // namespace collsim::config
