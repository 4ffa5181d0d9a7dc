#include "sim/engine/backend.h"

#include <fmt/format.h>

#include "sim/engine/simgrid/simgrid_backend.h"

namespace collsim::engine {

Expected<std::unique_ptr<Backend>> make_backend(const std::string& name) {
  if (name == "simgrid") return std::unique_ptr<Backend>(std::make_unique<SimGridBackend>());
  return make_error(fmt::format("unknown backend '{}': expected 'simgrid'", name));
}

}  // namespace collsim::engine
