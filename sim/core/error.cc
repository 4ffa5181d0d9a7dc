#include "sim/core/error.h"

#include <fmt/format.h>

namespace collsim {

std::string Error::to_string() const {
  std::string out;
  if (where && where->line > 0) {
    out += fmt::format("{}:{}:{}: ", where->file, where->line, where->column);
  } else if (where) {
    out += where->file + ": ";  // not from a file position (e.g. a --set value)
  }
  if (!field.empty()) out += fmt::format("field '{}': ", field);
  out += message;
  return out;
}

}  // namespace collsim
