// Cluster templates against counts worked out by hand, and the expand round trip.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include "sim/config/topology_file.h"
#include "sim/topology/network.h"
#include "sim/topology/summary.h"
#include "test_support.h"

namespace collsim::topology {
namespace {

TopologySummary summary_of(const std::string& yaml) {
  const Topology t = collsim::testing::topology_from_text(yaml);
  const Network net(t);
  return summarize(t, net);
}

TEST(ClusterTemplate, RailOptimized128NodesMatchesTheHandCount) {
  const Topology t =
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-128node.yaml");
  const Network net(t);
  const auto s = summarize(t, net);
  EXPECT_EQ(s.gpus, 1024);
  EXPECT_EQ(s.devices_by_kind.at("nic"), 1024);
  EXPECT_EQ(s.devices_by_kind.at("nvswitch"), 512);  // 4 per node
  // 8 rails x 128 nodes / 32 down-ports = 32 leaves; 32 leaves x 32 up-ports / 64 = 16 spines.
  EXPECT_EQ(s.devices_by_kind.at("switch"), 48);
  EXPECT_EQ(s.links_by_class.at("nvlink4"), 128 * 8 * 4);
  EXPECT_EQ(s.links_by_class.at("infiniband"), 1024 + 32 * 16);
  EXPECT_EQ(s.nvlink_domains, 128);
  // Non-blocking: half the GPUs reach the other half at 512 x 50 GB/s.
  EXPECT_DOUBLE_EQ(s.bisection_Bps, 512 * 50e9);
  // GPU-pciesw-NIC-leaf-spine-leaf-NIC-pciesw-GPU: NIC to NIC 4, plus 2 PCIe hops at each end.
  EXPECT_EQ(s.diameter_hops, 8);
  EXPECT_EQ(s.devices_by_kind.at("pcie_switch"), 128 * 4);
  EXPECT_EQ(s.devices_by_kind.at("cpu"), 128 * 2);
  EXPECT_EQ(s.links_by_class.at("pcie"), 128 * (8 + 8 + 4));  // GPU and NIC ports, one CPU uplink per switch
}

// Without fabric.leaf_radix the template's switches have the ports of the
// switch the bill buys for the class and speed (catalog/parts.yaml: 144 x
// 800G XDR InfiniBand, 64 x 400G NDR, 64 x 800G Ethernet): one NVL72
// rack's 72 NICs at 800G are one 144-port leaf, not five 64-port leaves
// billed as 144-port switches (a new user's report: 264 of 720 ports used).
TEST(ClusterTemplate, TheDefaultRadixIsTheCatalogSwitchs) {
  auto leaves = [](const std::string& nic, const std::string& fabric) {
    const auto s =
        summary_of(fmt::format("name: t\ncluster: {{node: gb200-nvl72, nodes: 1, nic: {}{}}}\n", nic, fabric));
    return s.devices_by_kind.at("switch");
  };
  EXPECT_EQ(leaves("800Gb/s", ""), 1);
  EXPECT_EQ(leaves("400Gb/s", ""), 5);  // 72 NICs over 32 down-ports, and their spines
  EXPECT_EQ(leaves("800Gb/s", ", fabric: {class: ethernet}"), 5);
  EXPECT_EQ(leaves("800Gb/s", ", fabric: {leaf_radix: 64}"), 5);
}

TEST(ClusterTemplate, OversubscriptionCutsTheBisectionByItsRatio) {
  // Leaf-spine, 12 nodes = 96 NICs, radix 64 at 3:1 -> 48 down: leaf 0 holds
  // GPUs 0-47 (the first half), leaf 1 GPUs 48-95. Each leaf gets 48 / 3 = 16
  // up-ports, all to ceil(2 x 16 / 64) = 1 spine: bisection 16 x 50 GB/s,
  // a third of the 48 x 50 GB/s the GPUs could send (the textbook 3:1).
  // HGX H100 nodes on a 3:1 leaf-spine fabric of radix 64.
  auto three_to_one = [](int nodes) {
    return summary_of(
        fmt::format("name: t\ncluster: {{node: hgx-h100, nodes: {}, fabric: {{kind: leaf-spine, leaf_radix: 64, "
                    "oversubscription: 3}}}}\n",
                    nodes));
  };
  const auto s = three_to_one(12);
  EXPECT_EQ(s.devices_by_kind.at("switch"), 2 + 1);
  EXPECT_DOUBLE_EQ(s.bisection_Bps, 16 * 50e9);
  // The leaves as built: 96 NICs down, 2 x 16 up-ports: 3:1 exactly.
  EXPECT_EQ(s.leaves, 2);
  EXPECT_DOUBLE_EQ(s.leaf_down_Bps, 96 * 50e9);
  EXPECT_DOUBLE_EQ(s.leaf_up_Bps, 32 * 50e9);
  const auto full = summary_of("name: t\ncluster: {node: hgx-h100, nodes: 12, fabric: {kind: leaf-spine}}\n");
  EXPECT_DOUBLE_EQ(full.bisection_Bps, 48 * 50e9);  // 1:1: every GPU of the half at 50 GB/s
  EXPECT_DOUBLE_EQ(full.leaf_down_Bps, full.leaf_up_Bps);
  // 13 nodes: 104 NICs on 2 leaves of 48 down-ports and one of 8; every
  // leaf gets the fullest's 16 up-ports, so the fabric is 104:48, not the
  // 3:1 asked (topo prints it).
  const auto uneven = three_to_one(13);
  EXPECT_EQ(uneven.leaves, 3);
  EXPECT_DOUBLE_EQ(uneven.leaf_down_Bps / uneven.leaf_up_Bps, 104.0 / 48.0);
}

TEST(ClusterTemplate, PcieSwitchesAddHopsButNotBottlenecks) {
  // Each node: 4 PCIe switches (2 GPUs + 2 NICs each) on 2 CPUs. GPU to NIC
  // is two 250 ns hops instead of one of 500 ns, at the same x16 rate, and
  // every GPU keeps its own NIC: the path's width is unchanged.
  const auto with = summary_of("name: t\ncluster: {node: hgx-h100, nodes: 2}\n");
  const auto without = summary_of("name: t\ncluster: {node: hgx-h100, nodes: 2, host: {pcie_switches: 0}}\n");
  EXPECT_EQ(with.devices_by_kind.at("pcie_switch"), 8);
  EXPECT_EQ(with.devices_by_kind.at("cpu"), 4);
  EXPECT_EQ(without.devices_by_kind.count("pcie_switch"), 0u);
  EXPECT_DOUBLE_EQ(with.gpu_network_Bps, without.gpu_network_Bps);
  EXPECT_DOUBLE_EQ(with.bisection_Bps, without.bisection_Bps);
  EXPECT_EQ(with.diameter_hops, without.diameter_hops + 2);
}

TEST(ClusterTemplate, UnevenRailLeavesStayWithinTheirPortBudget) {
  // 128 nodes, radix 64 at 3:1: 48 down-ports, so each of the 8 rails needs
  // 3 leaves (48 + 48 + 32 NICs) and each leaf 16 up-ports. Spreading 16
  // up-ports over ceil(24 x 16 / 64) = 6 spines would take 3 lanes each, 18
  // up-ports and 66 of 64 ports; 8 spines x 2 lanes fit. build_topology
  // checks every switch's port budget.
  const auto s = summary_of(R"(name: t
cluster:
  node: hgx-h100
  nodes: 128
  fabric: {kind: rail-optimized, leaf_radix: 64, oversubscription: 3}
)");
  EXPECT_EQ(s.devices_by_kind.at("switch"), 24 + 8);
  EXPECT_EQ(s.links_by_class.at("infiniband"), 1024 + 24 * 8);  // NIC cables + one bundle per leaf-spine pair
}

TEST(ClusterTemplate, Nvl72RackPartitionsIntoSmallerNvlinkDomains) {
  const auto full = summary_of("name: t\ncluster: {node: gb200-nvl72, nodes: 1}\n");
  EXPECT_EQ(full.gpus, 72);
  EXPECT_EQ(full.nvlink_domains, 1);
  EXPECT_EQ(full.devices_by_kind.at("cpu"), 36);  // hardware.yaml gb200_nvl72.grace_cpus_per_rack
  EXPECT_EQ(full.links_by_class.at("c2c"), 72);   // every GPU on NVLink-C2C to its Grace
  EXPECT_DOUBLE_EQ(full.gpu_nvlink_Bps, 900e9);   // 18 x 50 GB/s
  const auto halves = summary_of("name: t\ncluster: {node: gb200-nvl72, nodes: 1, domain_gpus: 36, nic: 800Gb/s}\n");
  EXPECT_EQ(halves.nvlink_domains, 2);
  EXPECT_DOUBLE_EQ(halves.gpu_nvlink_Bps, 900e9);
  EXPECT_DOUBLE_EQ(halves.gpu_network_Bps, 100e9);  // 800 Gb/s behind a PCIe Gen6 hop of 121 GB/s
}

// An 800G NIC sits behind PCIe Gen6 (hardware.yaml nics.connectx8), but a
// GPU's own link stays at its generation: an H100 on Gen5 x16 (63 GB/s per
// direction, hardware.yaml pcie_x16_per_direction) holds what it sends
// through the network to 63 GB/s, not the NIC's 100; Blackwell's reaches
// Gen6. Was: the H100's link built at Gen6 (121 GB/s).
TEST(ClusterTemplate, GpuPcieStaysAtItsGeneration) {
  const auto h100 = summary_of("name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 800Gb/s}\n");
  EXPECT_DOUBLE_EQ(h100.gpu_network_Bps, 63e9);
  const auto h100_400 = summary_of("name: t\ncluster: {node: hgx-h100, nodes: 2}\n");
  EXPECT_DOUBLE_EQ(h100_400.gpu_network_Bps, 50e9);
  const auto b200 = summary_of("name: t\ncluster: {node: hgx-b200, nodes: 2, nic: 800Gb/s}\n");
  EXPECT_DOUBLE_EQ(b200.gpu_network_Bps, 100e9);
  const auto a100 = summary_of("name: t\ncluster: {node: dgx-a100, nodes: 2, nic: 400Gb/s}\n");
  EXPECT_DOUBLE_EQ(a100.gpu_network_Bps, 31e9);  // Gen4
}

std::set<std::tuple<std::string, std::string, double, double>> edges_of(const Topology& t) {
  std::set<std::tuple<std::string, std::string, double, double>> out;
  for (auto [e, end] = boost::edges(t.graph); e != end; ++e) {
    out.emplace(t.graph[boost::source(*e, t.graph)].name, t.graph[boost::target(*e, t.graph)].name,
                t.graph[*e].rate_Bps, t.graph[*e].latency_s);
  }
  return out;
}

TEST(ClusterTemplate, ExpandedYamlReadsBackToTheSameGraph) {
  const std::string file = ::testing::TempDir() + "cluster.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: dgx-a100, nodes: 6, nic: 200Gb/s, layout: {nodes_per_rack: 2}}\n";
  auto expanded = config::expanded_topology_yaml(file, {"cluster.fabric.leaf_radix=16"});
  ASSERT_TRUE(expanded.ok()) << expanded.error().to_string();
  const std::string again = ::testing::TempDir() + "cluster_expanded.yaml";
  std::ofstream(again) << *expanded;
  auto a = config::load_topology_file(file, {"cluster.fabric.leaf_radix=16"});
  auto b = config::load_topology_file(again);
  ASSERT_TRUE(a.ok() && b.ok()) << (a.ok() ? b.error().to_string() : a.error().to_string());
  const Topology ta = *build_topology(*a), tb = *build_topology(*b);
  EXPECT_EQ(boost::num_vertices(ta.graph), boost::num_vertices(tb.graph));
  EXPECT_EQ(edges_of(ta), edges_of(tb));
  EXPECT_GT(edges_of(ta).size(), 100u);
}

TEST(ClusterTemplate, BadParametersAreClearErrors) {
  auto e = config::load_topology_text("name: t\ncluster: {node: hgx-h10, nodes: 2}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("did you mean 'hgx-h100'?"), std::string::npos) << e.error().to_string();
  e = config::load_topology_text("name: t\ncluster: {node: gb200-nvl72, domain_gpus: 7}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("do not split into NVLink domains of 7"), std::string::npos);
  e = config::load_topology_text("name: t\ncluster: {node: hgx-h100, nodes: 300, fabric: {leaf_radix: 8}}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("four tiers are not implemented"), std::string::npos) << e.error().to_string();
  e = config::load_topology_text("name: t\ncluster: {node: gb200-nvl72, host: {pcie_switches: 4}}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("no PCIe host tree"), std::string::npos) << e.error().to_string();
  e = config::load_topology_text("name: t\ncluster: {node: hgx-h100, host: {pcie_switches: 3}}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("do not split evenly over 3 PCIe switches"), std::string::npos);
  e = config::load_topology_text("name: t\ncluster: {node: hgx-h100, host: {pcie_switches: 0, cpus: 2}}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("hang off the PCIe switches"), std::string::npos);
  // One switch: one CPU unless told otherwise.
  EXPECT_TRUE(
      config::load_topology_text("name: t\ncluster: {node: hgx-h100, host: {pcie_switches: 1}}\n", "t.yaml").ok());
  e = config::load_topology_text("name: t\ncluster: {node: hgx-h100, fabirc: {}}\n", "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("did you mean 'fabric'?"), std::string::npos);
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

TEST(ClusterTemplate, PlanesDealRailsAcrossSeparateFabrics) {
  // 4 nodes, 2 planes: every NIC has a 200 Gb/s port in each plane. Per
  // plane one leaf per rail (4 ports each) and ceil(8 leaves x 4 / 64) = 1
  // spine: 16 leaves + 2 spines; bisection unchanged (2 x 25 GB/s per NIC).
  const auto s = summary_of(R"(name: t
cluster:
  node: hgx-h100
  nodes: 4
  fabric: {planes: 2}
)");
  EXPECT_EQ(s.devices_by_kind.at("switch"), 16 + 2);
  EXPECT_EQ(s.links_by_class.at("infiniband"), 2 * 32 + 16);  // NIC ports to leaves, one bundle per leaf to its spine
  EXPECT_DOUBLE_EQ(s.bisection_Bps, 16 * 50e9);
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

TEST(ClusterTemplate, ThreeTierFatTreeIsTheTextbookKAryFatTree) {
  // Radix k = 8, 1:1, 16 nodes = 128 NICs = k^3/4 hosts: 32 leaves (4 down,
  // 4 up), 8 pods of 4 leaves with 4 aggregation switches each, (k/2)^2 = 16
  // cores: 5k^2/4 = 80 switches, full bisection, 8 hops GPU to GPU.
  const auto s = summary_of(R"(name: t
cluster:
  node: hgx-h100
  nodes: 16
  fabric: {kind: leaf-spine, leaf_radix: 8}
  host: {pcie_switches: 0}
)");
  EXPECT_EQ(s.devices_by_kind.at("switch"), 80);
  EXPECT_EQ(s.links_by_class.at("infiniband"), 128 + 32 * 4 + 32 * 4);
  EXPECT_DOUBLE_EQ(s.bisection_Bps, 64 * 50e9);
  EXPECT_EQ(s.diameter_hops, 8);
  // Half the pods: the aggregation switches' 16 x 4 up-links fill 64 / k = 8
  // cores (was 16 half-empty ones), 2 lanes from each aggregation switch to
  // each core of its group; same bisection and hops.
  const auto half = summary_of(R"(name: t
cluster:
  node: hgx-h100
  nodes: 8
  fabric: {kind: leaf-spine, leaf_radix: 8}
  host: {pcie_switches: 0}
)");
  EXPECT_EQ(half.devices_by_kind.at("switch"), 16 + 16 + 8);
  EXPECT_EQ(half.links_by_class.at("infiniband"), 64 + 16 * 4 + 16 * 2);  // the last: bundles of 2 cables
  EXPECT_DOUBLE_EQ(half.bisection_Bps, 32 * 50e9);
  EXPECT_EQ(half.diameter_hops, 8);
  // Past k pods the core layer runs out of ports: a clear error.
  auto spec = config::load_topology_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 40, fabric: {kind: leaf-spine, leaf_radix: 8}}\n", "t.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("four tiers are not implemented"), std::string::npos) << spec.error().message;
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// The cable length between two named devices.
double cable_between(const Topology& t, const std::string& a, const std::string& b) {
  for (auto [e, end] = boost::edges(t.graph); e != end; ++e) {
    if (t.graph[boost::source(*e, t.graph)].name == a && t.graph[boost::target(*e, t.graph)].name == b) {
      return t.graph[*e].length_m;
    }
  }
  ADD_FAILURE() << "no link " << a << " -> " << b;
  return -1;
}

// Four one-node racks in a row, one leaf (32 NICs on a 64-port leaf, no
// spine), every device at the same height, so cables differ only by their
// tray run along the row (0.6 m per slot) and across the aisle (2.4 m).
//   network-row: the leaf in row 1, slot 0: rack r's run is r x 0.6 + 2.4
//   end-of-row:  the leaf at slot 4 of row 0:  (4 - r) x 0.6
//   in-row:      the leaf at slot 2; racks 2, 3 move to slots 3, 4: |2 - slot| x 0.6
TEST(ClusterTemplate, SwitchPlacementMovesTheFabricSwitchesAndTheirCables) {
  auto build = [](const std::string& placement) {
    return collsim::testing::topology_from_text(
        "name: t\ncluster: {node: hgx-h100, nodes: 4, fabric: {kind: leaf-spine},\n"
        "  layout: {nodes_per_rack: 1, racks_per_row: 4, switch_placement: " +
        placement + "}}\n");
  };
  const Topology row = build("network-row"), end = build("end-of-row"), in = build("in-row");
  const double pitch = 0.6, aisle = 2.4;
  const int in_row_slot[] = {0, 1, 3, 4};
  for (int r = 0; r < 4; ++r) {
    const std::string nic = fmt::format("n{}nic0", r);
    const double l_row = cable_between(row, nic, "p0leaf0"), l_end = cable_between(end, nic, "p0leaf0"),
                 l_in = cable_between(in, nic, "p0leaf0");
    EXPECT_NEAR(l_row - l_end, (r * pitch + aisle) - (4 - r) * pitch, 1e-9) << r;
    EXPECT_NEAR(l_end - l_in, (4 - r) * pitch - std::abs(2 - in_row_slot[r]) * pitch, 1e-9) << r;
  }
  // Three tiers, rail-optimized, end of row: a pod (one rail's 4 leaves, one
  // a row) spans rows 0-3, and each aggregation switch stands in its leaves'
  // median row (was its first leaf's: every one in row 0).
  auto spec = config::load_topology_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 16, fabric: {kind: rail-optimized, leaf_radix: 8},\n"
      "  layout: {nodes_per_rack: 1, racks_per_row: 4, switch_placement: end-of-row}}\n",
      "t.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto row_of = [&](int d) { return spec->racks[static_cast<std::size_t>(spec->devices[d].rack)].row; };
  int aggs = 0;
  for (std::size_t d = 0; d < spec->devices.size(); ++d) {
    if (spec->devices[d].name.find("agg") == std::string::npos) continue;
    std::vector<int> leaf_rows;
    for (const auto& l : spec->links) {
      const int other = l.a == static_cast<int>(d) ? l.b : l.b == static_cast<int>(d) ? l.a : -1;
      if (other >= 0 && spec->devices[other].name.find("leaf") != std::string::npos) leaf_rows.push_back(row_of(other));
    }
    ASSERT_EQ(leaf_rows.size(), 4u) << spec->devices[d].name;
    std::sort(leaf_rows.begin(), leaf_rows.end());
    EXPECT_EQ(row_of(static_cast<int>(d)), leaf_rows[1]) << spec->devices[d].name;  // the lower median
    EXPECT_EQ(leaf_rows, (std::vector<int>{0, 1, 2, 3})) << spec->devices[d].name;
    ++aggs;
  }
  EXPECT_EQ(aggs, 32);
  // The bad value is a clear error with a suggestion.
  auto e = config::load_topology_text("name: t\ncluster: {node: hgx-h100, layout: {switch_placement: end-of-rows}}\n",
                                      "t.yaml");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().to_string().find("did you mean 'end-of-row'?"), std::string::npos) << e.error().to_string();
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::config {
namespace {

// A file that is a template alone is built straight into the spec
// (build_cluster_spec); the oracle is the YAML expansion (`topo --expand`)
// read back as an explicit file. Every device, rack and link must be equal.
// The spec of template file `text` built directly, and its `--expand` read back.
std::pair<TopologySpec, TopologySpec> direct_and_read_back(const std::string& text) {
  // One file per process and call: ctest runs the tests that use it at once.
  static int calls = 0;
  const std::string path = fmt::format("{}/direct_spec_{}_{}.yaml", ::testing::TempDir(), ::getpid(), ++calls);
  {
    std::ofstream out(path);
    out << text;
  }
  auto direct = load_topology_file(path);
  EXPECT_TRUE(direct.ok()) << direct.error().to_string();
  auto expanded = expanded_topology_yaml(path, {});
  EXPECT_TRUE(expanded.ok()) << expanded.error().to_string();
  auto read_back = load_topology_text(*expanded, "expanded.yaml");
  EXPECT_TRUE(read_back.ok()) << read_back.error().to_string();
  return {std::move(*direct), std::move(*read_back)};
}

TEST(ClusterTemplate, DirectSpecEqualsTheExpandedFileReadBack) {
  const char* templates[] = {
      "name: t\ncluster: {node: hgx-h100, nodes: 16, fabric: {kind: rail-optimized, leaf_radix: 8}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 6, host: {pcie_switches: 0}, fabric: {kind: leaf-spine, leaf_radix: "
      "16, "
      "oversubscription: 3}, layout: {switch_placement: in-row}}\n",
      "name: t\ncluster: {node: gb200-nvl72, nodes: 3, domain_gpus: 36, nic: 800Gb/s, fabric: {planes: 2}, "
      "layout: {switch_placement: end-of-row}}\n",
      "name: t\nlink_classes: {infiniband: {efficiency: 0.5}}\ncluster: {node: dgx-a100, nodes: 5}\n",
      "name: t\ncluster: {node: hgx-b200, nodes: 3, host: {pcie_switches: 2, cpus: 1}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 1200Gb/s, fabric: {planes: 3, latency: 0.1us}}\n",
  };
  for (const char* text : templates) {
    const auto [a, b] = direct_and_read_back(text);
    ASSERT_EQ(a.racks.size(), b.racks.size()) << text;
    for (std::size_t i = 0; i < a.racks.size(); ++i) {
      EXPECT_EQ(std::tie(a.racks[i].name, a.racks[i].row, a.racks[i].slot),
                std::tie(b.racks[i].name, b.racks[i].row, b.racks[i].slot))
          << text;
    }
    ASSERT_EQ(a.devices.size(), b.devices.size()) << text;
    for (std::size_t i = 0; i < a.devices.size(); ++i) {
      const DeviceSpec &x = a.devices[i], &y = b.devices[i];
      EXPECT_EQ(std::tie(x.name, x.kind, x.ports, x.rack, x.height_m, x.model),
                std::tie(y.name, y.kind, y.ports, y.rack, y.height_m, y.model))
          << text << " device " << i;
    }
    ASSERT_EQ(a.links.size(), b.links.size()) << text;
    for (std::size_t i = 0; i < a.links.size(); ++i) {
      const LinkSpec &x = a.links[i], &y = b.links[i];
      EXPECT_EQ(std::tie(x.a, x.b, x.rate_Bps, x.lanes, x.fixed_latency_s, x.length_m, x.medium, x.link_class,
                         x.efficiency, x.nvls_efficiency),
                std::tie(y.a, y.b, y.rate_Bps, y.lanes, y.fixed_latency_s, y.length_m, y.medium, y.link_class,
                         y.efficiency, y.nvls_efficiency))
          << text << " link " << i;
    }
  }
}

}  // namespace
}  // namespace collsim::config

namespace collsim::config {
namespace {

// Quantities stay numbers from the template to the spec: a 1.2 Tb/s NIC over
// 3 planes has 3 ports of exactly 150e9 / 3 B/s (400G), summing to the NIC's
// 150 GB/s (conservation), whether built directly or through `topo
// --expand`'s YAML read back (which once printed 4 significant digits: 3 x
// 16.67 GB/s for a 400G NIC over 3 planes, a split refused since: a plane's
// port is a speed switches are sold at).
TEST(ClusterTemplate, NicRateSplitOverPlanesStaysExact) {
  const auto [direct, read_back] =
      direct_and_read_back("name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 1200Gb/s, fabric: {planes: 3}}\n");
  for (const TopologySpec* spec : {&direct, &read_back}) {
    std::vector<double> per_nic(spec->devices.size(), 0.0);
    int ports = 0;
    for (const LinkSpec& l : spec->links) {
      if (spec->devices[static_cast<std::size_t>(l.a)].kind != DeviceKind::kNic || l.link_class != "infiniband")
        continue;
      EXPECT_DOUBLE_EQ(l.rate_Bps, 150e9 / 3);
      per_nic[static_cast<std::size_t>(l.a)] += l.rate_Bps;
      ++ports;
    }
    EXPECT_EQ(ports, 3 * 16);
    for (std::size_t d = 0; d < per_nic.size(); ++d) {
      if (spec->devices[d].kind == DeviceKind::kNic) {
        EXPECT_NEAR(per_nic[d], 150e9, 1e-6) << spec->devices[d].name;
      }
    }
  }
}

}  // namespace
}  // namespace collsim::config
