// NCCL's tree along a chain inside an NVLink domain (collective/tree.h,
// engine/plan.cc): its Simple chunk is one slot of NCCL_BUFFSIZE, a channel
// alone moves half its per-channel bus bandwidth, and a pipeline shallower
// than its chain keeps only some of its hops busy at once, so its channels
// share a link by the time they use it. Oracles: NCCL's chunking
// (src/enqueue.cc calcCollChunking: stepSize = buffSizes / NCCL_STEPS), its
// per-channel tree tables (src/graph/tuning.cc perChMaxTreeBw,
// perChMaxTreeLL128Bw on one node: Blackwell 70.0 and 55.6 GB/s), and a
// chain's closed form on an idle switch.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "sim/collective/algorithms.h"
#include "sim/collective/protocol.h"
#include "sim/collective/tree.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::Protocol;

TEST(TreeChain, SimpleChunkIsOneSlotOfNcclsBuffer) {
  collective::AlgoParams params;
  params.protocol = Protocol::kSimple;
  params.domain_of_rank = std::vector<int>(16);
  for (int r = 0; r < 16; ++r) params.domain_of_rank[static_cast<std::size_t>(r)] = r / 8;
  const double bytes = 1024.0 * 1024 * 1024;  // 64 MiB per channel (16 channels)
  for (double buffsize : {4194304.0, 16777216.0}) {
    params.nccl_buffsize = buffsize;
    auto s = collective::build_schedule(collective::Op::kAllReduce, "tree", 16, bytes, params);
    ASSERT_TRUE(s.ok());
    EXPECT_DOUBLE_EQ(s->transfers.front().bytes, buffsize / 8);
    EXPECT_DOUBLE_EQ(s->pipeline_slices, bytes / 16 / (buffsize / 8));
    // Up a chain of 8 and one tree edge between the two nodes, and down again.
    EXPECT_EQ(s->pipeline_depth, 2 * (7 + 1));
  }
}

TEST(TreeChain, ABusyChannelSharesHalfItsGraphChannelsBusBandwidth) {
  using collective::tree_chain_channel_Bps;
  constexpr auto kRelease = collective::kDefaultNcclRelease;
  // 8 GPUs per domain: NCCL's 8 channels per tree are collsim's. Blackwell
  // on one node: perChMaxTreeBw 70.0, perChMaxTreeLL128Bw 55.6.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "b200", 8, 0.25), 35.0e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "b200", 8, 0.5), 35.0e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kLL128, "gb200", 8, 0.1), 27.8e9);
  // Every CTA busy: NCCL's model's share, perCh / 4; in between perCh / (4 busy).
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "b200", 8, 1.0), 17.5e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "b200", 8, 0.8), 70.0e9 / 3.2);
  // 64 GPUs per domain: collsim runs 64 channels per tree where NCCL runs 32.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "gb200", 64, 0.1), 17.5e9);
  // LL keeps its per-GPU limit; an unknown GPU has no table.
  EXPECT_FALSE(tree_chain_channel_Bps(Protocol::kLL, "b200", 8, 0.1).has_value());
  EXPECT_FALSE(tree_chain_channel_Bps(Protocol::kSimple, "", 8, 0.1).has_value());
  // The setting replaces the table's perCh / 2, whatever the GPU; 0 lifts the limit.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "", 8, 0.1, kRelease, 12), 12e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "", 8, 1.0, kRelease, 12), 6e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kLL128, "h100", 8, 0.1, kRelease, 0), 0);
}

// Three GPUs of `model` on one NVSwitch, `rate` and 0.5 us per link: one
// domain, so NCCL's tree is a chain, run from each GPU as head on both
// trees: six channels of four hops each (two up, two down) that all start
// at once. Each GPU's links carry 8 of the 24 channel connections.
double three_gpu_chain_us(double bytes, const char* rate, const char* model) {
  const auto topo = testing::topology_from_text(fmt::format(R"(name: chain
devices:
  - {{name: g, kind: gpu, count: 3{}}}
  - {{name: sw, kind: nvswitch}}
links:
  - {{from: g, to: sw, rate: {}, latency: 500ns, class: ideal}}
)",
                                                            model, rate));
  const topology::Network net(topo);
  collective::AlgoParams params;
  params.protocol = Protocol::kSimple;
  auto s = collective::build_schedule(collective::Op::kAllReduce, "tree", 3, bytes, params);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s->pipeline_depth, 4);
  std::vector<double> us;
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = engine::make_backend(name);
    EXPECT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {*s}, {});
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    us.push_back((*r)[0].time_s * 1e6);
  }
  EXPECT_NEAR(us[1], us[0], 1e-6 * us[0]) << "analytical against SimGrid";
  return us[0];
}

