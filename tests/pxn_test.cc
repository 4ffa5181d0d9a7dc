// PXN: NCCL relays point-to-point traffic to another NVLink domain through
// the sender-side GPU at the receiver's local index (NCCL 2.30.7
// src/graph/search.cc ncclTopoGetNetDev, NCCL_P2P_PXN_LEVEL=2 by default).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/collective/nccl_tuner.h"
#include "sim/config/failure_spec.h"
#include "sim/config/topology_file.h"
#include "sim/topology/network.h"
#include "test_support.h"

namespace collsim {
namespace {

topology::Topology four_h100_nodes(const std::vector<std::string>& sets) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml", sets);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  EXPECT_TRUE(topo.ok()) << topo.error().to_string();
  return std::move(*topo);
}

TEST(Pxn, RelayIsTheSendersLocalGpuAtTheReceiversIndex) {
  const topology::Topology topo = four_h100_nodes({});
  const topology::Network net(topo);
  // GPU 3 of node 0 to GPU 5 of node 1 (endpoint 13): through GPU 5 of node 0.
  EXPECT_EQ(net.pxn_relay(3, 13), 5);
  std::vector<int> expected = net.route(3, 5);
  const auto& onward = net.route(5, 13);
  expected.insert(expected.end(), onward.begin(), onward.end());
  EXPECT_EQ(net.p2p_route(3, 13), expected);
  // The first leg is NVLink only: GPU -> NVSwitch -> GPU.
  for (int l : net.route(3, 5)) EXPECT_EQ(net.links()[static_cast<std::size_t>(l)].link_class, "nvlink4");
  // No relay inside a node, nor when the sender already sits at that index.
  EXPECT_EQ(net.pxn_relay(3, 4), -1);
  EXPECT_EQ(net.pxn_relay(5, 13), -1);
  EXPECT_EQ(net.p2p_route(5, 13), net.route(5, 13));
  EXPECT_EQ(net.p2p_route(3, 4), net.route(3, 4));
}

TEST(Pxn, OffMeansNcclPxnDisable) {
  const topology::Topology topo = four_h100_nodes({"nccl.pxn=false"});
  const topology::Network net(topo);
  EXPECT_EQ(net.pxn_relay(3, 13), -1);
  EXPECT_EQ(net.p2p_route(3, 13), net.route(3, 13));
}

TEST(Pxn, AllToAllStaysOnRailsOfAnOversubscribedFabric) {
  // 6 HGX H100 nodes (48 GPUs), rail-optimized, 8-port leaves at 3:1 (6
  // NICs down, 2 links up). Each GPU sends n/48 to each of 47 peers; 40
  // are on other nodes, 35 of those on other rails.
  //   PXN: all cross-node traffic leaves through the NIC on the receiver's
  //   rail and stays in its leaf; each NIC carries 40 n/48 each way, at
  //   50 GB/s x 0.94 (hardware.yaml): t = (40/48) n / 47 GB/s.
  //   No PXN: each leaf sends its 6 NICs' cross-rail bytes, 6 x 35 n/48, up
  //   2 links of 47 GB/s: t = (210/48) n / 94 GB/s, 2.6x longer.
  // Bandwidth alone: NCCL's proxy operations (p2p_op_cost) are left out.
  const double n = 48.0 * 1024 * 1024, nic = 50e9 * 0.94;
  const std::string args =
      "-t topologies/h100-ib400-128node.yaml --set cluster.nodes=6 --set cluster.fabric.leaf_radix=8 "
      "--set cluster.fabric.oversubscription=3 --op alltoall -b 48M -e 48M --proto Simple "
      "--set link_classes.infiniband.p2p_op_cost=0s";
  struct Case {
    const char* pxn;
    double time_s;
  };
  for (const Case& c : {Case{"true", 40.0 / 48 * n / nic}, Case{"false", 210.0 / 48 * n / (2 * nic)}}) {
    for (const char* backend : {"analytical", "simgrid"}) {
      const double busbw =
          collsim::testing::collective_busbw(args + " --set nccl.pxn=" + c.pxn + " --backend " + backend);
      ASSERT_GT(busbw, 0);
      const double time_s = n * 47.0 / 48 / (busbw * 1e9);
      // The closed form is the busiest link's load; flows and latency add a little.
      EXPECT_GE(time_s, c.time_s * 0.999) << backend << " pxn " << c.pxn;
      EXPECT_LE(time_s, c.time_s * 1.04) << backend << " pxn " << c.pxn;
    }
  }
}

// Rings with nccl.cross_nic 0 (NCCL's ring graph, crossNic 0 by PXN): each
// channel leaves a node through the NIC it entered by, so its network hops
// stay in their rail's leaf and the spines' taper costs nothing; with
// cross_nic 1 every hop between nodes changes rail and crosses the spines.
// NCCL's default (2) crosses NICs where that finds more bandwidth (on these
// nodes, 8 H100 with 8 NICs of 400 Gb/s, it does), in pairs of channels
// that odd nodes swap "to avoid crossing rails" (NCCL src/graph/connect.cc):
// on an even number of nodes its hops keep their rail too, and the taper
// costs nothing. 6 nodes, 8-port leaves: at 3:1 a leaf's 6 NICs share 2
// uplinks.
TEST(Pxn, RailAlignedRingsDoNotNeedTheSpines) {
  const std::string args =
      "-t topologies/h100-ib400-128node.yaml --set cluster.nodes=6 --set cluster.fabric.leaf_radix=8 "
      "--algo ring -b 1G -e 1G --proto Simple";
  for (const char* backend : {"analytical", "simgrid"}) {
    auto busbw = [&](const std::string& cross_nic, const std::string& over) {
      return collsim::testing::collective_busbw(args + " --backend " + backend + " --set nccl.cross_nic=" + cross_nic +
                                                " --set cluster.fabric.oversubscription=" + over);
    };
    const double aligned = busbw("0", "1");
    ASSERT_GT(aligned, 0);
    EXPECT_NEAR(busbw("0", "3"), aligned, 0.001 * aligned) << backend;
    // Cross-rail rings: 6 NICs' hops per leaf up 2 uplinks of the same rate.
    const double crossed = busbw("1", "3");
    EXPECT_LT(crossed, 0.5 * busbw("1", "1")) << backend;
    const double alternated = busbw("2", "1");
    EXPECT_NEAR(busbw("2", "3"), alternated, 0.001 * alternated) << backend;
    EXPECT_GT(alternated, 1.5 * crossed) << backend;
    // 200 Gb/s NICs: NCCL's default keeps each ring on its rail.
    auto slow_nics = [&](const std::string& over) {
      return collsim::testing::collective_busbw(
          args + " --backend " + backend + " --set cluster.nic=200Gb/s --set cluster.fabric.oversubscription=" + over);
    };
    const double full = slow_nics("1");
    ASSERT_GT(full, 0);
    EXPECT_NEAR(slow_nics("3"), full, 0.001 * full) << backend;
  }
}

// GPU 3 of node 0 (endpoint 3) lost its NIC's cable. Its send to GPU 5 of
// node 1 (endpoint 13) goes as any PXN send: over NVLink to GPU 5 of node
// 0, out of its NIC. Its receive from GPU 5 of node 1 comes in on the
// sender's rail, through GPU 5 of node 0's NIC, then over NVLink; from the
// sender on its own (dead) rail, through the next GPU's (4).
// (tests/nic_failover_test.cc: what it costs.)
TEST(Pxn, AGpuOffTheNetworkCrossesThroughAnNvlinkPeersNic) {
  const topology::Topology topo = four_h100_nodes({config::failure_flag("--fail", "from=n0nic3,to=ib")});
  const topology::Network net(topo);
  EXPECT_FALSE(net.on_network(3));
  EXPECT_TRUE(net.on_network(4));
  EXPECT_TRUE(net.needs_stand_in(3, 13));
  EXPECT_TRUE(net.needs_stand_in(13, 3));
  EXPECT_FALSE(net.needs_stand_in(3, 5));  // one node: NVLink only
  EXPECT_TRUE(net.route(3, 13).empty());   // no path of its own
  std::vector<int> expected = net.route(3, 5);
  const auto& onward = net.route(5, 13);
  expected.insert(expected.end(), onward.begin(), onward.end());
  EXPECT_EQ(net.p2p_route(3, 13), expected);
  std::vector<int> in = net.route(13, 5);
  const auto& last = net.route(5, 3);
  in.insert(in.end(), last.begin(), last.end());
  EXPECT_EQ(net.p2p_route(13, 3), in);
  const auto& own_rail = net.p2p_route(11, 3);  // GPU 3 of node 1
  ASSERT_FALSE(own_rail.empty());
  for (int l : net.route(4, 3)) EXPECT_EQ(net.links()[static_cast<std::size_t>(l)].link_class, "nvlink4");
  const auto& tail = net.route(4, 3);
  EXPECT_TRUE(std::equal(tail.rbegin(), tail.rend(), own_rail.rbegin()));
}

// NCCL's alternation of crossing rings by release (src/graph/connect.cc and
// search.cc at each tag): none before 2.20.3; 2.20 on an even number of
// nodes; 2.21-2.22 on any, NCCL_CROSS_NIC 1 too; from 2.23 for 2 only.
// Never where rings keep their NIC, nor without a graph.
TEST(Pxn, CrossingRingsAlternateAsNcclsReleaseDoes) {
  collective::NcclSystem s = testing::h100_nccl_system(4);
  using R = collective::NcclRelease;
  ASSERT_FALSE(collective::rings_keep_their_nic(s));  // 8 x 48 crossing against 7 x 48
  EXPECT_FALSE(collective::rings_alternate(s, R{2, 19, 3}));
  EXPECT_TRUE(collective::rings_alternate(s, R{2, 20, 3}));
  EXPECT_TRUE(collective::rings_alternate(s, R{2, 23, 4}));
  EXPECT_TRUE(collective::rings_alternate(s));
  s = testing::h100_nccl_system(5);
  EXPECT_FALSE(collective::rings_alternate(s, R{2, 20, 5}));
  EXPECT_TRUE(collective::rings_alternate(s, R{2, 21, 5}));
  EXPECT_TRUE(collective::rings_alternate(s));
  s.cross_nic = 1;
  EXPECT_TRUE(collective::rings_alternate(s, R{2, 22, 3}));
  EXPECT_FALSE(collective::rings_alternate(s, R{2, 23, 4}));
  EXPECT_FALSE(collective::rings_alternate(s));
  s.cross_nic = 0;
  EXPECT_FALSE(collective::rings_alternate(s));
  s.cross_nic = 2;
  s.gpu_model = "mygpu";  // no graph: crossing as 1 (nccl_cross_nic_unknown_gpu), unpaired
  EXPECT_FALSE(collective::rings_keep_their_nic(s));
  EXPECT_FALSE(collective::rings_alternate(s));
}

}  // namespace
}  // namespace collsim
