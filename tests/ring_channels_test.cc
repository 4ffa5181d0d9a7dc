// NCCL's ring channels across nodes (collective/nccl_tuner.h
// nccl_ring_channels) and what one carries through the network
// (collective/protocol.h ring_channel_net_GBps): the channel counts worked
// out by hand from NCCL's src/graph/connect.cc ncclTopoPostset of each
// release, NCCL's messages per ring step (slices, slots), and the ring on
// an idle fabric against its closed form, NCCL channels x what a channel's
// queue pairs move between their message costs, on both backends.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

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
  // On 2 nodes (16 channels), NCCL's settings: NCCL_MAX_NCHANNELS and
  // NCCL_MAX_CTAS cap the count, then NCCL_MIN_NCHANNELS and NCCL_MIN_CTAS
  // raise it (src/graph/connect.cc: "max, then min"), MAXCHANNELS (64) caps
  // it, and a NCCL_MIN_CTAS above NCCL_MAX_CTAS is lowered to it
  // (src/init.cc).
  struct Settings {
    int min_channels, min_ctas, max_channels, max_ctas;
    NcclRelease release;
    int channels;
  };
  for (const Settings& c : std::vector<Settings>{{24, 0, 0, 0, {2, 27, 3}, 24},
                                                 {100, 0, 0, 0, {2, 27, 3}, 64},
                                                 {0, 24, 0, 0, {2, 27, 3}, 24},
                                                 {0, 0, 4, 0, {2, 29, 2}, 4},
                                                 {0, 0, 0, 4, {2, 29, 2}, 4},
                                                 {8, 0, 0, 4, {2, 29, 2}, 8},
                                                 {0, 24, 0, 4, {2, 29, 2}, 4}}) {
    collective::NcclSystem tuned = h100(2, 8);
    tuned.min_channels = c.min_channels;
    tuned.min_ctas = c.min_ctas;
    tuned.max_channels = c.max_channels;
    tuned.max_ctas = c.max_ctas;
    EXPECT_EQ(nccl_ring_channels(tuned, c.release), c.channels)
        << c.min_channels << " " << c.min_ctas << " " << c.max_channels << " " << c.max_ctas;
  }
  // 2.20.3-2.27.x: at least NVLS's channels where NVLS runs: 32 on
  // Blackwell across nodes; from 2.28.3 no longer.
  collective::NcclSystem b200 = h100(2, 8);
  b200.gpu_model = "b200";
  b200.nvlink_GBps = 721.8;
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 3}), 32);
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 29, 7}), 16);
  // That floor comes after NCCL_MAX_NCHANNELS (connect.cc copies the rings
  // up to nvlsChannels, which only NCCL_MAX_CTAS bounds): still 32 under a
  // cap of 8 channels, 8 under 8 CTAs.
  b200.max_channels = 8;
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 3}), 32);
  b200.max_channels = 0;
  b200.max_ctas = 8;
  EXPECT_EQ(nccl_ring_channels(b200, NcclRelease{2, 27, 3}), 8);
  b200.max_ctas = 0;
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

TEST(NcclRingChannels, MessagesFollowNcclsSlicesAndSlots) {
  using collective::Protocol;
  using collective::ring_step_messages;
  const double simple = 4194304;  // NCCL's Simple buffer: 8 slots of 512 KiB
  // Simple: chunks of 4 slots (2 MiB) in 2 slices each, a slice at least
  // 1/16 slot (32 KiB): 13 MB is 6 chunks and a 0.42 MB rest, 14 messages.
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 13421772.8, simple), 14);
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 2097152, simple), 2);
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 100000, simple), 2);
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 32768, simple), 1);
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 0, simple), 1);
  // NCCL_BUFFSIZE=8M doubles the slices.
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 13421772.8, 2 * simple), 8);
  // LL128 and LL: one slot a message (4,915,200 / 8 and 524,288 / 8 B).
  EXPECT_EQ(ring_step_messages(Protocol::kLL128, 614400, 4915200), 1);
  EXPECT_EQ(ring_step_messages(Protocol::kLL128, 614401, 4915200), 2);
  EXPECT_EQ(ring_step_messages(Protocol::kLL, 200000, 524288), 4);
  // Broadcast and reduce: a chunk of one slot in one slice (NCCL's
  // BROADCAST_/REDUCE_CHUNKSTEPS and SLICESTEPS 1), 512 KiB messages.
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 13421772.8, simple, 1), 26);
  EXPECT_EQ(ring_step_messages(Protocol::kSimple, 100000, simple, 1), 1);
  // The rate: D / (D / R + m x cost); nothing without a cost. A queue
  // pair's 5 us over 2 queue pairs is 2.5 us a message.
  using collective::ring_channel_message_rate_Bps;
  EXPECT_DOUBLE_EQ(ring_channel_message_rate_Bps(Protocol::kSimple, 2097152, simple, 20e9, 0), 20e9);
  EXPECT_NEAR(ring_channel_message_rate_Bps(Protocol::kSimple, 2097152, simple, 20e9, 5e-6),
              2097152 / (2097152 / 20e9 + 2 * 5e-6), 1);
  EXPECT_NEAR(ring_channel_message_rate_Bps(Protocol::kSimple, 2097152, simple, 20e9, 5e-6 / 2),
              2097152 / (2097152 / 20e9 + 5e-6), 1);
}

