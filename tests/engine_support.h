// Shared helper for tests that run schedules on a backend directly.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/collective/schedule.h"
#include "sim/engine/backend.h"
#include "sim/topology/network.h"

namespace collsim::testing {

// Runs `schedules` on the backend named `backend_name` ("simgrid" or
// "analytical") with default options; a failure fails the test and gives
// default results (time 0), one per schedule.
inline std::vector<engine::ScheduleResult> run_schedules(const std::string& backend_name, const topology::Network& net,
                                                         const std::vector<collective::Schedule>& schedules) {
  auto backend = engine::make_backend(backend_name);
  EXPECT_TRUE(backend.ok());
  if (!backend.ok()) return std::vector<engine::ScheduleResult>(schedules.size());
  auto results = (*backend)->run(net, schedules, engine::RunOptions{});
  EXPECT_TRUE(results.ok()) << results.error().to_string();
  return results.ok() ? *results : std::vector<engine::ScheduleResult>(schedules.size());
}

}  // namespace collsim::testing
