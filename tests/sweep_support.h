// Helpers for the sweep tests (sweep_test.cc, sweep_metrics_test.cc): study
// files and results directories under the test's temporary directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace collsim::testing {

inline std::string write_study(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

inline std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "sweep_" + std::to_string(::getpid()) + "_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Writes `study` as DIR/s.yaml and, with its first `what` replaced by
// `with`, as DIR/bad.yaml (a study to be refused).
inline void write_study_and_broken(const std::string& dir, const std::string& study, const std::string& what,
                                   const std::string& with) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "s.yaml") << study;
  std::string bad = study;
  bad.replace(bad.find(what), what.size(), with);
  std::ofstream(dir + "bad.yaml") << bad;
}

// Rows of results.csv after the header.
inline std::vector<std::string> rows_of(const std::string& csv) {
  std::vector<std::string> rows;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) rows.push_back(line);
  return rows;
}

}  // namespace collsim::testing
