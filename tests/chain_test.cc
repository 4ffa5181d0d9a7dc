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
  const Schedule s = chain_broadcast(4, 4.0 * 524288, 0);  // 4 slices, 3 hops
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

TEST(Chain, SliceCountIsBounded) {
  EXPECT_EQ(chain_broadcast(8, 1024, 0).chunks, 1);
  EXPECT_EQ(chain_broadcast(8, 8.0 * 524288, 0).chunks, 8);
  EXPECT_EQ(chain_broadcast(8, 16.0 * 1073741824, 0).chunks, 256);
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
  // 72 channels over 576 ranks (eight NVL72 racks), 8 GiB: 256 slices per
  // channel would be 10.6 M transfers; the named cap keeps it at 4 M.
  std::vector<int> domain;
  for (int r = 0; r < 576; ++r) domain.push_back(r / 72);
  const auto orders = rings_over_domains(domain);
  ASSERT_EQ(orders.size(), 72u);
  const Schedule s = chain_broadcast_channels(576, 8.0 * 1073741824, 0, orders);
  EXPECT_LE(s.transfers.size(), 4000000u);
  EXPECT_GE(s.transfers.size(), 72u * 575 * 96);  // 4e6 / (72 x 575) = 96 slices each
}

}  // namespace
}  // namespace collsim::collective
