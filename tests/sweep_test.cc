// What-if studies (`collsim sweep`): the study file (grid, zip, ranges,
// errors with positions), and the guarantees of a sweep: nothing lost and
// nothing twice when it is killed and resumed, shards merged equal the
// whole, a failing point is recorded while the others run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "sim/config/study_file.h"
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

// ---- the study file --------------------------------------------------------

TEST(StudyFile, GridZipAndRangesExpandFirstAxisSlowest) {
  const auto path = write_study("grid.yaml", R"(name: grid
run:
  topology: topologies/gb200-nvl72-8rack.yaml
  workload: workloads/llama3-405b.yaml
axes:
  topology.cluster.nic: [400Gb/s, 800Gb/s]
  topology.floor.slack: {from: 1m, to: 51m, step: 10m}
zip:
  topology.cluster.domain_gpus: [36, 72]
  workload.parallelism.tp: [4, 8]
)");
  auto st = config::load_study_file(path);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->name, "grid");
  ASSERT_EQ(st->axes.size(), 3u);
  EXPECT_EQ(st->axes[1].values.size(), 6u);  // 1, 11, ..., 51 m
  EXPECT_EQ(st->axes[1].values.back()[0], "51m");
  const auto points = st->points();
  ASSERT_EQ(points.size(), 2u * 6u * 2u);
  // The first point; the last axis varies fastest; zipped paths move together.
  EXPECT_EQ(points[0].assignments[0].second, "400Gb/s");
  EXPECT_EQ(points[0].assignments[1].second, "1m");
  EXPECT_EQ(points[0].assignments[2].second, "36");
  EXPECT_EQ(points[0].assignments[3].second, "4");
  EXPECT_EQ(points[1].assignments[2].second, "72");
  EXPECT_EQ(points[1].assignments[3].second, "8");
  EXPECT_EQ(points[2].assignments[1].second, "11m");
  EXPECT_EQ(points[12].assignments[0].second, "800Gb/s");
  // Assignments become --set overrides of the right file.
  auto b = config::apply_point(*st, points[1]);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->topology_sets,
            (std::vector<std::string>{"cluster.nic=400Gb/s", "floor.slack=1m", "cluster.domain_gpus=72"}));
  EXPECT_EQ(b->workload_sets, (std::vector<std::string>{"parallelism.tp=8"}));
}

TEST(StudyFile, BadStudiesNameFileLineAndField) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"collective:\n  topology: t.yaml\naxis:\n  collective.bytes: [1M]\n",
       ":3:1: field 'axis': unknown key 'axis' (did you mean 'axes'?)"},
      {"axes:\n  collective.bytes: [1M]\n", "exactly one base"},
      {"collective:\n  topology: t.yaml\naxes:\n  workload.parallelism.pp: [1]\n",
       ":4:3: field 'axes.workload.parallelism.pp': a path starts with topology. or collective."},
      {"collective:\n  topology: t.yaml\naxes:\n  collective.byts: [1M]\n",
       "unknown field 'byts' of collective (did you mean 'bytes'?)"},
      {"collective:\n  topology: t.yaml\nzip:\n  collective.bytes: [1M, 2M]\n  collective.algo: [ring]\n",
       ":5:20: field 'zip.collective.algo': zipped lists move together"},
      {"collective:\n  topology: t.yaml\naxes:\n  topology.floor.slack: {from: 1m, to: 5, step: 1m}\n",
       ":4:40: field 'axes.topology.floor.slack.to': from, to and step must have the same unit"},  // was: .step
      {"collective:\n  topology: t.yaml\naxes:\n  topology.floor.slack: {from: 1m, to: 5m, step: 1cm}\n",
       "field 'axes.topology.floor.slack.step': from, to and step must have the same unit"},
      {"collective:\n  topology: t.yaml\naxes:\n  collective.bytes: []\n", "non-empty list"},
      {"collective:\n  topology: t.yaml\n", "at least one axis"},
      {"run:\n  topology: t.yaml\n  workload: w.yaml\naxes:\n  run.what_if: [on, maybe]\n",
       "expected on or off, found 'maybe'"},
  };
  int k = 0;
  for (const auto& c : cases) {
    const auto path = write_study("bad" + std::to_string(k++) + ".yaml", c.text);
    auto st = config::load_study_file(path);
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_NE(st.error().to_string().find(c.expect), std::string::npos) << st.error().to_string();
    EXPECT_NE(st.error().to_string().find(path), std::string::npos) << st.error().to_string();
  }
}

