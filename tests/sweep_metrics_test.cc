// Sweeps over stragglers and goodput (docs/sweeps.md): their fields are
// checked before anything runs, and their metrics come out in every row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sweep_support.h"
#include "test_support.h"

namespace collsim {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;
using testing::read_file;
using testing::rows_of;
using testing::run_collsim;
using testing::write_study;

TEST(Sweep, BadStragglerAndGoodputValuesStopTheStudy) {
  const std::pair<const char*, const char*> cases[] = {
      {"  run.spares: [1, -1]\n", "field 'run.spares': expected a whole number from 0 to 1000000 or unlimited"},
      {"  run.jitter: [1%, 200%]\n", "field 'run.jitter': expected a share from 0 to 100%"},
      {"  run.restart: [5]\n", "field 'run.restart': '5' has no unit"},
      {"  run.goodput: [maybe]\n", "expected on or off, found 'maybe'"},
      {"  run.failure_scale: [-1]\n", "field 'run.failure_scale': expected a number >= 0"},
      {"  run.spares: [0, 1]\n", "run.spares applies with run.goodput: on, which this study never sets"},
      {"  run.jitter: [1%, 2%]\n", "run.jitter applies with run.stragglers above 0"},
  };
  for (const auto& [axes, expect] : cases) {
    const auto study =
        write_study("badgoodput.yaml", std::string("run:\n  topology: topologies/hgx-h100.yaml\n  workload: "
                                                   "workloads/llama3-70b.yaml\naxes:\n") +
                                           axes);
    const auto dir = fresh_dir("badgoodput");
    const auto r = run_collsim("sweep " + study + " --out " + dir);
    EXPECT_EQ(r.exit_code, 2) << axes;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(study + ":5:3:"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/points")) << "nothing ran";
  }
}

// A fixed override whose value is of the wrong kind for its field fails
// every point no axis sets that field in: one line before anything runs
// (was: every point run and failed, exit 1). dp: 0 leaves it to the GPUs.
TEST(Sweep, AFixedOverrideThatFailsEveryPointStopsTheStudy) {
  const std::string head = "run:\n  topology: topologies/hgx-h100.yaml\n  workload: workloads/llama3-70b.yaml\n";
  auto study = write_study("fixednull.yaml", head +
                                                 "  set_workload: [parallelism.dp=null]\naxes:\n"
                                                 "  workload.parallelism.pp: [1, 2]\n");
  auto dir = fresh_dir("fixednull");
  auto r = run_collsim("sweep " + study + " --out " + dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "collsim sweep: error: " + study +
                       ":4:17: field 'run.set_workload': 'parallelism.dp=null': expected a value, found none for "
                       "parallelism.dp, so every point would fail\n");
  EXPECT_FALSE(fs::exists(dir + "/points")) << "nothing ran";
  // An axis over the same field may mend it, and one over another field
  // may mend a value weighed against it (kv_heads 48 divides heads 96 but
  // not 64): the points decide.
  const std::string fits =
      "run:\n  topology: topologies/h100-ib400-4node.yaml\n  workload: workloads/llama3-70b.yaml\n  backend: "
      "analytical\n  what_if: off\n";
  for (const std::string& rest :
       {std::string("  set_workload: [parallelism.dp=null]\naxes:\n  workload.parallelism.dp: [0]\n"),
        std::string(
            "  set_workload: [model.kv_heads=48, model.head_dim=128]\naxes:\n  workload.model.heads: [96]\n")}) {
    study = write_study("fixedmended.yaml", fits + rest);
    r = run_collsim("sweep " + study + " --out " + fresh_dir("fixedmended"));
    EXPECT_EQ(r.exit_code, 0) << rest << r.err;
    EXPECT_NE(r.out.find("(1 ok, 0 failed)"), std::string::npos) << rest << r.out << r.err;
  }
  // The same key twice in a fixed list is refused, as --set refuses it.
  study = write_study("dupset.yaml", head +
                                         "  set_workload: [batch.global=512, batch.global=256]\naxes:\n"
                                         "  workload.parallelism.pp: [1]\n");
  r = run_collsim("sweep " + study + " --out " + fresh_dir("dupset"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("field 'run.set_workload[1]': batch.global is set twice, 'batch.global=512' then "
                       "'batch.global=256': expected each key once"),
            std::string::npos)
      << r.err;
}

TEST(Sweep, StragglersAndGoodputAreMetricsOfARunStudy) {
  // Spares are the axis: none (every failed server waits 48 h for its
  // repair) must train less of the time than unlimited ones.
  const auto study = write_study("goodput.yaml", R"(run:
  topology: topologies/h100-ib400-4node.yaml
  workload: tests/data/workloads/small-4node.yaml
  backend: analytical
  what_if: off
  goodput: on
  stragglers: 50
axes:
  run.spares: [0, unlimited]
)");
  const auto dir = fresh_dir("goodput");
  const auto r = run_collsim("sweep " + study + " --out " + dir + " --jobs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = read_file(dir + "/results.csv");
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_NE(header.find("step_p50_s,step_p90_s,step_p99_s,ettr,ettr_p10,effective_tokens_per_s"), std::string::npos)
      << header;
  const auto rows = rows_of(csv);
  ASSERT_EQ(rows.size(), 2u);
  auto field = [&](const std::string& row, const std::string& name) {
    std::vector<std::string> names, values;
    std::stringstream h(header), v(row);
    for (std::string x; std::getline(h, x, ',');) names.push_back(x);
    for (std::string x; std::getline(v, x, ',');) values.push_back(x);
    const auto at = std::find(names.begin(), names.end(), name) - names.begin();
    return std::stod(values.at(static_cast<std::size_t>(at)));
  };
  for (const auto& row : rows) {
    EXPECT_GE(field(row, "step_p90_s"), field(row, "step_time_s")) << row;
    EXPECT_GT(field(row, "ettr"), 0) << row;
    EXPECT_LE(field(row, "ettr"), 1) << row;
    // A trained token's cost: every hour of the run is paid, lost ones too.
    EXPECT_NEAR(field(row, "usd_per_effective_mtok"), field(row, "usd_per_mtok") / field(row, "ettr"),
                1e-3 * field(row, "usd_per_effective_mtok"))
        << row;
  }
  EXPECT_LT(field(rows[0], "ettr"), field(rows[1], "ettr"));
}

// A point whose cluster has parts the catalog does not price (1.6 Tb/s NICs
// and their switches) gets no energy or cost, and says what is missing; was
// priced with them as 0 W and $0, so cheaper than the 400G point. The same
// in a collective study, whose power and capex columns stay empty (was:
// empty and no reason).
TEST(Sweep, UnpricedPartsLeaveTheCostEmptyAndNamed) {
  const std::pair<const char*, const char*> studies[] = {
      {"run:\n  topology: topologies/h100-ib400-128node.yaml\n  workload: tests/data/workloads/small-4node.yaml\n"
       "  backend: analytical\n  what_if: off\n",
       "\"usd_per_mtok\":null"},
      {"collective:\n  topology: topologies/h100-ib400-128node.yaml\n  op: allreduce\n  bytes: 1M\n"
       "  backend: analytical\n",
       "\"capex_usd\":null"}};
  for (const auto& [base, empty] : studies) {
    const auto study = write_study("unpriced.yaml", std::string(base) +
                                                        "  set: [\"cluster.nodes=4\"]\naxes:\n"
                                                        "  topology.cluster.nic: [400Gb/s, 1600Gb/s]\n");
    const auto dir = fresh_dir("unpriced");
    const auto r = run_collsim("sweep " + study + " --out " + dir + " --jobs 1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(read_file(dir + "/results.jsonl"));
    std::vector<std::string> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(line);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_NE(rows[0].find("\"unpriced\":\"\""), std::string::npos) << rows[0];
    EXPECT_EQ(rows[0].find(empty), std::string::npos) << rows[0];
    EXPECT_NE(rows[1].find("\"unpriced\":\"32 nic, 9 switch\""), std::string::npos) << rows[1];
    EXPECT_NE(rows[1].find(empty), std::string::npos) << rows[1];
  }
}

// A layout study: each point's switches, cables and metres are what `topo`
// counts for the same file and layout (was: no cabling or cost columns, so
// a study over switch placement printed three identical rows).
TEST(Sweep, CollectiveStudiesCarryTheCablingAndTheBill) {
  const auto study = write_study("layouts.yaml", R"(collective:
  topology: topologies/h100-ib400-128node.yaml
  op: allreduce
  bytes: 1M
  backend: analytical
axes:
  topology.cluster.layout.switch_placement: [network-row, end-of-row]
)");
  const auto dir = fresh_dir("layouts");
  const auto r = run_collsim("sweep " + study + " --out " + dir + " --jobs 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(read_file(dir + "/results.jsonl"));
  std::vector<double> metres;
  for (const char* placement : {"network-row", "end-of-row"}) {
    std::string row;
    ASSERT_TRUE(static_cast<bool>(std::getline(lines, row)));
    auto metric = [&](const std::string& name) {
      const auto at = row.find("\"" + name + "\":");
      EXPECT_NE(at, std::string::npos) << name << " " << row;
      return at == std::string::npos ? -1.0 : std::stod(row.substr(at + name.size() + 3));
    };
    const auto topo = run_collsim(std::string("topo topologies/h100-ib400-128node.yaml --set "
                                              "cluster.layout.switch_placement=") +
                                  placement);
    ASSERT_EQ(topo.exit_code, 0) << topo.err;
    const auto at = topo.out.find("\ncables       ");
    ASSERT_NE(at, std::string::npos) << topo.out;
    long long cables = 0;
    double total = 0;
    ASSERT_EQ(std::sscanf(topo.out.c_str() + at, "\ncables %lld, %lf m", &cables, &total), 2);
    EXPECT_EQ(metric("cables"), static_cast<double>(cables)) << placement;
    EXPECT_NEAR(metric("cable_m"), total, 0.05) << placement;
    EXPECT_EQ(metric("switches"), 48) << placement;  // 32 leaves (4 a rail) and 16 spines
    EXPECT_GT(metric("capex_usd"), 0) << placement;
    metres.push_back(metric("cable_m"));
  }
  EXPECT_LT(metres[1], metres[0]);  // switches at the row's end: shorter runs
}

}  // namespace
}  // namespace collsim
