// Internal to sim/config: a cluster template's generation (cluster:
// sections, docs/topology-format.md "Cluster templates") into plain records
// of racks, device groups and links, which cluster_template.cc turns into
// YAML entries (`topo --expand`, files that add devices of their own) or
// TopologySpec entries directly.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "sim/config/catalog.h"
#include "sim/config/yaml_fields.h"
#include "sim/core/error.h"

namespace collsim::config::cluster {

// What a template generates, before it becomes YAML entries (for
// `--expand` and files that add their own devices) or TopologySpec entries
// directly (pure templates: no YAML nodes for 100,000 devices).
struct GenRack {
  std::string name;
  int row, slot;
  bool liquid = false;
  std::string part = {};  // a rack-level catalog part; empty = none
};
struct GenDevices {
  std::string name;
  const char* kind;
  int count;  // 0: one device named exactly `name` (no `count` key)
  std::string rack;
  int u;
  int ports;               // 0: no budget
  std::string model = {};  // GPUs: their model
  std::string part = {};   // a catalog part; empty = matched by kind
};
// A group, a group's devices by index ("n0gpu[0,2]"), or one device by its
// own name ("n0nic3": `device_name` with a single index).
struct GenSelector {
  GenSelector(std::string g, std::vector<int> i = {}, bool by_name = false)
      : group(std::move(g)), indices(std::move(i)), device_name(by_name) {}
  std::string group;
  std::vector<int> indices;  // empty: the whole group
  bool device_name = false;
  std::string text() const {
    if (indices.empty()) return group;
    if (device_name) return fmt::format("{}{}", group, indices.front());
    return fmt::format("{}[{}]", group, fmt::join(indices, ","));
  }
};
struct GenLink {
  GenSelector from, to;
  bool zip = false;
  int lanes = 0;                       // 0: no `lanes` key (one)
  double rate_Bps = 0, latency_s = 0;  // per lane; numbers end to end, text only in YAML (format_exact)
  std::string medium = {};
  std::string link_class = {};
};
struct Generated {
  std::vector<GenRack> racks;
  std::vector<GenDevices> devices;
  std::vector<GenLink> links;
};

// Generates the cluster the `cluster:` map `c` describes: its nodes, each
// plane of its fabric, then the racks and the switches in them. Errors name
// the field (a fabric too large for its switches' radix, too many devices).
Status generate(const MapReader& c, Generated& out, const Catalog& catalog = builtin_catalog());

}  // namespace collsim::config::cluster
