#include "sim/collective/chain.h"

#include <gtest/gtest.h>

#include <set>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(Chain, BroadcastAndReduceAreCorrectForEveryRoot) {
  for (int p : {2, 3, 5, 8}) {
    for (int root = 0; root < p; ++root) {
      for (double bytes : {1000.0, 5.0 * 1048576}) {
        const Status b = check_schedule(Op::kBroadcast, chain_broadcast(p, bytes, root));
        EXPECT_TRUE(b.ok()) << "p=" << p << " root=" << root << ": " << b.error().to_string();
        const Status r = check_schedule(Op::kReduce, chain_reduce(p, bytes, root));
        EXPECT_TRUE(r.ok()) << "p=" << p << " root=" << root << ": " << r.error().to_string();
      }
    }
  }
}

TEST(Chain, WrongRootOrMissingHopFails) {
  Schedule b = chain_broadcast(4, 4.0 * 1048576, 1);
  b.root = 0;  // the data starts on rank 1, not 0
  EXPECT_FALSE(check_schedule(Op::kBroadcast, b).ok());
  Schedule r = chain_reduce(4, 4.0 * 1048576, 2);
  r.transfers.pop_back();  // the last slice never reaches the root
  EXPECT_FALSE(check_schedule(Op::kReduce, r).ok());
}

TEST(Chain, SlicesQueueInOrderOnEachConnection) {
  const Schedule s = expand(chain_broadcast(4, 4.0 * 524288, 0));  // 4 slices, 3 hops
  ASSERT_EQ(s.chunks, 4);
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    const Transfer& t = s.transfers[i];
    if (t.chunk == 0) {
      EXPECT_EQ(t.queue_after, -1);
    } else {
      const Transfer& ahead = s.transfers[t.queue_after];
      EXPECT_EQ(ahead.src, t.src);
      EXPECT_EQ(ahead.dst, t.dst);
      EXPECT_EQ(ahead.chunk, t.chunk - 1);
    }
  }
}

// Pipelined, a chain is one slice (every channel's hops) repeated;
// expanded, it is the chain written out slice by slice.
TEST(Chain, PipelinedFormExpandsToEverySliceWrittenOut) {
  const std::vector<std::vector<int>> orders{{0, 1, 2, 3, 4, 5}, {3, 5, 1, 0, 2, 4}};
  ChainOptions written;
  written.pipelined = false;
  const Schedule pipelined = chain_reduce_channels(6, 5.0 * 1048576, 2, orders);
  const Schedule a = expand(pipelined), b = chain_reduce_channels(6, 5.0 * 1048576, 2, orders, written);
  ASSERT_GT(pipelined.repeats, 1);
  ASSERT_EQ(a.transfers.size(), b.transfers.size());
  for (std::size_t i = 0; i < a.transfers.size(); ++i) {
    const Transfer &x = a.transfers[i], &y = b.transfers[i];
    ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.bytes == y.bytes && x.chunk == y.chunk && x.deps == y.deps &&
                x.queue_after == y.queue_after)
        << "transfer " << i;
  }
  EXPECT_TRUE(check_schedule(Op::kReduce, pipelined).ok());
}

// NCCL's 512 KiB steps (a broadcast's chunk is one step) at any size when
// pipelined (one slice written and repeated: its fill is NCCL's, one step
// through every hop, however long the chain); written out, at most 256 a
// channel, fewer where channels x slices x hops would exceed 4e6. LL's
// units (256-byte lines), at most 4,096 a channel.
TEST(Chain, SliceCountIsBounded) {
  constexpr double kGiB = 1073741824;
  EXPECT_EQ(chain_broadcast(8, 1024, 0).chunks, 1);
  EXPECT_EQ(chain_broadcast(8, 8.0 * 524288, 0).chunks, 8);
  EXPECT_EQ(chain_broadcast(8, 16 * kGiB, 0).chunks, 32768);     // 16 GiB / 512 KiB
  EXPECT_EQ(chain_broadcast(4096, 16 * kGiB, 0).chunks, 32768);  // one copy written: 4,095 transfers
  EXPECT_EQ(chain_broadcast(4096, 16 * kGiB, 0).transfers.size(), 4095u);
  ChainOptions written;
  written.pipelined = false;
  EXPECT_EQ(chain_broadcast(8, 16 * kGiB, 0, written).chunks, 256);
  ChainOptions ll;
  ll.protocol = Protocol::kLL;
  EXPECT_EQ(chain_broadcast(8, 1048576, 0, ll).chunks, 4096);  // 1 MiB / 256 B
  EXPECT_EQ(chain_broadcast(8, kGiB, 0, ll).chunks, 4096);
}

