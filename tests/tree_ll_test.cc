// NCCL's tree under LL (collective/tree.h TreeOptions::ll_line_bytes): an
// LL receiver forwards each line as its flag arrives (NCCL
// src/device/prims_ll.h), so a small tree streams through its hops instead
// of storing and forwarding each channel's bytes at every hop. Oracles:
// time cannot fall as the buffer grows, and the bytes added cost no more
// than NCCL's LL throughput limit allows (protocol.h tree_protocol_cap_Bps,
// NCCL's llMaxBw) plus one unit per hop of fill.
#include <gtest/gtest.h>

#include <string>

#include "sim/collective/chain.h"
#include "sim/collective/protocol.h"
#include "sim/collective/tree.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::Protocol;

std::vector<int> four_nodes_of_eight() {
  std::vector<int> d;
  for (int r = 0; r < 32; ++r) d.push_back(r / 8);
  return d;
}

TEST(TreeLL, PipelinesInWarpLinesNotChunks) {
  collective::TreeOptions ll;
  ll.protocol = Protocol::kLL;
  // 32 ranks, 8 per node: 16 channels. 128 KiB: 8 KiB per channel in 32
  // units of 256 B; 1 MiB: 256 units.
  const auto s = collective::tree_allreduce(32, 131072, four_nodes_of_eight(), ll);
  EXPECT_EQ(s.repeats, 32);
  EXPECT_DOUBLE_EQ(s.transfers.front().bytes, 256);
  EXPECT_EQ(collective::tree_allreduce(32, 1048576, four_nodes_of_eight(), ll).repeats, 256);
  // 72 GPUs per domain (144 of collsim's channels against NCCL's 32): the
  // unit shrinks by 32 / 144.
  std::vector<int> racks(144);
  for (int r = 0; r < 144; ++r) racks[static_cast<std::size_t>(r)] = r / 72;
  const auto big = collective::tree_allreduce(144, 144.0 * 1024, racks, ll);
  EXPECT_NEAR(big.transfers.front().bytes, 256.0 * 32 / 144, 1e-9);
}

TEST(TreeLL, SmallTreesStreamOnBothBackends) {
  // Four H100 nodes (8 x 400G each): 2 x (7 + 2) = 18 hops on a channel's
  // longest path, 16 channels sharing LL's limit.
  const double cap = collective::tree_protocol_cap_Bps(Protocol::kLL, "h100", 4, 8);
  ASSERT_GT(cap, 0);
  for (const char* backend : {"simgrid", "analytical"}) {
    auto time_us = [&](const std::string& size) {
      return testing::collective_time_us("-t topologies/h100-ib400-4node.yaml --algo tree --proto LL -b " + size +
                                         " -e " + size + " --backend " + backend);
    };
    double last = 0;
    for (const char* size : {"1K", "4K", "16K", "64K", "128K", "256K", "1M"}) {
      const double t = time_us(size);
      EXPECT_GE(t, last - 1e-6) << backend << " " << size;
      last = t;
    }
    // 1 KiB to 128 KiB: 127 KiB more at LL's limit, plus 18 hops of one
    // 256 B unit at a channel's share of it (the fill), 5% and 1 us slack.
    const double bound_us = ((131072.0 - 1024) + 18 * 256.0 * 16) / cap * 1e6 * 1.05 + 1;
    EXPECT_LE(time_us("128K") - time_us("1K"), bound_us) << backend;
  }
}

// LL128 (TreeOptions::ll128_pass_warps): NCCL's chunk (src/enqueue.cc
// calcCollChunking, halved by hand below, then rounded down to grains of
// 1,920 B) moves hop to hop in passes of the reduce's 14 warps, 1,920 B
// each (src/device/prims_ll128.h, all_reduce.h runTreeSplit), so the unit
// is min(chunk, 26,880 B), scaled by NCCL's channels over collsim's.
TEST(TreeLL128, PipelinesInWarpPassesOfNcclsChunk) {
  collective::TreeOptions ll128;
  ll128.protocol = Protocol::kLL128;
  // 4 nodes of 8: 16 channels, NCCL's too. nsteps = 1 + 2 + 0.8 = 3.8.
  // 64 MiB: 4 MiB a channel; 576,000 halves to 72,000 (fewer than
  // 3.8 x 64 / 8 chunks until 131,072 is passed), which holds 58 >= 7.6;
  // 71,040 in grains: the pass, 26,880 B, is the unit.
  const auto big = collective::tree_allreduce(32, 64.0 * 1048576, four_nodes_of_eight(), ll128);
  EXPECT_DOUBLE_EQ(big.transfers.front().bytes, 26880);
  // 1 MiB: 64 KiB a channel; 72,000 then 36,000, 18,000 (fewer than 7.6
  // chunks until 32,768 is passed), 17,280 in grains: under a pass.
  const auto small = collective::tree_allreduce(32, 1048576, four_nodes_of_eight(), ll128);
  EXPECT_DOUBLE_EQ(small.transfers.front().bytes, 17280);
  // Two 64-GPU NVLink domains: 128 of collsim's channels against NCCL's 64
  // (2 x 32). nsteps = 1 + 1 + 6.4 = 8.4. 8 MiB is 128 KiB per NCCL
  // channel: 72,000 (1 < 8.4 chunks until 131,072 is passed), then 36,000
  // (1 < 2.1; 3 >= 2.1), 34,560 in grains, so the unit is 26,880 x 64 /
  // 128. Counted over collsim's channels (64 KiB) the chunk fell to 18,000
  // (17,280) and the unit was 8,640.
  std::vector<int> racks(128);
  for (int r = 0; r < 128; ++r) racks[static_cast<std::size_t>(r)] = r / 64;
  const auto deep = collective::tree_allreduce(128, 8.0 * 1048576, racks, ll128);
  EXPECT_DOUBLE_EQ(deep.transfers.front().bytes, 13440);
}

