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

}  // namespace
}  // namespace collsim::collective