// Where a Simple ring's step per channel is below its chunk, NCCL's slots
// hold only what the step puts in them (engine/plan.h
// simple_ring_slot_rate_Bps). On 2 p5 nodes under AWS's 8 MiB buffer, a 256
// MiB all-gather moves 256 MiB / 16 ranks / 16 channels = 1 MiB a channel a
// step: 512 KiB slices, held 14 + 55 + 55 us (plus the route's) and 2 x 512
// KiB at 22.25 GB/s, 2 channels to a NIC: at most 8 x 2 x 2 x 1 MiB / cycle
// of busbw, the ring's latencies taking up to 12% more. All-reduce and
// reduce-scatter move the same 1 MiB a step; 4 nodes at 512 MiB too. From
// 4 MiB a step (1 GiB) the slots are full and the NICs bind. Both backends.
TEST(NcclRingChannels, SimpleSlotsHoldWhatAStepPutsInThem) {
  const double cycle = 124e-6 + 2 * 524288 / 22.25e9;
  const double slots = 8 * 2 * 2 * 1048576 / cycle / 1e9;  // 196.1 GB/s
  auto busbw = [](int nodes, const char* op, const char* size, const char* backend) {
    return testing::collective_busbw(std::string("-t tests/validation/topologies/h100-p5-efa-") +
                                     std::to_string(nodes) + "node.yaml --algo ring --proto Simple --op " + op +
                                     " -b " + size + " -e " + size + " --backend " + backend);
  };
  for (const char* backend : {"analytical", "simgrid"}) {
    for (const char* op : {"allgather", "reducescatter", "allreduce"}) {
      const double b = busbw(2, op, "256M", backend);
      EXPECT_LE(b, slots) << op << " " << backend;
      EXPECT_GE(b, 0.88 * slots) << op << " " << backend;
    }
    EXPECT_NEAR(busbw(4, "allgather", "512M", backend), busbw(2, "allgather", "256M", backend), 0.05 * slots)
        << backend;
    EXPECT_GT(busbw(2, "allgather", "2G", backend), 0.97 * 8 * 50 * 0.89) << backend;
  }
}

// Time of an op at `bytes` from its busbw (nccl-tests: all-gather and
// reduce-scatter busbw = S / t x (p - 1) / p; all-reduce twice that).
double op_time_s(double bytes, int ranks, double busbw_GBps, bool allreduce) {
  return bytes * (allreduce ? 2.0 : 1.0) * (ranks - 1) / ranks / (busbw_GBps * 1e9);
}

