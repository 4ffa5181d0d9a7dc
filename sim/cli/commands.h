// Subcommands. Each takes the arguments after its name and returns the
// process exit code: 0 success, 1 internal failure, 2 bad input or usage.
#pragma once

#include <string>
#include <vector>

namespace collsim::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

int collective_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);
int topo_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);

}  // namespace collsim::cli
