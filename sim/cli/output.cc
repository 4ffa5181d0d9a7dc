#include "sim/cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "sim/report/atomic_file.h"

namespace collsim::cli {

namespace {

// Whether two paths name one file (the same inode, or the same path once
// normalised when one does not exist yet).
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec) && !ec) return true;
  const auto ca = std::filesystem::weakly_canonical(a, ec);
  if (ec) return false;
  const auto cb = std::filesystem::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

// Why `path` cannot be written (atomically: a temporary file in its
// directory, then renamed), or "" when it can as far as can be told before
// the run: its directory exists and is writable, and it is not a directory.
std::string unwritable(const std::string& given) {
  if (given.empty()) return "expected a file name (or - for standard output), found an empty one";
  // A device or pipe is written in place; a symbolic link's file is
  // replaced, in that file's directory (report/atomic_file.h).
  const report::OutputTarget target = report::output_target(given);
  const std::string& path = target.path;
  if (target.in_place) return ::access(path.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "it is a directory";
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec)) return fmt::format("directory '{}' does not exist", dir.string());
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return fmt::format("directory '{}': {}", dir.string(), std::strerror(errno));
  return "";
}

}  // namespace

Expected<bool> output_to_stdout(const ParsedArgs& args, const std::vector<std::string>& options,
                                const std::vector<std::string>& inputs) {
  for (const auto& o : options) {
    if (!args.has(o) || args.get(o) == "-") continue;
    // Found before the run, not after it (a long run's result would be lost).
    if (const std::string why = unwritable(args.get(o)); !why.empty())
      return Error{fmt::format("cannot write '{}': {}", args.get(o), why), "--" + o, {}};
    for (const auto& in : inputs) {
      if (!in.empty() && same_file(args.get(o), in)) {
        return Error{
            fmt::format("'{}' is also an input; writing the output there would replace it", args.get(o)), "--" + o, {}};
      }
    }
  }
  // Two outputs to one file: the second would silently replace the first.
  for (std::size_t i = 0; i < options.size(); ++i) {
    const auto& a = options[i];
    if (!args.has(a) || args.get(a) == "-") continue;
    for (std::size_t j = i + 1; j < options.size(); ++j) {
      const auto& b = options[j];
      if (args.has(b) && args.get(b) != "-" && same_file(args.get(a), args.get(b))) {
        return Error{fmt::format("--{} and --{} both name '{}'; give each output its own file", a, b, args.get(b)),
                     "--" + b,
                     {}};
      }
    }
  }
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

ProgressLine::ProgressLine(std::string command)
    : command_(std::move(command)), tty_(::isatty(STDERR_FILENO) != 0), started_(std::chrono::steady_clock::now()) {}

void ProgressLine::operator()(const std::string& what) const {
  if (!tty_) return;
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::fprintf(stderr, "\r\033[Kcollsim %s [%.1f s]: %s", command_.c_str(), t, what.c_str());
  std::fflush(stderr);
}

std::string count_and_time_left(std::size_t done, std::size_t total, std::chrono::steady_clock::time_point since) {
  std::string out = fmt::format("{} of {}", done, total);
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
  if (done > 0 && done < total && t >= 1)
    out += fmt::format(", ~{:.0f} s left", t / static_cast<double>(done) * static_cast<double>(total - done));
  return out;
}

void ProgressLine::clear() const {
  if (tty_) std::fputs("\r\033[K", stderr);
}

}  // namespace collsim::cli
