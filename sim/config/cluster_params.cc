#include "sim/config/cluster_params.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>

#include "sim/config/link_classes.h"
#include "sim/units/units.h"

namespace collsim::config::cluster {

const std::vector<NodeBlock>& blocks() {
  // One building block a row.
  // clang-format off
  static const std::vector<NodeBlock> b{
      {"hgx-h100", 8, 4, {5, 4, 4, 5}, 25e9, "nvlink4", 63e9, 4, 8, 0, "h100", "hgx-h100-host", "hgx-nvswitch"},
      {"hgx-b200", 8, 2, {9, 9}, 50e9, "nvlink5", 63e9, 4, 10, 0, "b200", "hgx-b200-host", "hgx-nvswitch", "", false, true},
      {"dgx-a100", 8, 6, {2, 2, 2, 2, 2, 2}, 25e9, "nvlink3", 31e9, 4, 6, 0, "a100", "dgx-a100-host", "hgx-nvswitch"},
      {"gb200-nvl72", 72, 18, std::vector<int>(18, 1), 50e9, "nvlink5", 63e9, 1, Params::kNodeRackUnits, 2, "gb200",
       "grace", "nvl72-nvswitch", "gb200-nvl72-rack", true, true},
  };
  // clang-format on
  return b;
}

namespace {

// Named size limits of a cluster template: far above the clusters collsim
// ships (16,384 nodes of 8 GPUs) by 8x, low enough that what they allow is read
// and built without running out of memory before a size check can refuse it.
constexpr long long kMaxNodes = 1 << 17;
constexpr long long kMaxPlanes = 64;
constexpr long long kMaxPerRackOrRow = 1 << 16;

Expected<int> positive_int(const MapReader& m, std::string_view key, int fallback, long long max) {
  if (!m.has(key)) return fallback;
  return m.integer_in(key, 1, max, "a whole number");
}

// The port speeds Ethernet and InfiniBand switches and cables are sold at
// (IEEE 802.3's 10 to 800 Gb/s rates, InfiniBand's FDR 56, and the
// 1.6T generation), Gb/s. A NIC split into planes has one port of nic /
// planes in each, which must be one of these: a 400G NIC as 1, 2, 4, 8 or
// 16 planes (400, 200, 100, 50, 25G), not 3 (133.3G ports, which the bill of
// materials would price as the next faster switch and cables).
constexpr std::array<double, 10> kPortSpeedsGbps{10, 25, 40, 50, 56, 100, 200, 400, 800, 1600};

bool sold_port_speed(double port_Bps) {
  const double gbps = port_Bps * 8 / 1e9;
  return std::any_of(kPortSpeedsGbps.begin(), kPortSpeedsGbps.end(),
                     [&](double s) { return std::abs(gbps - s) < 1e-6 * s; });
}

// The plane counts, 1 to kMaxPlanes, that split a NIC of `nic_Bps` into
// ports of a sold speed.
std::vector<int> planes_into_sold_ports(double nic_Bps) {
  std::vector<int> out;
  for (int n = 1; n <= kMaxPlanes; ++n)
    if (sold_port_speed(nic_Bps / n)) out.push_back(n);
  return out;
}

// One plane is checked with the NIC (read_params), which a typo there
// would otherwise blame on `planes`.
Status check_plane_ports(const MapReader& f, double nic_Bps, int planes) {
  if (planes == 1 || sold_port_speed(nic_Bps / planes)) return Ok{};
  const std::vector<int> fits = planes_into_sold_ports(nic_Bps);
  return f.error_at("planes", fmt::format("{} planes split the {:g} Gb/s NIC (cluster.nic) into {:.4g} Gb/s ports, "
                                          "a speed no switch port is sold at ({} Gb/s); expected {} planes",
                                          planes, nic_Bps * 8 / 1e9, nic_Bps * 8 / 1e9 / planes,
                                          fmt::join(kPortSpeedsGbps, ", "), fmt::join(fits, ", ")));
}

}  // namespace

int default_leaf_radix(const Catalog& catalog, const std::string& fabric_class, double port_Bps) {
  const PartSpec* best = cheapest_switch(catalog, port_Bps, 1, fabric_class);
  return best != nullptr ? best->ports : kDefaultLeafRadix;
}

Expected<Params> read_params(const MapReader& c, const Catalog& catalog) {
  if (auto s = c.check({"node", "nodes", "node_gpus", "domain_gpus", "gpu", "nic", "fabric", "layout", "host"}); !s) {
    return s.error();
  }
  Params p;
  auto node = c.scalar("node");
  if (!node) return node.error();
  std::vector<std::string_view> names;
  for (const auto& b : blocks()) {
    names.push_back(b.name);
    if (*node == b.name) p.block = &b;
  }
  if (!p.block) {
    std::string msg = fmt::format("unknown building block '{}'", *node);
    if (auto near = closest_match(*node, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return c.error_at("node", msg + "; expected hgx-h100, hgx-b200, dgx-a100 or gb200-nvl72");
  }
  p.gpu_model = p.block->gpu_model;
  if (auto gpu = c.optional_scalar("gpu"); !gpu) {
    return gpu.error();
  } else if (*gpu) {
    p.gpu_model = **gpu;  // checked against the file's gpu_models where the devices are made
  }
  auto nodes = positive_int(c, "nodes", 1, kMaxNodes);
  if (!nodes) return nodes.error();
  p.nodes = *nodes;
  p.node_gpus = p.block->gpus;
  if (c.has("node_gpus")) {
    if (std::string(p.block->name) != "gb200-nvl72")
      return c.error_at("node_gpus", fmt::format("{} has {} GPUs; only gb200-nvl72 racks take fewer compute trays",
                                                 p.block->name, p.block->gpus));
    auto n = c.integer_in("node_gpus", 4, p.block->gpus, "a whole number");
    if (!n) return n.error();
    if (*n % 4 != 0)
      return c.error_at("node_gpus", fmt::format("expected whole compute trays of 4 GPUs (4 to 72), found {}", *n));
    p.node_gpus = static_cast<int>(*n);
  }
  auto domain = positive_int(c, "domain_gpus", p.node_gpus, kMaxNodes);
  if (!domain) return domain.error();
  p.domain_gpus = *domain;
  if (p.node_gpus % p.domain_gpus != 0) {
    return c.error_at("domain_gpus", fmt::format("{} GPUs per node do not split into NVLink domains of {}", p.node_gpus,
                                                 p.domain_gpus));
  }
  if (p.domain_gpus != p.node_gpus && std::string(p.block->name) != "gb200-nvl72") {
    return c.error_at("domain_gpus", "only gb200-nvl72 racks can be partitioned into smaller NVLink domains");
  }
  if (auto nic = c.optional_scalar("nic"); !nic) {
    return nic.error();
  } else if (*nic) {
    auto rate = units::parse_rate(**nic);
    if (!rate) return c.error_at("nic", rate.error().message);
    if (!(rate->bytes_per_s > 0)) return c.error_at("nic", "expected a positive rate");
    p.nic = **nic;
    p.nic_Bps = rate->bytes_per_s;
  }
  if (c.has("fabric")) {
    MapReader f(c.child("fabric"), c.file(), c.field("fabric"));
    if (auto s = f.check({"kind", "leaf_radix", "oversubscription", "planes", "cable", "class", "latency"}); !s) {
      return s.error();
    }
    if (auto kind = f.optional_scalar("kind"); !kind) {
      return kind.error();
    } else if (*kind) {
      if (**kind != "rail-optimized" && **kind != "leaf-spine") {
        return f.error_at("kind", fmt::format("expected rail-optimized or leaf-spine, found '{}'", **kind));
      }
      p.fabric_kind = **kind;
    }
    if (auto v = f.optional_scalar("class"); !v) {
      return v.error();
    } else if (*v) {
      if (!is_scale_out_class(**v)) {
        return f.error_at("class", fmt::format("expected {}, found '{}'", kScaleOutClassNames, **v));
      }
      p.fabric_class = **v;
    }
    // Without leaf_radix: the ports of the switch the bill would buy for
    // the fabric's class at one plane's port speed (planes read first).
    auto planes = positive_int(f, "planes", 1, kMaxPlanes);
    if (!planes) return planes.error();
    p.planes = *planes;
    const int radix = default_leaf_radix(catalog, p.fabric_class, p.nic_Bps / p.planes);
    for (auto [key, out, fallback, max] : {std::tuple{"leaf_radix", &p.leaf_radix, radix, kMaxPerRackOrRow},
                                           {"oversubscription", &p.oversubscription, 1, kMaxPerRackOrRow}}) {
      auto v = positive_int(f, key, fallback, max);
      if (!v) return v.error();
      *out = *v;
    }
    if (auto s = check_plane_ports(f, p.nic_Bps, p.planes); !s) return s.error();
    if ((p.leaf_radix % (p.oversubscription + 1)) != 0) {
      // Blame the one a --set changed (its mark has no line), else the ratio
      // where the file gives one.
      auto from_set = [&f](const char* key) { return f.has(key) && f.mark_of(key).line == 0; };
      const char* blamed = from_set("oversubscription") ? "oversubscription"
                           : from_set("leaf_radix")     ? "leaf_radix"
                           : f.has("oversubscription")  ? "oversubscription"
                                                        : "leaf_radix";
      // What would: the ratios this radix splits into, and radixes near it
      // that split at this ratio (2:1 on 64 ports: 63 or 66).
      std::vector<std::string> ratios;
      for (int r = 1; r < p.leaf_radix; ++r)
        if (p.leaf_radix % (r + 1) == 0) ratios.push_back(fmt::format("{}:1", r));
      const int step = p.oversubscription + 1;
      const int below = p.leaf_radix / step * step, above = below + step;
      return f.error_at(blamed,
                        fmt::format("{} port{} not split {}:1 into down- and up-ports; expected a ratio r with r + 1 "
                                    "dividing the radix ({} on {} port{}) or a radix that {} + 1 divides ({}{})",
                                    p.leaf_radix, p.leaf_radix == 1 ? " does" : "s do", p.oversubscription,
                                    ratios.empty() ? std::string("none") : fmt::format("{}", fmt::join(ratios, ", ")),
                                    p.leaf_radix, p.leaf_radix == 1 ? "" : "s", p.oversubscription,
                                    below > 0 ? fmt::format("{} or ", below) : std::string(), above));
    }
    if (auto v = f.optional_scalar("cable"); !v) {
      return v.error();
    } else if (*v) {
      p.cable = **v;
    }
    if (auto v = f.optional_scalar("latency"); !v) {
      return v.error();
    } else if (*v) {
      auto d = units::parse_duration(**v);
      if (!d) return f.error_at("latency", d.error().message);
      if (!(d->seconds >= 0)) return f.error_at("latency", fmt::format("expected a latency >= 0, found '{}'", **v));
      p.fabric_latency_s = d->seconds;
    }
  }
  if (!c.has("fabric")) p.leaf_radix = default_leaf_radix(catalog, p.fabric_class, p.nic_Bps);
  // One plane: the NIC's own port is a switch port, so it too must be a
  // speed sold (a typo such as 400GB/s, 3.2 Tb/s, built a fabric the
  // bill could not price, and 300Gb/s was priced as 400G).
  if (p.planes == 1 && !sold_port_speed(p.nic_Bps)) {
    const std::vector<int> fits = planes_into_sold_ports(p.nic_Bps);
    return c.error_at(
        "nic",
        fmt::format("expected a NIC at a speed switch ports are sold at ({} Gb/s), or "
                    "cluster.fabric.planes splitting it into such ports ({}); found {} ({:.4g} Gb/s)",
                    fmt::join(kPortSpeedsGbps, ", "),
                    fits.empty() ? std::string("no plane count does") : fmt::format("{} planes", fmt::join(fits, ", ")),
                    p.nic, p.nic_Bps * 8 / 1e9));
  }
  if (p.fabric_kind.empty()) p.fabric_kind = p.block->gpus == 8 ? "rail-optimized" : "leaf-spine";
  // ASSUMPTION (the reference has no HGX PCIe tree; NOT FOUND): four PCIe
  // switches per 8-GPU node, each joining 2 GPUs, their 2 NICs and one of 2
  // host CPUs (switches 0-1 on CPU 0, 2-3 on CPU 1), as in NVIDIA's DGX H100
  // block diagrams. Override with cluster.host.
  if (p.block->gpus == 8) p.pcie_switches = 4, p.cpus = 2;
  if (c.has("host")) {
    MapReader h(c.child("host"), c.file(), c.field("host"));
    if (p.block->gpus != 8) {
      return c.error_at("host", fmt::format("{} has no PCIe host tree to describe (its CPUs are Grace on NVLink-C2C)",
                                            p.block->name));
    }
    if (auto s = h.check({"pcie_switches", "cpus"}); !s) return s.error();
    for (auto [key, out] : {std::pair{"pcie_switches", &p.pcie_switches}, {"cpus", &p.cpus}}) {
      if (!h.has(key)) continue;
      auto v = h.integer_in(key, 0, 8, "a count");
      if (!v) return v.error();
      *out = *v;
    }
    // Without cpus given: 2 CPUs, or one per switch when there are fewer.
    if (!h.has("cpus")) p.cpus = std::min(2, p.pcie_switches);
    if (p.pcie_switches > 0 && 8 % p.pcie_switches != 0) {
      return h.error_at("pcie_switches", fmt::format("8 GPUs do not split evenly over {} PCIe switches (1, 2, 4 or 8)",
                                                     p.pcie_switches));
    }
    if (p.pcie_switches == 0 && p.cpus > 0) {
      return h.error_at("cpus",
                        "the host CPUs hang off the PCIe switches: with pcie_switches 0 there are none to model");
    }
    if (p.pcie_switches > 0 && (p.cpus == 0 || p.pcie_switches % p.cpus != 0)) {
      return h.error_at("cpus", fmt::format("{} PCIe switches do not split evenly over {} CPUs (each switch has one "
                                            "uplink)",
                                            p.pcie_switches, p.cpus));
    }
  }
  p.nodes_per_rack = p.block->default_nodes_per_rack;
  p.node_units = p.block->rack_units;
  if (c.has("layout")) {
    MapReader l(c.child("layout"), c.file(), c.field("layout"));
    if (auto s = l.check({"nodes_per_rack", "node_units", "racks_per_row", "switches_per_rack", "switch_placement"});
        !s) {
      return s.error();
    }
    if (auto v = l.optional_scalar("switch_placement"); !v) {
      return v.error();
    } else if (*v) {
      if (**v != "network-row" && **v != "end-of-row" && **v != "in-row") {
        std::string msg = fmt::format("expected network-row, end-of-row or in-row, found '{}'", **v);
        if (auto near = closest_match(**v, {"network-row", "end-of-row", "in-row"})) {
          msg += fmt::format(" (did you mean '{}'?)", *near);
        }
        return l.error_at("switch_placement", msg);
      }
      p.switch_placement = **v == "network-row"  ? SwitchPlacement::kNetworkRow
                           : **v == "end-of-row" ? SwitchPlacement::kEndOfRow
                                                 : SwitchPlacement::kInRow;
    }
    // A node takes at least one of the rack units nodes are stacked over.
    for (auto [key, out, max] : {std::tuple{"nodes_per_rack", &p.nodes_per_rack, 0LL + Params::kNodeRackUnits},
                                 {"node_units", &p.node_units, 0LL + Params::kNodeRackUnits},
                                 {"racks_per_row", &p.racks_per_row, kMaxPerRackOrRow},
                                 {"switches_per_rack", &p.switches_per_rack, kMaxPerRackOrRow}}) {
      auto v = positive_int(l, key, *out, max);
      if (!v) return v.error();
      *out = *v;
    }
    // A rack-scale block (gb200-nvl72) is its own rack: one a rack, no height.
    const bool rack_scale = p.block->rack_units == Params::kNodeRackUnits;
    if (rack_scale && l.has("node_units"))
      return l.error_at("node_units", fmt::format("a {} node is a whole rack: expected no node_units, found {}",
                                                  p.block->name, p.node_units));
    if (rack_scale && p.nodes_per_rack > 1)
      return l.error_at("nodes_per_rack", fmt::format("a {} node is a whole rack: expected 1, found {}", p.block->name,
                                                      p.nodes_per_rack));
    // The nodes must fit the rack units they are stacked over (40 nodes of
    // 8U each, 320U, were accepted). Blame what a --set changed, else
    // nodes_per_rack.
    if (p.nodes_per_rack * p.node_units > Params::kNodeRackUnits) {
      const bool units_set = l.has("node_units") && (l.mark_of("node_units").line == 0 || !l.has("nodes_per_rack"));
      return l.error_at(
          units_set ? "node_units" : "nodes_per_rack",
          fmt::format("expected nodes that fit the {}U a rack stacks them over: at most {} node{} of {}U "
                      "(cluster.layout.node_units, {}U by default for {}), found {} nodes per rack ({}U)",
                      Params::kNodeRackUnits, Params::kNodeRackUnits / p.node_units,
                      Params::kNodeRackUnits / p.node_units == 1 ? "" : "s", p.node_units, p.block->rack_units,
                      p.block->name, p.nodes_per_rack, p.nodes_per_rack * p.node_units));
    }
  }
  return p;
}

}  // namespace collsim::config::cluster
