#include "sim/collective/ring.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(RingAllReduce, ComputesAnAllReduceForManyRankCounts) {
  RingOptions sliced;
  sliced.max_slices = 8;
  for (int p : {2, 3, 4, 5, 7, 8, 13, 16, 72}) {
    for (double bytes : {1024.0, 64.0 * 1048576, 1073741824.0}) {
      const Schedule s = expand(ring_allreduce(p, bytes, sliced));
      const Status st = check_allreduce(s);
      EXPECT_TRUE(st.ok()) << "p=" << p << " bytes=" << bytes << ": " << st.error().to_string();
    }
  }
}

TEST(RingAllReduce, BrokenSchedulesFailTheSymbolicCheck) {
  Schedule s = expand(ring_allreduce(4, 4.0 * 1048576));
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
    const Schedule s = expand(ring_allreduce(p, n));
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

TEST(RingAllReduce, SliceCountFollowsTheOptions) {
  RingOptions sliced;
  sliced.max_slices = 8;
  // 8 ranks x 1 GiB: chunks of 128 MiB, cut into 8 slices.
  EXPECT_EQ(expand(ring_allreduce(8, 1073741824.0, sliced)).transfers.size(), 2u * 7 * 8 * 8);
  // 128 KiB chunks are below one 512 KiB slice.
  EXPECT_EQ(expand(ring_allreduce(8, 1048576.0, sliced)).transfers.size(), 2u * 7 * 8);
  EXPECT_EQ(expand(ring_allreduce(8, 1073741824.0)).transfers.size(), 2u * 7 * 8);  // default: one slice
}

TEST(RingAllReduce, EachSliceWaitsOnlyForTheSameSliceFromTheLeft) {
  RingOptions sliced;
  sliced.max_slices = 8;
  const Schedule s = expand(ring_allreduce(5, 5.0 * 4 * 524288, sliced));  // 4 slices per chunk
  for (const auto& t : s.transfers) {
    for (int d : t.deps) {
      const Transfer& before = s.transfers[d];
      EXPECT_EQ(before.dst, t.src);
      EXPECT_EQ(before.chunk, t.chunk);
      EXPECT_EQ(before.slice, t.slice);
    }
  }
}

// NCCL moves a channel connection's steps in order (NCCL_STEPS slots on
// one FIFO). With fifo_rings every transfer after a connection's first
// queues behind the previous step's on the same connection of the same
// channel (the same slice lane), never behind another channel's; the
// default expansion queues nothing.
TEST(RingAllReduce, FifoRingsQueueEachStepBehindTheLastOnItsChannelConnection) {
  const std::vector<std::vector<int>> orders{{0, 1, 2, 3}, {1, 2, 3, 0}};  // two channels share every connection
  const Schedule compact = ring_allreduce_channels(4, 8e6, orders);
  const Schedule plain = expand(compact);
  for (const auto& t : plain.transfers) EXPECT_EQ(t.queue_after, -1);
  const Schedule fifo = expand(compact, /*fifo_rings=*/true);
  ASSERT_EQ(fifo.transfers.size(), plain.transfers.size());
  std::map<std::tuple<int, int, int>, int> last;  // (channel, src, dst) -> last transfer
  for (std::size_t i = 0; i < fifo.transfers.size(); ++i) {
    const Transfer& t = fifo.transfers[i];
    const int channel = t.chunk / 4;  // chunk c * ranks + i is chunk i of channel c
    const auto key = std::make_tuple(channel, t.src, t.dst);
    const auto it = last.find(key);
    EXPECT_EQ(t.queue_after, it == last.end() ? -1 : it->second) << i;
    last[key] = static_cast<int>(i);
  }
  EXPECT_EQ(last.size(), 2u * 4);
  EXPECT_TRUE(check_allreduce(fifo).ok());
}

TEST(RingAllReduce, OneRankHasNothingToSend) { EXPECT_TRUE(expand(ring_allreduce(1, 1e6)).transfers.empty()); }

}  // namespace
}  // namespace collsim::collective

namespace collsim::collective {
namespace {

TEST(RingFamily, ReduceScatterAndAllGatherAreCorrectForManyRankCounts) {
  for (int p : {2, 3, 5, 8, 13, 72}) {
    for (double bytes : {4096.0, 256.0 * 1048576}) {
      Status rs = check_schedule(Op::kReduceScatter, ring_reducescatter(p, bytes));
      EXPECT_TRUE(rs.ok()) << "p=" << p << ": " << rs.error().to_string();
      Status ag = check_schedule(Op::kAllGather, ring_allgather(p, bytes));
      EXPECT_TRUE(ag.ok()) << "p=" << p << ": " << ag.error().to_string();
    }
  }
}

TEST(RingFamily, ReduceScatterAndAllGatherOverChannelsAreCorrect) {
  // Domains of g consecutive ranks, and an uneven layout (3 + 3 + 2 ranks).
  for (const std::vector<int>& domain :
       {std::vector<int>{0, 0, 0, 0, 1, 1, 1, 1}, std::vector<int>{0, 0, 0, 1, 1, 1, 2, 2},
        std::vector<int>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}}) {
    const auto orders = rings_over_domains(domain);
    ASSERT_GT(orders.size(), 1u);
    const int p = static_cast<int>(domain.size());
    const Status rs = check_schedule(Op::kReduceScatter, ring_reducescatter_channels(p, 1e6, orders));
    EXPECT_TRUE(rs.ok()) << rs.error().to_string();
    const Status ag = check_schedule(Op::kAllGather, ring_allgather_channels(p, 1e6, orders));
    EXPECT_TRUE(ag.ok()) << ag.error().to_string();
    // Swapped, each does the other's job and fails the check.
    EXPECT_FALSE(check_schedule(Op::kReduceScatter, ring_allgather_channels(p, 1e6, orders)).ok());
  }
}

TEST(RingFamily, TheCheckerTellsTheOperationsApart) {
  // An all-gather schedule does not reduce-scatter, and the unshifted
  // reduce-scatter (the first half of the all-reduce) leaves chunk r+1 on rank r.
  EXPECT_FALSE(check_schedule(Op::kReduceScatter, ring_allgather(4, 4096)).ok());
  Schedule first_half = expand(ring_allreduce(4, 4096));
  first_half.transfers.resize(first_half.transfers.size() / 2);
  first_half.op = "reducescatter";
  const Status st = check_schedule(Op::kReduceScatter, first_half);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("rank 0 holds"), std::string::npos) << st.error().message;
  // An all-gather that forwards a chunk before receiving it sends data it does not hold.
  Schedule early = expand(ring_allgather(4, 4096));
  std::swap(early.transfers[1].chunk, early.transfers[5].chunk);
  EXPECT_FALSE(check_schedule(Op::kAllGather, early).ok());
}

