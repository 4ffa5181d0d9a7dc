// NCCL's ring channels across nodes (collective/nccl_tuner.h
// nccl_ring_channels) and what one carries through the network
// (collective/protocol.h ring_channel_net_GBps): the channel counts worked
// out by hand from NCCL's src/graph/connect.cc ncclTopoPostset of each
// release, and the ring's plateau on an idle fabric against its closed
// form, NCCL channels per NIC x queue pairs x the rate per queue pair, on
// both backends.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "sim/collective/nccl_tuner.h"
#include "sim/collective/protocol.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::NcclRelease;

// `nodes` H100 nodes of `gpus` GPUs, one 400G NIC each, on NVSwitches.
collective::NcclSystem h100(int nodes, int gpus) {
  collective::NcclSystem s;
  s.gpu_model = "h100";
  s.nodes = nodes;
  s.ranks = nodes * gpus;
  s.nvlink_GBps = 370.8;
  s.nvswitch = true;
  s.nvls = true;
  s.nics = gpus;
  s.nic_GBps = 50;
  return s;
}

TEST(NcclRingChannels, FollowNcclsPostsetByRelease) {
  using collective::nccl_ring_channels;
  // 8 GPUs, 8 NICs: the ring graph's 8 channels at 48 GB/s (not split on
  // Hopper above 4 channels), doubled to 16; 2.19 doubled again while 2 x
  // 16 <= 64 (32), 2.20.3 on only while under 16.
  EXPECT_EQ(nccl_ring_channels(h100(10, 8), NcclRelease{2, 29, 2}), 16);
  EXPECT_EQ(nccl_ring_channels(h100(10, 8), NcclRelease{2, 19, 3}), 32);
  EXPECT_EQ(nccl_ring_channels(h100(10, 8), NcclRelease{2, 24, 3}), 16);
  // 1 GPU a node: 1 channel at 48 split into 2 at 24, doubled: 4 (the
  // 24 GB/s speed is not above 45, so no Hopper doubling).
  EXPECT_EQ(nccl_ring_channels(h100(10, 1), NcclRelease{2, 29, 2}), 4);
  // NCCL_MIN_CTAS / NCCL_MIN_NCHANNELS raises it, MAXCHANNELS (64) caps it.
  collective::NcclSystem tuned = h100(2, 8);
  tuned.min_channels = 24;
  EXPECT_EQ(nccl_ring_channels(tuned, NcclRelease{2, 27, 3}), 24);
  tuned.min_channels = 100;
  EXPECT_EQ(nccl_ring_channels(tuned, NcclRelease{2, 27, 3}), 64);
  // 2.20.3-2.27.x: at least NVLS's channels where NVLS runs: 32 on
  // Blackwell across nodes; from 2.28.3 no longer.
  collective::NcclSystem b200 = h100(2, 8);
  b200.gpu_model = "b200";
  b200.nvlink_GBps = 721.8;
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 3}), 32);
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 29, 7}), 16);
  // 2.27.3's Blackwell speeds across nodes start at 47.9: 8 channels of it
  // carry less than 16 of 24 (not split, below 25), doubled: 32, 4 per NIC
  // (GB200 under NCCL_NVLS_ENABLE=0, NVIDIA/nccl issue 1801); 2.27.5 has 48.
  b200.nvls = false;
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 3}), 32);
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 5}), 16);
  // A GPU NCCL's tables lack: none known.
  collective::NcclSystem unknown = h100(2, 8);
  unknown.gpu_model = "mystery";
  EXPECT_EQ(nccl_ring_channels(unknown, NcclRelease{2, 29, 2}), 0);
}

TEST(NcclRingChannels, RateIsTheQueuePairsUnlessSet) {
  using collective::ring_channel_net_GBps;
  EXPECT_DOUBLE_EQ(ring_channel_net_GBps(-1, 20, 1), 20);
  EXPECT_DOUBLE_EQ(ring_channel_net_GBps(-1, 20, 2), 40);
  EXPECT_DOUBLE_EQ(ring_channel_net_GBps(-1, 0, 4), 0);  // a class without queue pairs
  EXPECT_DOUBLE_EQ(ring_channel_net_GBps(0, 20, 2), 0);
  EXPECT_DOUBLE_EQ(ring_channel_net_GBps(30, 20, 2), 30);
}

// busbw of a ring all-reduce of 4 GiB on `nodes` H100 nodes whose fabric
// is of link class `cls`, `extra` appended to the command line.
double ring_busbw(int nodes, const std::string& extra, const std::string& cls = "infiniband") {
  const std::string file = ::testing::TempDir() + "ring_channels_" + std::to_string(nodes) + cls + ".yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: " << nodes
                      << ", nic: 400Gb/s, fabric: {kind: rail-optimized, class: " << cls << "}}\n";
  return testing::collective_busbw("-t " + file + " --op allreduce --algo ring --proto Simple -b 4G -e 4G " + extra);
}

