#include "sim/engine/backend.h"

#include <fmt/format.h>

#include "sim/engine/analytical_backend.h"
#include "sim/engine/simgrid/simgrid_backend.h"

namespace collsim::engine {

collective::HopKind hop_kind(const topology::Network& network, const std::vector<int>& route) {
  collective::HopKind kind = collective::HopKind::kNvlink;
  for (int l : route) {
    const std::string& cls = network.links()[l].link_class;
    if (cls == "infiniband" || cls == "ethernet") return collective::HopKind::kNet;
    if (cls == "pcie") kind = collective::HopKind::kPcie;
  }
  return kind;
}

Expected<std::unique_ptr<Backend>> make_backend(const std::string& name) {
  if (name == "simgrid") return std::unique_ptr<Backend>(std::make_unique<SimGridBackend>());
  if (name == "analytical") return std::unique_ptr<Backend>(std::make_unique<AnalyticalBackend>());
  return make_error(fmt::format("unknown backend '{}': expected simgrid or analytical", name));
}

}  // namespace collsim::engine