TEST(RingFamily, DataMustBeOrderedByDependenciesNotByListOrder) {
  // The same transfers without dependencies compute the right sums in list
  // order, but a real run may send a chunk before it arrived: rejected.
  Schedule racy = expand(ring_allreduce(4, 4.0 * 1048576));
  for (auto& t : racy.transfers) t.deps.clear();
  const Status st = check_allreduce(racy);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("without depending on transfer"), std::string::npos) << st.error().message;
}

TEST(RingFamily, EachRankSendsPMinusOneOverPOfTheBuffer) {
  for (int p : {2, 8, 72}) {
    const double n = 1e9;
    for (const Schedule& s : {expand(ring_reducescatter(p, n)), expand(ring_allgather(p, n))}) {
      std::vector<double> sent(p, 0);
      for (const auto& t : s.transfers) sent[t.src] += t.bytes;
      for (double b : sent) EXPECT_NEAR(b, (p - 1.0) / p * n, 1e-6 * n) << s.op << " p=" << p;
    }
  }
}

}  // namespace
}  // namespace collsim::collective

namespace collsim::collective {
namespace {

TEST(RingChannels, OneRingPerGpuOfADomainEachLeavingFromADifferentGpu) {
  // 3 domains of 4 GPUs (ids need not be contiguous or ordered).
  const std::vector<int> domain{7, 7, 7, 7, 2, 2, 2, 2, 9, 9, 9, 9};
  const auto orders = rings_over_domains(domain);
  ASSERT_EQ(orders.size(), 4u);
  std::vector<std::set<int>> leaving(3);  // per domain: GPUs whose hop leaves the domain
  for (const auto& order : orders) {
    ASSERT_EQ(std::set<int>(order.begin(), order.end()).size(), 12u);  // a permutation
    for (std::size_t i = 0; i < order.size(); ++i) {
      const int a = order[i], b = order[(i + 1) % order.size()];
      if (domain[a] != domain[b]) leaving[a / 4].insert(a);
    }
  }
  for (const auto& l : leaving) EXPECT_EQ(l.size(), 4u);  // every GPU (and its NIC) sends across once
  EXPECT_EQ(rings_over_domains({5, 5, 5}).size(), 1u);
}

TEST(RingChannels, MultiChannelAllReduceIsCorrectAndMovesTheRingBytes) {
  const std::vector<int> domain{0, 0, 0, 0, 1, 1, 1, 1};
  const auto orders = rings_over_domains(domain);
  const Schedule s = expand(ring_allreduce_channels(8, 8e6, orders));
  const Status st = check_allreduce(s);
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  std::vector<double> sent(8, 0);
  for (const auto& t : s.transfers) sent[t.src] += t.bytes;
  for (double b : sent) EXPECT_NEAR(b, 2.0 * 7 / 8 * 8e6, 1e-3);
}

}  // namespace
// NCCL's alternation of crossing rings (src/graph/connect.cc): a channel
// leaving a domain from its GPU at position x enters the next at position x,
// on the same rail, but for the hop back to domain 0 when the domains are odd
// in number; each domain's GPUs are still visited once per channel, and an
// all-ones on_network is every rank on the network.
TEST(RingChannels, AlternatedRingsKeepTheirRailBetweenDomains) {
  for (int domains : {2, 3, 4}) {
    std::vector<int> domain;
    for (int d = 0; d < domains; ++d)
      for (int g = 0; g < 4; ++g) domain.push_back(d);
    const auto orders = rings_over_domains(domain, {}, true, true);
    ASSERT_EQ(orders.size(), 4u);
    EXPECT_EQ(rings_over_domains(domain, std::vector<char>(domain.size(), 1), true, true), orders);
    for (const auto& order : orders) {
      ASSERT_EQ(order.size(), domain.size());
      EXPECT_EQ(std::set<int>(order.begin(), order.end()).size(), domain.size());
      int crossing = 0;
      for (std::size_t i = 0; i < order.size(); ++i) {
        const int a = order[i], b = order[(i + 1) % order.size()];
        if (domain[a] != domain[b]) crossing += a % 4 != b % 4;
      }
      EXPECT_EQ(crossing, domains % 2) << domains << " domains";
    }
  }
}

}  // namespace collsim::collective
