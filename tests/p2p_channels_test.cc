// NCCL's point-to-point channels through the network (collective/direct.h
// NcclP2pSetup, nccl_tuner.h resolve_p2p_setup): how many NCCL opens per
// network peer (its rule from 2.29, worked out here by hand from
// src/graph/paths.cc ncclTopoGetNchannels and ncclTopoComputeP2pChannels),
// the communicator's channels it counts them against (src/graph/connect.cc
// ncclTopoPostset), and what one channel carries: NCCL's own 14 GB/s
// (NCCL_P2P_PER_CHANNEL_NET_BW), against published send/recv measurements
// that nothing here was fitted to.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "sim/collective/direct.h"
#include "sim/collective/nccl_tuner.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::NcclP2pSetup;

NcclP2pSetup nccl_229(int channels, int nodes, double net_GBps = 48) {
  NcclP2pSetup s;
  s.channels = channels;
  s.bandwidth_rule = true;
  s.net_GBps = net_GBps;
  s.nodes = nodes;
  return s;
}

TEST(P2pChannels, PerNetworkPeerFollowNccl229sBandwidthRule) {
  using collective::nccl_p2p_channels_per_net_peer;
  // ceil(48 / 14) = 4 channels, then halved while 4 x ceil(ranks / 8)
  // exceeds the channels.
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, nccl_229(16, 2)), 4);   // 4 x 2 = 8 <= 16
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(32, nccl_229(16, 4)), 4);   // 4 x 4 = 16 <= 16
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(64, nccl_229(16, 8)), 2);   // 4 x 8 = 32 > 16; 2 x 8 = 16
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(80, nccl_229(16, 10)), 1);  // 2 x 10 = 20 > 16
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(10, nccl_229(4, 10)), 2);   // 4 x 2 = 8 > 4; 2 x 2 = 4
  // 200 Gb/s NICs (25 GB/s): 2 channels; 800 Gb/s behind PCIe 5 (48): 4.
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, nccl_229(16, 2, 25)), 2);
  // No NIC known: NCCL keeps 2. Inside one node nothing is halved.
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, nccl_229(16, 2, 0)), 2);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(80, nccl_229(16, 1)), 4);
  // NCCL_P2P_PER_CHANNEL_NET_BW sets the count too: 7 GB/s, ceil(48 / 7) = 7,
  // rounded up to 8; 8 x 2 = 16 fits.
  NcclP2pSetup seven = nccl_229(16, 2);
  seven.channel_net_Bps = 7e9;
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, seven), 8);
  // At least the NICs NCCL counts per GPU (4 EFA NICs on AWS p5), then
  // halved with scale as any count; before 2.29 never below them.
  NcclP2pSetup p5 = nccl_229(16, 8, 48);
  p5.net_count = 4;
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, p5), 4);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(64, p5), 2);
  p5.bandwidth_rule = false;
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(256, p5), 4);
  // NCCL_NCHANNELS_PER_NET_PEER still wins.
  NcclP2pSetup set = nccl_229(16, 10);
  set.channels_per_net_peer = 8;
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(80, set), 8);
}

TEST(P2pChannels, TheCommunicatorsChannelsAreTheRingGraphsDoubled) {
  // 10 H100 nodes, one 400G NIC per GPU: NCCL's ring graph has one channel
  // per NIC at 48 GB/s, split in two at 24 where that leaves 4 or fewer
  // (ncclTopoDupChannels); ncclTopoPostset then doubles them.
  collective::NcclSystem s;
  s.gpu_model = "h100";
  s.nodes = 10;
  s.nvlink_GBps = 370.8;
  s.nvswitch = true;
  s.nic_GBps = 50;
  const std::pair<int, int> gpus_channels[] = {{1, 4}, {2, 8}, {4, 16}, {8, 16}};
  for (auto [gpus, channels] : gpus_channels) {
    s.ranks = 10 * gpus;
    s.nics = gpus;
    const NcclP2pSetup p2p = collective::resolve_p2p_setup(NcclP2pSetup{0}, s, {2, 29, 2});
    EXPECT_EQ(p2p.channels, channels) << gpus;
    EXPECT_TRUE(p2p.bandwidth_rule);
    EXPECT_DOUBLE_EQ(p2p.net_GBps, 48);  // the NIC's 50 behind PCIe 5's 48
  }
  // A topology's own p2p_channels stays; NCCL 2.28 runs the older rule.
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{32}, s, {2, 29, 2}).channels, 32);
  EXPECT_FALSE(collective::resolve_p2p_setup(NcclP2pSetup{32}, s, {2, 28, 9}).bandwidth_rule);
  // A GPU NCCL's tables lack: 32 (ASSUMPTION nccl_p2p_channels).
  s.gpu_model = "mystery";
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{0}, s, {2, 29, 2}).channels, 32);
}

// From 2.29, NCCL doubles the network chunk on Grace-hosted Blackwell (GB200,
// GB300: 4 GPUs a host; src/init.cc computeBuffSizes), across nodes only.
TEST(P2pChannels, GraceBlackwellDoublesTheNetworkChunkFrom229) {
  collective::NcclSystem s;
  s.gpu_model = "gb200";
  s.nodes = 2;
  s.ranks = 144;
  s.nvlink_GBps = 721.8;
  s.nvswitch = true;
  s.nics = 72;
  s.nic_GBps = 50;
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{}, s, {2, 29, 2}).net_chunk_bytes, 262144);
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{}, s, {2, 28, 9}).net_chunk_bytes, 131072);
  s.nodes = 1;
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{}, s, {2, 29, 2}).net_chunk_bytes, 131072);
  s.nodes = 2;
  s.gpu_model = "b200";  // an x86 host
  EXPECT_EQ(collective::resolve_p2p_setup(NcclP2pSetup{}, s, {2, 29, 2}).net_chunk_bytes, 131072);
}