TEST(NcclRingChannels, PlateauIsChannelsPerNicTimesTheirRate) {
  // 8 GPUs a node: 16 NCCL channels, 2 per NIC, each 1 queue pair at 23.5
  // GB/s whose 1 MiB messages cost 7 us: a 4 GiB all-reduce on 4 nodes
  // moves 8 MiB a step per channel (32 ranks), 8 messages, so a channel
  // carries 8 MiB / (8 MiB / 23.5 GB/s + 8 x 7 us), busbw 16 x that, less
  // the ring's steps. Both backends.
  const double step = 4294967296.0 / 32 / 16;
  const double channel_GBps = step / (step / 23.5e9 + 8 * 7e-6) / 1e9;
  for (const char* backend : {"simgrid", "analytical"}) {
    const double busbw = ring_busbw(4, std::string("--backend ") + backend);
    EXPECT_NEAR(busbw, 16 * channel_GBps, 16 * channel_GBps * 0.01) << backend;
  }
  // 4 GPUs a node: 16 channels, 4 per NIC: the NIC's 47 binds, 4 x 47.
  EXPECT_NEAR(ring_busbw(4, "--placement per-domain:4"), 4 * 47, 4 * 47 * 0.01);
  // No limit: the NICs' 8 x 47; NCCL_MIN_CTAS=24 (3 per NIC) alike.
  EXPECT_NEAR(ring_busbw(4, "--set nccl.ring_channel_net_bw=0"), 8 * 47, 8 * 47 * 0.01);
  EXPECT_NEAR(ring_busbw(4, "--set nccl.min_channels=24"), 8 * 47, 8 * 47 * 0.01);
  // NCCL_MAX_NCHANNELS=8: one channel per NIC, each at 23.5 less its
  // message cost: half the 16 channels' busbw.
  EXPECT_NEAR(ring_busbw(4, "--set nccl.max_channels=8"), 8 * channel_GBps, 8 * channel_GBps * 0.01);
  // Without the message cost the 2 x 23.5 a NIC reach its 47.
  EXPECT_NEAR(ring_busbw(4, "--set link_classes.infiniband.qp_msg_cost=0us"), 8 * 47, 8 * 47 * 0.01);
  // Two queue pairs per connection (NCCL_IB_QPS_PER_CONNECTION=2) take the
  // messages in turn: 2 x 8 MiB / (8 MiB / 23.5 + 8 x 7 us) a channel, more
  // than the NIC's share, so the NIC's 47 binds again.
  EXPECT_NEAR(ring_busbw(4, "--set nccl.ib_qps_per_connection=2"), 8 * 47, 8 * 47 * 0.01);
  // The class's rate per queue pair: 10 GB/s, no cost: 8 x 2 x 10. RoCE
  // (ethernet) runs the same NIC and verbs as InfiniBand: its queue pairs
  // and message cost, the same plateau. EFA has neither, and
  // its 55 us step latency, paid by each 1 MiB slice (NCCL's 4 MiB buffer)
  // and by its credit, leaves NCCL's Simple slots short of the NIC: 2
  // channels x 4 MiB a cycle of 14 + 55 + 55 us and 2 x 1 MiB at 22.25 GB/s
  // (engine/plan.h simple_ring_slot_rate_Bps; the route's own microsecond
  // and the ring's steps within 3%). AWS's plugin sets NCCL_BUFFSIZE=8M on
  // p4d, p5 and p6 (aws-ofi-nccl src/platform-aws.cpp): 2 MiB slices, and
  // the NICs' 8 x 400 Gb/s x 0.89 bind.
  EXPECT_NEAR(ring_busbw(4, "--set link_classes.infiniband.qp_bw=10 --set link_classes.infiniband.qp_msg_cost=0us"),
              160, 160 * 0.01);
  EXPECT_NEAR(ring_busbw(4, "", "ethernet"), 16 * channel_GBps, 16 * channel_GBps * 0.01);
  const double efa_slots = 8 * 2 * 4 * 1048576 / (124e-6 + 2 * 1048576 / 22.25e9) / 1e9;
  EXPECT_NEAR(ring_busbw(4, "", "efa"), efa_slots, efa_slots * 0.03);
  EXPECT_NEAR(ring_busbw(4, "--set nccl.buffsize=8M", "efa"), 8 * 50 * 0.89, 8 * 50 * 0.89 * 0.01);
  // NCCL_BUFFSIZE=8M: 2 MiB messages, half as many (4 a step).
  const double fewer = step / (step / 23.5e9 + 4 * 7e-6) / 1e9;
  EXPECT_NEAR(ring_busbw(4, "--set nccl.buffsize=8M"), 16 * fewer, 16 * fewer * 0.01);
  // Inside one node nothing crosses the network.
  EXPECT_DOUBLE_EQ(ring_busbw(1, ""), ring_busbw(1, "--set nccl.ring_channel_net_bw=0"));
}

TEST(NcclRingChannels, MessageCostIsPaidOncePerMessageAndStep) {
  // A 1 GiB all-gather on 4 nodes (32 ranks): each of the 31 steps moves
  // 2 MiB per channel, one chunk of 2 slices (Simple). Every connection
  // carries its steps one after another at its rate, with or without the
  // cost, so the cost adds 31 steps x 2 messages x 7 us to the time.
  const std::string file = ::testing::TempDir() + "ring_channels_msg.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 4, nic: 400Gb/s, fabric: {kind: "
                         "rail-optimized, class: infiniband}}\n";
  const std::string run = "-t " + file + " --op allgather --algo ring --proto Simple -b 1G -e 1G ";
  const double bytes = 1073741824;
  for (const char* backend : {"simgrid", "analytical"}) {
    const std::string b = std::string("--backend ") + backend;
    const double with = op_time_s(bytes, 32, testing::collective_busbw(run + b), false);
    const double without = op_time_s(
        bytes, 32, testing::collective_busbw(run + b + " --set link_classes.infiniband.qp_msg_cost=0us"), false);
    EXPECT_NEAR(with - without, 31 * 2 * 7e-6, 31 * 2 * 7e-6 * 0.05) << backend;
  }
}

