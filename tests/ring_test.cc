#include "sim/collective/ring.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(RingAllReduce, ComputesAnAllReduceForManyRankCounts) {
  for (int p : {2, 3, 4, 5, 7, 8, 13, 16, 72}) {
    for (double bytes : {1024.0, 64.0 * 1048576, 1073741824.0}) {
      const Schedule s = ring_allreduce(p, bytes);
      const Status st = check_allreduce(s);
      EXPECT_TRUE(st.ok()) << "p=" << p << " bytes=" << bytes << ": " << st.error().to_string();
    }
  }
}

TEST(RingAllReduce, BrokenSchedulesFailTheSymbolicCheck) {
  Schedule s = ring_allreduce(4, 4.0 * 1048576);
  // Turning one reduce into a copy loses a contribution.
  Schedule lost = s;
  lost.transfers[4].action = Action::kCopy;
  EXPECT_FALSE(check_allreduce(lost).ok());
  // Dropping the last all-gather transfer leaves one rank without a chunk.
  Schedule short_by_one = s;
  short_by_one.transfers.pop_back();
  EXPECT_FALSE(check_allreduce(short_by_one).ok());
  // Reducing the same data twice double-counts a contribution, though the byte count is right.
  Schedule twice = s;
  twice.transfers[twice.transfers.size() / 2].action = Action::kReduce;
  EXPECT_FALSE(check_allreduce(twice).ok());
}

TEST(RingAllReduce, EachRankSendsTwoTimesPMinusOneOverPOfTheBuffer) {
  // formulas.md allreduce_ring: the bandwidth term 2((p-1)/p) n b is what one rank sends.
  for (int p : {2, 3, 8, 72}) {
    const double n = 1e9;
    const Schedule s = ring_allreduce(p, n);
    std::vector<double> sent(p, 0), received(p, 0);
    for (const auto& t : s.transfers) {
      sent[t.src] += t.bytes;
      received[t.dst] += t.bytes;
    }
    for (int r = 0; r < p; ++r) {
      EXPECT_NEAR(sent[r], 2.0 * (p - 1) / p * n, 1e-6 * n) << "p=" << p;
      EXPECT_NEAR(received[r], sent[r], 1e-9 * n);
    }
  }
}

TEST(RingAllReduce, SlicesFollowNcclSimpleBufferLimits) {
  // 8 ranks x 1 GiB: chunks of 128 MiB; at most 8 slices in flight (NCCL_STEPS).
  const Schedule big = ring_allreduce(8, 1073741824.0);
  EXPECT_EQ(big.transfers.size(), 2u * 7 * 8 * 8);
  // 8 ranks x 1 MiB: 128 KiB chunks are below the 512 KiB slice: one slice each.
  const Schedule small = ring_allreduce(8, 1048576.0);
  EXPECT_EQ(small.transfers.size(), 2u * 7 * 8);
}

TEST(RingAllReduce, EachSliceWaitsOnlyForTheSameSliceFromTheLeft) {
  const Schedule s = ring_allreduce(5, 5.0 * 4 * 524288);  // 4 slices per chunk
  for (const auto& t : s.transfers) {
    for (int d : t.deps) {
      const Transfer& before = s.transfers[d];
      EXPECT_EQ(before.dst, t.src);
      EXPECT_EQ(before.chunk, t.chunk);
      EXPECT_EQ(before.slice, t.slice);
    }
  }
}

TEST(RingAllReduce, OneRankHasNothingToSend) { EXPECT_TRUE(ring_allreduce(1, 1e6).transfers.empty()); }

}  // namespace
}  // namespace collsim::collective
