// The NVSwitch's reduction engines (NVLS): a resource of their own that the
// plan adds after the network (engine/plan.h), checked against closed forms
// on both backends.
#include <gtest/gtest.h>

#include "engine_support.h"
#include "sim/collective/nvls.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collsim::testing::run_schedules;
using collsim::testing::topology_from_text;

TEST(NvlsEngines, NvlsIsBoundByTheSwitchReductionEngines) {
  // The switch adds p - 1 inputs per reduced element, n (p - 1) bytes in all,
  // at R = nvls_reduction x the GPU links' line rate (link_classes.cc):
  // t >= n (p - 1) / R. Here p = 4 at 100 GB/s and 0.25: R = 100 GB/s and
  // t -> 3 n / R, where the links alone would take 1.25 n / R.
  const double n = 1073741824.0;
  const topology::Network net(topology_from_text(R"(name: slow-reduction
link_classes: {ideal: {nvls_reduction: 0.25}}
devices:
  - {name: g, kind: gpu, count: 4}
  - {name: sw, kind: nvswitch}
links:
  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: ideal}
)"));
  ASSERT_DOUBLE_EQ(net.nvls_reduction_rate_Bps(4), 100e9);
  const double bound = 3 * n / 100e9;
  const auto simulated = run_schedules("simgrid", net, {collective::nvls_allreduce(4, n, 1.0)});
  EXPECT_GE(simulated[0].time_s, bound * (1 - 1e-9));
  EXPECT_LE(simulated[0].time_s, bound * 1.05);
  const auto analytical = run_schedules("analytical", net, {collective::nvls_allreduce(4, n, 1.0)});
  EXPECT_NEAR(analytical[0].time_s, bound, 1e-9 * bound);
}

TEST(NvlsEngines, NvlsTreeReductionEnginesCapOnlyTheLoads) {
  // Two HGX B200 nodes: each switch's engines add 0.465 x 8 x 900 GB/s =
  // 3.35 TB/s, far above what the tree over 400G NICs lets NVLSTree reach,
  // so the time must not change (a key collision once gave the loads a
  // tree channel's network share: 18x slower).
  std::vector<int> domains(16);
  for (int r = 0; r < 16; ++r) domains[static_cast<std::size_t>(r)] = r / 8;
  const auto schedule = collective::nvls_tree_allreduce(16, 1073741824.0, 0.74, domains);
  ASSERT_TRUE(schedule.ok());
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) +
                                         "/tests/validation/topologies/b200-ib400-2node.yaml");
  ASSERT_TRUE(spec.ok());
  const double fraction = spec->link_classes["nvlink5"].nvls_reduction;
  ASSERT_GT(fraction, 0);
  double time_s[2] = {0, 0};
  for (int with_engines : {0, 1}) {
    for (auto& l : spec->links)
      if (l.link_class == "nvlink5") l.nvls_reduction = with_engines ? fraction : 0;
    auto topo = topology::build_topology(*spec);
    ASSERT_TRUE(topo.ok());
    const topology::Network net(*topo);
    EXPECT_EQ(net.nvls_reduction_rate_Bps(16) > 0, with_engines == 1);
    time_s[with_engines] = run_schedules("analytical", net, {*schedule})[0].time_s;
  }
  EXPECT_NEAR(time_s[1], time_s[0], 1e-9 * time_s[0]);
}

// NVLSTree's pipeline fill (nvls.h, NCCL's chunks): on the 2-node H100
// cluster of nccl-tests issue 309 (gj-aion's default-environment curve,
// tests/validation/more-curves.yaml) the measured time trails the line
// through its 1 and 2 GiB points by a constant: 2 T(1 GiB) - T(2 GiB) =
// 2 x 4497 - 8767 = 227 us (T = 1.875 n / busbw, busbw 447.65 and 459.29
// GB/s). Flow-level (the analytical backend is a bound without a fill).
// Pieces that grew with the buffer (at most 32 per portion) gave a fill
// proportional to n and an intercept of 71 us.
TEST(NvlsTreeFill, TheTimeTrailsItsAsymptoteByAConstantAsMeasured) {
  auto time_us = [](const char* size) {
    return collsim::testing::collective_time_us(
        std::string("-t tests/validation/topologies/h100-ib400-2node.yaml --algo nvlstree -b ") + size + " -e " + size +
        " --backend simgrid");
  };
  const double intercept_us = 2 * time_us("1G") - time_us("2G");
  EXPECT_GT(intercept_us, 130);
  EXPECT_LT(intercept_us, 300);
}

}  // namespace
}  // namespace collsim::engine
