#include "sim/core/error.h"

#include <fmt/format.h>

namespace collsim {

std::string Error::to_string() const {
  std::string out;
  if (where) out += fmt::format("{}:{}:{}: ", where->file, where->line, where->column);
  if (!field.empty()) out += fmt::format("field '{}': ", field);
  out += message;
  return out;
}

}  // namespace collsim
