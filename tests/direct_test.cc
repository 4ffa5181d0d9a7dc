#include "sim/collective/direct.h"

#include <gtest/gtest.h>

#include "sim/collective/algorithms.h"
#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(DirectAllToAll, DeliversEveryBlockToItsDestination) {
  for (int p : {2, 3, 8, 16}) {
    const Schedule s = expand(direct_alltoall(p, 1e6));
    const Status st = check_schedule(Op::kAllToAll, s);
    EXPECT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_EQ(s.transfers.size(), static_cast<std::size_t>(p * (p - 1)));
  }
  Schedule wrong = expand(direct_alltoall(4, 1e6));
  wrong.transfers[0].dst = (wrong.transfers[0].dst + 1) % 4;  // a block to the wrong peer
  EXPECT_FALSE(check_schedule(Op::kAllToAll, wrong).ok());
}

TEST(SendRecv, EachRankEndsWithItsLeftNeighboursBuffer) {
  EXPECT_TRUE(check_schedule(Op::kSendRecv, ring_sendrecv(5, 1e6)).ok());
  Schedule wrong = ring_sendrecv(5, 1e6);
  std::swap(wrong.transfers[0].dst, wrong.transfers[1].dst);  // 0 -> 2 and 1 -> 1 is invalid
  EXPECT_FALSE(check_schedule(Op::kSendRecv, wrong).ok());
}

// A pipeline stage's send (a training step's ncclSend/ncclRecv pair): rank 0
// to rank 1 only, its n bytes once, and one network operation per rank's
// proxy where nccl-tests' sendrecv has two (a send and a receive).
TEST(SendRecv, OneWayIsOneSendOfItsBytes) {
  NcclP2pSetup p2p;
  p2p.op_cost_s = 2.5e-6;
  const Schedule both = ring_sendrecv(2, 1e6, {0, 1}, p2p);
  const Schedule one = ring_sendrecv(2, 1e6, {0, 1}, p2p, true);
  ASSERT_EQ(both.transfers.size(), 2u);
  ASSERT_EQ(one.transfers.size(), 1u);
  EXPECT_EQ(one.transfers[0].src, 0);
  EXPECT_EQ(one.transfers[0].dst, 1);
  EXPECT_DOUBLE_EQ(one.transfers[0].bytes, 1e6);
  EXPECT_TRUE(one.point_to_point);
  // One operation per part, each op_cost_s (direct.h).
  EXPECT_DOUBLE_EQ(one.chunk_overhead_s, 2.5e-6 * nccl_p2p_net_parts(1e6, 2, p2p));
  EXPECT_DOUBLE_EQ(2 * one.chunk_overhead_s, both.chunk_overhead_s);
}

TEST(Algorithms, AutoPicksTheDefaultAndUnknownNamesAreErrors) {
  auto s = build_schedule(Op::kAllReduce, "auto", 4, 1e6);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->algo, "ring");
  auto bad = build_schedule(Op::kAllToAll, "ring", 4, 1e6);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("available: direct"), std::string::npos) << bad.error().message;
  AlgoParams bad_root;
  bad_root.root = 4;
  EXPECT_FALSE(build_schedule(Op::kBroadcast, "auto", 4, 1e6, bad_root).ok());
  // NVLS needs a switch that reduces, and runs only the Simple protocol.
  EXPECT_FALSE(build_schedule(Op::kAllReduce, "nvls", 4, 1e6).ok());
  AlgoParams ll_on_nvls;
  ll_on_nvls.nvls_efficiency = 0.85;
  ll_on_nvls.protocol = Protocol::kLL;
  EXPECT_FALSE(build_schedule(Op::kAllReduce, "nvls", 4, 1e6, ll_on_nvls).ok());
}

}  // namespace
}  // namespace collsim::collective
