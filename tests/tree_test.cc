#include "sim/collective/tree.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(BinaryTree, ShapesWorkedOutByHand) {
  // p = 8: 0 -> 4 -> {2, 6}, 2 -> {1, 3}, 6 -> {5, 7}.
  EXPECT_EQ(binary_tree_parents(8), (std::vector<int>{-1, 2, 4, 2, 0, 6, 4, 6}));
  // p = 5: 0 -> 4 -> 2 -> {1, 3} (4's parent would be 8, past the end: 0).
  EXPECT_EQ(binary_tree_parents(5), (std::vector<int>{-1, 2, 4, 2, 0}));
}

TEST(DoubleBinaryTree, ComputesAnAllReduce) {
  for (int p = 2; p <= 17; ++p) {
    for (double bytes : {1e3, 8.0 * 1048576}) {
      const Status st = check_allreduce(tree_allreduce(p, bytes));
      EXPECT_TRUE(st.ok()) << "p=" << p << ": " << st.error().to_string();
    }
  }
  EXPECT_TRUE(check_allreduce(tree_allreduce(72, 1e6)).ok());
}

TEST(DoubleBinaryTree, BroadcastBeforeTheReductionIsCaught) {
  Schedule s = tree_allreduce(8, 1e3);
  // Drop the dependencies of every copy (the broadcast down): it could leave
  // before the root has the sum.
  for (auto& t : s.transfers)
    if (t.action == Action::kCopy) t.deps.clear();
  EXPECT_FALSE(check_allreduce(s).ok());
}

TEST(DoubleBinaryTree, EachTreeCarriesHalfTheBufferOverEveryEdgeTwice) {
  const int p = 8;
  const double n = 64.0 * 1048576;
  const Schedule s = tree_allreduce(p, n);
  double total = 0;
  for (const auto& t : expand(s).transfers) total += t.bytes;
  // 2 trees x (p-1) edges x up and down x n/2 bytes.
  EXPECT_NEAR(total, 2 * (p - 1) * 2 * n / 2, 1e-6 * n);
}

// NCCL's tree across domains: a chain in each domain, the double binary
// tree between the domains' heads.
std::vector<int> domains_of(const std::vector<int>& sizes) {
  std::vector<int> out;
  for (std::size_t d = 0; d < sizes.size(); ++d)
    for (int i = 0; i < sizes[d]; ++i) out.push_back(static_cast<int>(d));
  return out;
}

TEST(NcclTree, ComputesAnAllReduceOnEveryDomainShape) {
  for (const auto& sizes : std::vector<std::vector<int>>{{8}, {4, 4}, {8, 8, 8}, {2, 2, 2, 2, 2}, {3, 1, 4}, {1, 1}}) {
    const auto domains = domains_of(sizes);
    const int p = static_cast<int>(domains.size());
    for (double bytes : {1e3, 8.0 * 1048576}) {
      const Status st = check_allreduce(tree_allreduce(p, bytes, domains));
      EXPECT_TRUE(st.ok()) << p << " ranks: " << st.error().to_string();
    }
  }
}

TEST(NcclTree, OneRankPerDomainIsTheDoubleBinaryTree) {
  std::vector<int> own{0, 1, 2, 3, 4, 5, 6, 7};
  const Schedule a = tree_allreduce(8, 1e6, own), b = tree_allreduce(8, 1e6);
  ASSERT_EQ(a.transfers.size(), b.transfers.size());
  for (std::size_t i = 0; i < a.transfers.size(); ++i) {
    EXPECT_EQ(a.transfers[i].src, b.transfers[i].src);
    EXPECT_EQ(a.transfers[i].dst, b.transfers[i].dst);
  }
}

// Pipelined, a tree is one slice repeated; expanded, it is exactly the
// schedule written out slice by slice (the form every backend ran before).
TEST(NcclTree, PipelinedFormExpandsToEverySliceWrittenOut) {
  const auto domains = domains_of({4, 4, 4});
  const double n = 64.0 * 1048576;
  TreeOptions written;
  written.pipelined = false;
  const Schedule pipelined = tree_allreduce(12, n, domains);
  const Schedule a = expand(pipelined), b = tree_allreduce(12, n, domains, written);
  ASSERT_GT(pipelined.repeats, 1);
  EXPECT_EQ(pipelined.transfer_count(), b.transfer_count());
  EXPECT_NEAR(pipelined.total_bytes(), b.total_bytes(), 1e-9 * n);
  EXPECT_EQ(a.repeats, 1);
  ASSERT_EQ(a.transfers.size(), b.transfers.size());
  for (std::size_t i = 0; i < a.transfers.size(); ++i) {
    const Transfer &x = a.transfers[i], &y = b.transfers[i];
    ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.bytes == y.bytes && x.chunk == y.chunk && x.action == y.action &&
                x.deps == y.deps && x.queue_after == y.queue_after && x.channel == y.channel)
        << "transfer " << i;
  }
  EXPECT_TRUE(check_allreduce(pipelined).ok());
}

