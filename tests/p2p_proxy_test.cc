// NCCL's point-to-point split and its proxy's operations (collective/
// direct.h): the parts NCCL 2.27.7's addP2pToPlan and
// scheduleP2pTasksToPlan (src/enqueue.cc) cut a message to a network peer
// into, worked out here by hand from that code, and what a link class's
// p2p_op_cost then adds to an all-to-all and a send/recv on both backends.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "sim/collective/algorithms.h"
#include "sim/collective/direct.h"
#include "sim/config/topology_file.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::nccl_p2p_channels_per_net_peer;
using collective::nccl_p2p_net_parts;
using collective::NcclP2pSetup;

constexpr double KiB = 1024, MiB = 1048576, GiB = 1073741824;

TEST(P2pProxy, ChannelsPerNetworkPeerFollowNcclsRule) {
  // ncclTopoGetNchannels: 2, halved while 2 x ranks > 4 x 32 channels.
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(16, NcclP2pSetup{}), 2);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(64, NcclP2pSetup{}), 2);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(65, NcclP2pSetup{}), 1);
  // NCCL_NCHANNELS_PER_NET_PEER, rounded up to a power of two, within the channels.
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(256, NcclP2pSetup{32, 4}), 4);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(256, NcclP2pSetup{32, 3}), 4);
  EXPECT_EQ(nccl_p2p_channels_per_net_peer(256, NcclP2pSetup{8, 16}), 8);
}

TEST(P2pProxy, PartsFollowNcclsSplit) {
  // 4 channels per peer, 512 KiB chunks (parts of 256 KiB to 512 KiB).
  const NcclP2pSetup p5{32, 4, 512 * KiB};
  // 256 ranks: nChannelsMin 4 -> 2 -> 1 (x 256 > 32 channels).
  EXPECT_EQ(nccl_p2p_net_parts(128 * KiB, 256, p5), 1);  // min(1, 1)
  EXPECT_EQ(nccl_p2p_net_parts(512 * KiB, 256, p5), 1);  // one part of one chunk
  EXPECT_EQ(nccl_p2p_net_parts(1 * MiB, 256, p5), 2);    // 1 MiB > 512 KiB: 2 x 512 KiB
  EXPECT_EQ(nccl_p2p_net_parts(2 * MiB, 256, p5), 4);    // 4 x 512 KiB
  EXPECT_EQ(nccl_p2p_net_parts(8 * MiB, 256, p5), 4);    // at most the channels per peer
  // 16 ranks: nChannelsMin 4 -> 2 (2 x 16 = 32 fits): min(2, 8) = 2 parts
  // of 1 MiB, doubled to 4 of 512 KiB.
  EXPECT_EQ(nccl_p2p_net_parts(2 * MiB, 16, p5), 4);
  EXPECT_EQ(nccl_p2p_net_parts(64 * KiB, 16, p5), 1);  // min(2, ceil(64 KiB / 256 KiB))
  // NCCL's defaults: 128 KiB chunks, 2 channels per peer at 16 ranks.
  EXPECT_EQ(nccl_p2p_net_parts(2 * MiB, 16, NcclP2pSetup{}), 2);
  EXPECT_EQ(nccl_p2p_net_parts(100 * KiB, 16, NcclP2pSetup{}), 2);  // min(2, ceil(100 / 64))
  EXPECT_EQ(nccl_p2p_net_parts(0, 16, NcclP2pSetup{}), 1);
}

TEST(P2pProxy, TheScheduleCarriesOperationsTimesTheCost) {
  collective::AlgoParams params;
  params.domain_of_rank = {0, 0, 0, 0, 1, 1, 1, 1};
  params.p2p = NcclP2pSetup{32, 4, 512 * KiB, 1e-6};
  // 8 ranks, 4 per node: 4 network peers each way, 8 MiB / 8 = 1 MiB each:
  // nChannelsMin 4 (4 x 8 = 32 fits), min(4, 4) = 4 parts of 256 KiB.
  // 2 x 4 x 4 = 32 operations.
  auto a2a = collective::build_schedule(collective::Op::kAllToAll, "direct", 8, 8 * MiB, params);
  ASSERT_TRUE(a2a.ok()) << a2a.error().to_string();
  EXPECT_NEAR(a2a->chunk_overhead_s, 32e-6, 1e-15);
  // Send/recv: rank 3 sends to rank 4 (another node) and receives from 2;
  // rank 4 receives from 3: one message of 8 MiB, 4 parts.
  auto sr = collective::build_schedule(collective::Op::kSendRecv, "direct", 8, 8 * MiB, params);
  ASSERT_TRUE(sr.ok()) << sr.error().to_string();
  EXPECT_NEAR(sr->chunk_overhead_s, 4e-6, 1e-15);
  // One node: no network peer, nothing.
  params.domain_of_rank.assign(8, 0);
  auto local = collective::build_schedule(collective::Op::kAllToAll, "direct", 8, 8 * MiB, params);
  ASSERT_TRUE(local.ok()) << local.error().to_string();
  EXPECT_EQ(local->chunk_overhead_s, 0);
}

