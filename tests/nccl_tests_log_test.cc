// nccl-tests output logs (config/nccl_tests_log.h) and the NCCL settings
// `collsim validate --nccl-tests` takes from them (cli/validate_log.h; end
// to end: validate_nccl_tests_test.cc). The rows below are published
// nccl-tests output, quoted as printed; the header and '# Rank' lines around
// them are written here in nccl-tests' own format (its src/util.cu, 2.19.6),
// which the issues quoted did not reproduce in full.
#include "sim/config/nccl_tests_log.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sim/cli/validate_log.h"
#include "test_support.h"

namespace collsim {
namespace {

// NVIDIA/nccl-tests issue 232 (2024-07-12): all_reduce_perf -b 2M -e 16G
// -n 10 with NCCL_ALGO=Tree, 2 nodes x 1 H100, its first five rows (the
// header's releases are this test's, in nccl-tests 2.17.5's format: the
// issue's excerpt shows none).
const char* kIssue232 =
    "# nccl-tests version 2.17.5 nccl-headers=22003 nccl-library=22003\n"
    "# nThread 1 nGpus 1 minBytes 2097152 maxBytes 17179869184 step: 2(factor) warmup iters: 10 iters: 10 agg "
    "iters: 1 validation: 1 graph: 0\n"
    "#\n"
    "# Using devices\n"
    "#  Rank  0 Group  0 Pid  39636 on qh100-gpu19 device  0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
    "#  Rank  1 Group  0 Pid  49360 on qh100-gpu20 device  0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
    "#\n"
    "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw "
    "#wrong\n"
    "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)\n"
    "     2097152        524288     float     sum      -1    113.2   18.53   18.53      0    93.35   22.46   22.46     "
    " "
    "0\n"
    "     4194304       1048576     float     sum      -1    154.4   27.16   27.16      0    153.3   27.37   27.37     "
    " "
    "0\n"
    "     8388608       2097152     float     sum      -1    231.4   36.24   36.24      0    227.8   36.83   36.83     "
    " "
    "0\n"
    "    16777216       4194304     float     sum      -1    420.5   39.90   39.90      0    419.9   39.95   39.95     "
    " "
    "0\n"
    "    33554432       8388608     float     sum      -1    812.3   41.31   41.31      0    808.2   41.52   41.52     "
    " "
    "0\n"
    "# Out of bounds values : 0 OK\n";

TEST(NcclTestsLog, ReadsTheRowsHostsReleaseAndIterations) {
  auto log = config::parse_nccl_tests_log(kIssue232, "issue232.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  ASSERT_EQ(log->rows.size(), 5u);
  EXPECT_EQ(log->rows[0].bytes, 2097152.0);
  EXPECT_EQ(log->rows[0].time_us, 113.2);  // out of place, not the in-place 93.35
  EXPECT_EQ(log->rows[0].algbw_GBps, 18.53);
  EXPECT_EQ(log->rows[4].busbw_GBps, 41.31);
  EXPECT_EQ(log->rows[4].at.line, 14);
  EXPECT_EQ(log->rows[0].type, "float");
  EXPECT_EQ(log->rows[0].redop, "sum");
  EXPECT_EQ(log->rows[0].root, -1);
  ASSERT_EQ(log->rank_hosts.size(), 2u);
  EXPECT_EQ(log->rank_hosts[1], "qh100-gpu20");
  EXPECT_EQ(log->device, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(log->nccl, "2.20.3");  // nccl-library=22003
  EXPECT_EQ(log->iters, 10);       // "iters: 10", not "agg iters: 1"
}

// NVIDIA/nccl issue 652 (2022-03-18), 32 x 8 A100: nccl-tests of its day
// printed no root column and no Group; NCCL_DEBUG=INFO names the release.
TEST(NcclTestsLog, ReadsOlderLogsAndNcclsOwnVersionLine) {
  const std::string text =
      "node1:1234:1234 [0] NCCL INFO NCCL version 2.11.4+cuda11.4\n"
      "#   Rank  0 Pid  47689 on      gpu32 device  0 [0x07] NVIDIA A100-SXM4-80GB\n"
      "#   Rank  1 Pid  47690 on      gpu32 device  1 [0x0b] NVIDIA A100-SXM4-80GB\n"
      "           4             1     float     sum    70.95    0.00    0.00  5e-07    68.99    0.00    0.00  5e-07\n"
      "           8             2     float     sum    62.99    0.00    0.00  5e-07    62.03    0.00    0.00  5e-07\n";
  auto log = config::parse_nccl_tests_log(text, "issue652.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  ASSERT_EQ(log->rows.size(), 2u);
  EXPECT_EQ(log->rows[1].time_us, 62.99);
  EXPECT_EQ(log->rows[1].root, -1);
  EXPECT_EQ(log->nccl, "2.11.4");
  EXPECT_EQ(log->device, "NVIDIA A100-SXM4-80GB");
  EXPECT_EQ(log->iters, 0);  // not printed
}

TEST(NcclTestsLog, ReadsLinesALauncherTagged) {
  std::string tagged;
  const std::string text = kIssue232;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    tagged += "[1,0]<stdout>:" + text.substr(at, end - at + 1);
    at = end + 1;
  }
  auto log = config::parse_nccl_tests_log(tagged, "tagged.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  EXPECT_EQ(log->rows.size(), 5u);
  EXPECT_EQ(log->rank_hosts.size(), 2u);
  auto srun = config::parse_nccl_tests_log(
      "0:      2097152        524288     float     sum      -1    113.2   18.53   18.53      0    93.35   22.46   "
      "22.46      0\n",
      "srun.log");
  ASSERT_TRUE(srun.ok()) << srun.error().to_string();
  EXPECT_EQ(srun->rows.front().busbw_GBps, 18.53);
}

TEST(NcclTestsLog, BadLogsNameTheLineColumnAndWhatWasFound) {
  struct Bad {
    std::string text, expect;
  };
  const std::string row =
      "     2097152        524288     float     sum      -1    113.2   18.53   18.53      0    93.35   "
      "22.46   22.46      0\n";
  const std::vector<Bad> cases{
      {"     2097152        524288     float     sum      -1    1.2.3   18.53   18.53      0    93.35   22.46   "
       "22.46      0\n",
       "x.log:1:57: expected the out-of-place time (us), a number of 0 or more, found '1.2.3'"},
      {row + row, "x.log:2:6: size 2097152 appears again (first at line 1)"},
      {row + "     4194304       1048576      half     sum      -1    154.4   27.16   27.16      0    153.3   27.37   "
             "27.37      0\n",
       "x.log:2:33: expected the rows of one run (one nccl-tests -d type, -o reduction and -r root): line 1 has float "
       "sum root -1, this one half sum root -1"},
      {"     2097152        524288     float     sum      -1    113.2\n",
       "expected the out-of-place algbw (GB/s), a number of 0 or more, found the row's end (6 columns)"},
      {"just words\n", "x.log: expected nccl-tests result rows"},
      {"#  Rank  1 Group  0 Pid 1 on h device 0 [0000:18:00] NVIDIA H100\n" + row,
       "x.log:1:1: expected '# Rank 0' next, found rank 1: the rank lines skip a rank"},
  };
  for (const auto& c : cases) {
    auto log = config::parse_nccl_tests_log(c.text, "x.log");
    ASSERT_FALSE(log.ok()) << c.expect;
    EXPECT_NE(log.error().to_string().find(c.expect), std::string::npos) << log.error().to_string();
  }
}

// Before nccl-tests 2.13 each test printed its own columns (its
// src/all_gather.cu, src/broadcast.cu at v2.11.0): all_gather neither a
// reduction nor a root, broadcast a root only; 2.13.0-2.13.3 printed the
// common header with a blank reduction for them. The header says which.
TEST(NcclTestsLog, ReadsEachReleasesColumnsFromItsHeader) {
  const std::string all_gather_2_11 =
      "#       size         count      type     time   algbw   busbw  error     time   algbw   busbw  error\n"
      "     1048576         32768     float    46.21   22.69   19.86  0e+00    45.80   22.89   20.03  0e+00\n";
  const std::string broadcast_2_11 =
      "#       size         count      type   root     time   algbw   busbw  error     time   algbw   busbw  error\n"
      "     1048576        262144     float      0    46.21   22.69   22.69  0e+00    45.80   22.89   22.89  0e+00\n";
  const std::string all_gather_2_13_0 =
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   "
      "busbw #wrong\n"
      "     1048576         32768     float              -1    46.21   22.69   19.86      0    45.80   22.89   "
      "20.03      0\n";
  for (const auto& [text, root] :
       std::vector<std::pair<std::string, int>>{{all_gather_2_11, -1}, {broadcast_2_11, 0}, {all_gather_2_13_0, -1}}) {
    auto log = config::parse_nccl_tests_log(text, "old.log");
    ASSERT_TRUE(log.ok()) << log.error().to_string();
    ASSERT_EQ(log->rows.size(), 1u);
    EXPECT_EQ(log->rows[0].time_us, 46.21) << text;
    EXPECT_EQ(log->rows[0].redop, "") << text;
    EXPECT_EQ(log->rows[0].root, root) << text;
  }
}

// What else a log says about its run: the binary (2.16.7 on), -z, the
// groups NCCL_TESTS_SPLIT_MASK makes, NCCL_ALGO and NCCL_PROTO from
// NCCL's INFO lines; rows of 0 bytes (nccl-tests rounds a rank's count
// down) are left out.
TEST(NcclTestsLog, ReadsTheBinaryBlockingGroupsAndNcclSettings) {
  const std::string text =
      "# Collective test starting: all_gather_perf_mpi\n"
      "# Blocking Enabled: wait and barrier after each inner iteration (-m)\n"
      "node1:1:1 [0] NCCL INFO NCCL_ALGO set by environment to Ring\n"
      "node1:1:1 [0] NCCL INFO NCCL_PROTO set by environment to Simple\n"
      "#  Rank  0 Group  0 Pid 1 on a device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
      "#  Rank  1 Group  1 Pid 2 on a device 1 [0000:2a:00] NVIDIA H100 80GB HBM3\n"
      "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   "
      "busbw #wrong\n"
      "           0             0     float    none      -1    14.22    0.00    0.00      0    14.26    0.00    "
      "0.00      0\n"
      "     1048576        131072     float    none      -1    46.21   22.69   19.86      0    45.80   22.89   "
      "20.03      0\n";
  auto log = config::parse_nccl_tests_log(text, "x.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  EXPECT_EQ(log->binary, "all_gather_perf_mpi");
  EXPECT_TRUE(log->blocking);
  EXPECT_EQ(log->groups, 2);
  EXPECT_EQ(log->nccl_algo, "Ring");
  EXPECT_EQ(log->nccl_proto, "Simple");
  EXPECT_EQ(log->empty_rows, 1);
  ASSERT_EQ(log->rows.size(), 1u);
  EXPECT_EQ(log->rows[0].redop, "none");
  auto cpu = config::parse_nccl_tests_log(
      "#       size         count      type   redop    root  cputime   algbw   busbw #wrong\n", "cpu.log");
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.error().to_string().find("cpu.log:1:55: expected nccl-tests' GPU times, found its CPU times"),
            std::string::npos)
      << cpu.error().to_string();
}

// NCCL's settings as its INFO lines print them: NCCL_PARAM's "NAME set by
// environment to VALUE." (src/misc/param.cc), NCCL_MIN_CTAS's "Comm config
// minCTAs reset to NCCL_MIN_CTAS=24" (src/init.cc, 2.27 on); each once,
// the same value from every rank, and NCCL_ALGO / NCCL_PROTO kept apart.
TEST(NcclTestsLog, ReadsNcclsSettingsFromItsInfoLines) {
  const std::string rank =
      "#  Rank  0 Group  0 Pid 1 on a device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n"
      "     1048576        262144     float     sum      -1    46.21   22.69   22.69      0    45.80   22.89   "
      "22.89      0\n";
  const std::string info =
      "node1:10:20 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 16777216.\n"
      "node1:10:20 [0] NCCL INFO NCCL_ALGO set by environment to Tree\n"
      "node1:11:21 [1] NCCL INFO NCCL_BUFFSIZE set by environment to 16777216.\n"
      "node1:10:20 [0] NCCL INFO Comm config minCTAs reset to NCCL_MIN_CTAS=24\n"
      "node1:10:20 [0] NCCL INFO NCCL_SOCKET_IFNAME set by environment to eth0\n";
  auto log = config::parse_nccl_tests_log(info + rank, "s.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  EXPECT_EQ(log->nccl_algo, "Tree");
  ASSERT_EQ(log->nccl_settings.size(), 4u);
  EXPECT_EQ(log->nccl_settings[1].name, "NCCL_ALGO");
  EXPECT_EQ(log->nccl_settings[0].name, "NCCL_BUFFSIZE");
  EXPECT_EQ(log->nccl_settings[0].value, "16777216");
  EXPECT_EQ(log->nccl_settings[0].at.line, 1);
  EXPECT_EQ(log->nccl_settings[0].at.column, 63);
  EXPECT_EQ(log->nccl_settings[2].name, "NCCL_MIN_CTAS");
  EXPECT_EQ(log->nccl_settings[2].value, "24");
  EXPECT_EQ(log->nccl_settings[3].name, "NCCL_SOCKET_IFNAME");
  EXPECT_EQ(log->nccl_settings[3].value, "eth0");
  // A modelled setting two ranks report differently is an error (unless
  // --set gives it); one collsim does not model may differ (per node).
  auto two =
      config::parse_nccl_tests_log(info +
                                       "node2:12:22 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 8388608.\n"
                                       "node2:12:22 [0] NCCL INFO NCCL_SOCKET_IFNAME set by environment to ib0\n" +
                                       rank,
                                   "two.log");
  ASSERT_TRUE(two.ok()) << two.error().to_string();
  auto conflict = cli::nccl_sets_of_log(*two, {});
  ASSERT_FALSE(conflict.ok());
  EXPECT_NE(conflict.error().to_string().find(
                "two.log:6:63: expected NCCL_BUFFSIZE = 16777216 as line 1 reports it (one run's settings), found "
                "'8388608'"),
            std::string::npos)
      << conflict.error().to_string();
  auto chosen = cli::nccl_sets_of_log(*two, {".nccl.buffsize=8M"});  // the field by its path
  ASSERT_TRUE(chosen.ok()) << chosen.error().to_string();
  EXPECT_EQ(chosen->sets, std::vector<std::string>{"nccl.min_ctas=24"});
  EXPECT_EQ(chosen->notes, (std::vector<std::string>{
                               "NCCL_MIN_CTAS=24 (the log's)", "NCCL_BUFFSIZE=16777216 (the log's; --set replaces)",
                               "not modelled: NCCL_SOCKET_IFNAME=eth0 (line 7: ib0, ranks differ)"}));
  auto whole = cli::nccl_sets_of_log(*two, {"nccl={pxn: false}"});  // the whole map
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_TRUE(whole->sets.empty());

  // As --set entries: NCCL's enables and disables as collsim's switches,
  // NCCL_MAX_NCHANNELS=0 as NCCL reads it (1), the user's --set first.
  config::NcclTestsLog settings;
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{{"NCCL_NVLS_ENABLE", "0"},
                                                                             {"NCCL_PXN_DISABLE", "1"},
                                                                             {"NCCL_COLLNET_ENABLE", "1"},
                                                                             {"NCCL_MAX_NCHANNELS", "0"},
                                                                             {"NCCL_BUFFSIZE", "16777216"},
                                                                             {"NCCL_IB_HCA", "mlx5_0"}})
    settings.nccl_settings.push_back({name, value, {}, "", {}});
  const auto read = cli::nccl_sets_of_log(settings, {"nccl.buffsize=8M"});
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  const cli::LogNcclSettings& sets = *read;
  EXPECT_EQ(sets.sets, (std::vector<std::string>{"nccl.nvls=false", "nccl.pxn=false", "nccl.collnet=true",
                                                 "nccl.max_channels=1"}));
  EXPECT_EQ(sets.notes,
            (std::vector<std::string>{
                "NCCL_NVLS_ENABLE=0, NCCL_PXN_DISABLE=1, NCCL_COLLNET_ENABLE=1, NCCL_MAX_NCHANNELS=0 (the log's)",
                "NCCL_BUFFSIZE=16777216 (the log's; --set replaces)", "not modelled: NCCL_IB_HCA=mlx5_0"}));
  // NCCL prints its parameters as integers: anything else is no NCCL log's.
  config::NcclTestsLog edited;
  edited.nccl_settings.push_back({"NCCL_NVLS_ENABLE", "false", SourceMark{FileName("e.log"), 3, 60}, "", {}});
  auto not_integer = cli::nccl_sets_of_log(edited, {});
  ASSERT_FALSE(not_integer.ok());
  EXPECT_NE(not_integer.error().to_string().find(
                "e.log:3:60: expected an integer for NCCL_NVLS_ENABLE, as NCCL prints its settings, found 'false'"),
            std::string::npos)
      << not_integer.error().to_string();
}

// A large job's NCCL_DEBUG=INFO log is mostly INFO lines the reader skips:
// they do not count against the input limit (here 1 MiB), the INFO lines it
// reads still count as settings, and line numbers hold across them. Other
// text over the limit, and a line longer than 1 MiB, are errors.
TEST(NcclTestsLog, ALargeDebugLogKeepsItsSettingsAndLineNumbers) {
  ::setenv("COLLSIM_MAX_INPUT_MB", "1", 1);
  const std::string dir = ::testing::TempDir();
  const std::string row =
      "     1048576        262144     float     sum      -1    46.21   22.69   22.69      0    45.80   22.89   "
      "22.89      0\n";
  const std::string rank = "#  Rank  0 Group  0 Pid 1 on a device 0 [0000:18:00] NVIDIA H100 80GB HBM3\n";
  const int noise = 30000;  // about 2.4 MB of INFO lines
  {
    std::ofstream big(dir + "debug.log");
    big << "a:1:1 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 8388608.\n" << rank;
    for (int i = 0; i < noise; ++i) big << "a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n";
    big << "a:1:1 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 4194304.\n" << row;
  }
  auto log = config::load_nccl_tests_log(dir + "debug.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  const auto sets = cli::nccl_sets_of_log(*log, {});
  ASSERT_FALSE(sets.ok());
  EXPECT_NE(sets.error().to_string().find(fmt::format("debug.log:{}:57: expected NCCL_BUFFSIZE = 8388608", noise + 3)),
            std::string::npos)
      << sets.error().to_string();
  {
    std::ofstream big(dir + "debug.log");
    big << "a:1:1 [0] NCCL INFO NCCL_BUFFSIZE set by environment to 8388608.\n" << rank;
    for (int i = 0; i < noise; ++i) big << "a:1:1 [0] NCCL INFO Channel 00/0 : 0[0] -> 1[1] via P2P/CUMEM/read\n";
    big << row;
  }
  log = config::load_nccl_tests_log(dir + "debug.log");
  ASSERT_TRUE(log.ok()) << log.error().to_string();
  ASSERT_EQ(log->nccl_settings.size(), 1u);
  EXPECT_EQ(log->nccl_settings[0].value, "8388608");
  ASSERT_EQ(log->rows.size(), 1u);
  EXPECT_EQ(log->rows[0].at.line, noise + 3);
  {
    std::ofstream big(dir + "text.log");
    for (int i = 0; i < noise; ++i) big << "# a comment line of the same length as the INFO lines above, or so\n";
  }
  log = config::load_nccl_tests_log(dir + "text.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().to_string().find("larger than 1 MiB without NCCL's INFO lines"), std::string::npos)
      << log.error().to_string();
  std::ofstream(dir + "line.log") << rank << std::string(config::kMaxNcclTestsLogLine + 1, 'x');
  log = config::load_nccl_tests_log(dir + "line.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().to_string().find("line.log:2:1: expected a line of an nccl-tests log (at most 1024 KiB)"),
            std::string::npos)
      << log.error().to_string();
  ::unsetenv("COLLSIM_MAX_INPUT_MB");
}

// NCCL_TESTS_SPLIT_MASK's groups are counted as distinct numbers (a mask
// of 0x8 gives groups 0 and 8: two), and one group of any number is one
// communicator.
TEST(NcclTestsLog, CountsDistinctGroups) {
  const std::string row =
      "     1048576        262144     float     sum      -1    46.21   22.69   22.69      0    45.80   22.89   "
      "22.89      0\n";
  auto split = config::parse_nccl_tests_log(
      "#  Rank  0 Group  0 Pid 1 on a device 0 [0] H100\n#  Rank  1 Group  8 Pid 2 on a device 1 [0] H100\n" + row,
      "split.log");
  ASSERT_TRUE(split.ok()) << split.error().to_string();
  EXPECT_EQ(split->groups, 2);
  auto one = config::parse_nccl_tests_log(
      "#  Rank  0 Group  3 Pid 1 on a device 0 [0] H100\n#  Rank  1 Group  3 Pid 2 on a device 1 [0] H100\n" + row,
      "one.log");
  ASSERT_TRUE(one.ok()) << one.error().to_string();
  EXPECT_EQ(one->groups, 1);
}

TEST(NcclTestsLog, PlacementListsConsecutiveGpusAsRanges) {
  EXPECT_EQ(cli::gpus_placement({0, 1, 2, 3, 8, 9, 10, 11}), "gpus:0-3,8-11");
  EXPECT_EQ(cli::gpus_placement({5, 0}), "gpus:5,0");
}

}  // namespace
}  // namespace collsim
