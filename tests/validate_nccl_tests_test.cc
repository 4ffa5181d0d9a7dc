// `collsim validate --nccl-tests` (cli/validate_log.h) end to end: logs of
// published runs simulate what their table cases do, NCCL's settings in a
// log reach the simulation, and bad runs get one clear line. The log of
// NVIDIA/nccl-tests issue 232 is tests/data/nccl_tests/issue232-tree.log
// (its result rows as published; config/nccl_tests_log_test.cc reads the
// same text).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <string>

#include "test_support.h"

namespace collsim {
namespace {

using collsim::testing::expect_one_clear_line;
using collsim::testing::read_file;
using collsim::testing::run_collsim;

// The case `name` of the shipped validation table `file`.
YAML::Node published_case(const std::string& file, const std::string& name) {
  const YAML::Node table = YAML::LoadFile(std::string(COLLSIM_SOURCE_DIR) + "/tests/validation/" + file);
  for (const auto& c : table["cases"])
    if (c["name"].as<std::string>() == name) return c;
  return YAML::Node();
}

// A published all-reduce's busbw by size as nccl-tests' result rows on
// `ranks` ranks (float sum, out of place = in place; algbw = busbw x p /
// (2 (p - 1)), nccl-tests' factor).
std::string allreduce_rows(const YAML::Node& busbw_by_size, int ranks) {
  std::string rows;
  for (const auto& kv : busbw_by_size) {
    const double bytes = kv.first.as<double>(), busbw = kv.second.as<double>();
    const double algbw = busbw / (2.0 * (ranks - 1) / ranks);
    rows += fmt::format(
        "{:12.0f}  {:12.0f}  {:>8}  {:>6}  {:6d}  {:7.1f}  {:6.2f}  {:6.2f}  {:6d}  {:7.1f}  {:6.2f}  {:6.2f}  {:6d}\n",
        bytes, bytes / 4, "float", "sum", -1, bytes / algbw / 1e3, algbw, busbw, 0, bytes / algbw / 1e3, algbw, busbw,
        0);
  }
  return rows;
}

// The same busbw as a validation table's busbw_GBps entries.
std::string busbw_entries(const YAML::Node& busbw_by_size) {
  std::string out;
  for (const auto& kv : busbw_by_size)
    out += "      " + kv.first.as<std::string>() + ": " + kv.second.as<std::string>() + "\n";
  return out;
}

// The issue 232 log as nccl-tests printed it: the shipped file without its
// first line (which says where the rows come from).
std::string issue232_log() {
  const std::string file = read_file(std::string(COLLSIM_SOURCE_DIR) + "/tests/data/nccl_tests/issue232-tree.log");
  return file.substr(file.find('\n') + 1);
}

// The published 2-node H100 all-reduce of tests/validation/more-curves.yaml
// (h100-nebius-2node-auto-curve: dstack pull request 2604), written as the
// nccl-tests log that printed it: --nccl-tests must read the same run (its
// 16 ranks one host per node, its NCCL release) and so simulate the same
// busbw as the table's case does, row for row.
TEST(ValidateNcclTests, ALogOfAPublishedRunMatchesItsTableCase) {
  const YAML::Node published = published_case("more-curves.yaml", "h100-nebius-2node-auto-curve");
  ASSERT_TRUE(published) << "the case moved";
  const std::string dir = ::testing::TempDir();
  std::ofstream log(dir + "nebius.log");
  log << "# nccl-tests version 2.15.2 nccl-headers=22605 nccl-library=" << 22605 << "\n";  // its case's 2.26.5
  for (int r = 0; r < 16; ++r) {
    log << fmt::format("#  Rank {:2d} Group  0 Pid {:6d} on {:>10} device {:2d} [0000:8d:00] NVIDIA H100 80GB HBM3\n",
                       r, 1880 + r, r < 8 ? "worker-1" : "worker-0", r % 8);
  }
  log << allreduce_rows(published["busbw_GBps"], 16);
  log.close();
  const auto rows = published["busbw_GBps"].size();
  std::ofstream yaml(dir + "nebius.yaml");
  yaml << "cases:\n  - name: nebius\n    source: test\n    topology: " << published["topology"].as<std::string>()
       << "\n    op: allreduce\n    nccl: " << published["nccl"].as<std::string>() << "\n    busbw_GBps:\n"
       << busbw_entries(published["busbw_GBps"]);
  yaml.close();
  const auto from_log =
      run_collsim("validate --backend analytical --metric busbw --op allreduce --json " + dir + "log.json --topology " +
                  published["topology"].as<std::string>() + " --nccl-tests " + dir + "nebius.log");
  ASSERT_EQ(from_log.exit_code, 0) << from_log.err;
  EXPECT_NE(from_log.out.find("NCCL 2.26.5 (the log's); 16 ranks on 2 hosts (8 each), one host per NVLink domain"),
            std::string::npos)
      << from_log.out;
  // --op may name the binary as nccl-tests does, and must agree with the log's.
  {
    std::ofstream named(dir + "nebius-named.log");
    named << "# Collective test starting: all_reduce_perf_mpi\n" << read_file(dir + "nebius.log");
  }
  const auto spelled =
      run_collsim("validate --backend analytical --op all_reduce_perf --topology " +
                  published["topology"].as<std::string>() + " --nccl-tests " + dir + "nebius-named.log");
  EXPECT_EQ(spelled.exit_code, 0) << spelled.err;
  const auto from_table =
      run_collsim("validate --backend analytical --json " + dir + "table.json --file " + dir + "nebius.yaml");
  ASSERT_EQ(from_table.exit_code, 0) << from_table.err;
  const YAML::Node a = YAML::LoadFile(dir + "log.json")["cases"][0]["rows"];
  const YAML::Node b = YAML::LoadFile(dir + "table.json")["cases"][0]["rows"];
  ASSERT_EQ(a.size(), rows);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["measured"].as<double>(), b[i]["measured"].as<double>()) << i;
    EXPECT_NEAR(a[i]["simulated"].as<double>(), b[i]["simulated"].as<double>(), 1e-9 * b[i]["simulated"].as<double>())
        << i;
  }
}

