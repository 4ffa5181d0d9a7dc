#include "sim/config/cluster_template.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <unordered_map>
#include <vector>

#include "sim/config/cluster_params.h"
#include "sim/config/floor_reader.h"
#include "sim/config/gpu_models.h"
#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::config {

namespace {

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

// What a template generates, before it becomes YAML entries (for
// `--expand` and files that add their own devices) or TopologySpec entries
// directly (pure templates: no YAML nodes for 100,000 devices).
struct GenRack {
  std::string name;
  int row, slot;
};
struct GenDevices {
  std::string name;
  const char* kind;
  int count;  // 0: one device named exactly `name` (no `count` key)
  std::string rack;
  int u;
  int ports;               // 0: no budget
  std::string model = {};  // GPUs: their model
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
  std::string medium;
  std::string link_class;
};
struct Generated {
  std::vector<GenRack> racks;
  std::vector<GenDevices> devices;
  std::vector<GenLink> links;
};

// Generates the cluster `c` describes.
Status generate(const MapReader& c, Generated& out) {
  auto params = cluster::read_params(c);
  if (!params) return params.error();
  const Params& p = *params;
  const NodeBlock& b = *p.block;
  // PCIe Gen6 for NICs above 400 Gb/s (hardware.yaml: CX-8 800G is Gen6; gen6 x16 121 GB/s).
  const double pcie = p.nic_Bps > 50e9 ? 121e9 : b.pcie_Bps;

  // Too large to build? Its GPUs and NICs alone against the device limit,
  // before anything is made (131,072 NVL72 racks took 7 s and 4.6 GB to fail).
  const double at_least = 2.0 * p.nodes * b.gpus;
  if (at_least > static_cast<double>(kMaxDevices)) {
    return c.error_at("nodes", fmt::format("{} nodes of {} GPUs make over {:.0f} devices (their GPUs and NICs alone); "
                                           "a topology holds at most {}",
                                           p.nodes, b.gpus, at_least, kMaxDevices));
  }
  // Compute racks: nodes_per_rack per rack, racks_per_row per row.
  const int compute_racks = (p.nodes + p.nodes_per_rack - 1) / p.nodes_per_rack;
  const int compute_rows = (compute_racks + p.racks_per_row - 1) / p.racks_per_row;
  const int network_row = compute_rows;
  auto row_of_nic = [&](int global) { return (global / b.gpus / p.nodes_per_rack) / p.racks_per_row; };
  const int domains_per_node = b.gpus / p.domain_gpus;
  for (int n = 0; n < p.nodes; ++n) {
    const std::string rack = fmt::format("rack{}", n / p.nodes_per_rack);
    // A node's GPUs, NICs and switches sit together; nodes stack up the rack.
    const int u = 1 + (n % p.nodes_per_rack) * (Params::kNodeRackUnits / p.nodes_per_rack);
    for (int d = 0; d < domains_per_node; ++d) {
      const std::string tag = domains_per_node == 1 ? fmt::format("n{}", n) : fmt::format("n{}d{}", n, d);
      out.devices.push_back({tag + "gpu", "gpu", p.domain_gpus, rack, u, 0, p.gpu_model});
      out.devices.push_back({tag + "nvswitch", "nvswitch", b.nvswitches, rack, u, 0});
      out.devices.push_back({tag + "nic", "nic", p.domain_gpus, rack, u, 0});
      // NVLink: one entry per distinct lane count, to all switches with that count.
      std::vector<bool> done(b.nvswitches, false);
      for (int sw = 0; sw < b.nvswitches; ++sw) {
        if (done[sw]) continue;
        std::vector<int> same;
        for (int t = sw; t < b.nvswitches; ++t) {
          if (b.lanes_per_switch[t] == b.lanes_per_switch[sw]) {
            same.push_back(t);
            done[t] = true;
          }
        }
        out.links.push_back({{tag + "gpu"},
                             {tag + "nvswitch", same},
                             false,
                             b.lanes_per_switch[sw],
                             b.lane_rate_Bps,
                             250 * kNs,
                             "",
                             b.link_class});
      }
      if (b.gpus_per_grace > 0) {
        // Grace CPUs, each joined to its GPUs by NVLink-C2C at 450 GB/s per
        // direction (hardware.yaml nvlink_c2c, gb200_nvl72.grace_cpus_per_rack
        // 36: one per 2 GPUs). ASSUMPTION: 250ns C2C latency (NOT FOUND).
        const int graces = p.domain_gpus / b.gpus_per_grace;
        out.devices.push_back({tag + "grace", "cpu", graces, rack, u, 0});
        for (int k = 0; k < b.gpus_per_grace; ++k) {
          std::vector<int> gpus;
          for (int c = 0; c < graces; ++c) gpus.push_back(c * b.gpus_per_grace + k);
          out.links.push_back({{tag + "gpu", gpus}, {tag + "grace"}, true, 0, 450e9, 250 * kNs, "", "c2c"});
        }
      }
      if (p.pcie_switches == 0) {
        out.links.push_back({{tag + "gpu"}, {tag + "nic"}, true, 0, pcie, 500 * kNs, "", "pcie"});
        continue;
      }
      // GPU -> PCIe switch -> NIC: two hops of 250ns, keeping the 500ns
      // GPU-to-NIC assumption of the direct wiring; every port x16. Routing
      // keeps each GPU on its own NIC (network.h, "NIC affinity").
      out.devices.push_back({tag + "pciesw", "pcie_switch", p.pcie_switches, rack, u, 0});
      out.devices.push_back({tag + "cpu", "cpu", p.cpus, rack, u, 0});
      const int per = p.domain_gpus / p.pcie_switches;
      for (int sw = 0; sw < p.pcie_switches; ++sw) {
        std::vector<int> members;
        for (int k = 0; k < per; ++k) members.push_back(sw * per + k);
        const GenSelector to{tag + "pciesw", {sw}};
        for (const char* kind : {"gpu", "nic"}) {
          out.links.push_back({{tag + kind, members}, to, false, 0, pcie, 250 * kNs, "", "pcie"});
        }
        out.links.push_back(
            {to, {tag + "cpu", {sw / (p.pcie_switches / p.cpus)}}, false, 0, pcie, 250 * kNs, "", "pcie"});
      }
    }
  }

  // Scale-out fabric. NICs are numbered node-major; rail = GPU index in its
  // NVLink domain. Rail-optimized: each leaf serves one rail of consecutive
  // nodes; leaf-spine: each leaf serves consecutive NICs. Spines connect to
  // every leaf of their plane (twin spines merge into one logical spine).
  // Planes: every NIC splits its rate into one port per plane (as an 800G
  // NIC runs as 2 x 400G), so every GPU reaches every plane.
  const double port_rate = p.nic_Bps / p.planes;
  const int down = p.leaf_radix * p.oversubscription / (p.oversubscription + 1);
  const int nic_count = p.nodes * b.gpus;
  const std::string net_class = "infiniband";
  // Switch groups: name, and each switch's home row (where end-of-row and
  // in-row placement put it): a leaf's is its first NIC's row, an
  // aggregation switch's its pod's first leaf's, spines and cores take the
  // rows in turn.
  struct SwitchGroup {
    std::string name;
    std::vector<int> rows;
  };
  std::vector<SwitchGroup> switch_devices;
  auto in_turn = [&](int count) {
    std::vector<int> rows;
    for (int i = 0; i < count; ++i) rows.push_back(i % std::max(1, compute_rows));
    return rows;
  };
  auto nic_name = [&](int global) {
    const int node = global / b.gpus, in_node = global % b.gpus;
    const int d = in_node / p.domain_gpus, i = in_node % p.domain_gpus;
    const std::string tag = domains_per_node == 1 ? fmt::format("n{}", node) : fmt::format("n{}d{}", node, d);
    return GenSelector{tag + "nic", {i}, true};
  };
  auto one = [](std::string name) { return GenSelector(std::move(name)); };
  for (int plane = 0; plane < p.planes; ++plane) {
    // The NICs of this plane, grouped by leaf.
    std::vector<std::vector<int>> leaves;
    if (p.fabric_kind == "rail-optimized") {
      for (int rail = 0; rail < p.domain_gpus; ++rail) {
        std::vector<int> rail_nics;
        for (int g = 0; g < nic_count; ++g)
          if (g % p.domain_gpus == rail) rail_nics.push_back(g);
        for (std::size_t k = 0; k < rail_nics.size(); k += down) {
          leaves.emplace_back(rail_nics.begin() + k, rail_nics.begin() + std::min(rail_nics.size(), k + down));
        }
      }
    } else {
      std::vector<int> plane_nics;
      for (int g = 0; g < nic_count; ++g) plane_nics.push_back(g);
      for (std::size_t k = 0; k < plane_nics.size(); k += down) {
        leaves.emplace_back(plane_nics.begin() + k, plane_nics.begin() + std::min(plane_nics.size(), k + down));
      }
    }
    const std::string leaf = fmt::format("p{}leaf", plane), spine = fmt::format("p{}spine", plane);
    const int n_leaves = static_cast<int>(leaves.size());
    std::vector<int> leaf_rows;
    for (const auto& l : leaves) leaf_rows.push_back(row_of_nic(l.front()));
    switch_devices.push_back({leaf, leaf_rows});
    for (int l = 0; l < n_leaves; ++l) {
      for (int g : leaves[l]) {
        out.links.push_back({nic_name(g), one(fmt::format("{}{}", leaf, l)), false, 0, port_rate, p.fabric_latency_s,
                             p.cable, net_class});
      }
    }
    std::size_t most = 0;
    for (const auto& l : leaves) most = std::max(most, l.size());
    // Up-ports per leaf: its NICs / oversubscription.
    const int uplinks = static_cast<int>((most + p.oversubscription - 1) / p.oversubscription);
    if (n_leaves > p.leaf_radix) {
      // Three tiers (a k-ary fat tree generalised): pods of radix/2 leaves;
      // each pod has one aggregation switch per leaf up-port, each leaf one
      // link to each; aggregation switch j of every pod has radix/2 up-links,
      // one to each core of core group j; a core has one port per pod.
      const int half = p.leaf_radix / 2;
      const int pods = (n_leaves + half - 1) / half;
      if (pods > p.leaf_radix) {
        return c.error_at("nodes", fmt::format("{} leaves per plane need {} pods, more than a core switch of radix "
                                               "{} can join; four tiers are not implemented",
                                               n_leaves, pods, p.leaf_radix));
      }
      if (uplinks > half) {
        return c.error_at("fabric", fmt::format("a three-tier fabric needs at most {} up-ports per leaf (radix / 2), "
                                                "found {}",
                                                half, uplinks));
      }
      const std::string agg = fmt::format("p{}agg", plane), core = fmt::format("p{}core", plane);
      std::vector<int> agg_rows;
      for (int a = 0; a < pods * uplinks; ++a)
        agg_rows.push_back(leaf_rows[static_cast<std::size_t>((a / uplinks) * half)]);
      switch_devices.push_back({agg, agg_rows});
      switch_devices.push_back({core, in_turn(uplinks * half)});
      for (int l = 0; l < n_leaves; ++l) {
        for (int j = 0; j < uplinks; ++j) {
          out.links.push_back({one(fmt::format("{}{}", leaf, l)),
                               one(fmt::format("{}{}", agg, (l / half) * uplinks + j)), false, 0, port_rate,
                               p.fabric_latency_s, p.cable, net_class});
        }
      }
      for (int pod = 0; pod < pods; ++pod) {
        for (int j = 0; j < uplinks; ++j) {
          for (int k = 0; k < half; ++k) {
            out.links.push_back({one(fmt::format("{}{}", agg, pod * uplinks + j)),
                                 one(fmt::format("{}{}", core, j * half + k)), false, 0, port_rate, p.fabric_latency_s,
                                 p.cable, net_class});
          }
        }
      }
    } else if (n_leaves > 1) {
      // Two tiers: each leaf's up-ports spread evenly over as few spines as
      // the radix allows (each leaf to each spine with the same number of
      // lanes). The spine count divides the up-ports, so no leaf gets more
      // up-ports than its share (rounding lanes up would overrun the leaf's
      // port budget: 24 leaves x 16 up-ports on radix 64 need 8 spines x 2
      // lanes, not 6 x 3); spines = up-ports, one lane each, always fits
      // because a two-tier plane has at most radix leaves.
      int spines = (n_leaves * uplinks + p.leaf_radix - 1) / p.leaf_radix;
      while (uplinks % spines != 0) ++spines;
      const int lanes = uplinks / spines;
      switch_devices.push_back({spine, in_turn(spines)});
      for (int l = 0; l < n_leaves; ++l) {
        for (int s = 0; s < spines; ++s) {
          out.links.push_back({one(fmt::format("{}{}", leaf, l)), one(fmt::format("{}{}", spine, s)), false, lanes,
                               port_rate, p.fabric_latency_s, p.cable, net_class});
        }
      }
    }
  }
  // Racks: the compute racks, then the network racks where the placement
  // puts them, switches_per_rack switches each, stacked 2U apart.
  std::vector<int> net_racks_in_row(static_cast<std::size_t>(std::max(1, compute_rows)), 0);
  struct NetRack {
    std::string name;
    int row, index_in_row;
  };
  std::vector<NetRack> net_racks;
  std::vector<int> open_rack(static_cast<std::size_t>(std::max(1, compute_rows)), -1), used(net_racks_in_row.size(), 0);
  int placed = 0;
  std::vector<GenDevices> switch_entries;
  for (const auto& group : switch_devices) {
    for (std::size_t i = 0; i < group.rows.size(); ++i, ++placed) {
      int rack = 0, slot_in_rack = 0;
      if (p.switch_placement == "network-row") {
        if (placed % p.switches_per_rack == 0) {
          const int k = placed / p.switches_per_rack;
          net_racks.push_back({fmt::format("net{}", k), network_row + k / p.racks_per_row, k % p.racks_per_row});
        }
        rack = static_cast<int>(net_racks.size()) - 1;
        slot_in_rack = placed % p.switches_per_rack;
      } else {
        const auto row = static_cast<std::size_t>(group.rows[i]);
        if (open_rack[row] < 0 || used[row] == p.switches_per_rack) {
          const int k = net_racks_in_row[row]++;
          net_racks.push_back({fmt::format("row{}net{}", row, k), static_cast<int>(row), k});
          open_rack[row] = static_cast<int>(net_racks.size()) - 1;
          used[row] = 0;
        }
        rack = open_rack[row];
        slot_in_rack = used[row]++;
      }
      switch_entries.push_back({fmt::format("{}{}", group.name, i), "switch", 0,
                                net_racks[static_cast<std::size_t>(rack)].name, 1 + 2 * slot_in_rack, p.leaf_radix});
    }
  }
  for (int r = 0; r < compute_racks; ++r) {
    const int row = r / p.racks_per_row;
    int slot = r % p.racks_per_row;
    // In-row: the row's network racks stand in its middle; later racks shift along.
    const int in_row = static_cast<int>(net_racks_in_row[static_cast<std::size_t>(row)]);
    const int racks_here = std::min(p.racks_per_row, compute_racks - row * p.racks_per_row);
    if (p.switch_placement == "in-row" && slot >= racks_here / 2) slot += in_row;
    out.racks.push_back({fmt::format("rack{}", r), row, slot});
  }
  for (const auto& nr : net_racks) {
    int slot = nr.index_in_row;  // network-row: its slot in the network rows
    if (p.switch_placement != "network-row") {
      const int racks_here = std::min(p.racks_per_row, compute_racks - nr.row * p.racks_per_row);
      slot = (p.switch_placement == "end-of-row" ? racks_here : racks_here / 2) + nr.index_in_row;
    }
    out.racks.push_back({nr.name, nr.row, slot});
  }
  for (auto& e : switch_entries) out.devices.push_back(std::move(e));
  return Ok{};
}

}  // namespace

