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

// Removes the tags apply_overrides put on the nodes it made (yaml_fields.h
// kSetValueTag, kSetCreatedTag), so that the tree can be written out as YAML
// (collsim topo --expand) without them.
void clear_override_tags(YAML::Node& root);

// The path an assignment sets: "nccl.buffsize" of "nccl.buffsize=8MiB",
// as the override reads it (".nccl.buffsize" and "links.[0]" are
// "nccl.buffsize" and "links[0]"); empty when it has no '=' or nothing
// before it.
std::string override_key(const std::string& assignment);

// Of `earlier` assignments, one that sets the same path as `assignment` to
// another value (one value a key: a second would win silently), or nullptr.
const std::string* conflicting_override(const std::vector<std::string>& earlier, const std::string& assignment);

// `flag` names where the assignments came from in errors ("--set",
// "--set-workload").
Status apply_overrides(YAML::Node& root, const std::vector<std::string>& assignments, std::string_view flag = "--set");

}  // namespace collsim::config
