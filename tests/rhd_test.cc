#include "sim/collective/rhd.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(RecursiveHalvingDoubling, ComputesAnAllReduceIncludingNonPowersOfTwo) {
  for (int p = 2; p <= 17; ++p) {
    const Status st = check_allreduce(rhd_allreduce(p, 1e6));
    EXPECT_TRUE(st.ok()) << "p=" << p << ": " << st.error().to_string();
  }
  EXPECT_TRUE(check_allreduce(rhd_allreduce(72, 1e6)).ok());
}

TEST(RecursiveHalvingDoubling, StepCountsAndBytesFollowTheAlgorithm) {
  // p = 8: 3 halving + 3 doubling rounds of 8 transfers.
  const Schedule pof2 = rhd_allreduce(8, 8e6);
  EXPECT_EQ(pof2.transfers.size(), 6u * 8);
  // Each rank sends 2 (p-1)/p n (formulas.md allreduce_rabenseifner_pof2).
  std::vector<double> sent(8, 0);
  for (const auto& t : pof2.transfers) sent[t.src] += t.bytes;
  for (double b : sent) EXPECT_NEAR(b, 2.0 * 7 / 8 * 8e6, 1e-3);
  // p = 6: 2 extra ranks fold in and out around 4 x (2 + 2) transfers.
  EXPECT_EQ(rhd_allreduce(6, 6e6).transfers.size(), 2u + 16u + 2u);
}

TEST(RecursiveHalvingDoubling, DroppingADependencyIsCaught) {
  Schedule s = rhd_allreduce(8, 8e6);
  for (auto& t : s.transfers) t.deps.clear();
  EXPECT_FALSE(check_allreduce(s).ok());
}

}  // namespace
}  // namespace collsim::collective