Status expand_cluster_template(YAML::Node& root, const std::string& file) {
  if (!root.IsMap() || !root["cluster"]) return Ok{};
  Generated gen;
  if (auto s = generate(MapReader(root["cluster"], file, "cluster"), gen); !s) return s;
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
    racks.push_back(entry({{"name", r.name}, {"row", std::to_string(r.row)}, {"slot", std::to_string(r.slot)}}));
  }
  for (const auto& d : gen.devices) {
    YAML::Node n = entry({{"name", d.name}, {"kind", d.kind}});
    if (d.count > 0) n["count"] = std::to_string(d.count);
    if (d.ports > 0) n["ports"] = std::to_string(d.ports);
    n["rack"] = d.rack;
    n["u"] = std::to_string(d.u);
    if (!d.model.empty()) n["model"] = d.model;
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
  if (auto s = generate(c, gen); !s) return s;
  const SourceMark at = c.mark();
  std::unordered_map<std::string, int> rack_index;
  for (const auto& r : gen.racks) {
    rack_index.emplace(r.name, static_cast<int>(spec.racks.size()));
    spec.racks.push_back(RackSpec{r.name, r.row, r.slot, at});
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
    groups.emplace(d.name, Group{static_cast<int>(spec.devices.size()), std::max(1, d.count)});
    for (int i = 0; i < std::max(1, d.count); ++i) {
      spec.devices.push_back(DeviceSpec{d.count > 0 ? fmt::format("{}{}", d.name, i) : d.name, kind, d.ports, rack,
                                        height_m, at, d.model});
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
  for (const auto& l : gen.links) {
    LinkSpec link;
    link.declared_at = at;
    link.lanes = std::max(1, l.lanes);
    link.rate_Bps = l.rate_Bps * link.lanes;
    link.fixed_latency_s = l.latency_s;
    if (!l.medium.empty()) {
      if (!spec.media.count(l.medium)) return c.error_at("fabric", fmt::format("unknown medium '{}'", l.medium));
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