// The published 4-node B200 ring with 2 queue pairs a connection and
// adaptive routing on every message (tests/validation/b200-qps.yaml,
// b200qps-4node-allreduce-ring-qps2: NCCL_IB_QPS_PER_CONNECTION=2,
// NCCL_IB_AR_THRESHOLD=0), written as its log with NCCL's INFO lines for
// those settings: the log alone, without --set, must simulate what the
// table's case does with its topology_set, row for row; without the INFO
// lines (NCCL's defaults) it must not.
TEST(ValidateNcclTests, ALogsNcclSettingsReachTheSimulation) {
  const YAML::Node published = published_case("b200-qps.yaml", "b200qps-4node-allreduce-ring-qps2");
  ASSERT_TRUE(published) << "the case moved";
  ASSERT_EQ(published["topology_set"].size(), 2u);
  const std::string dir = ::testing::TempDir();
  const std::string topology = published["topology"].as<std::string>();
  auto write_log = [&](const std::string& path, bool info) {
    std::ofstream log(path);
    log << "# nccl-tests version 2.19.6 nccl-headers=23007 nccl-library=23007\n";  // its case's 2.30.7
    if (info) {
      log << "b200-0:4101:4101 [0] NCCL INFO NCCL_IB_QPS_PER_CONNECTION set by environment to 2.\n"
             "b200-0:4101:4101 [0] NCCL INFO NCCL_IB_AR_THRESHOLD set by environment to 0.\n"
             "b200-0:4101:4101 [0] NCCL INFO NCCL_IB_SPLIT_DATA_ON_QPS set by environment to 0.\n";
    }
    for (int r = 0; r < 32; ++r)
      log << fmt::format("#  Rank {:2d} Group  0 Pid {:6d} on {:>10} device {:2d} [0000:1b:00] NVIDIA B200\n", r,
                         4101 + r, fmt::format("b200-{}", r / 8), r % 8);
    log << allreduce_rows(published["busbw_GBps"], 32);
  };
  write_log(dir + "qps2.log", true);
  write_log(dir + "defaults.log", false);
  const std::string run = "validate --backend analytical --metric busbw --op allreduce --algo ring --topology " +
                          topology + " --nccl-tests ";
  const auto from_log = run_collsim(run + dir + "qps2.log --json " + dir + "qps2.json");
  ASSERT_EQ(from_log.exit_code, 0) << from_log.err;
  EXPECT_NE(from_log.out.find("NCCL_IB_QPS_PER_CONNECTION=2, NCCL_IB_AR_THRESHOLD=0 (the log's); not modelled: "
                              "NCCL_IB_SPLIT_DATA_ON_QPS=0"),
            std::string::npos)
      << from_log.out;
  const auto defaults = run_collsim(run + dir + "defaults.log --json " + dir + "defaults.json");
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  {
    std::ofstream yaml(dir + "qps2.yaml");
    yaml << "cases:\n  - name: qps2\n    source: test\n    topology: " << topology
         << "\n    topology_set: [nccl.ib_qps_per_connection=2, nccl.ib_ar_threshold=0]\n    op: allreduce\n"
            "    algo: ring\n    nccl: 2.30.7\n    busbw_GBps:\n"
         << busbw_entries(published["busbw_GBps"]);
  }
  const auto from_table =
      run_collsim("validate --backend analytical --json " + dir + "qps2-table.json --file " + dir + "qps2.yaml");
  ASSERT_EQ(from_table.exit_code, 0) << from_table.err;
  const YAML::Node a = YAML::LoadFile(dir + "qps2.json")["cases"][0]["rows"];
  const YAML::Node b = YAML::LoadFile(dir + "qps2-table.json")["cases"][0]["rows"];
  const YAML::Node d = YAML::LoadFile(dir + "defaults.json")["cases"][0]["rows"];
  ASSERT_EQ(a.size(), published["busbw_GBps"].size());
  ASSERT_EQ(b.size(), a.size());
  ASSERT_EQ(d.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double table_busbw = b[i]["simulated"].as<double>();
    EXPECT_NEAR(a[i]["simulated"].as<double>(), table_busbw, 1e-9 * table_busbw) << i;
    // One queue pair a channel moves less: the settings changed the answer.
    EXPECT_LT(d[i]["simulated"].as<double>(), 0.95 * table_busbw) << i;
  }
  // Both logs in one run: a case each, as run alone, summarized together.
  const auto both =
      run_collsim(run + dir + "qps2.log --nccl-tests " + dir + "defaults.log --json " + dir + "both.json");
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("2 cases from"), std::string::npos) << both.out;
  const YAML::Node pair = YAML::LoadFile(dir + "both.json")["cases"];
  ASSERT_EQ(pair.size(), 2u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(pair[0]["rows"][i]["simulated"].as<double>(), a[i]["simulated"].as<double>()) << i;
    EXPECT_EQ(pair[1]["rows"][i]["simulated"].as<double>(), d[i]["simulated"].as<double>()) << i;
  }
  // A setting collsim cannot take names the log's line and column.
  {
    std::ofstream big(dir + "big.log");
    big << "h:1:1 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 1073741824.\n" << read_file(dir + "defaults.log");
  }
  expect_one_clear_line({run + dir + "big.log",
                         "big.log:1:57: the log's NCCL setting, read as --set nccl.buffsize=1073741824: field "
                         "'nccl.buffsize': expected"});
}

