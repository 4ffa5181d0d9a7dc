#include "sim/collective/hier.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

std::vector<int> domains(int D, int g) {
  std::vector<int> d;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < g; ++j) d.push_back(100 + i);  // ids need not start at 0
  return d;
}

TEST(Hierarchical, ComputesAnAllReduceForManyShapes) {
  for (auto [D, g] : {std::pair{2, 4}, {3, 3}, {4, 8}, {1, 8}, {8, 1}, {2, 2}}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      auto s = hier_allreduce(D * g, bytes, domains(D, g));
      ASSERT_TRUE(s.ok()) << s.error().message;
      const Status st = check_allreduce(*s);
      EXPECT_TRUE(st.ok()) << D << "x" << g << ": " << st.error().to_string();
    }
  }
}

TEST(Hierarchical, UnequalDomainsAreAnError) {
  auto s = hier_allreduce(5, 1e6, {0, 0, 0, 1, 1});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("equal size"), std::string::npos);
}

TEST(Hierarchical, NetworkBytesPerGpuAre2DMinus1OverDOfItsChunk) {
  const int D = 4, g = 8;
  const double n = 64.0 * 1048576;
  auto s = hier_allreduce(D * g, n, domains(D, g));
  ASSERT_TRUE(s.ok());
  std::vector<double> across(D * g, 0);
  for (const auto& t : expand(*s).transfers)
    if (t.src / g != t.dst / g) across[t.src] += t.bytes;
  for (double b : across) EXPECT_NEAR(b, 2.0 * (D - 1) / D * n / g, 1e-6 * n);
}

}  // namespace
}  // namespace collsim::collective
