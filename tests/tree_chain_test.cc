// NCCL's tree along a chain inside an NVLink domain (collective/tree.h,
// engine/plan.cc): its Simple chunk is one slot of NCCL_BUFFSIZE, a channel
// alone moves half its per-channel bus bandwidth, and a pipeline shallower
// than its chain keeps only some of its hops busy at once, so its channels
// share a link by the time they use it. Oracles: NCCL's chunking
// (src/enqueue.cc calcCollChunking: stepSize = buffSizes / NCCL_STEPS), its
// per-channel tree tables (src/graph/tuning.cc perChMaxTreeBw,
// perChMaxTreeLL128Bw on one node: Blackwell 70.0 and 55.6 GB/s), and a
// chain's closed form on an idle switch.
#include <gtest/gtest.h>

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

TEST(TreeChain, AChannelAloneMovesHalfItsBusBandwidth) {
  using collective::tree_chain_channel_Bps;
  // 8 GPUs per domain: NCCL's 8 channels per tree are collsim's.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "b200", 8), 35.0e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kLL128, "gb200", 8), 27.8e9);
  // 64 GPUs per domain: collsim runs 64 channels per tree where NCCL runs 32.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "gb200", 64), 17.5e9);
  // LL keeps its per-GPU limit; an unknown GPU has no table.
  EXPECT_FALSE(tree_chain_channel_Bps(Protocol::kLL, "b200", 8).has_value());
  EXPECT_FALSE(tree_chain_channel_Bps(Protocol::kSimple, "", 8).has_value());
  // The setting replaces the table, whatever the GPU; 0 lifts the limit.
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kSimple, "", 8, collective::kDefaultNcclRelease, 12), 12e9);
  EXPECT_DOUBLE_EQ(*tree_chain_channel_Bps(Protocol::kLL128, "h100", 8, collective::kDefaultNcclRelease, 0), 0);
}

TEST(TreeChain, AShallowPipelineSharesItsLinksByTheTimeItsHopsAreBusy) {
  // Three GPUs on one NVSwitch, 10 GB/s and 0.5 us per link: one domain, so
  // NCCL's tree is a chain, run from each GPU as head on both trees: six
  // channels of four hops each (two up, two down) that all start at once.
  // Each GPU's links carry 8 of the 24 channel connections; a static share
  // would give each 10 / 8 GB/s. But 1.5 MiB is one 256 KiB slice per
  // channel, and a channel's four hops run one after another: a quarter of
  // the connections are busy at once, and each gets 10 / (8 / 4) = 5 GB/s.
  // Then every link carries exactly two of a step's six flows at 5 GB/s:
  // full, so no schedule of them is faster. Each hop costs its route (1
  // us), NCCL's Simple step latency on NVLink (4 us) and 256 KiB at 5 GB/s,
  // after the launch (8.4 us).
  const auto topo = testing::topology_from_text(R"(name: chain
devices:
  - {name: g, kind: gpu, count: 3}
  - {name: sw, kind: nvswitch}
links:
  - {from: g, to: sw, rate: 10GB/s, latency: 500ns, class: ideal}
)");
  const topology::Network net(topo);
  const double n = 6 * 262144.0;
  collective::AlgoParams params;
  params.protocol = Protocol::kSimple;
  auto s = collective::build_schedule(collective::Op::kAllReduce, "tree", 3, n, params);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->pipeline_depth, 4);
  ASSERT_DOUBLE_EQ(s->pipeline_slices, 1.0);
  const double expected = 8.4e-6 + 4 * (1e-6 + 4e-6 + (n / 6) / 5e9);
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = engine::make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {*s}, {});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NEAR((*r)[0].time_s, expected, 1e-6 * expected) << name;
  }
}

}  // namespace
}  // namespace collsim
