// Subcommands. Each takes the arguments after its name and returns the
// process exit code: kExitOk, or what exit_code.h's fail() returns for the
// error that stopped it (2 bad input or usage, 1 internal failure).
#pragma once

#include <string>
#include <vector>

namespace collsim::cli {

int collective_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);
int topo_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int goodput_command(const std::vector<std::string>& args);

}  // namespace collsim::cli