// Through the CLI, on both backends, on 2 AWS p5 nodes (16 ranks; the file
// states NCCL's 4 channels per network peer and AWS's 512 KiB chunks): 8
// network peers each way. 1 MiB: 64 KiB per peer, 1 part: 16 operations;
// 32 MiB and 2 GiB: 4 parts, 64 operations. Counting one NIC per GPU,
// 2.29 and later give the same 4 channels per peer (ceil(48 GB/s / 14), 16
// ranks in 2 rounds of 8 within 16 channels); 2.28 gave 2, so 32 MiB was 2
// parts: 32 operations.
TEST(P2pProxy, TheLinkClassCostAddsToTheAllToAllOnBothBackends) {
  for (const char* backend : {"simgrid", "analytical"}) {
    auto time_us = [&](const std::string& size, const std::string& extra) {
      return testing::collective_time_us("-t tests/validation/topologies/h100-p5-efa-2node.yaml --op alltoall -b " +
                                         size + " -e " + size + " --backend " + backend + extra);
    };
    const std::string none = " --set link_classes.efa.p2p_op_cost=0s";
    const std::string two = " --set link_classes.efa.p2p_op_cost=2us";
    EXPECT_NEAR(time_us("1M", two) - time_us("1M", none), 32.0, 0.02) << backend;
    EXPECT_NEAR(time_us("32M", two) - time_us("32M", none), 128.0, 0.02) << backend;
    EXPECT_NEAR(time_us("2G", two) - time_us("2G", none), 128.0, 0.02) << backend;
    const std::string rule = " --set nccl.nics_per_gpu=1";
    EXPECT_NEAR(time_us("32M", two + rule) - time_us("32M", none + rule), 128.0, 0.02) << backend;
    const std::string rule_228 = rule + " --nccl 2.28.9";
    EXPECT_NEAR(time_us("32M", two + rule_228) - time_us("32M", none + rule_228), 64.0, 0.02) << backend;
    EXPECT_NEAR(time_us("32M", two + " --proto none"), time_us("32M", none + " --proto none"), 0.02) << backend;
  }
}

// The proxy's cost is NCCL's, not EFA's: InfiniBand pays the same 2.5 us
// per operation (fitted on EFA). Held out: a published all-to-all on 10
// nodes of 8 H100 over InfiniBand, NCCL 2.29.2, 34.15 GB/s busbw at
// 33,553,920 B (xxrjun/nccl-tests-cluster, example-cluster01, run
// 20260129-180219, nccl_N10_G8.log); the bytes alone give 49.7 (+45%).
TEST(P2pProxy, InfiniBandPaysTheProxyAsEfaDoes) {
  auto busbw = [](const std::string& extra) {
    return testing::collective_busbw(
        "-t tests/validation/topologies/h100-ib400-10node.yaml --op alltoall -b 33553920 -e 33553920 "
        "--nccl 2.29.2 --backend analytical" +
        extra);
  };
  const double measured = 34.15;
  EXPECT_NEAR(busbw(""), measured, 0.08 * measured);
  EXPECT_GT(busbw(" --set link_classes.infiniband.p2p_op_cost=0s"), 1.3 * measured);
}

// `auto`'s protocol for point-to-point is NCCL's rule (src/enqueue.cc
// addP2pToPlan): LL while a peer's message is at most 16 KiB x its parts
// (2.29 on; a part holds at least 64 KiB, so in effect 16 KiB), Simple
// above, never LL128; the same on both backends (each backend's fastest
// used to differ). 32 ranks: an all-to-all of 512 KiB (16 KiB a peer) runs
// LL, of 1 MiB Simple; a send/recv of 16 KiB LL, of 32 KiB Simple. 72
// ranks in one rack alike. Before 2.29 the bound was 16 KiB x the channels
// per peer: 2 at 32 ranks, so 32 KiB.
TEST(P2pProxy, AutoRunsNcclsPointToPointProtocol) {
  for (const char* backend : {"analytical", "simgrid"}) {
    auto proto = [&](const std::string& topo, const std::string& op, const std::string& size,
                     const std::string& extra = "") {
      return testing::collective_text("-t topologies/" + topo + ".yaml --op " + op + " -b " + size + " -e " + size +
                                          " --backend " + backend + extra,
                                      "proto");
    };
    EXPECT_EQ(proto("h100-ib400-4node", "alltoall", "512K"), "LL") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "alltoall", "1M"), "Simple") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "sendrecv", "16K"), "LL") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "sendrecv", "32K"), "Simple") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "alltoall", "1M", " --nccl 2.28.9"), "LL") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "alltoall", "2M", " --nccl 2.28.9"), "Simple") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "sendrecv", "32K", " --nccl 2.28.9"), "LL") << backend;
    EXPECT_EQ(proto("h100-ib400-4node", "sendrecv", "64K", " --nccl 2.28.9"), "Simple") << backend;
    EXPECT_EQ(proto("gb200-nvl72", "alltoall", "1152K"), "LL") << backend;      // 16 KiB a peer
    EXPECT_EQ(proto("gb200-nvl72", "alltoall", "2304K"), "Simple") << backend;  // 32 KiB a peer
  }
}

