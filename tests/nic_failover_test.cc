// A GPU whose NIC is down (a failed NIC or its cable) crosses the network
// through an NVLink peer's NIC, and NCCL's rings and trees keep only the
// channels of the NICs left (issue 16 item 3, NIC choice on nodes with fewer
// NICs than GPUs; Network::stand_in_route and exit_route, ring.h
// rings_over_domains).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sim/collective/nccl_tuner.h"
#include "sim/collective/ring.h"
#include "sim/config/failure_spec.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/engine/nccl_system.h"
#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "test_support.h"

namespace collsim {
namespace {

using testing::collective_busbw;
using testing::collective_time_us;

const std::string kFourNodes = "-t topologies/h100-ib400-4node.yaml ";
// A 400G NIC carries 47 GB/s (50 x 0.94: hardware.yaml
// nics.nccl_achievable_per_400G_nic).
constexpr double kNicGBps = 50 * 0.94;

// 4 H100 nodes with n0nic3 and n2nic5 down.
topology::Topology two_nics_down() {
  return testing::topology_from_file(
      std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml",
      {config::failure_flag("--fail", "device=n0nic3"), config::failure_flag("--fail", "device=n2nic5")});
}

// A ring channel enters each domain at that domain's own c-th position on
// the network (NCCL's ring graph, searched per node through the NICs it
// sees), and there are as many channels as the domain with the fewest has.
// Without PXN back to the entry's NIC the GPU before the entry must be on it
// too (it sends out of its own NIC).
TEST(NicFailover, RingsEnterEachDomainAtItsOwnPositionsOnTheNetwork) {
  const std::vector<int> domain = {0, 0, 0, 0, 1, 1, 1, 1};
  std::vector<char> on(8, 1);
  on[1] = 0;  // domain 0, position 1: entries 0, 2, 3
  on[6] = 0;  // domain 1, position 2: entries 0, 1, 3
  const auto orders = collective::rings_over_domains(domain, on, false);
  ASSERT_EQ(orders.size(), 3u);
  EXPECT_EQ(orders[0], (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(orders[1], (std::vector<int>{2, 3, 0, 1, 5, 6, 7, 4}));
  EXPECT_EQ(orders[2], (std::vector<int>{3, 0, 1, 2, 7, 4, 5, 6}));
  // With the exit's NIC needed too: domain 0 enters at 0 and 3, domain 1 at 0 and 1.
  const auto own_exit = collective::rings_over_domains(domain, on, true);
  ASSERT_EQ(own_exit.size(), 2u);
  EXPECT_EQ(own_exit[1], (std::vector<int>{3, 0, 1, 2, 5, 6, 7, 4}));
  // Each rank's sends to the next domain leave through the next rank of its own.
  EXPECT_EQ(collective::ring_exit_relays(domain), (std::vector<int>{1, 2, 3, 0, 5, 6, 7, 4}));
  // Trees and NVLSTree put their heads at the same entries, per domain.
  using Entries = std::vector<std::vector<std::size_t>>;
  EXPECT_EQ(collective::network_entries(domain, on, false), (Entries{{0, 2, 3}, {0, 1, 3}}));
  EXPECT_EQ(collective::network_entries(domain, on, true), (Entries{{0, 3}, {0, 1}}));
  EXPECT_EQ(collective::network_entries(domain, {}, false), Entries{});
  // CollNet keeps its rails where every domain is on the network.
  EXPECT_EQ(collective::networked_positions(domain, on, false), (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(collective::networked_positions(domain, on, true), (std::vector<std::size_t>{0}));
  EXPECT_EQ(collective::networked_positions(domain, {}, false), (std::vector<std::size_t>{0, 1, 2, 3}));
}

// With NIC 3 of node 0 down the ring runs on the 7 NICs left, each
// carrying its channels at line rate (4 NCCL channels of about 20 GB/s per
// NIC, more than the NIC's 47): 7 x 47 GB/s of busbw, where the healthy
// ring is held by its 2 queue pairs per NIC (325). Before, the topology was
// refused. Two NICs down on different rails of two nodes still leave 7 NICs
// on every node, and the ring keeps 7 channels, crossing rails between the
// nodes whose positions differ, as NCCL's does (collsim kept the 6 rails
// live on every node before, 6 x 47).
TEST(NicFailover, ARingRunsOnTheNicsLeft) {
  for (const std::string backend : {"analytical", "simgrid"}) {
    const std::string args = "--op allreduce --algo ring -b 1G -e 1G --backend " + backend;
    const double one = collective_busbw(kFourNodes + args + " --fail device=n0nic3");
    EXPECT_NEAR(one / (7 * kNicGBps), 1.0, 0.02) << backend;
    const double two = collective_busbw(kFourNodes + args + " --fail device=n0nic3 --fail device=n2nic5");
    EXPECT_NEAR(two / (7 * kNicGBps), 1.0, 0.02) << backend;
    // NCCL_CROSS_NIC=1, each channel out of its last GPU's own NIC: that GPU
    // needs a NIC too, 6 positions per node qualify.
    const double own = collective_busbw(kFourNodes + args + " --fail device=n0nic3 --set nccl.cross_nic=1");
    EXPECT_NEAR(own / (6 * kNicGBps), 1.0, 0.02) << backend;
  }
}

// Where two nodes' channels enter at different positions, the hop between
// them leaves through the NIC of the channel's entry GPU in the sending
// node (over NVLink from the GPU before it), not the one on the receiver's
// rail: n0nic3 and n2nic5 down, channel 3 enters node 0 at GPU 4 and node 1
// at GPU 3, so GPU 3 of node 0 sends to GPU 3 of node 1 out of NIC 4.
TEST(NicFailover, AChannelLeavesANodeByTheNicItEnteredBy) {
  const topology::Network net(two_nics_down());
  EXPECT_EQ(net.exit_via(3, 4, 11), 4);
  std::vector<int> expected = net.route(3, 4);
  const auto& onward = net.route(4, 11);
  expected.insert(expected.end(), onward.begin(), onward.end());
  EXPECT_EQ(net.exit_route(3, 4, 11), expected);
  std::vector<std::string> names;
  for (int l : onward) names.push_back(net.link_name(l));
  EXPECT_NE(std::find(names.begin(), names.end(), "n0nic4->ib"), names.end()) << ::testing::PrintToString(names);
  EXPECT_NE(std::find(names.begin(), names.end(), "ib->n1nic3"), names.end()) << ::testing::PrintToString(names);
  // Where the exit is the GPU on the receiver's rail, PXN's own route serves.
  EXPECT_EQ(net.exit_via(10, 11, 19), -1);
  // Not through a GPU off the network, nor within one domain.
  EXPECT_EQ(net.exit_via(2, 3, 11), -1);
  EXPECT_EQ(net.exit_via(3, 4, 5), -1);
}

// The same ring in a training step (workload::cost_calls, the path `collsim
// run` takes): the all-reduce over 32 GPUs of 4 nodes with two NICs down on
// different rails runs at 7 NICs' rate.
TEST(NicFailover, AStepsRingRunsOnTheNicsLeft) {
  const topology::Network net(two_nics_down());
  std::vector<int> gpus(32);
  for (int g = 0; g < 32; ++g) gpus[static_cast<std::size_t>(g)] = g;
  const double bytes = 1 << 30;
  const std::vector<workload::CommCall> calls{{collective::Op::kAllReduce, gpus, bytes, 0, {}}};
  workload::CommChoice ring_simple;
  ring_simple.algorithm = "ring";
  ring_simple.protocol = "Simple";
  const auto analytical = engine::make_backend("analytical");
  ASSERT_TRUE(analytical.ok());
  const auto costs = workload::cost_calls(calls, net, **analytical, ring_simple);
  ASSERT_TRUE(costs.ok()) << costs.error().to_string();
  const double busbw_GBps = 2.0 * 31 / 32 * bytes / (*costs)[0].time_s / 1e9;
  EXPECT_NEAR(busbw_GBps / (7 * kNicGBps), 1.0, 0.02);
}

// Two GPUs behind one PCIe switch whose NIC is down reach the fabric
// through their sibling's NIC (the NIC affinity rule's fallback). NCCL's
// graph holds that NIC once: one channel, not two. On the generated 10-node
// cluster (4 PCIe switches of 2 GPUs and 2 NICs per node) the ring keeps 7
// x 47 GB/s with n0nic3 down; with both GPUs' channels on n0nic2 it was
// held to half a NIC per channel (188). With n2nic5 down too, the channels
// between nodes 0 to 2 change rails through the fabric's spines (one leaf
// per rail, 1:1): 7 x 47 again.
TEST(NicFailover, ASiblingsNicCarriesOneChannel) {
  const std::string cluster = "-t tests/validation/topologies/h100-ib400-10node.yaml --op allreduce --algo ring ";
  const double one = collective_busbw(cluster + "-b 4G -e 4G --fail device=n0nic3");
  EXPECT_NEAR(one / (7 * kNicGBps), 1.0, 0.02);
  const double two = collective_busbw(cluster + "-b 4G -e 4G --fail device=n0nic3 --fail device=n2nic5");
  EXPECT_NEAR(two / (7 * kNicGBps), 1.0, 0.02);
}

// A healthy cluster keeps PXN's routes whatever the placement: the ring's
// hops leave by the entry GPU's NIC only where NICs are missing.
TEST(NicFailover, HealthyRingsKeepPxnsRoutes) {
  const std::string ring = "collective " + kFourNodes + "--op allreduce --algo ring -b 1M -e 1M -vv ";
  const auto healthy = testing::run_collsim(ring + "--placement gpus:0-3,12-15,16-19,28-31");
  ASSERT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.err.find("leaves through the NIC of"), std::string::npos) << healthy.err;
  const auto failed = testing::run_collsim(ring + "--fail device=n0nic3 --fail device=n2nic5");
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_NE(failed.err.find("leaves through the NIC of"), std::string::npos);
}

// NCCL aligns its nodes' graphs to the fewest channels (src/init.cc, after
// the graphs' allgather) and doubles the communicator's below 16 on Hopper
// (src/graph/connect.cc, "4 compute channels per search channel"): with 7
// of a node's 8 NICs, 7 channels at 48 GB/s, doubled twice to 28, where 8
// NICs give 8, doubled once to 16. The run says so.
TEST(NicFailover, ALostNicChangesNcclsChannelsAndSaysSo) {
  collective::NcclSystem s = testing::h100_nccl_system(4);
  EXPECT_EQ(collective::nccl_ring_channels(s), 16);
  s.nics = 7;
  s.node_nics = {7, 8};
  EXPECT_EQ(collective::nccl_graphs(s).ring.channels, 7);
  EXPECT_EQ(collective::nccl_ring_channels(s), 28);
  const std::string run = "collective " + kFourNodes + "--op broadcast -b 1G -e 1G --backend analytical ";
  const auto failed = testing::run_collsim(run + "--fail device=n0nic3");
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  EXPECT_NE(failed.err.find("hold 7 to 8 NICs"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("runs 28 ring channels, where nodes of 8 NICs each run 16"), std::string::npos)
      << failed.err;
  const auto healthy = testing::run_collsim(run);
  ASSERT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.err.find("NICs: NCCL aligns"), std::string::npos) << healthy.err;
}

// All-to-all, one NIC down (NIC-bound: the bandwidth part is the busiest
// NIC's bytes). Each NIC healthy carries, each way, 24 of every GPU's 32
// parts (3 other nodes x 8 GPUs). GPU 3's incoming 24 parts arrive on the
// senders' rails: 3 more on each of the 7 NICs, 3 more again on NIC 4 for
// rail 3. Outgoing, the 7 other GPUs send to rail 3 from their own NICs (3
// parts each) and GPU 3 through NIC 4: NIC 4 carries 30 parts each way,
// 1.25 x 24.
TEST(NicFailover, AllToAllSpreadsTheLostNicsBytesOverItsPeers) {
  for (const std::string backend : {"analytical", "simgrid"}) {
    const std::string args = "--op alltoall -b 1G -e 1G --backend " + backend;
    const double healthy = collective_time_us(kFourNodes + args);
    const double down = collective_time_us(kFourNodes + args + " --fail from=n0nic3,to=ib");
    EXPECT_NEAR(down / healthy, 1.25, 0.015) << backend;
  }
}

// On the cluster templates two GPUs and their two NICs share a PCIe
// switch: a GPU whose NIC is down takes its sibling's (NCCL's nearest NIC,
// src/graph/topo.cc ncclTopoGetLocalNet), whichever way the NIC was lost:
// itself, its one cable, or the leaf of its rail (every node's GPU 0 then
// does). The sibling's NIC carries both GPUs' 24 parts each way: 48, twice
// a healthy NIC's, less the share of the time the NVLink parts set (a new
// user's report: the cable gave 1.24 x, the NIC 1.97, the leaf 1.22).
TEST(NicFailover, ALostNicsGpuTakesItsPcieSiblingsNicHoweverItWasLost) {
  const std::string cluster =
      "-t topologies/h100-ib400-128node.yaml --set cluster.nodes=4 --op alltoall -b 1G -e 1G --backend analytical";
  const double healthy = collective_time_us(cluster);
  const double nic = collective_time_us(cluster + " --fail device=n1nic0");
  EXPECT_GT(nic / healthy, 1.9);
  EXPECT_LE(nic / healthy, 2.0);
  EXPECT_NEAR(collective_time_us(cluster + " --fail from=n1nic0,to=p0leaf0"), nic, 1e-9 * nic);
  EXPECT_NEAR(collective_time_us(cluster + " --fail device=p0leaf0"), nic, 1e-9 * nic);
}

// Two GPUs share each NIC (4 a node, tests/data/failures/): NCCL's graph
// holds each NIC once, so the ring runs on 4 NICs, each at 47 GB/s (188
// busbw), and with one NIC down on 3 (141).
TEST(NicFailover, SharedNicsCountOnce) {
  for (const auto& [sets, nics] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{}, 4}, {{config::failure_flag("--fail", "device=n0nic1")}, 3}}) {
    const topology::Network net(testing::topology_from_file(
        std::string(COLLSIM_SOURCE_DIR) + "/tests/data/failures/shared_nic_2node.yaml", sets));
    std::vector<int> gpus(16);
    for (int g = 0; g < 16; ++g) gpus[static_cast<std::size_t>(g)] = g;
    EXPECT_EQ(engine::nccl_system(net, gpus).nics, nics);
  }
  const std::string shared = "-t tests/data/failures/shared_nic_2node.yaml ";
  for (const std::string backend : {"analytical", "simgrid"}) {
    const std::string args = "--op allreduce --algo ring -b 1G -e 1G --backend " + backend;
    EXPECT_NEAR(collective_busbw(shared + args) / (4 * kNicGBps), 1.0, 0.02) << backend;
    EXPECT_NEAR(collective_busbw(shared + args + " --fail device=n0nic1") / (3 * kNicGBps), 1.0, 0.02) << backend;
  }
}

// NVLSTree's portions go to the GPUs with a NIC (NCCL's NVLS heads, one per
// NIC): 7 owners on 7 NICs, each portion n/7 where it was n/8, so each NIC
// carries 8/7 of its healthy bytes over the tree: busbw x 7/8 where the
// NICs bind (4 H100 nodes at 1 GiB). Two NICs down at different positions
// on two nodes leave 7 on each, and each node's owners sit at its own:
// x 7/8 again (x 6/8 when owners kept the positions live on every node).
// The tree's heads follow the same NICs: two down cost what one does.
TEST(NicFailover, NvlsTreeAndTreeSplitOverEachNodesNicsLeft) {
  for (const std::string backend : {"analytical", "simgrid"}) {
    const std::string args = "--op allreduce --algo nvlstree -b 1G -e 1G --backend " + backend;
    const double healthy = collective_busbw(kFourNodes + args);
    const double down = collective_busbw(kFourNodes + args + " --fail device=n0nic3");
    EXPECT_NEAR(down / healthy, 7.0 / 8, 0.02) << backend;
    const double two = collective_busbw(kFourNodes + args + " --fail device=n0nic3 --fail device=n2nic5");
    EXPECT_NEAR(two / healthy, 7.0 / 8, 0.02) << backend;
  }
  const std::string tree = "--op allreduce --algo tree --proto Simple -b 1G -e 1G --backend analytical";
  const double one = collective_busbw(kFourNodes + tree + " --fail device=n0nic3");
  EXPECT_LT(one, collective_busbw(kFourNodes + tree));
  EXPECT_NEAR(collective_busbw(kFourNodes + tree + " --fail device=n0nic3 --fail device=n2nic5") / one, 1.0, 0.01);
}

// Every algorithm runs; trees and CollNet keep the heads with NICs. A GPU with no
// NVLink peer left on the network is still refused, naming the failure.
TEST(NicFailover, EveryAlgorithmRunsAndANodeWithoutNicsIsRefused) {
  for (const char* algo : {"tree", "nvlstree", "ring"}) {
    const auto r =
        testing::run_collsim("collective " + kFourNodes + "--op allreduce -b 64M -e 64M --backend analytical --algo " +
                             algo + " --fail device=n0nic3 --fail device=n1nic0");
    EXPECT_EQ(r.exit_code, 0) << algo << r.err;
  }
  // CollNetDirect's heads are re-chosen too (one rail per GPU with a NIC):
  // losing one NIC of 8 costs at most its share.
  const std::string sharp =
      "--op allreduce --algo collnetdirect -b 1G -e 1G --backend analytical --set "
      "link_classes.infiniband.sharp_efficiency=1.0 --set nccl.collnet=true";
  const double healthy = collective_busbw(kFourNodes + sharp);
  const double down = collective_busbw(kFourNodes + sharp + " --fail device=n0nic3");
  EXPECT_LT(down, healthy);
  EXPECT_GE(down / healthy, 7.0 / 8 - 0.01);
  std::string all;
  for (int k = 0; k < 8; ++k) all += " --fail device=n0nic" + std::to_string(k);
  const auto r =
      testing::run_collsim("collective " + kFourNodes + "--op allreduce -b 1M -e 1M --backend analytical" + all);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("have no path left between them"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--fail device=n0nic0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace collsim
