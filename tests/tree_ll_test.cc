// NCCL's tree under LL (collective/tree.h TreeOptions::ll_line_bytes): an
// LL receiver forwards each line as its flag arrives (NCCL
// src/device/prims_ll.h), so a small tree streams through its hops instead
// of storing and forwarding each channel's bytes at every hop. Oracles:
// time cannot fall as the buffer grows, and the bytes added cost no more
// than NCCL's LL throughput limit allows (protocol.h tree_protocol_cap_Bps,
// NCCL's llMaxBw) plus one unit per hop of fill.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace collsim
