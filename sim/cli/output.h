// Where a command's output files go: the path an option names, written
// atomically, or standard output when the path is "-". At most one option may
// name "-" (two documents on one stream would be neither), and when one does
// the command's human-readable text is left out, so that standard output is
// exactly that document (e.g. `collsim run ... --json - | jq .step_time_s`).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sim/cli/args.h"
#include "sim/core/error.h"

namespace collsim::cli {

// True when one of `options` was given the value "-"; an error naming both
// options when two were or when two name the same file (the second would
// replace the first), or naming the option whose path is one of `inputs`
// (the same file: writing the result would destroy the input), or naming
// an option whose file cannot be written (no such directory, a directory
// without write permission, a directory named as the file), so that a run
// does not end in an error after all its work.
Expected<bool> output_to_stdout(const ParsedArgs& args, const std::vector<std::string>& options,
                                const std::vector<std::string>& inputs = {});

// A progress line on standard error when it is a terminal ("collsim run
// [3.2 s]: costing collectives"), redrawn in place; nothing in a pipe.
class ProgressLine {
 public:
  explicit ProgressLine(std::string command);
  void operator()(const std::string& what) const;
  void clear() const;  // erases the line (before the report is printed)

 private:
  std::string command_;
  bool tty_;
  std::chrono::steady_clock::time_point started_;
};

// "3 of 40, ~12 s left": a stage's count and the time left at its rate
// since `since` (the stage's start); no estimate in its first second or
// once done.
std::string count_and_time_left(std::size_t done, std::size_t total, std::chrono::steady_clock::time_point since);

// Writes `content` to `path` atomically, or to standard output for "-".
Status write_output(const std::string& path, const std::string& content);

}  // namespace collsim::cli