// LL's messages leave from host memory and pay no message cost; LL128's,
// from GPU memory, do (collective/protocol.h pays_message_cost). Measured:
// a 64 KiB ring all-gather (LL) on 4 x 8 H100 takes 59.5 us (NCCL 2.24.3,
// ZiyanIshani/vpbenchmarking results/nccl/nccl_multinode/
// nccl_allgather_20260224_225706.txt); 31 LL messages at 7 us each on a
// channel's connection gave 236 us. The rest of the gap is the ring step
// latency (8 us a network step, fitted on LL128 at 2 nodes; open).
// A ring broadcast's and reduce's chains pay the same cost per message
// (512 KiB ones under Simple): 4 x 8 H100 with 8 x 400G InfiniBand, 16
// NCCL ring channels at 23.5 GB/s, 7 us a message: at most 16 x 23.5 x
// 22.31 / (22.31 + 7) = 286.2 GB/s of busbw; measured 286.3 (broadcast) and
// 285.7 (reduce) at 8 GiB on such a cluster (tests/validation/
// h100-4node-ramps.yaml, held out); 349 without the cost.
TEST(NcclRingChannels, BroadcastAndReduceChainsPayTheMessageCost) {
  const double slot_s = 524288 / 23.5e9;
  const double bound = 16 * 23.5 * slot_s / (slot_s + 7e-6);
  for (const char* op : {"broadcast", "reduce"}) {
    for (const char* backend : {"analytical", "simgrid"}) {
      const double busbw =
          testing::collective_busbw(std::string("-t topologies/h100-ib400-4node.yaml --algo ring --proto Simple -b 8G "
                                                "-e 8G --op ") +
                                    op + " --backend " + backend);
      EXPECT_LE(busbw, bound * 1.001) << op << " " << backend;
      EXPECT_GT(busbw, bound * 0.9) << op << " " << backend;
    }
  }
}

TEST(NcclRingChannels, LlMessagesPayNoMessageCost) {
  const std::string run = "-t topologies/h100-ib400-4node.yaml --op allgather --algo ring --nccl 2.24.3 -b 64K -e 64K ";
  const std::string off = " --set link_classes.infiniband.qp_msg_cost=0us";
  for (const char* backend : {"simgrid", "analytical"}) {
    const std::string b = std::string("--backend ") + backend;
    const double ll = testing::collective_time_us(run + "--proto LL " + b);
    EXPECT_DOUBLE_EQ(ll, testing::collective_time_us(run + "--proto LL " + b + off)) << backend;
    // LL128's messages here are under NCCL_IB_AR_THRESHOLD (ar_threshold_test.cc):
    // at a threshold of 0 they pay, LL's still not.
    const std::string every = " --set nccl.ib_ar_threshold=0";
    EXPECT_DOUBLE_EQ(ll, testing::collective_time_us(run + "--proto LL " + b + every)) << backend;
    EXPECT_GT(testing::collective_time_us(run + "--proto LL128 " + b + every),
              testing::collective_time_us(run + "--proto LL128 " + b + off) + 50)
        << backend;
    EXPECT_LT(ll / 59.51, 1.6) << backend;  // was 4.0
    EXPECT_GT(ll / 59.51, 1.0) << backend;
  }
}

TEST(NcclRingChannels, VerboseRunsNameThem) {
  const std::string file = ::testing::TempDir() + "ring_channels_verbose.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 400Gb/s}\n";
  const auto r = testing::run_collsim("collective -t " + file + " --algo ring -b 1G -e 1G -v");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("16 NCCL ring channels, 2 per NIC, at most 23.5 GB/s each through the network (wire bytes); "
                       "each network message over 8192 B costs a channel 7 us"),
            std::string::npos)
      << r.err;
  // A ring step's data a channel: 1 GiB / 16 ranks / 16 channels.
  EXPECT_NE(r.err.find("(a ring step here: 4194304 B of data a channel"), std::string::npos) << r.err;
}

TEST(NcclRingChannels, BadSettingsNameTheirField) {
  const std::string file = testing::expect_nccl_setting_refused("ring_channel_net_bw");
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
  const auto ctas = testing::run_collsim("collective -t " + file + " --set nccl.min_ctas=-1");
  EXPECT_EQ(ctas.exit_code, 2);
  EXPECT_NE(ctas.err.find("min_ctas"), std::string::npos) << ctas.err;
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