// A chain standing for two NCCL channels side by side moves both channels'
// steps at once: 1 MiB slices of an 8 MiB broadcast, 8 of them.
TEST(Chain, ItsSlicesAreItsChannelsSteps) {
  ChainOptions two;
  two.ctas_per_chain = 2;
  const Schedule s = chain_broadcast(8, 8.0 * 1048576, 0, two);
  EXPECT_EQ(s.chunks, 8);
  EXPECT_DOUBLE_EQ(s.transfers.front().bytes, 1048576);
  EXPECT_DOUBLE_EQ(s.chain_nccl_channels, 2);
  EXPECT_TRUE(check_schedule(Op::kBroadcast, s).ok());
}

}  // namespace
}  // namespace collsim::collective

#include "sim/collective/ring.h"

namespace collsim::collective {
namespace {

// Domains of `size` consecutive ranks.
std::vector<int> domains(int ranks, int size) {
  std::vector<int> d;
  for (int r = 0; r < ranks; ++r) d.push_back(r / size);
  return d;
}

TEST(Chain, ChannelsAcrossDomainsAreCorrectForEveryRoot) {
  for (auto [p, g] : {std::pair{8, 4}, {12, 3}, {16, 8}}) {
    const auto orders = rings_over_domains(domains(p, g));
    ASSERT_EQ(static_cast<int>(orders.size()), g);
    for (int root = 0; root < p; ++root) {
      const Schedule b = chain_broadcast_channels(p, 3.0 * 1048576, root, orders);
      const Status sb = check_schedule(Op::kBroadcast, b);
      EXPECT_TRUE(sb.ok()) << "p=" << p << " root=" << root << ": " << sb.error().to_string();
      const Status sr = check_schedule(Op::kReduce, chain_reduce_channels(p, 3.0 * 1048576, root, orders));
      EXPECT_TRUE(sr.ok()) << "p=" << p << " root=" << root << ": " << sr.error().to_string();
      // No two channels leave a domain from the same GPU (so through the
      // same NIC), and together they cross at least p - g times.
      const int slices = b.chunks / g;
      std::set<int> leaving;
      int crossings = 0;
      for (const Transfer& t : b.transfers) {
        if (t.chunk % slices != 0 || t.src / g == t.dst / g) continue;
        ++crossings;
        leaving.insert(t.src);
      }
      EXPECT_EQ(static_cast<int>(leaving.size()), crossings) << "p=" << p << " root=" << root;
      EXPECT_GE(crossings, p - g) << "p=" << p << " root=" << root;
    }
  }
}

}  // namespace
}  // namespace collsim::collective

namespace collsim::collective {
namespace {

TEST(Chain, ChannelsKeepTheTransferCountBounded) {
  // 72 channels over 576 ranks (eight NVL72 racks), 8 GiB: 228 slices of
  // 512 KiB per channel would be 9.4 M transfers written out; the named cap
  // keeps it at 4 M. Pipelined, one slice is held and all 228 are costed.
  std::vector<int> domain;
  for (int r = 0; r < 576; ++r) domain.push_back(r / 72);
  const auto orders = rings_over_domains(domain);
  ASSERT_EQ(orders.size(), 72u);
  ChainOptions written;
  written.pipelined = false;
  const Schedule s = chain_broadcast_channels(576, 8.0 * 1073741824, 0, orders, written);
  EXPECT_LE(s.transfers.size(), 4000000u);
  EXPECT_GE(s.transfers.size(), 72u * 575 * 96);  // 4e6 / (72 x 575) = 96 slices each
  const Schedule pipelined = chain_broadcast_channels(576, 8.0 * 1073741824, 0, orders);
  EXPECT_EQ(pipelined.transfers.size(), 72u * 575);
  EXPECT_EQ(pipelined.repeats, 228);  // ceil(8 GiB / 72 / 512 KiB)
}

}  // namespace
}  // namespace collsim::collective