TEST(NcclRingChannels, PlateauIsChannelsPerNicTimesTheirRate) {
  // 8 GPUs a node: 16 NCCL channels, 2 per NIC at 20 GB/s = 40 a NIC, under
  // the NIC's 47 (400 Gb/s x 0.94): busbw 8 x 40 = 320, less the ring's
  // steps. Both backends.
  for (const char* backend : {"simgrid", "analytical"}) {
    const double busbw = ring_busbw(4, std::string("--backend ") + backend);
    EXPECT_NEAR(busbw, 320, 320 * 0.01) << backend;
  }
  // 4 GPUs a node: 16 channels, 4 per NIC: the NIC's 47 binds, 4 x 47.
  EXPECT_NEAR(ring_busbw(4, "--placement per-domain:4"), 4 * 47, 4 * 47 * 0.01);
  // No limit: the NICs' 8 x 47; NCCL_MIN_CTAS=24 (3 per NIC) alike.
  EXPECT_NEAR(ring_busbw(4, "--set nccl.ring_channel_net_bw=0"), 8 * 47, 8 * 47 * 0.01);
  EXPECT_NEAR(ring_busbw(4, "--set nccl.min_channels=24"), 8 * 47, 8 * 47 * 0.01);
  // Two queue pairs per connection (NCCL_IB_QPS_PER_CONNECTION=2): 2 x 2 x
  // 20 = 80 a NIC, so the NIC's 47 binds again.
  EXPECT_NEAR(ring_busbw(4, "--set nccl.ib_qps_per_connection=2"), 8 * 47, 8 * 47 * 0.01);
  // The class's rate per queue pair: 10 GB/s halves the plateau, 8 x 2 x 10;
  // RoCE (ethernet) has InfiniBand's; EFA has none: its NICs' 8 x 400 Gb/s x
  // 0.89 bind.
  EXPECT_NEAR(ring_busbw(4, "--set link_classes.infiniband.qp_bw=10"), 160, 160 * 0.01);
  EXPECT_NEAR(ring_busbw(4, "", "ethernet"), 320, 320 * 0.01);
  EXPECT_NEAR(ring_busbw(4, "", "efa"), 8 * 50 * 0.89, 8 * 50 * 0.89 * 0.01);
  // NCCL_BUFFSIZE does not move it (a larger window only).
  EXPECT_NEAR(ring_busbw(4, "--set nccl.buffsize=8M"), 320, 320 * 0.01);
  // Inside one node nothing crosses the network.
  EXPECT_DOUBLE_EQ(ring_busbw(1, ""), ring_busbw(1, "--set nccl.ring_channel_net_bw=0"));
}

TEST(NcclRingChannels, VerboseRunsNameThem) {
  const std::string file = ::testing::TempDir() + "ring_channels_verbose.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 400Gb/s}\n";
  const auto r = testing::run_collsim("collective -t " + file + " --algo ring -b 1G -e 1G -v");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("16 NCCL ring channels, 2 per NIC, at most 20 GB/s each through the network (wire bytes)"),
            std::string::npos)
      << r.err;
}

TEST(NcclRingChannels, BadSettingsNameTheirField) {
  const std::string file = ::testing::TempDir() + "ring_channels_bad.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 2}\nnccl: {ring_channel_net_bw: -3}\n";
  const auto bad = testing::run_collsim("collective -t " + file);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(":3:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("ring_channel_net_bw"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("found -3"), std::string::npos) << bad.err;
  const auto small = testing::run_collsim("collective -t " + file +
                                          " --set nccl.ring_channel_net_bw=1 --set "
                                          "nccl.buffsize=1K");
  EXPECT_EQ(small.exit_code, 2);
  EXPECT_NE(small.err.find("buffsize"), std::string::npos) << small.err;
  const auto many = testing::run_collsim("collective -t " + file +
                                         " --set nccl.ring_channel_net_bw=1 --set "
                                         "nccl.min_channels=65");
  EXPECT_EQ(many.exit_code, 2);
  EXPECT_NE(many.err.find("min_channels"), std::string::npos) << many.err;
  const auto qps = testing::run_collsim("collective -t " + file +
                                        " --set nccl.ring_channel_net_bw=1 --set nccl.ib_qps_per_connection=0");
  EXPECT_EQ(qps.exit_code, 2);
  EXPECT_NE(qps.err.find("ib_qps_per_connection"), std::string::npos) << qps.err;
  const auto rate = testing::run_collsim("collective -t " + file +
                                         " --set nccl.ring_channel_net_bw=1 --set link_classes.infiniband.qp_bw=-1");
  EXPECT_EQ(rate.exit_code, 2);
  EXPECT_NE(rate.err.find("qp_bw"), std::string::npos) << rate.err;
}

}  // namespace
}  // namespace collsim
