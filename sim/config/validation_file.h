// The validation table (tests/validation/cases.yaml): published measurements
// with the collective, topology and algorithm they were taken with.
#pragma once

#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

struct ValidationPoint {
  double bytes = 0;
  double measured = 0;  // in the case's metric
};

struct ValidationCase {
  std::string name;
  std::string source;
  std::string topology;  // path, relative to the current directory
  std::string op;
  std::string algo = "auto";
  std::string proto = "auto";
  std::string metric;  // "busbw_GBps" or "time_us"
  std::vector<ValidationPoint> points;
  SourceMark declared_at;
};

Expected<std::vector<ValidationCase>> load_validation_file(const std::string& path);

}  // namespace collsim::config
