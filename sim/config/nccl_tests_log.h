// An nccl-tests output log (what all_reduce_perf and its siblings print),
// read so that `collsim validate --nccl-tests FILE` can simulate the same
// run and compare. The format is nccl-tests' own (github.com/NVIDIA/nccl-tests,
// src/util.cu, 2.19.6):
//   # nccl-tests version 2.17.8 nccl-headers=22902 nccl-library=22902
//   # nThread 1 nGpus 1 minBytes 8 maxBytes 8589934592 step: 2(factor) warmup iters: 5 iters: 20 ...
//   #  Rank  0 Group  0 Pid   1887 on   worker-1 device  0 [0000:8d:00] NVIDIA H100 80GB HBM3
//        1048576        262144     float     sum      -1    121.8    8.61   16.14      0    126.6 ...
// A result row is size (B), count (elements), type, redop, root, then the
// out-of-place time (us), algbw and busbw (GB/s) and #wrong, then the same
// in place (per-iteration columns and timestamps may follow; ignored).
// Which of redop and root a row has is read from the column header above
// it: before nccl-tests 2.13 each test printed its own (all_gather neither,
// broadcast a root only), and 2.13.0-2.13.3 leave the reduction blank for
// the ops that reduce nothing. Rows of 0 bytes are left out.
// Lines prefixed by a launcher's tag ("[1,0]<stdout>:", "[0]", srun's
// "0: ") are read without it; any other line (NCCL's INFO lines, the
// summary) is skipped, but "NCCL version X.Y.Z" in NCCL_DEBUG=INFO output
// names the release where nccl-tests' own line does not.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

struct NcclTestsRow {
  double bytes = 0;  // nccl-tests' size column: the buffer's bytes, as `collsim collective` prints them
  std::string type, redop;
  int root = -1;                                           // -1 also where the log has no root column
  double time_us = 0, algbw_GBps = 0, busbw_GBps = 0;      // out of place
  SourceMark at;                                           // the row's line (its size)
  int type_column = 0, redop_column = 0, root_column = 0;  // where they are on it (0: not printed)
};

struct NcclTestsLog {
  std::vector<NcclTestsRow> rows;  // in the log's order, one size each
  // Rank r's host ("on HOST" of its "# Rank r" line), by rank; empty when
  // the log lists no ranks.
  std::vector<std::string> rank_hosts;
  std::string device;  // the first listed rank's GPU as printed ("NVIDIA H100 80GB HBM3")
  // The NCCL release, "2.29.2" (from nccl-library=22902, else NCCL's
  // "NCCL version 2.29.2+cuda12.8"); empty when the log names none.
  std::string nccl;
  int iters = 0;  // nccl-tests' -n ("iters: 20" in its header); 0 when not printed
  // "# Collective test starting: all_reduce_perf" (nccl-tests 2.16.7 on);
  // empty when not printed.
  std::string binary;
  // "# Blocking Enabled: ... barrier after each ..." (-z 1, or 3): each
  // iteration is one collective's time, as collsim's -n 1.
  bool blocking = false;
  int groups = 1;  // the '# Rank' lines' distinct groups (NCCL_TESTS_SPLIT_MASK splits the ranks)
  // Whether a column header was read, and whether the last one gives its
  // rows a reduction and a root column (before nccl-tests 2.13, which ops
  // print them tells the op's family: cli/validate_log.cc).
  bool header = false, redop_column = false, root_column = false;
  int empty_rows = 0;  // rows of 0 bytes, left out
  // NCCL_ALGO and NCCL_PROTO as NCCL's INFO lines report them ("NCCL_ALGO
  // set by environment to Tree"); empty when not.
  std::string nccl_algo, nccl_proto;
  // NCCL's settings its INFO lines report (NCCL_DEBUG=INFO; its ENV
  // subsystem, on by default): "NCCL_BUFFSIZE set by environment to
  // 16777216." for each NCCL_PARAM a run set (src/misc/param.cc; NCCL_ALGO
  // and NCCL_PROTO too, above), and "Comm config minCTAs reset to
  // NCCL_MIN_CTAS=24" (src/init.cc), in the order first seen, each once;
  // `at` marks its value. Ranks that report another value (a per-node
  // NCCL_SOCKET_IFNAME) leave the first other one and its mark: whether
  // that is an error depends on the setting (cli/validate_log.h).
  struct Setting {
    std::string name;   // NCCL_BUFFSIZE
    std::string value;  // 16777216 (NCCL's trailing '.' removed)
    SourceMark at;
    std::string other_value;  // empty: every rank reports `value`
    SourceMark other_at;
  };
  std::vector<Setting> nccl_settings;
};

// Errors (bad input): a row-like line whose columns do not read (its
// file:line:column, what was expected, what was found); a size given twice
// or rows of more than one type, reduction or root (one run per log); rank
// lines that skip a rank; CPU times (-C 1); no result row at all.
Expected<NcclTestsLog> parse_nccl_tests_log(const std::string& text, const std::string& file);
// Reads `path` and parses it, naming it `shown` in errors (empty: the
// path). NCCL's INFO lines other than those read above are dropped as the
// file streams in (a large job's NCCL_DEBUG=INFO log runs to gigabytes), so
// read_text_file's size limit bounds what is left; a line longer than
// kMaxNcclTestsLogLine is an error (no log prints one: /dev/zero stops here).
inline constexpr std::size_t kMaxNcclTestsLogLine = 1 << 20;
Expected<NcclTestsLog> load_nccl_tests_log(const std::string& path, const std::string& shown = "");

}  // namespace collsim::config