TEST(TreeChain, AShallowPipelineSharesItsLinksByTheTimeItsHopsAreBusy) {
  // 1.5 MiB is one 256 KiB slice per channel, and a channel's four hops run
  // one after another: a quarter of the connections are busy at once, and
  // each gets 10 / (8 / 4) = 5 GB/s (a static share would give 10 / 8).
  // Then every link carries exactly two of a step's six flows at 5 GB/s:
  // full, so no schedule of them is faster. Each hop costs its route (1
  // us), NCCL's Simple step latency on NVLink (4 us) and 256 KiB at 5 GB/s,
  // after the launch (8.4 us). No GPU model: no kernel limit.
  const double n = 6 * 262144.0;
  EXPECT_NEAR(three_gpu_chain_us(n, "10GB/s", ""), 8.4 + 4 * (1 + 4 + (n / 6) / 5e3), 1e-6 * 1200);
  // Two 512 KiB slices a channel: half the connections busy at most, 10 /
  // 4 = 2.5 GB/s each, throughout (work-conserving sharing would give the
  // pipeline's first and last stage, two flows a link, 5 GB/s). The second
  // slice's latency overlaps the first's bytes: four latencies and five
  // stages of 512 KiB.
  const double m = 6 * 1048576.0;
  EXPECT_NEAR(three_gpu_chain_us(m, "10GB/s", ""), 8.4 + 4 * (1 + 4) + 5 * 524288 / 2.5e3, 1e-6 * 1200);
}

TEST(TreeChain, OnOneNodeAFullPipelineKeepsNcclsTreeLimit) {
  // The same chain of B200s on 1,000 GB/s links, where the kernel binds: 16
  // slices of 512 KiB a channel through four hops keep every connection
  // busy, and each of the six channels moves perCh / 4 = 17.5 GB/s, so the
  // all-reduce's bandwidth is NCCL's model's one-node limit, 0.5 x 3
  // channels x 70 GB/s = 105 GB/s (src/graph/tuning.cc). One slice alone
  // moves perCh / 2.
  const double big = 6 * 16 * 524288.0;
  EXPECT_NEAR(three_gpu_chain_us(big, "1000GB/s", ", model: b200"), 8.4 + 4 * (1 + 4) + (16 + 3) * 524288 / 17.5e3,
              1e-6 * 1e4);
  const double small = 6 * 262144.0;
  EXPECT_NEAR(three_gpu_chain_us(small, "1000GB/s", ", model: b200"), 8.4 + 4 * (1 + 4 + 262144 / 35e3), 1e-3);
}

// NCCL's tree runs its graph's channels on one node too (12 on two H100s
// in collsim's search model, nccl_graphs), not one per GPU: 2 GPUs were
// held to 2 channels x 38.7 GB/s / 2 (1 GiB in 27.8 ms where NCCL's own
// model gives 6.5), and a chain of 2 ran slower than a chain of 8.
TEST(TreeChain, OnOneNodeTheTreeRunsItsGraphsChannels) {
  constexpr auto kRelease = collective::kDefaultNcclRelease;
  // Hopper, one node: perChMaxTreeBw 38.7; 12 graph channels.
  EXPECT_DOUBLE_EQ(collective::tree_protocol_cap_Bps(Protocol::kSimple, "h100", 1, 2, kRelease, std::nullopt, 12),
                   0.5 * 12 * 38.7e9);
  EXPECT_DOUBLE_EQ(*collective::tree_chain_channel_Bps(Protocol::kSimple, "h100", 2, 0.1, kRelease, -1, 12),
                   38.7e9 / 2 * 12 / 2);
  const std::string tree = " -t topologies/hgx-h100.yaml --algo tree --proto Simple -b 1G -e 1G --backend analytical";
  const double two = testing::collective_time_us("--ranks 2" + tree), eight = testing::collective_time_us(tree);
  EXPECT_LE(two, eight);
  // A pair named: the row carries NCCL's model's time for it too (it was 0).
  EXPECT_GT(testing::collective_field("--ranks 2" + tree, "nccl_model_us"), 0);
}

TEST(TreeChain, TheSettingIsCheckedWhereItIsRead) { testing::expect_nccl_setting_refused("tree_chain_channel_bw"); }

}  // namespace
}  // namespace collsim
