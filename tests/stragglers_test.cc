// Stragglers and jitter (issue 17 item 2, sim/workload/stragglers.h): a
// synchronous step waits for its slowest GPU. Oracles: the 1F1B pipeline's
// closed form with one slow stage, the expected maximum of normal draws,
// and the full re-simulation for the frozen-collectives shortcut.
#include "sim/workload/stragglers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/engine/backend.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "workload_support.h"

namespace collsim::workload {
namespace {

using testing::kSmall;
using testing::load;
using testing::shipped_network;

std::vector<CommCost> free_network(const StepGraph& g) { return std::vector<CommCost>(g.calls.size()); }

// The first GPU of a worker of `stage`.
int gpu_of_stage(const StepGraph& g, int stage) {
  for (std::size_t w = 0; w < g.worker_gpus.size(); ++w)
    if (g.worker_stage[w] == stage) return g.worker_gpus[w].front();
  return -1;
}

TEST(Stragglers, ASlowLastStageStretchesThePipelineByItsSlowness) {
  // 1F1B, free network: the last stage computes forward and backward of
  // every micro-batch back to back once the first arrives, so with its
  // chunk t slowed k times the step is (p - 1) t + m k t (all layers at
  // full speed: (m + p - 1) t, Narayanan et al. SC'21).
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = load(kSmall, {"model.layers=16", "parallelism.pp=4", "batch.global=16"});
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const int p = 4, m = g->micro_batches;
  const double t = 16.0 / p * 3e-3, k = 1 / 0.7;
  for (bool exact : {false, true}) {
    StragglerOptions o;
    o.samples = 3;
    o.jitter = 0;
    o.exact = exact;
    o.slow = {{gpu_of_stage(*g, p - 1), 0.7}};
    const auto r = simulate_stragglers(*g, free_network(*g), net, {}, o);
    EXPECT_NEAR(r.baseline_s, (m + p - 1) * t, 1e-9);
    EXPECT_NEAR(r.slow_only_s, (p - 1) * t + m * k * t, 1e-9) << exact;
    EXPECT_NEAR(r.p50_s, r.slow_only_s, 1e-9) << exact;  // no jitter: every sample is the slow GPU alone
    EXPECT_EQ(r.tail_by_stage[p - 1], 3) << exact;
  }
}

TEST(Stragglers, JitterCostsTheExpectedMaximumOfTheGpus) {
  // Pure data parallelism on 8 GPUs, free network: the step is every
  // replica's compute, and ends with the slowest. With multipliers 1 + s Z
  // the mean step is compute x (1 + s E[max of 8 normals]), E = 1.42360
  // (Tippett 1925, "On the extreme individuals and the range of samples
  // taken from a normal population", Biometrika 17).
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = load(kSmall);
  auto g = compile_step(w, net);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  ASSERT_EQ(g->dp, 8);
  StragglerOptions o;
  o.samples = 4000;
  o.jitter = 0.01;
  const auto r = simulate_stragglers(*g, free_network(*g), net, {}, o);
  const double compute = g->micro_batches * 8 * 3e-3;
  EXPECT_NEAR(r.baseline_s, compute, 1e-12);
  EXPECT_NEAR((r.mean_s / compute - 1) / 0.01, 1.42360, 0.03);
  EXPECT_GT(r.p99_s, r.p90_s);
  EXPECT_GT(r.p90_s, r.p50_s);
}

// A step whose collectives share links (tensor parallelism inside the node,
// data parallelism across four of them), costed on the analytical backend,
// with the given per-layer forward and backward times.
struct ContendedStep {
  ContendedStep(const std::string& forward, const std::string& backward)
      : net(shipped_network("h100-ib400-4node.yaml")) {
    auto w = load(kSmall, {"parallelism.tp=4", "parallelism.pp=2", "batch.global=32",
                           "compute.layer_forward=" + forward, "compute.layer_backward=" + backward});
    auto g = compile_step(w, net);
    EXPECT_TRUE(g.ok()) << g.error().to_string();
    graph = std::move(*g);
    auto backend = engine::make_backend("analytical");
    auto c = cost_calls(graph.calls, net, **backend, CommChoice{});
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    costs = std::move(*c);
  }
  topology::Network net;
  StepGraph graph;
  std::vector<CommCost> costs;
};

TEST(Stragglers, FrozenCollectivesFollowTheFullResimulation) {
  // A step whose collectives share links (tensor parallelism inside the
  // node, data parallelism across four of them): the shortcut against
  // simulating every sample again, same draws.
  const ContendedStep c("0.2ms", "0.4ms");
  StragglerOptions o;
  o.samples = 20;
  o.jitter = 0.05;
  o.slow = {{5, 0.8}};
  const auto frozen = simulate_stragglers(c.graph, c.costs, c.net, {}, o);
  o.exact = true;
  const auto exact = simulate_stragglers(c.graph, c.costs, c.net, {}, o);
  EXPECT_GT(exact.mean_s, exact.baseline_s * 1.05);  // the stragglers matter here
  for (std::size_t i = 0; i < exact.samples.size(); ++i)
    EXPECT_NEAR(frozen.samples[i] / exact.samples[i], 1.0, 0.01) << i;
}

TEST(Stragglers, LinkJitterSlowsEachCollectiveByItsSlowestLink) {
  // The contended step above with link jitter only: no sample is faster
  // than the full-speed step, none slower than it times the largest
  // multiplier a link could draw here (every op is stretched by at most
  // that), and the frozen shortcut follows the re-simulation.
  const ContendedStep c("0.05ms", "0.1ms");
  StragglerOptions o;
  o.samples = 20;
  o.jitter = 0;
  o.link_jitter = 0.05;
  const auto frozen = simulate_stragglers(c.graph, c.costs, c.net, {}, o);
  EXPECT_GT(frozen.mean_s, frozen.baseline_s * 1.02);  // the collectives matter here
  for (double t : frozen.samples) {
    EXPECT_GE(t, frozen.baseline_s * (1 - 1e-12));
    EXPECT_LE(t, frozen.baseline_s * (1 + 6 * 0.05));  // 6 sigma: no link draws more (seeded)
  }
  o.exact = true;
  const auto exact = simulate_stragglers(c.graph, c.costs, c.net, {}, o);
  for (std::size_t i = 0; i < exact.samples.size(); ++i)
    EXPECT_NEAR(frozen.samples[i] / exact.samples[i], 1.0, 0.02) << i;
  o.link_jitter = 0;  // and without it every sample is the full-speed step
  o.exact = false;
  for (double t : simulate_stragglers(c.graph, c.costs, c.net, {}, o).samples) EXPECT_DOUBLE_EQ(t, frozen.baseline_s);
}

TEST(Stragglers, RunReportsThemAndRefusesBadFlags) {
  const std::string base =
      "run -t topologies/hgx-h100.yaml -w workloads/llama3-70b.yaml --set-workload parallelism.pp=1 "
      "--set-workload parallelism.tp=8 --set-workload batch.global=8 --set-workload compute.recompute=full "
      "--backend analytical --what-if off --memory-check off ";
  const auto ok = collsim::testing::run_collsim(base + "--stragglers 50 --slow gpu3=50% --json -");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"slow_gpus\":[\"gpu3 at 50%\"]"), std::string::npos) << ok.out.substr(0, 400);
  // Many slow GPUs: the text names 8 and counts the rest (was one line
  // naming every GPU); the JSON lists all of them.
  auto on_four_nodes = base;
  on_four_nodes.replace(on_four_nodes.find("hgx-h100"), 8, "h100-ib400-4node");
  const auto many = collsim::testing::run_collsim(on_four_nodes + "--stragglers 5 --slow-random 20");
  ASSERT_EQ(many.exit_code, 0) << many.err;
  EXPECT_NE(many.out.find("(20 slow GPUs: "), std::string::npos) << many.out;
  EXPECT_NE(many.out.find("at 80%, ... 12 more in --json)"), std::string::npos) << many.out;
  const auto listed = collsim::testing::run_collsim(on_four_nodes + "--stragglers 5 --slow-random 20 --json -");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto at = listed.out.find("\"slow_gpus\":[");
  ASSERT_NE(at, std::string::npos);
  const std::string array = listed.out.substr(at, listed.out.find(']', at) - at);
  EXPECT_EQ(std::count(array.begin(), array.end(), ','), 19) << array;
  const auto all = collsim::testing::run_collsim(base +
                                                 "--stragglers 5 --slow gpu0=50% --slow gpu1=50% --slow gpu2=50% "
                                                 "--slow gpu3=50% --slow gpu4=50% --slow gpu5=50% --slow gpu6=50% "
                                                 "--slow gpu7=60%");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("gpu6 at 50%, gpu7 at 60%)"), std::string::npos) << all.out;
  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {"--stragglers -1", "--stragglers must be a whole number from 0"},
           {"--stragglers 5 --jitter 200%", "--jitter: expected a share from 0 to 100%"},
           {"--stragglers 5 --slow gpu3", "--slow: expected NAME=SPEED"},
           {"--stragglers 5 --slow gpu3=0%", "expected a speed above 0%"},
           {"--stragglers 5 --slow nope=80%", "--slow nope: no GPU named 'nope'"},
           {"--stragglers 5 --slow-random 9", "--slow-random 9 is more than the 8 GPUs"},
           {"--stragglers 5 --straggler-model fast", "--straggler-model must be frozen or exact"},
           {"--slow gpu3=80%", "--slow applies to --stragglers N"},
           {"--jitter 2%", "--jitter applies to --stragglers N"},
           {"--stragglers 5 --slow gpu3=80% --slow gpu3=50%", "GPU 'gpu3' is given twice"},
       }) {
    const auto r = collsim::testing::run_collsim(base + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace collsim::workload