// Closed form: one GPU on each of 4 H100 nodes sends 1 GiB to the next,
// through one 400G NIC (47 GB/s, hardware.yaml's 0.94). Under NCCL 2.28.9
// a peer gets 2 channels of 14 GB/s: 28 GB/s; with one channel, 14; with
// the channel's limit lifted, the NIC's 47.
TEST(P2pChannels, ASendMovesItsChannelsTimesFourteenGBps) {
  for (const char* backend : {"analytical", "simgrid"}) {
    auto busbw = [&](const std::string& extra) {
      return testing::collective_busbw(
          std::string("-t topologies/h100-ib400-4node.yaml --placement per-domain:1 --op sendrecv -b 1G -e 1G "
                      "--proto Simple --set link_classes.infiniband.p2p_op_cost=0s --nccl 2.28.9 --backend ") +
          backend + extra);
    };
    EXPECT_NEAR(busbw(""), 28.0, 0.01 * 28) << backend;
    EXPECT_NEAR(busbw(" --set nccl.nchannels_per_net_peer=1"), 14.0, 0.01 * 14) << backend;
    EXPECT_NEAR(busbw(" --set nccl.p2p_per_channel_net_bw=0"), 47.0, 0.01 * 47) << backend;
  }
}

// Held out (nothing fitted): nccl-tests' sendrecv_perf at 16 GiB under NCCL
// 2.29. 10 nodes x 1 or 8 H100, InfiniBand, NCCL 2.29.2: 24.86 and 15.22
// GB/s (xxrjun/nccl-tests-cluster, example-cluster01, run 20260129-180219,
// nccl_N10_G1.log and nccl_N10_G8.log, at 56089cac); 8 and 16 nodes x 8
// B200, InfiniBand, NCCL 2.29.7: 25.4 and 15.1 GB/s (togethercomputer/
// together-nccl-tests, baselines/use3a-ss/2026-05-02_nccl_collective_
// scaling_report.md at 0492bede). NCCL gives a peer 2, 1, 2 and 1 channels:
// 28, 14, 28, 14 GB/s. Before, collsim gave every one the NIC's 47 GB/s.
TEST(P2pChannels, SendRecvAcrossNodesMatchesPublishedRuns) {
  struct Case {
    std::string args;
    double measured;
  };
  const Case cases[] = {
      {"-t tests/validation/topologies/h100-ib400-10node.yaml --placement per-domain:1 --nccl 2.29.2", 24.86},
      {"-t tests/validation/topologies/h100-ib400-10node.yaml --nccl 2.29.2", 15.22},
      {"-t tests/validation/topologies/b200-ib400-8node.yaml --nccl 2.29.7", 25.4},
      {"-t tests/validation/topologies/b200-ib400-16node.yaml --nccl 2.29.7", 15.1},
  };
  for (const Case& c : cases) {
    const std::string args = c.args + " --op sendrecv -b 16G -e 16G --backend analytical";
    EXPECT_NEAR(testing::collective_busbw(args), c.measured, 0.13 * c.measured) << c.args;
    EXPECT_GT(testing::collective_busbw(args + " --set nccl.p2p_per_channel_net_bw=0"), 1.6 * c.measured) << c.args;
  }
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

// A validation case may place its ranks as `collective --placement` does
// (the 10-node runs on 1 to 4 GPUs of each node): the send/recv above on
// one GPU a node gives NCCL's 2 channels (28 GB/s), on all 80 GPUs one (14).
TEST(P2pChannels, AValidationCasePlacesItsRanks) {
  const std::string file = ::testing::TempDir() + "placed_cases.yaml";
  auto write = [&](const std::string& gpus) {
    std::ofstream(file) << "cases:\n  - name: x\n    source: y\n"
                           "    topology: tests/validation/topologies/h100-ib400-10node.yaml\n"
                           "    op: sendrecv\n    nccl: 2.29.2\n"
                        << gpus << "    busbw_GBps: {17179869184: 24.86}\n";
  };
  write("    placement: per-domain:1\n");
  auto r = testing::run_collsim("validate --backend analytical --file " + file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("24.86        28.00"), std::string::npos) << r.out;
  r = testing::run_collsim("validate --backend analytical --json - --file " + file);
  EXPECT_NE(r.out.find("\"placement\":\"per-domain:1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"nccl\":\"2.29.2\""), std::string::npos) << r.out;
  write("    placement: per-domain:one\n");
  r = testing::run_collsim("validate --backend analytical --file " + file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("placed_cases.yaml:7:16: field 'cases[0].placement'"), std::string::npos) << r.err;
  write("    placement: ''\n");
  r = testing::run_collsim("validate --backend analytical --file " + file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected a placement such as per-domain:4, found ''"), std::string::npos) << r.err;
  write("    ranks: 8\n    placement: per-domain:1\n");
  r = testing::run_collsim("validate --backend analytical --file " + file);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("expected 'ranks' or 'placement', not both"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace collsim
