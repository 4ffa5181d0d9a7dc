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
  for (const auto& t : s.transfers) total += t.bytes;
  // 2 trees x (p-1) edges x up and down x n/2 bytes.
  EXPECT_NEAR(total, 2 * (p - 1) * 2 * n / 2, 1e-6 * n);
}

}  // namespace
}  // namespace collsim::collective
