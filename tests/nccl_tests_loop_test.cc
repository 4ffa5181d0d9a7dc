// nccl-tests' timed loop (engine/nccl_tests_loop.h) against closed forms
// derived from its rule (src/common.cu: each rank's kernels back to back,
// its own elapsed time over the iterations, averaged over the ranks), and
// NCCL's channel count for small ring collectives (src/enqueue.cc).
#include "sim/engine/nccl_tests_loop.h"

#include <gtest/gtest.h>

#include <vector>

#include "engine_support.h"
#include "sim/collective/chain.h"
#include "sim/collective/nccl_tuner.h"
#include "test_support.h"

namespace collsim::engine::detail {
namespace {

// A plan of transfers on hosts 0..ranks-1 (each its rank's), each with its
// own route unless given; deps as listed. `storage` keeps the deps.
struct HandPlan {
  Plan plan;
  PlannedSchedule s;
  std::shared_ptr<std::vector<int>> storage = std::make_shared<std::vector<int>>();
  HandPlan(int ranks, double launch_s) {
    s.ranks = ranks;
    s.launch_latency_s = launch_s;
    for (int r = 0; r < ranks; ++r) s.rank_hosts.push_back(r);
    storage->reserve(64);
  }
  void add(int src, int dst, double bytes, std::vector<int> deps, double window = 0) {
    const std::size_t at = storage->size();
    storage->insert(storage->end(), deps.begin(), deps.end());
    PlannedTransfer t;
    t.src_host = src;
    t.dst_host = dst;
    t.bytes = bytes;
    t.deps = std::span<const int>(storage->data() + at, deps.size());
    t.route = static_cast<int>(s.transfers.size());
    t.window_bytes = window;
    s.transfers.push_back(t);
  }
};

// A chain root -> 1 -> ... -> p-1, each hop taking h after its data and
// sender are ready, every kernel paying L: rank i (i < p-1) ends iteration
// k at (k+1)(L+h) + i h, the last rank as rank p-2, so the loop reports
// (L+h) + h ((p-2)(p-1)/2 + (p-2)) / (p N) where one broadcast takes
// L + (p-1) h.
TEST(NcclTestsLoop, AChainOverlapsItsIterations) {
  const int p = 4, iterations = 20;
  const double h = 3e-6, launch = 5e-6;
  HandPlan hand(p, launch);
  std::vector<double> finish;
  for (int i = 0; i + 1 < p; ++i) {
    hand.add(i, i + 1, 1000, i == 0 ? std::vector<int>{} : std::vector<int>{i - 1});
    finish.push_back(launch + (i + 1) * h);
  }
  const double expected = (launch + h) + h * ((p - 2) * (p - 1) / 2.0 + (p - 2)) / (p * iterations);
  EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, iterations), expected, 1e-15);
  // One iteration: the ranks' own ends, averaged (0: L + h, i: L + (i+1) h, the last as p-2).
  EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, 1), launch + h + h * (0 + 1 + 2 + 2) / 4.0, 1e-15);
}

// A ring shift where every rank sends at once: every rank ends each
// iteration together, so the loop is one collective's time.
TEST(NcclTestsLoop, RanksInStepReportOneCollectivesTime) {
  const int p = 5;
  const double h = 2e-6, launch = 1e-6;
  HandPlan hand(p, launch);
  std::vector<double> finish;
  for (int i = 0; i < p; ++i) {
    hand.add(i, (i + 1) % p, 1000, {});
    finish.push_back(launch + h);
  }
  EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, 20), launch + h, 1e-15);
}

// A chain of 3, hop a then a slower hop b, no launch. With room in rank
// 1's buffer for whole iterations the root runs at its own hop's pace (it
// ends iteration k at (k+1) a; ranks 1 and 2 at a + (k+1) b). With a
// buffer smaller than one iteration's bytes the root waits for rank 1's
// kernel of the iteration to start (rank 1 ends k at (k+1)(a+b), the root
// at k (a+b) + a).
TEST(NcclTestsLoop, TheReceiversBufferHoldsTheSenderBack) {
  const double a = 1e-6, b = 4e-6, bytes = 1e6;
  const int n = 20;
  for (double window : {0.0, 0.5e6}) {
    HandPlan hand(3, 0);
    hand.add(0, 1, bytes, {}, window);
    hand.add(1, 2, bytes, {0}, window);
    const std::vector<double> finish{a, a + b};
    const double expected =
        window > 0 ? ((n - 1) * (a + b) + a + 2 * n * (a + b)) / (3.0 * n) : (n * a + 2 * (a + n * b)) / (3.0 * n);
    EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, n), expected, 1e-15) << "window " << window;
  }
}

