// NVLS reduce-scatter and all-gather inside one NVLink domain
// (collective/nvls.h): the data they move (the symbolic checker), the bytes
// each GPU sends and receives (NCCL's maintainer, NVIDIA/nccl issue 1083:
// reduce-scatter sends n and receives n/p, all-gather the reverse), their
// time on an idle switch, and NCCL's choice between them and the ring.
#include <gtest/gtest.h>

#include <string>

#include "sim/collective/check.h"
#include "sim/collective/nvls.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::Op;

TEST(NvlsGather, MovesTheDataOfAReduceScatterAndAnAllGather) {
  for (int p : {1, 2, 3, 8, 9}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      const auto rs = collective::nvls_reducescatter(p, bytes, 0.85);
      const auto ag = collective::nvls_allgather(p, bytes, 0.85);
      EXPECT_EQ(rs.helper_ranks, 1);
      const Status a = collective::check_schedule(Op::kReduceScatter, rs);
      EXPECT_TRUE(a.ok()) << "p=" << p << ": " << a.error().to_string();
      const Status b = collective::check_schedule(Op::kAllGather, ag);
      EXPECT_TRUE(b.ok()) << "p=" << p << ": " << b.error().to_string();
    }
  }
  // A multicast before its store would send what the owner has not written.
  auto ag = collective::nvls_allgather(4, 1e4, 1.0);
  ag.transfers.back().deps.clear();
  EXPECT_FALSE(collective::check_schedule(Op::kAllGather, ag).ok());
}

TEST(NvlsGather, EachGpuMovesNOneWayAndNOverPTheOther) {
  const int p = 8;
  const double n = 64.0 * 1048576, eff = 0.5;
  for (bool reduce : {true, false}) {
    const auto s = reduce ? collective::nvls_reducescatter(p, n, eff) : collective::nvls_allgather(p, n, eff);
    std::vector<double> up(p, 0), down(p, 0);
    for (const auto& t : s.transfers) {
      if (t.src < p) up[t.src] += t.bytes * eff;  // wire bytes carry the efficiency
      if (t.dst < p) down[t.dst] += t.bytes * eff;
    }
    for (int g = 0; g < p; ++g) {
      EXPECT_NEAR(up[g], reduce ? n : n / p, 1e-6 * n) << reduce;
      EXPECT_NEAR(down[g], reduce ? n / p : n, 1e-6 * n) << reduce;
    }
  }
}

// On an idle switch the busiest direction bounds both: n / B, where a ring
// takes (p-1)/p n / B. Pipelined in at most 32 slices per portion, the
// fill stays under about 1/32 (both backends).
TEST(NvlsGather, IdleSwitchTimeIsTheBusiestDirectionsBytes) {
  const double B = 100e9, n = 1073741824.0;
  const topology::Network net(collsim::testing::one_nvswitch(8));
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = engine::make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {collective::nvls_reducescatter(8, n, 1.0), collective::nvls_allgather(8, n, 1.0)},
                             engine::RunOptions{});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    for (const auto& one : *r) {
      EXPECT_GE(one.time_s, n / B * (1 - 1e-9)) << name;
      EXPECT_LE(one.time_s, n / B * 1.04) << name;
    }
  }
}

std::string algo_at(const std::string& args) { return collsim::testing::collective_algo(args); }

// NCCL's model (src/graph/tuning.cc) weighs NVLS's 25 us latency and
// (p-1)/p x 0.85 of the NVLink bandwidth against the ring's p - 1 steps: on
// 8 H100s the ring wins at every size (as Together's NVLS-enabled H100 node
// ran, tests/validation/more-curves.yaml), on a 72-GPU NVL72 rack NVLS wins
// from 1 MiB to 64 MiB and the ring from 512 MiB. Across domains NVLS
// gathers do not run here.
TEST(NvlsGather, AutoTakesNvlsWhereNcclsModelDoes) {
  for (const char* size : {"1M", "64M", "1G"})
    EXPECT_EQ(algo_at(std::string("-t topologies/hgx-h100.yaml --op allgather --backend analytical -b ") + size +
                      " -e " + size),
              "ring")
        << size;
  const std::string rack = "-t topologies/gb200-nvl72.yaml --backend analytical ";
  EXPECT_EQ(algo_at(rack + "--op allgather -b 8M -e 8M"), "nvls");
  EXPECT_EQ(algo_at(rack + "--op reducescatter -b 64M -e 64M"), "nvls");
  EXPECT_EQ(algo_at(rack + "--op allgather -b 4G -e 4G"), "ring");
  // NVLS gathers came with NCCL 2.19.
  EXPECT_EQ(algo_at(rack + "--op allgather -b 8M -e 8M --nccl 2.18.5"), "ring");
  const auto across = collsim::testing::run_collsim(
      "collective -t topologies/gb200-nvl72-8rack.yaml --ranks 144 --op allgather --algo nvls -b 1M -e 1M");
  EXPECT_EQ(across.exit_code, 2) << across.err;
  EXPECT_NE(across.err.find("nvls allgather runs inside one NVSwitch domain"), std::string::npos) << across.err;
}

}  // namespace
}  // namespace collsim
