// Several jobs on one cluster at once (issue 19). Oracles: the fluid
// max-min schedule of two collectives on one link worked out by hand,
// conservation of bytes, and jobs on GPUs that share no link not slowing
// each other at all.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/cli/jobs_run.h"
#include "sim/workload/step_merge.h"
#include "sim/workload/step_sim.h"
#include "sweep_support.h"
#include "test_support.h"
#include "workload_support.h"

namespace collsim::workload {
namespace {

using testing::kSmall;
using testing::shipped_network;

// A one-operation step: a collective whose cost says it loads `link` with
// `share` x the link's rate for `time_s` seconds when alone.
StepGraph one_collective(const std::vector<int>& gpus) {
  StepGraph g;
  g.gpus = static_cast<int>(gpus.size());
  g.worker_gpus = {gpus};
  g.worker_stage = {0};
  g.calls = {CommCall{collective::Op::kAllReduce, gpus, 1e9, 0, Group::kDp}};
  StepOp o;
  o.kind = StepOp::Kind::kComm;
  o.group = Group::kDp;
  o.calls = {0};
  o.workers = {0};
  g.ops.push_back(o);
  return g;
}

std::vector<CommCost> cost(int link, double rate, double share, double time_s) {
  CommCost c;
  c.time_s = time_s;
  c.link_bytes = {{link, share * rate * time_s}};
  return {c};
}

TEST(Jobs, TwoJobsOnOneLinkFollowTheHandWorkedMaxMinSchedule) {
  const auto net = shipped_network("h100-ib400-4node.yaml");
  const int link = 0;
  const double rate = net.links()[link].rate_Bps;
  // Job A fills the link for 1 s alone; job B needs half of it for 1 s.
  const StepGraph a = one_collective({0, 8}), b = one_collective({16, 24});
  const auto ca = cost(link, rate, 1.0, 1.0), cb = cost(link, rate, 0.5, 1.0);

  // Together, once: max-min gives B its demand (0.5) and A the other half
  // until B ends at 1 s; A then has half its bytes left at full rate: 1.5 s.
  auto once = merge_steps({{&a, &ca, 1}, {&b, &cb, 1}});
  auto r = simulate_step(once.graph, once.costs, net);
  auto finish = repeat_finish_s(once, r.finish_s, 2);
  EXPECT_NEAR(finish[0][0], 1.5, 1e-9);
  EXPECT_NEAR(finish[1][0], 1.0, 1e-9);

  // B twice: its second step (0.5 of the rate again) and A's last half
  // (at 0.5 of the rate) both take 1 s more: A and B both end at 2 s.
  auto twice = merge_steps({{&a, &ca, 1}, {&b, &cb, 2}});
  r = simulate_step(twice.graph, twice.costs, net);
  finish = repeat_finish_s(twice, r.finish_s, 2);
  ASSERT_EQ(finish[1].size(), 2u);
  EXPECT_NEAR(finish[0][0], 2.0, 1e-9);
  EXPECT_NEAR(finish[1][0], 1.0, 1e-9);
  EXPECT_NEAR(finish[1][1], 2.0, 1e-9);
  // Conservation: the link carried A's bytes once and B's twice.
  EXPECT_NEAR(r.link_bytes[link], rate * (1.0 + 2 * 0.5), 1e-6 * rate);
  // A repeat waits for the previous one: B's second step starts at 1 s.
  EXPECT_NEAR(r.start_s[2], 1.0, 1e-12);

  // B starting at 0.5 s: A alone moves half its bytes by then, then both
  // run at half the rate (B's demand, and what is left for A): A's other
  // half takes 1 s, and so does B. Both end at 1.5 s.
  auto offset = merge_steps({{&a, &ca, 1, 0.0}, {&b, &cb, 1, 0.5}});
  r = simulate_step(offset.graph, offset.costs, net);
  finish = repeat_finish_s(offset, r.finish_s, 2);
  EXPECT_NEAR(finish[0][0], 1.5, 1e-9);
  EXPECT_NEAR(finish[1][0], 1.5, 1e-9);
}

TEST(Jobs, MergedGraphKeepsEveryJobsOperationsAndShiftsTheirIndices) {
  const auto net = shipped_network("hgx-h100.yaml");
  auto w = testing::load(kSmall, {"parallelism.tp=4"});
  auto g = compile_step(w, net, {}, {0, 1, 2, 3});
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const std::vector<CommCost> costs(g->calls.size());
  auto m = merge_steps({{&*g, &costs, 2}, {&*g, &costs, 1}});
  ASSERT_EQ(m.graph.ops.size(), 3 * g->ops.size());
  ASSERT_EQ(m.graph.calls.size(), 2 * g->calls.size());
  ASSERT_EQ(m.costs.size(), m.graph.calls.size());
  ASSERT_EQ(m.graph.worker_gpus.size(), 2 * g->worker_gpus.size());
  const std::size_t n = g->ops.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& first = m.graph.ops[i];
    const auto& third = m.graph.ops[2 * n + i];  // job 2's copy
    EXPECT_EQ(m.job_of_op[2 * n + i], 1);
    for (std::size_t k = 0; k < first.calls.size(); ++k)
      EXPECT_EQ(third.calls[k], first.calls[k] + static_cast<int>(g->calls.size()));
    for (int d : third.deps) EXPECT_GE(d, static_cast<int>(2 * n));
    for (int wk : third.workers) EXPECT_GE(wk, static_cast<int>(g->worker_gpus.size()));
  }
  // With a free network the two jobs' steps do not interact: job 1 runs
  // its step twice back to back, job 2 once.
  const auto alone = simulate_step(*g, costs, net);
  const auto r = simulate_step(m.graph, m.costs, net);
  const auto finish = repeat_finish_s(m, r.finish_s, 2);
  EXPECT_NEAR(finish[0][1], 2 * alone.step_time_s, 1e-9 * alone.step_time_s);
  EXPECT_NEAR(finish[1][0], alone.step_time_s, 1e-9 * alone.step_time_s);
}

cli::JobsRequest jobs_on_4_nodes(const std::vector<std::string>& placements) {
  cli::JobsRequest req;
  req.base.topology_file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml";
  req.base.workload_file = "small.yaml";
  req.base.workload_text = kSmall;
  req.base.workload_sets = {"parallelism.tp=8", "parallelism.sequence_parallel=false"};
  req.base.backend = "analytical";
  for (const auto& p : placements)
    req.jobs.push_back({"small.yaml", p, "small.yaml@" + p, 0, std::nullopt, std::nullopt});
  return req;
}

TEST(Jobs, JobsOnGpusThatShareNoLinkDoNotSlowEachOther) {
  // Two data-parallel jobs, nodes 0-1 and 2-3: each rail's leaf switch is
  // a single switch, so their routes share no link.
  auto r = cli::run_jobs(jobs_on_4_nodes({"domains:0-1", "domains:2-3"}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->jobs.size(), 2u);
  EXPECT_TRUE(r->met.empty());
  for (const auto& j : r->jobs) {
    EXPECT_EQ(j.gpus, 16);
    EXPECT_GT(j.alone_s, 0);
    EXPECT_NEAR(j.together_s / j.alone_s, 1.0, 1e-9) << j.spec;
  }
}

// Two halves of one NVL72 rack share no GPU and no link a job uses alone,
// but every NVLS reduction crosses all 18 NVSwitches and their reduction
// engines, which the halves share: the report names them, not "no link".
TEST(Jobs, PartitionsOfARackMeetOnTheSwitchesReductionEngines) {
  cli::JobsRequest req;
  req.base.topology_file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72.yaml";
  req.base.workload_file = "small.yaml";
  req.base.workload_text = kSmall;
  req.base.workload_sets = {"batch.global=36", "model.hidden=4096", "model.heads=32", "parallelism.zero=0"};
  req.base.backend = "analytical";
  req.jobs = {{"small.yaml", "gpus:0-35", "left", 0, std::nullopt, std::nullopt},
              {"small.yaml", "gpus:36-71", "right", 0, std::nullopt, std::nullopt}};
  auto r = cli::run_jobs(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_FALSE(r->met.empty());
  EXPECT_NE(r->met.front().name.find("reduction engines"), std::string::npos) << r->met.front().name;
  for (double u : r->met.front().utilisation) EXPECT_GT(u, 0);
  for (const auto& j : r->jobs) EXPECT_GE(j.together_s, j.alone_s * (1 - 1e-12)) << j.spec;
}

TEST(Jobs, PoliciesPlaceEachJobOnTheGpusTheJobsBeforeItLeftFree) {
  // Both jobs ask for topology-aware:16 on 4 nodes of 8: the first takes
  // nodes 0-1, the second the two left, so nothing overlaps.
  auto r = cli::run_jobs(jobs_on_4_nodes({"topology-aware:16", "topology-aware:16"}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->jobs[0].where, "topology-aware:16 (16 of 32 GPUs: 8 in each of 2 NVLink domains)");
  EXPECT_EQ(r->jobs[1].where, r->jobs[0].where);
  EXPECT_TRUE(r->met.empty());
  // A third job finds no GPU free.
  auto full = cli::run_jobs(jobs_on_4_nodes({"topology-aware:16", "topology-aware:16", "packed:8"}));
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().message.find("--job small.yaml@packed:8"), std::string::npos) << full.error().message;
  EXPECT_NE(full.error().message.find("no GPU is free: other jobs hold all 32"), std::string::npos)
      << full.error().message;
}

TEST(Jobs, InterleavedJobsMeetOnTheSpineAndAreNeverFasterTogether) {
  // 128 nodes, 3:1 oversubscribed leaves: job 1 on the even nodes, job 2
  // on the odd ones, so both jobs' data-parallel rings cross the same
  // leaf-spine links. Those links are reported with each job's
  // utilisation alone, and sharing never speeds a job up.
  std::string even, odd;
  for (int n = 0; n < 128; ++n) {
    std::string& list = n % 2 ? odd : even;
    if (!list.empty()) list.push_back(',');
    list.append(std::to_string(n));
  }
  cli::JobsRequest req;
  req.base.topology_file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-128node.yaml";
  req.base.topology_sets = {"cluster.fabric.oversubscription=3"};
  req.base.workload_file = "small.yaml";
  req.base.workload_text = kSmall;
  req.base.workload_sets = {"parallelism.tp=8", "parallelism.sequence_parallel=false", "batch.global=64"};
  req.base.backend = "analytical";
  req.jobs = {{"small.yaml", "domains:" + even, "even", 0, std::nullopt, std::nullopt},
              {"small.yaml", "domains:" + odd, "odd", 0, std::nullopt, std::nullopt}};
  auto r = cli::run_jobs(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_FALSE(r->met.empty());
  for (const auto& m : r->met) {
    EXPECT_NE(m.name.find("spine"), std::string::npos) << m.name;
    ASSERT_EQ(m.utilisation.size(), 2u);
    for (double u : m.utilisation) {
      EXPECT_GT(u, 0);
      EXPECT_LE(u, 1 + 1e-9);
    }
  }
  for (const auto& j : r->jobs) {
    EXPECT_EQ(j.gpus, 512);
    EXPECT_GE(j.together_s, j.alone_s * (1 - 1e-12)) << j.spec;
  }
}

TEST(Jobs, TheTraceHasAProcessPerJobAndALateJobStartsLate) {
  auto req = jobs_on_4_nodes({"domains:0-1", "domains:2-3"});
  req.jobs[1].start_s = 0.05;
  req.trace = true;
  req.trace_workers = 1;
  auto r = cli::run_jobs(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const YAML::Node trace = YAML::Load(r->trace);  // JSON is YAML
  std::map<int, std::string> process;
  std::map<int, double> first_us;
  std::set<std::pair<int, int>> tracks;
  for (const auto& e : trace["traceEvents"]) {
    const int pid = e["pid"].as<int>();
    const auto ph = e["ph"].as<std::string>();
    if (ph == "M" && e["name"].as<std::string>() == "process_name") process[pid] = e["args"]["name"].as<std::string>();
    if (ph == "X") {
      const double ts = e["ts"].as<double>();
      first_us[pid] = first_us.count(pid) ? std::min(first_us[pid], ts) : ts;
      tracks.insert({pid, e["tid"].as<int>()});
    }
  }
  // Two jobs and the busiest links' counters (no link is shared here).
  ASSERT_EQ(process.size(), 3u);
  EXPECT_EQ(process[3], "busiest links (utilisation)");
  EXPECT_EQ(process[1].rfind("job 1: small on domains:0-1", 0), 0u) << process[1];
  EXPECT_EQ(process[2].rfind("job 2: small on domains:2-3", 0), 0u) << process[2];
  EXPECT_DOUBLE_EQ(first_us[1], 0.0);
  EXPECT_NEAR(first_us[2], 0.05e6, 1e-6);
  for (auto [pid, tid] : tracks) EXPECT_LE(tid, 4) << "one worker per job: tracks 1-4";
  // The HTML report: a timeline row per job and a floor plan per job.
  req.trace = false;
  req.html = true;
  auto h = cli::run_jobs(req);
  ASSERT_TRUE(h.ok()) << h.error().to_string();
  EXPECT_TRUE(h->trace.empty());
  EXPECT_NE(h->html.find("data-chart=\"jobs-timeline\""), std::string::npos);
  EXPECT_NE(h->html.find("job 2: small on domains:2-3"), std::string::npos);
  EXPECT_NE(h->html.find("Floor plan, per job"), std::string::npos);

  EXPECT_EQ(h->html.find("<script"), std::string::npos);
  // The late job's step is unslowed and timed from its start.
  EXPECT_NEAR(r->jobs[1].together_s / r->jobs[1].alone_s, 1.0, 1e-9);
  // Started once job 1's steps are over, the two never overlap: said, as
  // together then measures nothing. Started at 0.05 s they do overlap.
  const double job1_end = r->jobs[0].start_s + r->jobs[0].together_s * r->jobs[0].repeats;
  ASSERT_GT(job1_end, 0.05);
  EXPECT_TRUE(r->overlap_note.empty()) << r->overlap_note;
  req.html = false;
  req.jobs[1].start_s = 1e9;
  auto late = cli::run_jobs(req);
  ASSERT_TRUE(late.ok()) << late.error().to_string();
  EXPECT_NE(late->overlap_note.find("job 2 from 1e+09 s"), std::string::npos) << late->overlap_note;
  EXPECT_NE(cli::jobs_text(*late).find("overlap no other job's steps"), std::string::npos);
}

// A neighbour is a study field and axis (run.neighbours): each point runs
// the study's job with its neighbours and reports its time together, alone
// and the slowdowns; a bad neighbour is refused before anything runs.
TEST(Jobs, NeighboursAreAStudyAxis) {
  const std::string dir = ::testing::TempDir() + "neighbours_study/";
  std::filesystem::create_directories(dir);
  const std::string study = R"(name: neighbours
run:
  topology: topologies/h100-ib400-4node.yaml
  workload: tests/data/workloads/small-4node.yaml
  set_workload: [parallelism.pp=1]
  placement: domains:0-1
  backend: analytical
  what_if: off
axes:
  run.neighbours: [none, tests/data/workloads/small-4node.yaml@domains:2-3]
)";
  collsim::testing::write_study_and_broken(dir, study, "@domains:2-3", "");
  const auto r = collsim::testing::run_collsim("sweep " + dir + "s.yaml --out " + dir + "out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = collsim::testing::read_file(dir + "out/results.csv");
  const auto header = csv.substr(0, csv.find('\n'));
  EXPECT_NE(header.find(",step_time_alone_s,slowdown,neighbour_slowdown"), std::string::npos) << header;
  // Alone (none) the new columns are empty; with the neighbour on nodes
  // that share no link with the job's, the slowdowns are exactly 1 and the
  // step time is the alone one.
  std::vector<std::string> rows;
  std::istringstream in(csv);
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 3u) << csv;
  EXPECT_EQ(rows[1].rfind("0,none,ok,", 0), 0u) << rows[1];
  EXPECT_EQ(rows[2].rfind("1,tests/data/workloads/small-4node.yaml@domains:2-3,ok,", 0), 0u) << rows[2];
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string c; std::getline(in, c, ',');) out.push_back(c);
    return out;
  };
  const auto names = cells(rows[0]), alone = cells(rows[1]), with = cells(rows[2]);
  auto at = [&](const std::vector<std::string>& row, const std::string& name) {
    const auto k = static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
    return k < row.size() && !row[k].empty() ? std::stod(row[k]) : -1.0;
  };
  EXPECT_EQ(at(alone, "slowdown"), -1.0) << rows[1];
  EXPECT_NEAR(at(with, "slowdown"), 1.0, 1e-9) << rows[2];
  EXPECT_NEAR(at(with, "neighbour_slowdown"), 1.0, 1e-9) << rows[2];
  EXPECT_NEAR(at(with, "step_time_s") / at(alone, "step_time_s"), 1.0, 1e-9);
  EXPECT_NEAR(at(with, "step_time_alone_s") / at(alone, "step_time_s"), 1.0, 1e-12);
  // The cluster's cabling, power and price do not depend on its jobs.
  for (const char* cluster : {"switches", "cables", "cable_m", "it_power_kw", "capex_usd"}) {
    EXPECT_GT(at(with, cluster), 0) << cluster << " " << rows[2];
    EXPECT_EQ(at(with, cluster), at(alone, cluster)) << cluster;
  }
  const auto bad = collsim::testing::run_collsim("sweep " + dir + "bad.yaml --out " + dir + "out-bad");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("expected WORKLOAD_FILE@PLACEMENT"), std::string::npos) << bad.err;
}

TEST(Jobs, TheFloorPlanSaysWhoseTrafficEachCableCarries) {
  // Two racks' worth of data-parallel jobs on the 8-rack GB200 cluster: each
  // job's NICs cable to the fabric on their own, so the key names both jobs.
  cli::JobsRequest req;
  req.base.topology_file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml";
  req.base.workload_file = "small.yaml";
  req.base.workload_text = kSmall;
  req.base.workload_sets = {"parallelism.tp=8", "parallelism.sequence_parallel=false", "batch.global=18"};
  req.base.backend = "analytical";
  req.html = true;
  req.jobs = {{"small.yaml", "domains:0-1", "a", 0, std::nullopt, std::nullopt},
              {"small.yaml", "domains:2-3", "b", 0, std::nullopt, std::nullopt}};
  auto r = cli::run_jobs(req);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r->html.find("data-chart=\"floor-plan-labels\""), std::string::npos);
  for (const char* key : {">job 1</text>", ">job 2</text>"}) EXPECT_NE(r->html.find(key), std::string::npos) << key;
}

