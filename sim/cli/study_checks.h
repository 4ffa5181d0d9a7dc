// Checks of a study before anything runs (docs/sweeps.md): the values of
// run./collective. fields, and that every topology./workload. path names a
// field of its file. Errors point at the value in the study file.
#pragma once

#include <map>
#include <string>

#include "sim/config/study_file.h"
#include "sim/core/error.h"

namespace collsim::cli {

// `files`: each input file's path -> its text, as the points will read them.
Status check_study(const config::Study& study, const std::map<std::string, std::string>& files);

}  // namespace collsim::cli
