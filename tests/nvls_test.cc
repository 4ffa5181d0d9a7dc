#include "sim/collective/nvls.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(Nvls, ComputesAnAllReduceWithTheSwitchAsHelper) {
  for (int p : {2, 3, 8, 9}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      const Schedule s = nvls_allreduce(p, bytes, 0.85);
      EXPECT_EQ(s.helper_ranks, 1);
      const Status st = check_allreduce(s);
      EXPECT_TRUE(st.ok()) << "p=" << p << ": " << st.error().to_string();
    }
  }
}

TEST(Nvls, MulticastBeforeTheSumIsCaught) {
  Schedule s = nvls_allreduce(4, 1e4, 1.0);
  // The last transfer multicasts chunk 3; without its dependency on the
  // owner's store it could leave before the sum exists.
  s.transfers.back().deps.clear();
  EXPECT_FALSE(check_allreduce(s).ok());
}

TEST(Nvls, EachGpuSendsAndReceivesNPlusNOverP) {
  // The traffic NCCL's NVLS generates per GPU (nvls.h): n + n/p each way.
  const int p = 8;
  const double n = 64.0 * 1048576, eff = 0.5;
  const Schedule s = nvls_allreduce(p, n, eff);
  std::vector<double> up(p, 0), down(p, 0);
  for (const auto& t : s.transfers) {
    if (t.src < p) up[t.src] += t.bytes;
    if (t.dst < p) down[t.dst] += t.bytes;
  }
  for (int g = 0; g < p; ++g) {
    EXPECT_NEAR(up[g] * eff, n + n / p, 1e-6 * n);  // wire bytes carry the efficiency
    EXPECT_NEAR(down[g] * eff, n + n / p, 1e-6 * n);
  }
}

// NVLSTree: NVLS in each domain, the double binary tree between domains.
std::vector<int> domains_of(int nd, int g) {
  std::vector<int> out;
  for (int d = 0; d < nd; ++d)
    for (int i = 0; i < g; ++i) out.push_back(d);
  return out;
}

TEST(NvlsTree, ComputesAnAllReduceWithOneSwitchPerDomain) {
  for (auto [nd, g] : {std::pair{2, 4}, {3, 2}, {5, 8}, {2, 1}}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      auto s = nvls_tree_allreduce(nd * g, bytes, 0.85, domains_of(nd, g));
      ASSERT_TRUE(s.ok()) << s.error().to_string();
      EXPECT_EQ(s->helper_ranks, nd);
      const Status st = check_allreduce(*s);
      EXPECT_TRUE(st.ok()) << nd << " x " << g << ": " << st.error().to_string();
    }
  }
}

TEST(NvlsTree, RefusesOneDomainAndUnequalDomains) {
  EXPECT_FALSE(nvls_tree_allreduce(4, 1e6, 0.85, domains_of(1, 4)).ok());
  EXPECT_FALSE(nvls_tree_allreduce(5, 1e6, 0.85, {0, 0, 0, 1, 1}).ok());
}

TEST(NvlsTree, EachGpuMovesNPlusNOverGThroughItsSwitchAndNOverGOverTwoNodes) {
  // Per GPU through the switch: its whole buffer up plus its portion's
  // store (n + n/g), the portion's domain sum and the multicast down (n/g +
  // n). Between two domains each tree has one edge: n/g each way per GPU.
  const int nd = 2, g = 4;
  const double n = 64.0 * 1048576, eff = 0.5;
  auto s = nvls_tree_allreduce(nd * g, n, eff, domains_of(nd, g));
  ASSERT_TRUE(s.ok());
  const int p = nd * g;
  std::vector<double> up(p, 0), down(p, 0), net_out(p, 0), net_in(p, 0);
  for (const auto& t : s->transfers) {
    if (t.dst >= p) up[t.src] += t.bytes * eff;
    if (t.src >= p) down[t.dst] += t.bytes * eff;
    if (t.src < p && t.dst < p) net_out[t.src] += t.bytes, net_in[t.dst] += t.bytes;
  }
  for (int r = 0; r < p; ++r) {
    EXPECT_NEAR(up[r], n + n / g, 1e-6 * n);
    EXPECT_NEAR(down[r], n + n / g, 1e-6 * n);
    EXPECT_NEAR(net_out[r], n / g, 1e-6 * n);
    EXPECT_NEAR(net_in[r], n / g, 1e-6 * n);
  }
}

}  // namespace
}  // namespace collsim::collective