// A window of 2.5 iterations' bytes and a launch: the root (hop a = 1 us)
// may run until rank 1 (hop b = 5 us, launch L = 1 us) has finished the
// iteration two back. By hand from the rule: rank 1 ends iteration k at
// 7 + 6k us, the root at 2, 4, then 6k - 4 us; ranks 1 and 2 together,
// so 5 iterations report (20 + 31 + 31) / 3 / 5 us; without the window
// the root ends at 2 + 2k: (10 + 31 + 31) / 3 / 5.
TEST(NcclTestsLoop, AWindowOfSeveralIterationsHoldsTheRootBackTwoIterations) {
  const double us = 1e-6;
  for (double window : {0.0, 2.5e6}) {
    HandPlan hand(3, 1 * us);
    hand.add(0, 1, 1e6, {}, window);
    hand.add(1, 2, 1e6, {0}, window);
    const double expected = (window > 0 ? 20 + 31 + 31 : 10 + 31 + 31) / 3.0 / 5 * us;
    EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, {2 * us, 7 * us}, 5), expected, 1e-15) << window;
  }
}

// A connection whose bytes reach its window exactly after a run cut in
// nine (2 MiB in 9 transfers, a 4 MiB window): the bytes left to read
// round to a hair above 0, which once indexed the kernel ends before the
// first. Two ranks end together: one run's time per iteration.
TEST(NcclTestsLoop, AWindowFilledExactlyIsRead) {
  const double us = 1e-6, part = 2.0 * 1048576 / 9;
  HandPlan hand(2, 0);
  std::vector<double> finish;
  for (int i = 0; i < 9; ++i) {
    hand.add(0, 1, part, {}, 4.0 * 1048576);
    hand.s.transfers.back().route = 0;
    if (i > 0) hand.s.transfers.back().queue_after = i - 1;
    finish.push_back((i + 1) * us);
  }
  EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, 5), 9 * us, 1e-15);
  EXPECT_NEAR(nccl_tests_loop_s(hand.plan, hand.s, finish, 10000), 9 * us, 1e-15);
}

// Both backends replay a chain broadcast of one slice on an idle switch
// to the closed form above (h = the slice over a 100 GB/s link, no
// latency, no protocol: no launch).
TEST(NcclTestsLoop, BothBackendsReplayAChainBroadcast) {
  const int p = 4, iterations = 20;
  const double bytes = 400e3, h = bytes / 100e9;
  const topology::Network net(collsim::testing::one_nvswitch(p));
  const collective::Schedule s = collective::chain_broadcast(p, bytes, 0);
  RunOptions options;
  options.nccl_tests_iterations = iterations;
  for (const char* name : {"analytical", "simgrid"}) {
    auto backend = make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {s}, options);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NEAR((*r)[0].time_s, (p - 1) * h, 1e-12) << name;
    EXPECT_NEAR((*r)[0].loop_time_s, h + h * ((p - 2) * (p - 1) / 2.0 + (p - 2)) / (p * iterations), 1e-12) << name;
    EXPECT_TRUE((*r)[0].transfer_finish_s.empty()) << name << ": kept only when asked";
  }
}

// NCCL 2.27-2.30 src/enqueue.cc topoGetAlgoInfo: channels drop while
// bytes < channels x threads x threshold (LL: 512 x 8 x ranks; LL128:
// 640 x 8; Simple: 512 x 64).
TEST(NcclTestsLoop, SmallRingCollectivesRunOnFewerChannels) {
  using collective::Protocol;
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 8, 32, Protocol::kLL), 1);
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 1048576, 32, Protocol::kLL), 8);  // 131,072 B a channel
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 1048575, 32, Protocol::kLL), 7);
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 65536, 32, Protocol::kSimple), 2);  // 32,768 B a channel
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 2097152, 32, Protocol::kLL128), 16);
  EXPECT_EQ(collective::nccl_ring_channels_for(16, 8, 32, Protocol::kNone), 16);
}

}  // namespace
}  // namespace collsim::engine::detail
