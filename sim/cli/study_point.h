// One point of a study (docs/sweeps.md): what its result depends on (a
// hash of the binary, the input files' contents, every override and
// option), how it is simulated (in a worker process), and its result file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/study_file.h"
#include "sim/report/study_report.h"

namespace collsim::cli {

// Simulated runs per point of a run.goodput study (docs/sweeps.md): a
// mean ETTR to about 0.1 point on a 576-GPU cluster over 30 days.
inline constexpr int kStudyGoodputRuns = 300;

// FNV-1a, 64 bits, as 16 hex digits: a stable key (not for security).
std::string hash_hex(std::string_view text);

// A point as planned: its assignments applied to the base (or why not), and
// the hash of its inputs.
struct Planned {
  config::StudyPoint point;
  std::vector<std::string> axis_values;
  std::optional<config::StudyBase> base;  // empty: the assignments themselves are invalid
  std::string plan_error;
  std::string hash;
};

// Everything a point's result depends on, spelled out (hash it for the key).
std::string point_inputs(const config::Study& study, const config::StudyBase& b,
                         const std::map<std::string, std::string>& files);
// A row with the point's identity and no results yet.
report::StudyRow empty_row(const report::StudyTable& t, const Planned& p);
// Simulates one point; failures are recorded in the row, never thrown.
report::StudyRow evaluate(const config::Study& study, const report::StudyTable& t, const Planned& p,
                          const std::map<std::string, std::string>& files);
// A finished point's result, or nothing when absent or unreadable.
std::optional<report::StudyRow> read_point(const std::string& file, const report::StudyTable& t);
// DIR/points/HASH.json.
std::string point_file(const std::string& out, const std::string& hash);

}  // namespace collsim::cli