TEST(P2pProxy, SettingsAreCheckedWhereTheyAreRead) {
  const std::string base =
      "name: t\ndevices:\n  - {name: g, kind: gpu, count: 2}\n  - {name: sw, kind: switch}\nlinks:\n"
      "  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: efa}\n";
  struct Bad {
    std::string yaml, expected;
  };
  for (const Bad& bad : {Bad{"link_classes:\n  efa: {p2p_op_cost: 1ms}\n", "expected a time per operation"},
                         Bad{"link_classes:\n  efa: {p2p_op_cost: 3}\n", "has no unit"},
                         Bad{"nccl: {p2p_channels: 65}\n", "p2p_channels"},
                         Bad{"nccl: {p2p_per_channel_net_bw: -1}\n", "expected whole GB/s per channel"},
                         Bad{"nccl: {nics_per_gpu: 0}\n", "nics_per_gpu"},
                         Bad{"nccl: {p2p_per_channel_net_bw: fast}\n", "p2p_per_channel_net_bw"},
                         Bad{"nccl: {nchannels_per_net_peer: -1}\n", "nchannels_per_net_peer"},
                         Bad{"nccl: {p2p_net_chunksize: 1}\n", "expected a size from 2 B to 64 MiB"},
                         Bad{"nccl: {p2p_net_chunksize: lots}\n", "p2p_net_chunksize"},
                         Bad{"nccl: {cross_nic: 3}\n", "NCCL_CROSS_NIC (2: NCCL's default) from 0 to 2"}}) {
    auto spec = config::load_topology_text(base + bad.yaml, "t.yaml");
    ASSERT_FALSE(spec.ok()) << bad.yaml;
    EXPECT_NE(spec.error().to_string().find(bad.expected), std::string::npos) << spec.error().to_string();
    EXPECT_NE(spec.error().to_string().find("t.yaml:"), std::string::npos) << spec.error().to_string();
  }
  auto fine =
      config::load_topology_text(base + "nccl: {p2p_net_chunksize: 512K, nchannels_per_net_peer: 4}\n", "t.yaml");
  ASSERT_TRUE(fine.ok()) << fine.error().to_string();
  EXPECT_DOUBLE_EQ(fine->nccl.p2p_net_chunksize, 524288);
  EXPECT_EQ(fine->nccl.nchannels_per_net_peer, 4);
  EXPECT_EQ(fine->link_classes.at("efa").p2p_op_cost_s, 2.5e-6);  // the built-in class's
}

// The table names what the proxy costs: --json's proxy_us is the
// operations x p2p_op_cost (32 p5 nodes under 2.27.7: 248 network peers,
// each message one part at 32 MiB and four from 512 MiB, both directions:
// 496 and 1,984 operations x 2.5 us), and a note lists the sizes where it
// is over a quarter of the time. A ring all-reduce has none.
TEST(P2pProxy, TheTableSaysWhatTheProxyCosts) {
  const std::string args =
      "collective -t tests/validation/topologies/h100-p5-efa-32node.yaml --op alltoall -b 32M -e 512M -f 16 "
      "--backend analytical --nccl 2.27.7";
  const auto json = testing::run_collsim(args + " --json -");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto results = YAML::Load(json.out)["results"];
  ASSERT_EQ(results.size(), 2u) << json.out;
  EXPECT_NEAR(results[0]["proxy_us"].as<double>(), 496 * 2.5, 1e-6);
  EXPECT_NEAR(results[1]["proxy_us"].as<double>(), 1984 * 2.5, 1e-6);
  const auto table = testing::run_collsim(args);
  EXPECT_NE(table.out.find("# proxy: at 33554432, 536870912 bytes NCCL's proxy operations"), std::string::npos)
      << table.out;
  const auto ring = testing::run_collsim(
      "collective -t tests/validation/topologies/h100-p5-efa-32node.yaml -b 32M -e 32M --algo ring "
      "--backend analytical --json -");
  EXPECT_EQ(ring.out.find("proxy_us"), std::string::npos) << ring.out;
  // The bare network (--proto none) pays no proxy: none is reported.
  const auto bare = testing::run_collsim(args + " --proto none --json -");
  EXPECT_EQ(bare.out.find("proxy_us"), std::string::npos) << bare.out;
}

}  // namespace
}  // namespace collsim
