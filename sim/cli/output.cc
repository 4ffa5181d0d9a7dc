#include "sim/cli/output.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sim/report/atomic_file.h"

namespace collsim::cli {

Expected<bool> output_to_stdout(const ParsedArgs& args, const std::vector<std::string>& options) {
  std::string first;
  for (const auto& o : options) {
    if (!args.has(o) || args.get(o) != "-") continue;
    if (!first.empty()) {
      return make_error(
          fmt::format("--{} and --{} both name '-' (standard output); send one of them to a file", first, o));
    }
    first = o;
  }
  return !first.empty();
}

Status write_output(const std::string& path, const std::string& content) {
  if (path != "-") return report::write_file_atomically(path, content);
  if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size() || std::fflush(stdout) != 0) {
    const int err = errno;
    // A closed pipe or a full disk behind the redirection: not the input's fault.
    return make_internal_error(fmt::format("cannot write to standard output: {}", std::strerror(err)));
  }
  return Ok{};
}

}  // namespace collsim::cli
