#include "sim/report/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace collsim::report {

namespace {

Error write_error(const std::string& path, int err) {
  return make_file_error(fmt::format("cannot write '{}': {}", path, std::strerror(err)), err);
}

// A device, pipe or socket (/dev/null, a FIFO, a shell's /dev/fd/63) is
// written in place: renaming a file over it would replace the device
// itself, and a reader waiting on the pipe would get nothing.
Status write_in_place(const std::string& path, const std::string& content) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return write_error(path, errno);
  int err = 0;
  if (std::fwrite(content.data(), 1, content.size(), f) != content.size()) err = errno;
  if (std::fflush(f) != 0 && err == 0) err = errno;
  if (std::fclose(f) != 0 && err == 0) err = errno;
  if (err != 0) return write_error(path, err);
  return Ok{};
}

}  // namespace

OutputTarget output_target(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {path, false};
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return {path, true};
  // A symbolic link to a file: replace the file it names, not the link.
  std::error_code ec;
  if (std::filesystem::is_symlink(path, ec)) {
    const auto target = std::filesystem::canonical(path, ec);
    if (!ec) return {target.string(), false};
  }
  return {path, false};
}

Status write_file_atomically(const std::string& path_in, const std::string& content) {
  const OutputTarget target = output_target(path_in);
  if (target.in_place) return write_in_place(target.path, content);
  const std::string& path = target.path;
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return write_error(path_in, errno);
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !flushed || !closed) {
    const int err = errno;
    std::remove(tmp.c_str());
    return write_error(path_in, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return write_error(path_in, err);
  }
  return Ok{};
}

}  // namespace collsim::report
