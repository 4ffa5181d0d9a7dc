// collsim: a discrete-event simulator of the communication inside distributed
// training. This file only dispatches to subcommands.
#include <fmt/format.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/heap_pages.h"
#include "sim/core/log.h"

namespace {

constexpr const char* kUsage =
    "usage: collsim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          simulate one training step: step time, exposed communication,\n"
    "               bottlenecks\n"
    "  goodput      what fraction of a training run trains: failures,\n"
    "               checkpoints, restarts and spares, Monte-Carlo over runs\n"
    "  sweep        run a what-if study: many points over any parameters,\n"
    "               resumable, shardable\n"
    "  collective   time one collective over a range of sizes, printed like\n"
    "               nccl-tests\n"
    "  validate     compare simulated collectives with published measurements\n"
    "  topo         inspect a topology: counts, bandwidth, diameter, the bill of\n"
    "               materials with watts and dollars, rack power\n"
    "  version      print collsim's version (also --version, -V)\n"
    "\n"
    "global options (anywhere on the line):\n"
    "  -v, -vv, -vvv         log what the simulator decides to standard error:\n"
    "                        info (algorithm choices, skipped candidates,\n"
    "                        aggregation), debug (PXN relays...), trace (routes)\n"
    "  --log-level LEVEL     trace, debug, info, warn (the default), error or off\n"
    "\n"
    "Run 'collsim <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace collsim::cli;
  use_huge_pages_for_heap();
  // Big clusters build and drop millions of small objects; glibc's default
  // hands freed memory back to the kernel and faults it in again (a third
  // of a 131,072-GPU run went to page faults). Keep it for reuse instead:
  // peak RSS is unchanged, wall time drops by about a quarter. (Where the
  // build links tcmalloc, CMakeLists.txt, it allocates instead and these
  // settings of glibc's allocator have nothing to act on.)
  mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  mallopt(M_TOP_PAD, 256 * 1024 * 1024);
  // Global options, anywhere on the line: -v (info), -vv (debug), -vvv
  // (trace), --log-level LEVEL (sim/core/log.h). The rest goes to the command.
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool verbose = a == "-v" || a == "-vv" || a == "-vvv";
    const bool level_option = a == "--log-level" || a.rfind("--log-level=", 0) == 0;
    if (!verbose && !level_option) {
      words.push_back(a);
      continue;
    }
    if (a == "--log-level" && i + 1 >= argc) return fail("", collsim::make_error("--log-level needs a value"));
    const std::string level = a == "-v"            ? std::string("info")
                              : a == "-vv"         ? std::string("debug")
                              : a == "-vvv"        ? std::string("trace")
                              : a == "--log-level" ? std::string(argv[++i])
                                                   : a.substr(12);
    if (!collsim::log::set_level(level)) {
      return fail("", collsim::make_error(fmt::format(
                          "--log-level must be trace, debug, info, warn, error or off, found '{}'", level)));
    }
  }
  if (words.empty()) {
    std::fputs(kUsage, stderr);
    return exit_code(collsim::make_error("no command"));
  }
  const std::string command = words.front();
  const std::vector<std::string> args(words.begin() + 1, words.end());
  if (command == "run") return run_command(args);
  if (command == "sweep") return sweep_command(args);
  if (command == "collective") return collective_command(args);
  if (command == "validate") return validate_command(args);
  if (command == "topo") return topo_command(args);
  if (command == "goodput") return goodput_command(args);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (command == "--version" || command == "-V" || command == "version") {
    std::printf("collsim %s\n", COLLSIM_VERSION);  // CMakeLists.txt's project(VERSION)
    return kExitOk;
  }
  // One line (the usage is `collsim --help`'s).
  return fail(
      "", collsim::make_error(fmt::format(
              "unknown command '{}'; expected run, sweep, goodput, collective, validate or topo (see collsim --help)",
              command)));
}