TEST(StudyFile, ShippedExampleStudiesLoad) {
  int studies = 0;
  for (const auto& e : fs::directory_iterator(std::string(COLLSIM_SOURCE_DIR) + "/examples/studies")) {
    if (e.path().extension() != ".yaml") continue;
    auto st = config::load_study_file(e.path().string());
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_GE(st->points().size(), 2u) << e.path();
    EXPECT_EQ(st->name, e.path().stem().string());
    ++studies;
  }
  EXPECT_GE(studies, 4);
}

// ---- running studies -------------------------------------------------------

// 8 points of about 0.1-0.5 s each on four H100 nodes (SimGrid).
const char* kSlowStudy = R"(name: ring-4node
collective:
  topology: topologies/h100-ib400-4node.yaml
  op: allreduce
  algo: ring
axes:
  collective.bytes: [128M, 256M, 512M, 1G]
  collective.proto: [Simple, LL128]
)";

TEST(Sweep, KilledMidwayThenResumedEqualsAnUninterruptedRun) {
  const auto study = write_study("ring-4node.yaml", kSlowStudy);
  const auto whole = fresh_dir("whole"), resumed = fresh_dir("resumed");
  auto r = run_collsim("sweep " + study + " --jobs 1 --out " + whole);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Start the same study, and kill -9 its whole process group once the
  // first point is on disk.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(COLLSIM_SOURCE_DIR) != 0) ::_exit(127);
    const std::string out = resumed;
    ::execl(COLLSIM_BINARY, "collsim", "sweep", study.c_str(), "--jobs", "1", "--out", out.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::size_t on_disk = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    on_disk = 0;
    if (fs::exists(resumed + "/points", ec)) {
      for (const auto& e : fs::directory_iterator(resumed + "/points", ec)) on_disk += e.path().extension() == ".json";
    }
    if (on_disk >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  ASSERT_GE(on_disk, 1u);

  r = run_collsim("sweep " + study + " --jobs 1 --out " + resumed);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The resumed run reused what was on disk and simulated only the rest.
  EXPECT_NE(r.out.find("reused"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" 0 reused"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(resumed + "/results.csv"), read_file(whole + "/results.csv"));
  EXPECT_EQ(read_file(resumed + "/results.jsonl"), read_file(whole + "/results.jsonl"));
  const auto rows = rows_of(read_file(resumed + "/results.csv"));
  EXPECT_EQ(rows.size(), 8u);
  EXPECT_EQ(std::set<std::string>(rows.begin(), rows.end()).size(), rows.size()) << "duplicate rows";

  // A third run has nothing left to do.
  r = run_collsim("sweep " + study + " --out " + resumed);
  EXPECT_NE(r.out.find("0 simulated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8 reused"), std::string::npos) << r.out;
}

TEST(Sweep, ThreeShardsMergedEqualTheUnshardedRun) {
  const auto study = write_study("shards.yaml", R"(name: shards
collective:
  topology: topologies/hgx-h100.yaml
  op: allreduce
  proto: Simple
axes:
  collective.bytes: [1M, 4M, 16M, 64M]
  collective.algo: [ring, nvls]
)");
  const auto whole = fresh_dir("unsharded"), merged = fresh_dir("merged");
  auto r = run_collsim("sweep " + study + " --out " + whole);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string dirs;
  std::size_t shard_rows = 0;
  for (int i = 1; i <= 3; ++i) {
    const auto dir = fresh_dir("shard" + std::to_string(i));
    r = run_collsim("sweep " + study + " --shard " + std::to_string(i) + "/3 --out " + dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    shard_rows += rows_of(read_file(dir + "/results.csv")).size();
    dirs += " " + dir;
  }
  EXPECT_EQ(shard_rows, 8u);  // disjoint slices covering the study
  r = run_collsim("sweep --merge" + dirs + " --out " + merged);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(merged + "/results.csv"), read_file(whole + "/results.csv"));
  EXPECT_EQ(read_file(merged + "/results.jsonl"), read_file(whole + "/results.jsonl"));
  // Merging again changes nothing.
  r = run_collsim("sweep --merge" + dirs + " --out " + merged);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(merged + "/results.csv"), read_file(whole + "/results.csv"));

  // Results of another study do not merge into these.
  const auto other = write_study("other.yaml", R"(collective:
  topology: topologies/hgx-h100.yaml
axes:
  collective.bytes: [1M]
)");
  const auto other_dir = fresh_dir("other");
  ASSERT_EQ(run_collsim("sweep " + other + " --out " + other_dir).exit_code, 0);
  r = run_collsim("sweep --merge " + whole + " " + other_dir + " --out " + fresh_dir("bad-merge"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("different study"), std::string::npos) << r.err;

  // The report: a chart per axis, the best point (highest busbw) marked once.
  const std::string html = read_file(whole + "/report.html");
  EXPECT_NE(html.find("data-chart=\"axis-0\""), std::string::npos);
  EXPECT_NE(html.find("data-chart=\"axis-1\""), std::string::npos);
  std::size_t best = 0;
  for (auto p = html.find("class=\"best\""); p != std::string::npos; p = html.find("class=\"best\"", p + 1)) ++best;
  EXPECT_EQ(best, 1u);
  EXPECT_NE(html.find("<tr class=\"best\"><td>7</td><td>64M</td><td>nvls</td>"), std::string::npos)
      << "64 MiB NVLS has the highest busbw of these points";
  // Each point's simulation time: in the report and the point files, never
  // in results.csv / results.jsonl (compared run to run above).
  EXPECT_NE(html.find("id=\"point-time\""), std::string::npos);
  EXPECT_NE(html.find("<th>simulated in (s)</th>"), std::string::npos);
  EXPECT_EQ(read_file(whole + "/results.jsonl").find("wall_s"), std::string::npos);
  int timed = 0;
  for (const auto& e : std::filesystem::directory_iterator(whole + "/points")) {
    const std::string text = read_file(e.path().string());
    const auto at = text.find("\"wall_s\":");
    if (at == std::string::npos) continue;
    EXPECT_GE(std::stod(text.substr(at + 9)), 0.0) << text;
    ++timed;
  }
  EXPECT_GT(timed, 0);
}

TEST(Sweep, AFailingPointIsRecordedAndTheOthersRun) {
  // 8 layers do not split into 3 pipeline stages: that point fails, with the
  // workload reader's message; pp = 2 runs.
  const auto study = write_study("failing.yaml", R"(name: failing
run:
  topology: topologies/h100-ib400-4node.yaml
  workload: tests/data/workloads/small-4node.yaml
  what_if: off
axes:
  workload.parallelism.pp: [3, 2]
)");
  const auto dir = fresh_dir("failing");
  auto r = run_collsim("sweep " + study + " --out " + dir);
  EXPECT_EQ(r.exit_code, 1) << "a study with a failed point exits 1";
  EXPECT_NE(r.err.find("point 0 failed"), std::string::npos) << r.err;
  const auto rows = rows_of(read_file(dir + "/results.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].rfind("0,3,error,", 0), 0u) << rows[0];
  EXPECT_NE(rows[0].find("pp"), std::string::npos) << rows[0];
  EXPECT_EQ(rows[1].rfind("1,2,ok,", 0), 0u) << rows[1];
  // The failure is kept, not retried, unless asked.
  r = run_collsim("sweep " + study + " --out " + dir);
  EXPECT_NE(r.out.find("0 simulated"), std::string::npos) << r.out;
  r = run_collsim("sweep " + study + " --out " + dir + " --retry-failed");
  EXPECT_NE(r.out.find("1 simulated"), std::string::npos) << r.out;
}

TEST(Sweep, UsageErrors) {
  auto r = run_collsim("sweep");
  EXPECT_EQ(r.exit_code, 2);
  r = run_collsim("sweep tests/data/studies/collective-small.yaml --shard 4/3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--shard must be i/N"), std::string::npos) << r.err;
  r = run_collsim("sweep tests/data/studies/collective-small.yaml --jobs 0");
  EXPECT_EQ(r.exit_code, 2);
  r = run_collsim("sweep --merge --out x");
  EXPECT_EQ(r.exit_code, 2);
  r = run_collsim("sweep --merge no/such/dir --out " + fresh_dir("nomerge"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no/such/dir/study.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

TEST(StudyFile, RepeatedValuesAndBadNamesAreErrors) {
  auto path = write_study("dup.yaml", "collective:\n  topology: t.yaml\naxes:\n  collective.bytes: [1M, 2M, 1M]\n");
  auto st = config::load_study_file(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find(":4:30: field 'axes.collective.bytes[2]': '1M' is listed twice"),
            std::string::npos)
      << st.error().to_string();
  // A zipped list repeats values (its rows are the points: tp 8 with pp 9,
  // then with pp 18); a row listed twice is the error.
  path = write_study("zipdup.yaml",
                     "run:\n  topology: t.yaml\n  workload: w.yaml\nzip:\n  workload.parallelism.tp: [8, 8, 4]\n"
                     "  workload.parallelism.pp: [9, 18, 9]\n");
  st = config::load_study_file(path);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->axes.size(), 1u);
  EXPECT_EQ(st->axes.front().values.size(), 3u);
  path = write_study("ziprow.yaml",
                     "run:\n  topology: t.yaml\n  workload: w.yaml\nzip:\n  workload.parallelism.tp: [8, 4, 8]\n"
                     "  workload.parallelism.pp: [9, 18, 9]\n");
  st = config::load_study_file(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find(":5:3: field 'zip': row 2 (workload.parallelism.tp 8, "
                                        "workload.parallelism.pp 9) repeats row 0: every row is one point"),
            std::string::npos)
      << st.error().to_string();
  path = write_study(
      "tiny.yaml",
      "collective:\n  topology: t.yaml\naxes:\n  topology.floor.slack: {from: 1, to: 1.000000000001, step: 1e-13}\n");
  st = config::load_study_file(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("too small"), std::string::npos) << st.error().to_string();
  for (const char* name : {"\"\"", "a/b", ".."}) {
    path = write_study("name.yaml", std::string("name: ") + name +
                                        "\ncollective:\n  topology: t.yaml\naxes:\n  collective.bytes: [1M]\n");
    st = config::load_study_file(path);
    ASSERT_FALSE(st.ok()) << name;
    EXPECT_NE(st.error().to_string().find("expected a plain name"), std::string::npos) << st.error().to_string();
  }
}

TEST(Sweep, BadValuesStopTheStudyBeforeAnythingRuns) {
  struct Case {
    const char* axes;
    const char* expect;
  };
  const Case cases[] = {
      {"  collective.bytes: [1M, 0]\n",
       "field 'collective.bytes': expected a whole number of bytes from 1 to 1125899906842624 (1 PiB), found '0'"},
      {"  collective.algo: [ring, rinng]\n", "unknown algorithm 'rinng'"},
      {"  collective.backend: [simgird]\n", "simgird"},
      {"  collective.op: [allreduce, alreduce]\n", "unknown collective 'alreduce'"},
      {"  collective.nccl: [2.27.3, 2.x]\n", "expected an NCCL release such as 2.27 or 2.27.3-1, found '2.x'"},
      {"  topology.links[0].rat: [1GB/s]\n", "does not name a field of topologies/hgx-h100.yaml"},
      // A section the file does not have: its devices are written out.
      {"  topology.cluster.nic: [400Gb/s]\n", "topology.cluster.nic does not name a field of topologies/hgx-h100.yaml"},
      // A point's op with its protocol or algorithm list: LL128 on NCCL's
      // point-to-point, or a list none of whose algorithms runs the op (both
      // failed every such point once running, exit 1).
      {"  collective.proto: [LL128]\n  collective.op: [allreduce, alltoall]\n",
       "field 'collective.proto': point 1: alltoall runs on NCCL's point-to-point operations, which use LL or Simple"},
      {"  collective.algo: [\"ring,tree\"]\n  collective.op: [allreduce, alltoall]\n",
       "field 'collective.algo': point 1 (alltoall): no algorithm of 'ring,tree' runs alltoall"},
  };
  for (const auto& c : cases) {
    const auto study = write_study("badvalue.yaml",
                                   std::string("collective:\n  topology: topologies/hgx-h100.yaml\naxes:\n") + c.axes);
    const auto dir = fresh_dir("badvalue");
    const auto r = run_collsim("sweep " + study + " --out " + dir);
    EXPECT_EQ(r.exit_code, 2) << c.axes;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(study + ":4:3:"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir + "/points")) << "nothing ran";
  }
}

TEST(Sweep, RowsTakeTheirIndexAndAxesFromTheStudyNotFromOldResults) {
  // The same points in another order: every result is reused, and each row
  // carries its new index and values.
  const auto a = write_study("order-a.yaml", R"(name: order
collective:
  topology: topologies/hgx-h100.yaml
  proto: Simple
axes:
  collective.bytes: [1M, 4M]
  collective.algo: [ring, nvls]
)");
  const auto dir = fresh_dir("order");
  ASSERT_EQ(run_collsim("sweep " + a + " --out " + dir).exit_code, 0);
  const auto before = rows_of(read_file(dir + "/results.csv"));
  const auto b = write_study("order-b.yaml", R"(name: order
collective:
  topology: topologies/hgx-h100.yaml
  proto: Simple
axes:
  collective.algo: [nvls, ring]
  collective.bytes: [4M, 1M]
)");
  const auto r = run_collsim("sweep " + b + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 simulated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 reused"), std::string::npos) << r.out;
  const auto after = rows_of(read_file(dir + "/results.csv"));
  ASSERT_EQ(after.size(), 4u);
  // Point 0 is now nvls at 4M: the old point 3 (4M, nvls) with its numbers.
  EXPECT_EQ(after[0].substr(0, after[0].find(",ok,")), "0,nvls,4M");
  EXPECT_EQ(after[0].substr(after[0].find(",ok,")), before[3].substr(before[3].find(",ok,")));
}

TEST(Sweep, MergeKeepsTheSuccessfulResultOfAPoint) {
  const auto study = "tests/data/studies/collective-small.yaml";
  const auto good = fresh_dir("merge-good"), bad = fresh_dir("merge-bad");
  ASSERT_EQ(run_collsim(std::string("sweep ") + study + " --out " + good).exit_code, 0);
  // A copy where one point failed (as if its shard had crashed on it).
  fs::copy(good, bad, fs::copy_options::recursive);
  fs::path failed;
  for (const auto& e : fs::directory_iterator(bad + "/points")) failed = e.path();
  std::string text = read_file(failed.string());
  text.replace(text.find("\"status\":\"ok\""), 13, "\"status\":\"error\"");
  std::ofstream(failed) << text;
  for (const auto& order : {bad + " " + good, good + " " + bad}) {
    const auto out = fresh_dir("merge-out");
    const auto r = run_collsim("sweep --merge " + order + " --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(read_file(out + "/results.csv"), read_file(good + "/results.csv")) << order;
  }
  // Merging only the directory with the failure reports it.
  const auto r = run_collsim("sweep --merge " + bad + " --out " + fresh_dir("merge-bad-only"));
  EXPECT_EQ(r.exit_code, 1);
}

TEST(Sweep, SigtermStopsTheStudyAndItsWorkers) {
  const auto study = write_study("term.yaml", kSlowStudy);
  const auto dir = fresh_dir("term");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::chdir(COLLSIM_SOURCE_DIR) != 0) ::_exit(127);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1), ::dup2(devnull, 2);
    ::execl(COLLSIM_BINARY, "collsim", "sweep", study.c_str(), "--jobs", "2", "--out", dir.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for the first result, then ask the parent alone to stop.
  for (int k = 0; k < 60000 && !(fs::exists(dir + "/points") && !fs::is_empty(dir + "/points")); ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  // Its workers are gone too: nothing is left writing into the directory.
  const auto rows = rows_of(read_file(dir + "/results.csv")).size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir + "/points")) files += e.path().extension() == ".json";
  EXPECT_EQ(files, rows);
  EXPECT_LT(rows, 8u);
}

}  // namespace
}  // namespace collsim
