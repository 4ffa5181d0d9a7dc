#include "sim/report/atomic_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace collsim::report {

Status write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return make_file_error(fmt::format("cannot write '{}': {}", path, std::strerror(errno)), errno);
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !flushed || !closed) {
    const int err = errno;
    std::remove(tmp.c_str());
    return make_file_error(fmt::format("cannot write '{}': {}", path, std::strerror(err)), err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    return make_file_error(fmt::format("cannot write '{}': {}", path, std::strerror(err)), err);
  }
  return Ok{};
}

}  // namespace collsim::report
