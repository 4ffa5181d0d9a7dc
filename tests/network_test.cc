#include "sim/topology/network.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "test_support.h"

namespace collsim::topology {
namespace {

using collsim::testing::topology_from_file;
using collsim::testing::topology_from_text;

TEST(Network, Nvl72SwitchChipsMergeIntoOnePlaneOf900GBps) {
  const Topology topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72.yaml");
  ASSERT_EQ(topo.gpus.size(), 72u);  // hardware.yaml gb200_nvl72.gpus_per_rack
  EXPECT_EQ(boost::num_vertices(topo.graph), 72u + 18u);
  EXPECT_EQ(boost::num_edges(topo.graph), 2u * 72u * 18u);  // 18 links per GPU, two directions each
  const Network net(topo);
  EXPECT_EQ(net.num_logical_switches(), 1);
  const auto& route = net.route(0, 71);
  ASSERT_EQ(route.size(), 2u);
  // 18 links x 50 GB/s per direction = 900 GB/s (hardware.yaml nvlink5_per_gpu_per_direction).
  EXPECT_DOUBLE_EQ(net.links()[route[0]].line_rate_Bps, 900e9);
  EXPECT_DOUBLE_EQ(net.links()[route[1]].line_rate_Bps, 900e9);
  EXPECT_NEAR(net.route_rate_Bps(route), 900e9 * 0.76, 1.0);  // the nvlink5 class efficiency
}

TEST(Network, HgxH100UnevenLaneSplitStillGives450GBpsPerGpu) {
  const Topology topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/hgx-h100.yaml");
  ASSERT_EQ(topo.gpus.size(), 8u);
  const Network net(topo);
  // The 4 NVSwitch chips are one logical switch (the one NVSwitch endpoint
  // after the GPUs); the PCIe switches and NICs of the host side stay apart.
  EXPECT_EQ(net.num_endpoints() - net.num_gpus(), 1);
  for (int dst = 1; dst < 8; ++dst) {
    const auto& route = net.route(0, dst);
    ASSERT_EQ(route.size(), 2u);
    EXPECT_DOUBLE_EQ(net.links()[route[0]].line_rate_Bps, 450e9);  // hardware.yaml nvlink4_per_gpu_per_direction
  }
}

TEST(Network, NodesAreNvlinkDomainsAndNicsAreTheWayOut) {
  const Topology topo = topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const Network net(topo);
  ASSERT_EQ(net.num_gpus(), 32);
  for (int g = 0; g < 32; ++g) {
    EXPECT_EQ(net.nvlink_domain_of(g), net.nvlink_domain_of(g - g % 8)) << g;
    if (g >= 8) {
      EXPECT_NE(net.nvlink_domain_of(g), net.nvlink_domain_of(g - 8)) << g;
    }
  }
  EXPECT_EQ(net.route(0, 7).size(), 2u);  // over NVLink
  const auto& across = net.route(0, 8);   // GPU -> PCIe -> NIC -> switch -> NIC -> PCIe -> GPU
  ASSERT_EQ(across.size(), 4u);
  EXPECT_EQ(net.links()[across[0]].link_class, "pcie");
  EXPECT_EQ(net.links()[across[1]].link_class, "infiniband");
  // 400 Gb/s x 0.94 (hardware.yaml nics.nccl_achievable_per_400G_nic: 46-48 of 50 GB/s).
  EXPECT_NEAR(net.route_rate_Bps(across), 50e9 * 0.94, 1e3);
  // 10 m of fibre at 4.9 ns/m on each NIC cable, plus the fixed parts.
  EXPECT_NEAR(net.route_latency_s(across), 2 * 500e-9 + 2 * (150e-9 + 49e-9), 1e-12);
}

TEST(Network, TwinsWithDifferentSharesAreNotMerged) {
  // gpu0 has 2 lanes to sw0 and 1 to sw1, gpu1 the opposite: striping in
  // proportion to rate would not split the same way, so merging is not exact.
  const Topology topo = topology_from_text(R"(name: skew
devices:
  - {name: gpu, kind: gpu, count: 2}
  - {name: sw, kind: switch, count: 2}
links:
  - {from: "gpu[0]", to: "sw[0]", lanes: 2, rate: 10GB/s, latency: 0s, class: ideal}
  - {from: "gpu[0]", to: "sw[1]", lanes: 1, rate: 10GB/s, latency: 0s, class: ideal}
  - {from: "gpu[1]", to: "sw[0]", lanes: 1, rate: 10GB/s, latency: 0s, class: ideal}
  - {from: "gpu[1]", to: "sw[1]", lanes: 2, rate: 10GB/s, latency: 0s, class: ideal}
)");
  const Network net(topo);
  EXPECT_EQ(net.num_logical_switches(), 2);
}

TEST(Network, RoutesAvoidTransitThroughGpus) {
  // gpu0 - gpu1 direct, and both to a switch; gpu2 only on the switch.
  const Topology topo = topology_from_text(R"(name: mix
devices:
  - {name: gpu, kind: gpu, count: 3}
  - {name: sw, kind: switch}
links:
  - {from: "gpu[0]", to: "gpu[1]", rate: 10GB/s, latency: 0s, class: ideal}
  - {from: gpu, to: sw, rate: 10GB/s, latency: 0s, class: ideal}
)");
  const Network net(topo);
  EXPECT_EQ(net.route(0, 1).size(), 1u);  // direct
  EXPECT_EQ(net.route(0, 2).size(), 2u);  // via the switch
  EXPECT_EQ(net.route(2, 1).size(), 2u);
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

TEST(Network, EcmpSpreadsDestinationsOverEqualCostPathsDeterministically) {
  // Two leaves that are not twins (each has a GPU of its own), both linking
  // every other GPU: pairs of "other" GPUs have two equal two-hop paths.
  const Topology topo = collsim::testing::topology_from_text(R"(name: ecmp
devices:
  - {name: g, kind: gpu, count: 10}
  - {name: own, kind: gpu, count: 2}
  - {name: leaf, kind: switch, count: 2}
links:
  - {from: g, to: leaf, rate: 10GB/s, latency: 0s, class: ideal}
  - {from: "own[0]", to: "leaf[0]", rate: 10GB/s, latency: 0s, class: ideal}
  - {from: "own[1]", to: "leaf[1]", rate: 10GB/s, latency: 0s, class: ideal}
)");
  const Network net(topo);
  EXPECT_EQ(net.num_logical_switches(), 2);
  std::set<std::string> first_hops;
  for (int a = 0; a < 10; ++a) {
    for (int b = 0; b < 10; ++b) {
      if (a == b) continue;
      const auto& r = net.route(a, b);
      ASSERT_EQ(r.size(), 2u);
      first_hops.insert(net.link_name(r[0]));
      EXPECT_EQ(net.links()[r[0]].to_node, net.links()[r[1]].from_node);
    }
  }
  EXPECT_GT(first_hops.size(), 10u);  // both leaves are used as first hops
  const Network again(topo);
  for (int b = 1; b < 10; ++b) EXPECT_EQ(net.route(0, b), again.route(0, b));
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// NIC affinity behind PCIe switches (network.h): every cross-node route
// leaves through the source GPU's own NIC and arrives through the
// destination's, on a rail-optimized fabric where a sibling's NIC on the same
// PCIe switch would often be shorter.
TEST(Network, GpusBehindPcieSwitchesUseTheirOwnNics) {
  const Topology t = collsim::testing::topology_from_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 3, fabric: {kind: rail-optimized}}\n");
  const Network net(t);
  ASSERT_EQ(net.num_gpus(), 24);
  for (int a = 0; a < 24; ++a) {
    for (int b = 0; b < 24; ++b) {
      if (a / 8 == b / 8) continue;
      const auto& r = net.route(a, b);
      ASSERT_GE(r.size(), 6u);
      const std::string out = fmt::format("n{}pciesw{}->n{}nic{}", a / 8, (a % 8) / 2, a / 8, a % 8);
      const std::string in = fmt::format("n{}nic{}->n{}pciesw{}", b / 8, b % 8, b / 8, (b % 8) / 2);
      EXPECT_EQ(net.link_name(r[1]), out) << a << " -> " << b;
      EXPECT_EQ(net.link_name(r[r.size() - 2]), in) << a << " -> " << b;
      for (int l : r) {  // never NIC to NIC through the host
        EXPECT_EQ(net.link_name(l).find("pciesw" + std::to_string((a % 8) / 2) + "->n" + std::to_string(a / 8) + "nic" +
                                        std::to_string(a % 8 ^ 1)),
                  std::string::npos);
      }
    }
  }
}

TEST(Network, TwoGpusShareTheOneNicOfTheirPcieSwitch) {
  const Topology t = collsim::testing::topology_from_text(R"(name: t
devices:
  - {name: a, kind: gpu, count: 2}
  - {name: b, kind: gpu, count: 2}
  - {name: asw, kind: pcie_switch}
  - {name: bsw, kind: pcie_switch}
  - {name: anic, kind: nic}
  - {name: bnic, kind: nic}
  - {name: ib, kind: switch}
links:
  - {from: "a[0,1]", to: asw, rate: 48GB/s, latency: 250ns, class: pcie}
  - {from: "b[0,1]", to: bsw, rate: 48GB/s, latency: 250ns, class: pcie}
  - {from: anic, to: asw, rate: 48GB/s, latency: 250ns, class: pcie}
  - {from: bnic, to: bsw, rate: 48GB/s, latency: 250ns, class: pcie}
  - {from: anic, to: ib, rate: 50GB/s, latency: 150ns, class: infiniband}
  - {from: bnic, to: ib, rate: 50GB/s, latency: 150ns, class: infiniband}
)");
  const Network net(t);
  for (int src : {0, 1}) {
    const auto& r = net.route(src, 3);
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(net.link_name(r[1]), "asw->anic");
    EXPECT_EQ(net.link_name(r[4]), "bnic->bsw");
    EXPECT_EQ(net.link_name(r[5]), "bsw->b1");
  }
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// Two nodes, each pair of GPUs and NICs behind one PCIe switch, the NICs
// on two rails joining only same-rail NICs: the other rail is reachable
// only through a sibling's NIC.
const char* const kRailOnlyYaml = R"(name: railonly
devices:
  - {name: n0gpu, kind: gpu, count: 2}
  - {name: n0psw, kind: pcie_switch}
  - {name: n0nic, kind: nic, count: 2}
  - {name: n1gpu, kind: gpu, count: 2}
  - {name: n1psw, kind: pcie_switch}
  - {name: n1nic, kind: nic, count: 2}
  - {name: rail, kind: switch, count: 2}
links:
  - {from: n0gpu, to: n0psw, rate: 63GB/s, latency: 250ns, class: pcie}
  - {from: n0nic, to: n0psw, rate: 63GB/s, latency: 250ns, class: pcie}
  - {from: n1gpu, to: n1psw, rate: 63GB/s, latency: 250ns, class: pcie}
  - {from: n1nic, to: n1psw, rate: 63GB/s, latency: 250ns, class: pcie}
  - {from: n0nic, to: rail, pattern: zip, rate: 50GB/s, latency: 150ns, class: infiniband}
  - {from: n1nic, to: rail, pattern: zip, rate: 50GB/s, latency: 150ns, class: infiniband}
)";

// Two NICs on one PCIe switch that reach the same leaf look like twins; they
// must not be merged (one GPU would then send through both), and a path the
// pairing rule leaves impossible (rails joined by nothing) still exists
// through a sibling's NIC.
TEST(Network, PairedNicsAreNotMergedAndEveryGpuStaysReachable) {
  const Topology leaf = collsim::testing::topology_from_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 2, fabric: {kind: leaf-spine}}\n");
  const Network net(leaf);
  const auto& r = net.route(0, 8);
  ASSERT_GE(r.size(), 4u);
  EXPECT_EQ(net.link_name(r[1]), "n0pciesw0->n0nic0");  // not a merged "n0nic0..n0nic1"
  EXPECT_DOUBLE_EQ(net.links()[r[1]].line_rate_Bps, 63e9);

  const Topology rails = collsim::testing::topology_from_text(kRailOnlyYaml);
  const Network rn(rails);
  // Same rail: the GPU's own NIC. Across rails only a sibling's NIC leads there.
  EXPECT_EQ(rn.link_name(rn.route(0, 2)[1]), "n0psw->n0nic0");
  const auto& across = rn.route(0, 3);
  ASSERT_FALSE(across.empty());
  EXPECT_EQ(rn.link_name(across.back()), "n1psw->n1gpu1");
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// route() searches per pair (bidirectional BFS over the fewest-hop DAG);
// reference_route() is the original full single-source BFS. They must agree
// link for link (widest-path ties, ECMP digit choices, NIC affinity and its
// fallback) on every shipped topology and on the template's fabric shapes.
void expect_routes_match_reference(const Network& net, const std::string& what) {
  const int n = net.num_endpoints();
  // About 4,000 pairs per network; on big ones (where each reference BFS
  // walks the whole cluster) fewer, spread over the whole fabric.
  const long long pairs = n > 20000 ? 6 : n > 2000 ? 300 : 4000;
  const long long stride = std::max(1LL, static_cast<long long>(n) * n / pairs);
  int checked = 0;
  for (long long k = 0; k < static_cast<long long>(n) * n; k += stride) {
    const int a = static_cast<int>(k / n), b = static_cast<int>((k * 7919) % n);
    if (a == b) continue;
    ASSERT_EQ(net.route(a, b), net.reference_route(a, b)) << what << ": " << a << " -> " << b;
    ++checked;
  }
  EXPECT_GE(checked, std::min<long long>(static_cast<long long>(n) * (n - 1), std::min(pairs / 4, 1000LL))) << what;
}

TEST(Network, PerPairRoutesEqualTheFullBfsOnShippedTopologies) {
  for (const auto& entry : std::filesystem::directory_iterator(std::string(COLLSIM_SOURCE_DIR) + "/topologies")) {
    const Network net(collsim::testing::topology_from_file(entry.path().string()));
    expect_routes_match_reference(net, entry.path().filename().string());
  }
}

TEST(Network, PerPairRoutesEqualTheFullBfsOnTemplateFabrics) {
  const char* files[] = {
      // three tiers (pods of 4 leaves), with and without the PCIe tree
      "name: t\ncluster: {node: hgx-h100, nodes: 16, fabric: {kind: rail-optimized, leaf_radix: 8}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 16, host: {pcie_switches: 0}, fabric: {kind: rail-optimized, "
      "leaf_radix: 8}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 6, fabric: {kind: leaf-spine, leaf_radix: 16, oversubscription: 3}}\n",
      "name: t\ncluster: {node: gb200-nvl72, nodes: 3, nic: 800Gb/s, fabric: {kind: leaf-spine, leaf_radix: 64}}\n",
  };
  for (const char* text : files) {
    const Network net(collsim::testing::topology_from_text(text));
    expect_routes_match_reference(net, text);
  }
  // The rail-only fabric of PairedNicsAreNotMergedAndEveryGpuStaysReachable,
  // where the affinity rule cuts some pairs off (fallback routes).
  const Network rails(collsim::testing::topology_from_text(kRailOnlyYaml));
  expect_routes_match_reference(rails, "rail-only");
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// Routes composed at host gateways (gateway.cc) must equal the full BFS for
// every pair, in the order a ring asks for them (so the cache of DAGs
// between gateways is reused), on a three-tier fabric whose pods differ,
// with and without PCIe switches, with NICs split over two planes and
// behind NVL72 racks' NVSwitches; and
// the composition must actually be used (a test of the fast path, not only
// of the fallback).
TEST(Network, RoutesComposedAtGatewaysEqualTheFullBfsForEveryPair) {
  const char* files[] = {
      "name: t\ncluster: {node: hgx-h100, nodes: 16, fabric: {kind: rail-optimized, leaf_radix: 8}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 16, host: {pcie_switches: 0}, fabric: {kind: rail-optimized, "
      "leaf_radix: 8}}\n",
      "name: t\ncluster: {node: hgx-h100, nodes: 8, fabric: {kind: rail-optimized, leaf_radix: 8, planes: 2}}\n",
      // NVL72 racks: 71 GPUs one NVSwitch away from each GPU, before its leaf
      "name: t\ncluster: {node: gb200-nvl72, nodes: 3, nic: 800Gb/s, fabric: {kind: leaf-spine, leaf_radix: 64}}\n",
  };
  for (const char* text : files) {
    const Network net(collsim::testing::topology_from_text(text));
    const int n = net.num_endpoints();
    for (int shift = 1; shift < n; ++shift) {
      for (int a = 0; a < n; ++a) {
        const int b = (a + shift) % n;
        ASSERT_EQ(net.route(a, b), net.reference_route(a, b)) << text << a << " -> " << b;
      }
    }
    const auto stats = net.route_stats();
    EXPECT_GT(stats.composed, static_cast<long long>(n) * n / 2) << text;
    EXPECT_GT(stats.in_host, 0) << text;
  }
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// Topology's move swaps the graph's containers (topology.h); a moved and
// a copied topology must build the same network, and the moved-from one
// must still be safe to destroy and reassign.
TEST(Topology, MovedTopologyIsTheSameGraph) {
  Topology original = collsim::testing::topology_from_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 3, fabric: {kind: rail-optimized}}\n");
  const Topology copy = original;
  Topology moved = std::move(original);
  EXPECT_EQ(boost::num_vertices(moved.graph), boost::num_vertices(copy.graph));
  EXPECT_EQ(boost::num_edges(moved.graph), boost::num_edges(copy.graph));
  const Network a(copy), b(moved);
  ASSERT_EQ(a.links().size(), b.links().size());
  for (int dst = 1; dst < a.num_gpus(); ++dst) EXPECT_EQ(a.route(0, dst), b.route(0, dst));
  original = std::move(moved);  // the moved-from object takes a graph back
  EXPECT_EQ(boost::num_edges(original.graph), boost::num_edges(copy.graph));
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// A NIC split into planes (one port of nic / planes in each) has the same
// capacity as the NIC on one plane: every port carries traffic, as NCCL
// drives every port of a NIC. Oracle: conservation of the NIC's rate.
TEST(Network, FabricPlanesCarryTheWholeNicRate) {
  for (const char* node : {"hgx-h100", "gb200-nvl72"}) {
    std::vector<int> switches;
    for (int planes : {1, 2, 4}) {
      const Topology topo = topology_from_text(fmt::format(R"(name: planes
cluster: {{node: {}, nodes: 4, nic: 400Gb/s, fabric: {{kind: leaf-spine, leaf_radix: {}, planes: {}}}}}
)",
                                                           node, std::string(node) == "hgx-h100" ? 16 : 64, planes));
      const Network net(topo);
      const int far = net.num_gpus() - 1;  // in the last node
      const auto& route = net.route(0, far);
      ASSERT_GE(route.size(), 4u) << node;
      for (int l : route) {
        const auto& link = net.links()[static_cast<std::size_t>(l)];
        if (link.link_class == "infiniband" &&
            (link.from_kind == config::DeviceKind::kNic || link.to_kind == config::DeviceKind::kNic)) {
          EXPECT_DOUBLE_EQ(link.line_rate_Bps, 50e9) << node << " planes " << planes << " " << net.link_name(l);
        }
      }
      // 400 Gb/s x 0.94 (hardware.yaml nics.nccl_achievable_per_400G_nic).
      EXPECT_NEAR(net.route_rate_Bps(route), 50e9 * 0.94, 1e3) << node << " planes " << planes;
      switches.push_back(net.num_logical_switches());
    }
    EXPECT_EQ(switches[1], switches[0]) << node;
    EXPECT_EQ(switches[2], switches[0]) << node;
  }
}

TEST(Network, FabricsThatAreNotCopiesStayApart) {
  // Two fabrics joining the same NICs, one of two leaves and a spine, the
  // other a single switch: not copies of one plane, so nothing merges and
  // routes take the fewest hops (the single switch).
  const Topology topo = topology_from_text(R"(name: unequal
devices:
  - {name: gpu, kind: gpu, count: 2}
  - {name: nic, kind: nic, count: 2}
  - {name: leaf, kind: switch, count: 2}
  - {name: spine, kind: switch}
  - {name: single, kind: switch}
links:
  - {from: gpu, to: nic, pattern: zip, rate: 100GB/s, latency: 0s, class: ideal}
  - {from: nic, to: leaf, pattern: zip, rate: 20GB/s, latency: 0s, class: ideal}
  - {from: leaf, to: spine, rate: 20GB/s, latency: 0s, class: ideal}
  - {from: nic, to: single, rate: 10GB/s, latency: 0s, class: ideal}
)");
  const Network net(topo);
  EXPECT_EQ(net.num_logical_switches(), 6);  // two NICs, four switches
  EXPECT_EQ(net.route(0, 1).size(), 4u);
  EXPECT_DOUBLE_EQ(net.route_rate_Bps(net.route(0, 1)), 10e9);
}

}  // namespace
}  // namespace collsim::topology

namespace collsim::topology {
namespace {

// Two copies of a three-layer plane, the second declared with its top
// switches in the other order (top[0] on mid[1]): the same fabric, so the
// planes still merge and a pair of NICs gets both ports' rate.
TEST(Network, PlanesDeclaredInAnotherOrderStillMerge) {
  const std::string head = R"(name: planes
devices:
  - {name: gpu, kind: gpu, count: 4}
  - {name: nic, kind: nic, count: 4}
  - {name: p0leaf, kind: switch, count: 2}
  - {name: p0mid, kind: switch, count: 2}
  - {name: p0top, kind: switch, count: 2}
  - {name: p1leaf, kind: switch, count: 2}
  - {name: p1mid, kind: switch, count: 2}
  - {name: p1top, kind: switch, count: 2}
links:
  - {from: gpu, to: nic, pattern: zip, rate: 100GB/s, latency: 0s, class: ideal}
)";
  std::string plane;
  for (int p : {0, 1}) {
    plane += fmt::format(R"(  - {{from: "nic[0-1]", to: "p{0}leaf[0]", rate: 25GB/s, latency: 0s, class: ideal}}
  - {{from: "nic[2-3]", to: "p{0}leaf[1]", rate: 25GB/s, latency: 0s, class: ideal}}
  - {{from: p{0}leaf, to: p{0}mid, rate: 25GB/s, latency: 0s, class: ideal}}
  - {{from: "p{0}top[0]", to: "p{0}mid[{1}]", rate: 25GB/s, latency: 0s, class: ideal}}
  - {{from: "p{0}top[1]", to: "p{0}mid[{2}]", rate: 25GB/s, latency: 0s, class: ideal}}
)",
                         p, p == 0 ? 0 : 1, p == 0 ? 1 : 0);
  }
  const Network net(topology_from_text(head + plane));
  const auto& route = net.route(0, 2);                                                    // across leaves
  EXPECT_DOUBLE_EQ(net.links()[static_cast<std::size_t>(route[1])].line_rate_Bps, 50e9);  // NIC -> both leaves
  EXPECT_DOUBLE_EQ(net.route_rate_Bps(route), 50e9);
}

}  // namespace
}  // namespace collsim::topology
