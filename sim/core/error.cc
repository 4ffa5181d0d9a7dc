#include "sim/core/error.h"

#include <fmt/format.h>

#include <cerrno>

namespace collsim {

std::string Error::to_string() const {
  std::string out;
  if (where && where->line > 0) {
    out += fmt::format("{}:{}:{}: ", where->file.str(), where->line, where->column);
  } else if (where) {
    out += where->file.str() + ": ";  // not from a file position (e.g. a --set value)
  }
  if (!field.empty()) out += fmt::format("field '{}': ", field);
  out += message;
  return out;
}

Error make_file_error(std::string message, int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case EROFS:
    case ENAMETOOLONG:
    case ELOOP:
    case EEXIST:  // create_directories: a file where a directory was asked for
      return make_error(std::move(message));
    default:
      return make_internal_error(std::move(message));
  }
}

}  // namespace collsim