TEST(Jobs, AJobsFileListsWhatTheFlagsWouldGive) {
  const std::string dir = ::testing::TempDir() + "jobs_file/";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "jobs.yaml") << "jobs:\n"
                                      "  - {workload: tests/data/workloads/small-4node.yaml, placement: domains:0-1}\n"
                                      "  - {workload: tests/data/workloads/small-4node.yaml, placement: domains:2-3, "
                                      "start: 5ms}\n";
  const std::string t = "run -t topologies/h100-ib400-4node.yaml --backend analytical --set-workload parallelism.pp=1 ";
  const auto file = collsim::testing::run_collsim(t + "--jobs " + dir + "jobs.yaml --json " + dir + "file.json");
  ASSERT_EQ(file.exit_code, 0) << file.err;
  const auto flags =
      collsim::testing::run_collsim(t +
                                    "--job tests/data/workloads/small-4node.yaml@domains:0-1 "
                                    "--job tests/data/workloads/small-4node.yaml@domains:2-3@5ms --json " +
                                    dir + "flags.json");
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  const YAML::Node a = YAML::LoadFile(dir + "file.json"), b = YAML::LoadFile(dir + "flags.json");
  ASSERT_EQ(a["jobs"].size(), 2u);
  for (std::size_t j = 0; j < 2; ++j) {
    EXPECT_EQ(a["jobs"][j]["step_time_together_s"].as<double>(), b["jobs"][j]["step_time_together_s"].as<double>());
    EXPECT_EQ(a["jobs"][j]["start_s"].as<double>(), j == 0 ? 0.0 : 0.005);
  }
}