// NCCL's tree moves 512 KiB chunks (Simple) over at most 32 channels per
// tree; collsim runs two channels per GPU of a domain, so on a 72-GPU
// NVL72 chain its slices shrink by 32 / 72 and a pipeline stage holds
// NCCL's 2 x 32 x 512 KiB across all channels. At 8 GPUs per domain the
// slices are NCCL's 512 KiB. Written out slice by slice, the slices stay
// fewer: at most max_slice_transfers transfers (or min_slices per channel).
TEST(NcclTree, SlicesHoldNcclsBytesInFlightPerStage) {
  const double chunk = 512.0 * 1024;
  {
    const Schedule s = tree_allreduce(144, 16.0 * (1LL << 30), domains_of({72, 72}));
    const int channels = 2 * 72;
    ASSERT_GT(s.repeats, 1);
    EXPECT_NEAR(s.transfers.front().bytes * channels, 2 * 32 * chunk, 0.01 * chunk);
    EXPECT_NEAR(s.transfers.front().bytes * channels * s.repeats, 16.0 * (1LL << 30), 1e-9 * (1LL << 30));
  }
  {
    const Schedule s = tree_allreduce(24, 1.0 * (1LL << 30), domains_of({8, 8, 8}));
    EXPECT_EQ(s.transfers.front().bytes, chunk);
  }
  TreeOptions written;
  written.pipelined = false;
  const Schedule w = tree_allreduce(144, 16.0 * (1LL << 30), domains_of({72, 72}), written);
  const double per_slice = 2.0 * 144 * 143;
  EXPECT_LE(static_cast<double>(w.transfers.size()), written.max_slice_transfers + per_slice);
}

// Bytes each rank sends to and receives from other domains.
struct NetBytes {
  std::vector<double> out, in;
};
NetBytes network_bytes(const Schedule& s, const std::vector<int>& domain) {
  NetBytes b{std::vector<double>(s.ranks, 0), std::vector<double>(s.ranks, 0)};
  for (const auto& t : expand(s).transfers) {
    if (t.src >= s.ranks || t.dst >= s.ranks || domain[t.src] == domain[t.dst]) continue;
    b.out[t.src] += t.bytes;
    b.in[t.dst] += t.bytes;
  }
  return b;
}

TEST(NcclTree, EveryNicCarriesTwiceItsShareEachWay) {
  // A domain is an inner node (2 children, 1 parent) of one tree and a leaf
  // of the other, and every GPU heads one channel of each tree: per GPU
  // (3 + 1) x n / (2 g) = 2 n / g each way. Between two domains each tree
  // has one edge: n / g each way (why NCCL doubles the inter-node bandwidth
  // of its trees on two nodes). The root of tree 1 has one child: less.
  const int g = 4;
  const double n = 64.0 * 1048576;
  for (int nd : {2, 7}) {
    const auto domains = domains_of(std::vector<int>(nd, g));
    const int p = nd * g;
    const NetBytes b = network_bytes(tree_allreduce(p, n, domains), domains);
    const double most = nd == 2 ? n / g : 2 * n / g;
    double max_out = 0, max_in = 0, total = 0;
    for (int r = 0; r < p; ++r) {
      max_out = std::max(max_out, b.out[r]);
      max_in = std::max(max_in, b.in[r]);
      total += b.out[r];
    }
    EXPECT_NEAR(max_out, most, 1e-9 * n) << nd;
    EXPECT_NEAR(max_in, most, 1e-9 * n) << nd;
    // Each tree has nd - 1 edges between domains, crossed up and down by
    // half the buffer: 2 (nd - 1) n bytes in all.
    EXPECT_NEAR(total, 2.0 * (nd - 1) * n, 1e-9 * n) << nd;
  }
}

}  // namespace
}  // namespace collsim::collective
