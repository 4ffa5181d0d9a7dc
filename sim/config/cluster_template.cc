#include "sim/config/cluster_template.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sim/config/cluster_generate.h"
#include "sim/config/cluster_params.h"
#include "sim/config/floor_reader.h"
#include "sim/config/gpu_models.h"
#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::config {

namespace {

using cluster::GenDevices;
using cluster::Generated;
using cluster::GenLink;
using cluster::GenRack;
using cluster::GenSelector;
using cluster::kNs;
using cluster::NodeBlock;
using cluster::Params;

// Flow-style YAML maps for generated entries.
YAML::Node entry(std::initializer_list<std::pair<const char*, std::string>> fields) {
  YAML::Node n(YAML::NodeType::Map);
  for (const auto& [k, v] : fields) n[k] = v;
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

}  // namespace

Status expand_cluster_template(YAML::Node& root, const std::string& file) {
  if (!root.IsMap() || !root["cluster"]) return Ok{};
  Generated gen;
  if (auto s = cluster::generate(MapReader(root["cluster"], file, "cluster"), gen); !s) return s;
  // The generated entries are appended to the file's own lists, if it has them.
  for (const char* key : {"racks", "devices", "links"}) {
    const YAML::Node own = root[key];
    if (own && !own.IsNull() && !own.IsSequence()) {
      return Error{fmt::format("expected a list (the cluster template appends its {} to it), found {}", key,
                               own.IsMap() ? "a map" : "a single value"),
                   key, mark_of(own, file)};
    }
  }
  YAML::Node racks = root["racks"] ? root["racks"] : YAML::Node(YAML::NodeType::Sequence);
  YAML::Node devices = root["devices"] ? root["devices"] : YAML::Node(YAML::NodeType::Sequence);
  YAML::Node links = root["links"] ? root["links"] : YAML::Node(YAML::NodeType::Sequence);
  for (const auto& r : gen.racks) {
    YAML::Node n = entry({{"name", r.name}, {"row", std::to_string(r.row)}, {"slot", std::to_string(r.slot)}});
    if (r.liquid) n["cooling"] = "liquid";
    if (!r.part.empty()) {
      YAML::Node parts(YAML::NodeType::Sequence);
      parts.push_back(r.part);
      n["parts"] = parts;
    }
    racks.push_back(n);
  }
  for (const auto& d : gen.devices) {
    YAML::Node n = entry({{"name", d.name}, {"kind", d.kind}});
    if (d.count > 0) n["count"] = std::to_string(d.count);
    if (d.ports > 0) n["ports"] = std::to_string(d.ports);
    n["rack"] = d.rack;
    n["u"] = std::to_string(d.u);
    if (!d.model.empty()) n["model"] = d.model;
    if (!d.part.empty()) n["part"] = d.part;
    devices.push_back(n);
  }
  for (const auto& l : gen.links) {
    YAML::Node n = entry({{"from", l.from.text()}, {"to", l.to.text()}});
    if (l.zip) n["pattern"] = "zip";
    if (l.lanes > 0) n["lanes"] = std::to_string(l.lanes);
    n["rate"] = units::format_exact(units::Rate{l.rate_Bps});
    n["latency"] = units::format_exact(units::Duration{l.latency_s});
    if (!l.medium.empty()) n["medium"] = l.medium;
    n["class"] = l.link_class;
    links.push_back(n);
  }
  root.remove("cluster");
  root["racks"] = racks;
  root["devices"] = devices;
  root["links"] = links;
  return Ok{};
}

Status build_cluster_spec(const YAML::Node& cluster, const std::string& file, TopologySpec& spec) {
  Generated gen;
  const MapReader c(cluster, file, "cluster");
  if (auto s = cluster::generate(c, gen, spec.catalog); !s) return s;
  const SourceMark at = c.mark();
  std::unordered_map<std::string, int> rack_index;
  for (const auto& r : gen.racks) {
    rack_index.emplace(r.name, static_cast<int>(spec.racks.size()));
    RackSpec rack;
    rack.name = r.name;
    rack.row = r.row;
    rack.slot = r.slot;
    rack.declared_at = at;
    if (r.liquid) rack.cooling = "liquid";
    if (!r.part.empty()) rack.parts.push_back(r.part);
    spec.racks.push_back(std::move(rack));
  }
  struct Group {
    int first, count;
  };
  std::unordered_map<std::string, Group> groups;
  std::size_t total_devices = spec.devices.size();
  for (const auto& d : gen.devices) total_devices += static_cast<std::size_t>(std::max(1, d.count));
  spec.devices.reserve(total_devices);
  groups.reserve(gen.devices.size());
  for (const auto& d : gen.devices) {
    DeviceKind kind = DeviceKind::kGpu;
    for (DeviceKind k : {DeviceKind::kGpu, DeviceKind::kCpu, DeviceKind::kNic, DeviceKind::kNvSwitch,
                         DeviceKind::kPcieSwitch, DeviceKind::kSwitch})
      if (std::string_view(d.kind) == to_string(k)) kind = k;
    const int rack = rack_index.at(d.rack);
    const double height_m = (static_cast<double>(d.u) - 0.5) * kRackUnit_m;
    if (d.u < 1 || height_m > spec.floor.rack_height_m) {
      return c.error_at("layout",
                        fmt::format("a generated device stands at rack unit {}, above the rack's height of {}", d.u,
                                    units::format(units::Length{spec.floor.rack_height_m})));
    }
    if (!d.model.empty()) {
      if (auto found = find_gpu_model(spec, d.model); !found) return c.error_at("gpu", found.error().message);
    }
    if (!d.part.empty() && spec.catalog.find(d.part) == nullptr) {
      return c.error_at("node", fmt::format("the catalog has no part '{}' (catalog/parts.yaml)", d.part));
    }
    groups.emplace(d.name, Group{static_cast<int>(spec.devices.size()), std::max(1, d.count)});
    for (int i = 0; i < std::max(1, d.count); ++i) {
      spec.devices.push_back(DeviceSpec{d.count > 0 ? fmt::format("{}{}", d.name, i) : d.name, kind, d.ports, rack,
                                        height_m, at, d.model, d.part});
    }
  }
  auto resolve = [&](const GenSelector& sel) {
    const Group& g = groups.at(sel.group);
    std::vector<int> out;
    if (sel.indices.empty()) {
      for (int i = 0; i < g.count; ++i) out.push_back(g.first + i);
    } else {
      for (int i : sel.indices) out.push_back(g.first + i);
    }
    return out;
  };
  std::size_t total_links = spec.links.size();
  for (const auto& l : gen.links) {
    const std::size_t from =
        l.from.indices.empty() ? static_cast<std::size_t>(groups.at(l.from.group).count) : l.from.indices.size();
    const std::size_t to =
        l.to.indices.empty() ? static_cast<std::size_t>(groups.at(l.to.group).count) : l.to.indices.size();
    total_links += l.zip ? from : from * to;
  }
  spec.links.reserve(total_links);
  // A fabric cable's errors (no cable reaches, an unknown medium) point at
  // `fabric.cable`: its value, or the fabric map (or the cluster) without one.
  std::optional<MapReader> fabric;
  if (c.has("fabric")) fabric.emplace(c.child("fabric"), file, c.field("fabric"));
  const SourceMark cable_at = fabric ? fabric->mark_of("cable") : at;
  for (const auto& l : gen.links) {
    LinkSpec link;
    link.declared_at = l.medium.empty() ? at : cable_at;
    link.lanes = std::max(1, l.lanes);
    link.rate_Bps = l.rate_Bps * link.lanes;
    link.fixed_latency_s = l.latency_s;
    if (!l.medium.empty()) {
      if (!spec.media.count(l.medium) && l.medium != kAutoMedium) {
        const std::string why = fmt::format("unknown medium '{}'", l.medium);
        return fabric ? fabric->error_at("cable", why) : c.error_at("fabric", why);
      }
      link.medium = l.medium;
    }
    const auto cls = spec.link_classes.find(l.link_class);
    if (cls == spec.link_classes.end()) {
      return c.error_at("node", fmt::format("link class '{}' is not defined", l.link_class));
    }
    link.link_class = l.link_class;
    link.efficiency = cls->second.efficiency;
    link.nvls_efficiency = cls->second.nvls_efficiency;
    link.nvls_reduction = cls->second.nvls_reduction;
    link.step_latency_s = cls->second.step_latency_s;
    const std::vector<int> from = resolve(l.from), to = resolve(l.to);
    if (l.zip) {
      for (std::size_t i = 0; i < from.size(); ++i) {
        link.a = from[i];
        link.b = to[i];
        spec.links.push_back(link);
      }
    } else {
      for (int a : from) {
        for (int b : to) {
          link.a = a;
          link.b = b;
          spec.links.push_back(link);
        }
      }
    }
  }
  return Ok{};
}

}  // namespace collsim::config