TEST(ValidateNcclTests, BadRunsGetOneClearLine) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "issue232.log") << issue232_log();
  std::ofstream(dir + "old_all_gather.log")  // nccl-tests 2.11's all_gather columns, 2 ranks
      << "#       size         count      type     time   algbw   busbw  error     time   algbw   busbw  error\n"
         "     1048576        131072     float    46.21   22.69   11.35  0e+00    45.80   22.89   11.45  0e+00\n"
         "#  Rank  0 Group  0 Pid 1 on a device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
         "#  Rank  1 Group  0 Pid 2 on b device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n";
  std::ofstream(dir + "named.log")
      << "# Collective test starting: all_gather_perf\n"
         "#  Rank  0 Group  0 Pid 1 on a device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
         "#  Rank  1 Group  0 Pid 2 on b device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
         "     1048576        131072     float    none      -1    46.21   22.69   11.35      0    45.80   22.89   "
         "11.45      0\n";
  {
    std::ofstream ten(dir + "ten.log");  // 10 hosts of one rank: more than one 8-GPU node holds
    for (int r = 0; r < 10; ++r)
      ten << "#  Rank " << r << " Group 0 Pid 1 on host" << r << " device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n";
    const std::string text = issue232_log();
    for (std::size_t at = 0; at < text.size();) {  // its rows, not its rank lines
      const std::size_t end = text.find('\n', at);
      if (text[at] != '#') ten << text.substr(at, end - at + 1);
      at = end + 1;
    }
  }
  std::ofstream(dir + "algos.log") << "a:1:1 [0] NCCL INFO NCCL_ALGO set by environment to Ring\n"
                                      "b:1:1 [0] NCCL INFO NCCL_ALGO set by environment to Tree\n"
                                   << issue232_log();
  const std::string log = " --nccl-tests " + dir + "issue232.log";
  const std::string topo = " --topology tests/validation/topologies/h100-ib400-2node.yaml";
  for (const auto& c : std::vector<testing::BadRun>{
           {"validate" + log + " --op allreduce", "--nccl-tests needs --topology"},
           {"validate" + log + topo, "--nccl-tests needs --op: the nccl-tests binary that wrote the log (this log"},
           {"validate --op allreduce", "--op applies to --nccl-tests FILE"},
           {"validate" + log + topo + " --op allgather",
            "issue232.log:10:42: the log's rows print reduction 'sum', which nccl-tests' allgather does not"},
           {"validate" + log + topo + " --op allreduce --metric bw", "--metric: expected time or busbw, found 'bw'"},
           {"validate" + log + topo + " --op allreduce --placement per-domain:2",
            "--placement: per-domain:2 places 4 ranks, and the log ran 2"},
           {"validate --nccl-tests " + dir + "ten.log --topology topologies/hgx-h100.yaml --op allreduce",
            "--topology: the log's 10 ranks on 10 hosts (1 on the largest) need one NVLink domain a host, and the "
            "topology has 1 domain"},
           {"validate" + log + topo + " --op allreduce --nccl 2.12", "--nccl: NCCL 2.12: collsim has NCCL's tuning"},
           {"validate" + log + topo + " --op allreduce --steps", "--nccl-tests compares collectives: not with --steps"},
           {"validate" + log + topo + " --op allreduce --file tests/validation/cases.yaml", "give one"},
           {"validate --nccl-tests " + dir + "named.log" + topo + " --op allreduce",
            "--op allreduce: the log names its binary all_gather_perf"},
           {"validate --nccl-tests " + dir + "old_all_gather.log" + topo + " --op allreduce",
            "old_all_gather.log:2:6: the log's rows print no reduction and no root, which nccl-tests prints for "
            "allgather, alltoall, sendrecv only, not for allreduce"},
           {"validate --nccl-tests " + dir + "named.log" + topo + " --op allgather --algo bogus",
            "named.log: case 'named.log': "},
           {"validate --nccl-tests - --nccl-tests -" + topo + " --op allreduce",
            "--nccl-tests: standard input ('-') can be read once"},
           {"validate --nccl-tests " + dir + "algos.log" + topo + " --op allreduce",
            "algos.log:2:53: expected NCCL_ALGO = Ring as line 1 reports it (one run's settings), found 'Tree'"},
       })
    expect_one_clear_line(c);
}

}  // namespace
}  // namespace collsim
