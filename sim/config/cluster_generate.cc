#include "sim/config/cluster_generate.h"

#include <algorithm>

#include "sim/config/cluster_params.h"
#include "sim/config/topology_spec.h"

namespace collsim::config::cluster {

namespace {

// What every part of the generation reads and writes.
struct Gen {
  const MapReader& c;  // the cluster: section, for errors
  const Params& p;
  const NodeBlock& b;
  Generated& out;
  double pcie_Bps = 0;      // NIC (and PCIe switch to CPU) links
  double gpu_pcie_Bps = 0;  // GPU links: at most the GPU's own generation
  int compute_racks = 0, compute_rows = 0, domains_per_node = 0;

  // "n3" or, with several NVLink domains per node, "n3d1".
  std::string tag(int node, int domain) const {
    return domains_per_node == 1 ? fmt::format("n{}", node) : fmt::format("n{}d{}", node, domain);
  }
  // NICs are numbered node-major; rail = GPU index in its NVLink domain.
  GenSelector nic(int global) const {
    const int in_node = global % b.gpus;
    return GenSelector{tag(global / b.gpus, in_node / p.domain_gpus) + "nic", {in_node % p.domain_gpus}, true};
  }
  int row_of_nic(int global) const { return (global / b.gpus / p.nodes_per_rack) / p.racks_per_row; }
  // One fabric cable between two switches or a NIC and a switch.
  void cable(GenSelector from, GenSelector to, int lanes = 0) const {
    out.links.push_back(GenLink{.from = std::move(from),
                                .to = std::move(to),
                                .lanes = lanes,
                                .rate_Bps = p.nic_Bps / p.planes,  // a NIC's port in each plane
                                .latency_s = p.fabric_latency_s,
                                .medium = p.cable,
                                .link_class = p.fabric_class});
  }
};

// Fabric switches of one kind and each one's home row (where end-of-row and
// in-row placement put it): a leaf's is its first NIC's row, an aggregation
// switch's its pod's median leaf row, spines and cores take the rows in turn.
struct SwitchGroup {
  std::string name;
  std::vector<int> rows;
};

// Too large to build? Its GPUs and NICs alone against the device limit,
// before anything is made (131,072 NVL72 racks took 7 s and 4.6 GB to fail).
Status check_device_limit(const Gen& g) {
  const double at_least = 2.0 * g.p.nodes * g.b.gpus;
  const long long limit = max_devices();
  if (at_least <= static_cast<double>(limit)) return Ok{};
  return g.c.error_at("nodes", fmt::format("{} nodes of {} GPUs make over {:.0f} devices (their GPUs and NICs alone); "
                                           "a topology holds at most {} ({} raises it)",
                                           g.p.nodes, g.b.gpus, at_least, limit, kMaxDevicesEnv));
}

// One NVLink domain of node `n`: GPUs, NVSwitches, NICs, the NVLinks, Grace
// CPUs on NVLink-C2C, and the PCIe path from each GPU to its NIC.
void add_domain(const Gen& g, int n, int d) {
  const Params& p = g.p;
  const NodeBlock& b = g.b;
  const std::string rack = fmt::format("rack{}", n / p.nodes_per_rack);
  // A node's GPUs, NICs and switches sit together; nodes stack up the rack.
  const int u = 1 + (n % p.nodes_per_rack) * (Params::kNodeRackUnits / p.nodes_per_rack);
  const std::string tag = g.tag(n, d);
  auto& out = g.out;
  out.devices.push_back({tag + "gpu", "gpu", p.domain_gpus, rack, u, 0, p.gpu_model});
  // A rack split into several NVLink domains (domain_gpus) is partitioned
  // by NVIDIA's fabric manager, not rebuilt: every domain sees the rack's
  // NVSwitch chips over its GPUs' own NVLinks, and the chips are drawn and
  // priced once, by the first domain (the others' part is the partition).
  const std::string own = b.nvswitch_part;
  const std::string part = g.domains_per_node > 1 && d > 0 && !own.empty() ? own + "-partition" : own;
  out.devices.push_back({tag + "nvswitch", "nvswitch", b.nvswitches, rack, u, 0, "", part});
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
    out.links.push_back(GenLink{.from = {tag + "gpu"},
                                .to = {tag + "nvswitch", same},
                                .lanes = b.lanes_per_switch[sw],
                                .rate_Bps = b.lane_rate_Bps,
                                .latency_s = 250 * kNs,
                                .link_class = b.link_class});
  }
  if (b.gpus_per_grace > 0) {
    // Grace CPUs, each joined to its GPUs by NVLink-C2C at 450 GB/s per
    // direction (hardware.yaml nvlink_c2c, gb200_nvl72.grace_cpus_per_rack
    // 36: one per 2 GPUs). ASSUMPTION: 250ns C2C latency (NOT FOUND).
    const int graces = p.domain_gpus / b.gpus_per_grace;
    out.devices.push_back({tag + "grace", "cpu", graces, rack, u, 0, "", b.cpu_part});
    for (int k = 0; k < b.gpus_per_grace; ++k) {
      std::vector<int> gpus;
      for (int c = 0; c < graces; ++c) gpus.push_back(c * b.gpus_per_grace + k);
      out.links.push_back(GenLink{.from = {tag + "gpu", gpus},
                                  .to = {tag + "grace"},
                                  .zip = true,
                                  .rate_Bps = 450e9,
                                  .latency_s = 250 * kNs,
                                  .link_class = "c2c"});
    }
  }
  if (p.pcie_switches == 0) {
    out.links.push_back(GenLink{.from = {tag + "gpu"},
                                .to = {tag + "nic"},
                                .zip = true,
                                .rate_Bps = g.gpu_pcie_Bps,
                                .latency_s = 500 * kNs,
                                .link_class = "pcie"});
    return;
  }
  // GPU -> PCIe switch -> NIC: two hops of 250ns, keeping the 500ns
  // GPU-to-NIC assumption of the direct wiring; every port x16. Routing
  // keeps each GPU on its own NIC (network.h, "NIC affinity").
  out.devices.push_back({tag + "pciesw", "pcie_switch", p.pcie_switches, rack, u, 0, "", "pcie-switch"});
  out.devices.push_back({tag + "cpu", "cpu", p.cpus, rack, u, 0, "", b.cpu_part});
  const int per = p.domain_gpus / p.pcie_switches;
  auto pcie = [&](GenSelector from, GenSelector to, double rate_Bps) {
    out.links.push_back(GenLink{.from = std::move(from),
                                .to = std::move(to),
                                .rate_Bps = rate_Bps,
                                .latency_s = 250 * kNs,
                                .link_class = "pcie"});
  };
  for (int sw = 0; sw < p.pcie_switches; ++sw) {
    std::vector<int> members;
    for (int k = 0; k < per; ++k) members.push_back(sw * per + k);
    const GenSelector to{tag + "pciesw", {sw}};
    pcie({tag + "gpu", members}, to, g.gpu_pcie_Bps);
    pcie({tag + "nic", members}, to, g.pcie_Bps);
    pcie(to, {tag + "cpu", {sw / (p.pcie_switches / p.cpus)}}, g.pcie_Bps);
  }
}

// The NICs of one plane grouped by leaf. Rail-optimized: each leaf serves
// one rail of consecutive nodes; leaf-spine: consecutive NICs.
std::vector<std::vector<int>> leaves_of_plane(const Gen& g, int down) {
  const int nic_count = g.p.nodes * g.b.gpus;
  std::vector<std::vector<int>> groups;  // NICs a leaf may take, in order
  if (g.p.fabric_kind == "rail-optimized") {
    for (int rail = 0; rail < g.p.domain_gpus; ++rail) {
      groups.emplace_back();
      for (int n = 0; n < nic_count; ++n)
        if (n % g.p.domain_gpus == rail) groups.back().push_back(n);
    }
  } else {
    groups.emplace_back();
    for (int n = 0; n < nic_count; ++n) groups.back().push_back(n);
  }
  std::vector<std::vector<int>> leaves;
  for (const auto& nics : groups) {
    for (std::size_t k = 0; k < nics.size(); k += static_cast<std::size_t>(down))
      leaves.emplace_back(nics.begin() + k, nics.begin() + std::min(nics.size(), k + down));
  }
  return leaves;
}

// Rows in turn, for switches with no home of their own (spines, cores).
std::vector<int> rows_in_turn(const Gen& g, int count) {
  std::vector<int> rows;
  for (int i = 0; i < count; ++i) rows.push_back(i % std::max(1, g.compute_rows));
  return rows;
}

// Three tiers (a k-ary fat tree generalised): pods of radix/2 leaves; each
// pod has one aggregation switch per leaf up-port, each leaf one link to
// each; aggregation switch j of every pod has radix/2 up-links into core
// group j. A group holds as few cores as its pods x radix/2 up-links need
// at the core's radix, each aggregation switch of the group reaching each
// of them with the same number of lanes (the count dividing radix/2, as two
// tiers do): with radix pods that is the textbook (radix/2)^2 cores of one
// port per pod; with fewer pods the cores fill their ports with parallel
// links instead of standing mostly empty (4 pods of radix 64 took 1,024
// cores of 4 used ports each; now 64 full ones).
Status add_three_tiers(const Gen& g, int plane, int n_leaves, int uplinks, const std::vector<int>& leaf_rows,
                       std::vector<SwitchGroup>& switches) {
  const int half = g.p.leaf_radix / 2;
  const int pods = (n_leaves + half - 1) / half;
  if (pods > g.p.leaf_radix) {
    return g.c.error_at("nodes", fmt::format("{} leaves per plane need {} pods, more than a core switch of radix "
                                             "{} can join; four tiers are not implemented",
                                             n_leaves, pods, g.p.leaf_radix));
  }
  if (uplinks > half) {
    return g.c.error_at("fabric", fmt::format("a three-tier fabric needs at most {} up-ports per leaf (radix / 2), "
                                              "found {}",
                                              half, uplinks));
  }
  const std::string leaf = fmt::format("p{}leaf", plane), agg = fmt::format("p{}agg", plane),
                    core = fmt::format("p{}core", plane);
  // An aggregation switch cables to every leaf of its pod: it stands in the
  // pod's median leaf row, which minimises its cables' run along the rows (a
  // rail-optimized pod spans every row; its first leaf's row put all of them
  // in row 0, and end-of-row placement then lengthened the cables).
  std::vector<int> pod_row(static_cast<std::size_t>(pods));
  for (int pod = 0; pod < pods; ++pod) {
    std::vector<int> rows(leaf_rows.begin() + pod * half, leaf_rows.begin() + std::min(n_leaves, (pod + 1) * half));
    std::nth_element(rows.begin(), rows.begin() + (rows.size() - 1) / 2, rows.end());
    pod_row[static_cast<std::size_t>(pod)] = rows[(rows.size() - 1) / 2];
  }
  std::vector<int> agg_rows;
  for (int a = 0; a < pods * uplinks; ++a) agg_rows.push_back(pod_row[static_cast<std::size_t>(a / uplinks)]);
  switches.push_back({agg, agg_rows});
  int per_group = (pods * half + g.p.leaf_radix - 1) / g.p.leaf_radix;
  while (half % per_group != 0) ++per_group;
  const int lanes = half / per_group;
  switches.push_back({core, rows_in_turn(g, uplinks * per_group)});
  for (int l = 0; l < n_leaves; ++l)
    for (int j = 0; j < uplinks; ++j)
      g.cable(fmt::format("{}{}", leaf, l), fmt::format("{}{}", agg, (l / half) * uplinks + j));
  for (int pod = 0; pod < pods; ++pod)
    for (int j = 0; j < uplinks; ++j)
      for (int k = 0; k < per_group; ++k)
        g.cable(fmt::format("{}{}", agg, pod * uplinks + j), fmt::format("{}{}", core, j * per_group + k), lanes);
  return Ok{};
}

// Two tiers: each leaf's up-ports spread evenly over as few spines as the
// radix allows (each leaf to each spine with the same number of lanes). The
// spine count divides the up-ports, so no leaf gets more up-ports than its
// share (rounding lanes up would overrun the leaf's port budget: 24 leaves
// x 16 up-ports on radix 64 need 8 spines x 2 lanes, not 6 x 3); spines =
// up-ports, one lane each, always fits because a two-tier plane has at most
// radix leaves.
void add_two_tiers(const Gen& g, int plane, int n_leaves, int uplinks, std::vector<SwitchGroup>& switches) {
  int spines = (n_leaves * uplinks + g.p.leaf_radix - 1) / g.p.leaf_radix;
  while (uplinks % spines != 0) ++spines;
  const int lanes = uplinks / spines;
  const std::string leaf = fmt::format("p{}leaf", plane), spine = fmt::format("p{}spine", plane);
  switches.push_back({spine, rows_in_turn(g, spines)});
  for (int l = 0; l < n_leaves; ++l)
    for (int s = 0; s < spines; ++s) g.cable(fmt::format("{}{}", leaf, l), fmt::format("{}{}", spine, s), lanes);
}

// One plane of the scale-out fabric: its leaves and the tiers above them.
// Spines connect to every leaf of their plane (twin spines merge into one
// logical spine). Every NIC has a port in every plane (as an 800G NIC runs
// as 2 x 400G), so every GPU reaches every plane.
Status add_fabric_plane(const Gen& g, int plane, std::vector<SwitchGroup>& switches) {
  const Params& p = g.p;
  const int down = p.leaf_radix * p.oversubscription / (p.oversubscription + 1);
  const auto leaves = leaves_of_plane(g, down);
  const std::string leaf = fmt::format("p{}leaf", plane);
  const int n_leaves = static_cast<int>(leaves.size());
  std::vector<int> leaf_rows;
  for (const auto& l : leaves) leaf_rows.push_back(g.row_of_nic(l.front()));
  switches.push_back({leaf, leaf_rows});
  for (int l = 0; l < n_leaves; ++l)
    for (int n : leaves[static_cast<std::size_t>(l)]) g.cable(g.nic(n), fmt::format("{}{}", leaf, l));
  std::size_t most = 0;
  for (const auto& l : leaves) most = std::max(most, l.size());
  // Up-ports per leaf: its NICs / oversubscription.
  const int uplinks = static_cast<int>((most + p.oversubscription - 1) / p.oversubscription);
  if (n_leaves > p.leaf_radix) return add_three_tiers(g, plane, n_leaves, uplinks, leaf_rows, switches);
  if (n_leaves > 1) add_two_tiers(g, plane, n_leaves, uplinks, switches);
  return Ok{};
}

// Racks: the compute racks, then the network racks where the placement puts
// them, switches_per_rack switches each, stacked 2U apart.
void place_racks(const Gen& g, const std::vector<SwitchGroup>& switches) {
  const Params& p = g.p;
  const int rows = std::max(1, g.compute_rows);
  std::vector<int> net_racks_in_row(static_cast<std::size_t>(rows), 0);
  struct NetRack {
    std::string name;
    int row, index_in_row;
  };
  std::vector<NetRack> net_racks;
  std::vector<int> open_rack(static_cast<std::size_t>(rows), -1), used(static_cast<std::size_t>(rows), 0);
  int placed = 0;
  std::vector<GenDevices> switch_entries;
  for (const auto& group : switches) {
    for (std::size_t i = 0; i < group.rows.size(); ++i, ++placed) {
      int rack = 0, slot_in_rack = 0;
      if (p.switch_placement == SwitchPlacement::kNetworkRow) {
        if (placed % p.switches_per_rack == 0) {
          const int k = placed / p.switches_per_rack;
          net_racks.push_back({fmt::format("net{}", k), g.compute_rows + k / p.racks_per_row, k % p.racks_per_row});
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
  auto& out = g.out;
  for (int r = 0; r < g.compute_racks; ++r) {
    const int row = r / p.racks_per_row;
    int slot = r % p.racks_per_row;
    // In-row: the row's network racks stand in its middle; later racks shift along.
    const int in_row = net_racks_in_row[static_cast<std::size_t>(row)];
    const int racks_here = std::min(p.racks_per_row, g.compute_racks - row * p.racks_per_row);
    if (p.switch_placement == SwitchPlacement::kInRow && slot >= racks_here / 2) slot += in_row;
    out.racks.push_back({fmt::format("rack{}", r), row, slot, g.b.liquid, g.b.rack_part});
  }
  for (const auto& nr : net_racks) {
    int slot = nr.index_in_row;  // network-row: its slot in the network rows
    if (p.switch_placement != SwitchPlacement::kNetworkRow) {
      const int racks_here = std::min(p.racks_per_row, g.compute_racks - nr.row * p.racks_per_row);
      slot = (p.switch_placement == SwitchPlacement::kEndOfRow ? racks_here : racks_here / 2) + nr.index_in_row;
    }
    out.racks.push_back({nr.name, nr.row, slot});
  }
  for (auto& e : switch_entries) out.devices.push_back(std::move(e));
}

}  // namespace

// Generates the cluster `c` describes: the nodes, each plane of the fabric,
// then the racks and the switches in them.
Status generate(const MapReader& c, Generated& out, const Catalog& catalog) {
  auto params = cluster::read_params(c, catalog);
  if (!params) return params.error();
  const Params& p = *params;
  NodeBlock block = *p.block;  // with the node's GPUs (cluster.node_gpus)
  block.gpus = p.node_gpus;
  Gen g{c, p, block, out};
  // PCIe Gen6 for NICs above 400 Gb/s (hardware.yaml: CX-8 800G is Gen6;
  // gen6 x16 121 GB/s), and for the GPUs too where theirs reaches Gen6
  // (NodeBlock::gpu_pcie_gen6): an H100 stays on Gen5 behind an 800G NIC.
  g.pcie_Bps = p.nic_Bps > 50e9 ? 121e9 : g.b.pcie_Bps;
  g.gpu_pcie_Bps = g.b.gpu_pcie_gen6 ? g.pcie_Bps : std::min(g.pcie_Bps, g.b.pcie_Bps);
  g.compute_racks = (p.nodes + p.nodes_per_rack - 1) / p.nodes_per_rack;
  g.compute_rows = (g.compute_racks + p.racks_per_row - 1) / p.racks_per_row;
  g.domains_per_node = g.b.gpus / p.domain_gpus;
  if (auto s = check_device_limit(g); !s) return s;
  for (int n = 0; n < p.nodes; ++n)
    for (int d = 0; d < g.domains_per_node; ++d) add_domain(g, n, d);
  std::vector<SwitchGroup> switches;
  for (int plane = 0; plane < p.planes; ++plane)
    if (auto s = add_fabric_plane(g, plane, switches); !s) return s;
  place_racks(g, switches);
  return Ok{};
}

}  // namespace collsim::config::cluster