// The ring's broadcast and reduce chains stream the same way
// (collective/chain.h ChainOptions::protocol). Oracle: NCCL's model gives a
// ring broadcast and a ring all-gather of the same bytes the same
// bandwidth term and the same p - 1 steps (src/graph/tuning.cc), so their
// times agree, but for what collsim's chain adds to it: at each network
// hop NCCL's proxy waits for a whole LL step, 32 KiB a channel
// (engine/plan.h chain_hop_latency_s; 16-18% more here, so at most 25%
// more and never much less); whole 512 KiB slices
// made the chain store and forward at LL's per-channel rate: 1 MiB on 4
// H100 nodes took 1,678 us against the all-gather's 134 us, and 448 us on
// 2 nodes.
TEST(ChainLL, BroadcastAndReduceStreamLikeTheRing) {
  collective::ChainOptions ll;
  ll.protocol = Protocol::kLL;
  EXPECT_DOUBLE_EQ(collective::chain_broadcast(32, 1048576, 0, ll).transfers.front().bytes, 256);  // a line each
  EXPECT_DOUBLE_EQ(collective::chain_broadcast(32, 32768, 0, ll).transfers.front().bytes, 256);
  collective::ChainOptions ll128;
  ll128.protocol = Protocol::kLL128;
  EXPECT_DOUBLE_EQ(collective::chain_reduce(32, 4.0 * 1048576, 0, ll128).transfers.front().bytes, 38400);
  for (const char* backend : {"analytical", "simgrid"}) {
    for (const char* ranks : {"16", "32"}) {
      const std::string run = std::string("-t topologies/h100-ib400-4node.yaml --ranks ") + ranks +
                              " -b 1M -e 1M --algo ring --proto LL --backend " + backend + " --op ";
      const double gather = testing::collective_time_us(run + "allgather");
      for (const char* op : {"broadcast", "reduce"}) {
        const double chain = testing::collective_time_us(run + op);
        EXPECT_GE(chain / gather, 0.95) << op << " " << ranks << " " << backend;
        EXPECT_LE(chain / gather, 1.25) << op << " " << ranks << " " << backend;
      }
    }
  }
}

// Inside one node a streamed chain's hop costs its latency, not that and a
// pass of its unit (engine/plan.h chain_hop_latency_s). Closed form: the
// chain fills hop by hop, each hop NCCL's own per-hop latency for LL128 on
// NVLink (1.9 us, NCCL 2.30.7 src/graph/tuning.cc hwLatencies) and the
// topology's 2 x 250 ns of GPU<->NVSwitch links, after NCCL's LL128 base
// latency (14 us); 8 H100s, 7 hops: 30.8 us at 4 and 64 KiB, whose units
// (38,400 B a channel at ~20 GB/s, 2 us) pass within it. The sum gave 32.4
// and 32.9 us, and 1 MiB 49.8 (now 35.1). NCCL's own model charges such a
// broadcast base + one hop where its channels share one ring, base + 8
// hops where not (tuning.cc, sameChannels): 15.9 or 29.2 us.
TEST(ChainLL128, OneNodeHopsCostTheirLatencyNotAlsoTheirPass) {
  for (const char* backend : {"analytical", "simgrid"}) {
    for (const char* op : {"broadcast", "reduce"}) {
      for (const char* size : {"4K", "64K"}) {
        const double t = testing::collective_time_us(
            std::string("-t topologies/h100-ib400-4node.yaml --ranks 8 --algo ring --proto LL128 -b ") + size + " -e " +
            size + " --op " + op + " --backend " + backend);
        EXPECT_NEAR(t, 14.0 + 7 * (1.9 + 0.5), 1e-6) << op << " " << size << " " << backend;
      }
    }
  }
}

}  // namespace
}  // namespace collsim