// Two placements of one job alone within 4e-7 of each other (an
// oversubscribed fabric): both run the longest's 3 steps (one ran 4).
TEST(Jobs, JobsAlmostAsLongAsTheLongestRunItsSteps) {
  const auto r = collsim::testing::run_collsim(
      "run -t topologies/gb200-nvl72-8rack.yaml --backend analytical --what-if off "
      "--set cluster.fabric.oversubscription=3 --job workloads/llama3-70b.yaml@gpus:0-255 "
      "--job workloads/llama3-70b.yaml@gpus:288-543 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t at = 0;
  int jobs = 0;
  while ((at = r.out.find("\"repeats\":", at)) != std::string::npos) {
    at += 10;
    EXPECT_EQ(std::stod(r.out.substr(at)), 3) << r.out;
    ++jobs;
  }
  EXPECT_EQ(jobs, 2);
}

TEST(Jobs, TwoJobsOnOneGpuAreRefusedNamingTheGpuAndBothJobs) {
  auto r = cli::run_jobs(jobs_on_4_nodes({"domains:0-1", "domains:1-2"}));
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().internal());
  EXPECT_NE(r.error().message.find("n1gpu0"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("small.yaml@domains:0-1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("small.yaml@domains:1-2"), std::string::npos) << r.error().message;
  // From a jobs file: the second entry's placement, at its line and column.
  const std::string dir = ::testing::TempDir() + "jobs_overlap/";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "jobs.yaml") << "jobs:\n"
                                      "  - {workload: tests/data/workloads/small-4node.yaml, placement: domains:0-1}\n"
                                      "  - {workload: tests/data/workloads/small-4node.yaml, placement: domains:1-2}\n";
  const auto file = collsim::testing::run_collsim(
      "run -t topologies/h100-ib400-4node.yaml --backend analytical --set-workload parallelism.pp=1 --jobs " + dir +
      "jobs.yaml");
  EXPECT_EQ(file.exit_code, 2) << file.err;
  EXPECT_NE(file.err.find("jobs.yaml:3:66: field 'jobs[1].placement': GPU n1gpu0 is also job 1's (jobs[0])"),
            std::string::npos)
      << file.err;
}

TEST(Jobs, AJobIsFileAtPlacement) {
  auto j = cli::parse_job("workloads/a.yaml@gpus:0-7");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->workload_file, "workloads/a.yaml");
  EXPECT_EQ(j->placement, "gpus:0-7");
  EXPECT_EQ(j->start_s, 0);
  j = cli::parse_job("a.yaml@domains:1@250ms");
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ(j->placement, "domains:1");
  EXPECT_DOUBLE_EQ(j->start_s, 0.25);
  for (const char* bad : {"a.yaml@domains:1@-1s", "a.yaml@domains:1@soon"}) {
    auto e = cli::parse_job(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.error().message.find("the start must be a time"), std::string::npos) << e.error().message;
  }
  for (const char* bad : {"workloads/a.yaml", "@packed:8", "a.yaml@", "a.yaml@@1s"}) {
    auto e = cli::parse_job(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_NE(e.error().message.find("WORKLOAD_FILE@PLACEMENT"), std::string::npos);
  }
  // A placement error names the job.
  auto r = cli::run_jobs(jobs_on_4_nodes({"domains:0-1", "packed:99"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--job small.yaml@packed:99"), std::string::npos) << r.error().message;
  // So does an error placed in a file two jobs share: 288 GPUs of NVL72
  // racks give dp 9 for Llama 3 70B (TP 8, PP 4), which its batch of 512
  // does not split into.
  const auto placed = collsim::testing::run_collsim(
      "run -t topologies/gb200-nvl72-8rack.yaml --backend analytical --job workloads/llama3-70b.yaml@gpus:0-255 "
      "--job workloads/llama3-70b.yaml@domains:4-7");
  EXPECT_EQ(placed.exit_code, 2);
  EXPECT_NE(placed.err.find("llama3-70b.yaml:"), std::string::npos) << placed.err;
  EXPECT_NE(placed.err.find("(--job workloads/llama3-70b.yaml@domains:4-7)"), std::string::npos) << placed.err;
}

}  // namespace
}  // namespace collsim::workload
