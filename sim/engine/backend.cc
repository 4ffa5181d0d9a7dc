#include "sim/engine/backend.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

#include "sim/config/link_classes.h"
#include "sim/engine/analytical_backend.h"
#include "sim/engine/simgrid/simgrid_backend.h"

namespace collsim::engine {

const std::vector<int>& connection_route(const topology::Network& network, const collective::Schedule& s, int src,
                                         int via, int dst) {
  if (via >= 0) return network.exit_route(src, via, dst);
  return s.point_to_point || s.pxn_between_domains || network.needs_stand_in(src, dst) ? network.p2p_route(src, dst)
                                                                                       : network.route(src, dst);
}

collective::HopKind hop_kind(const topology::Network& network, const std::vector<int>& route) {
  collective::HopKind kind = collective::HopKind::kNvlink;
  // A network hop: a link of a scale-out class, or one that leaves a NIC
  // for a fabric switch or another NIC, whatever its class is named (efa,
  // a class of the file's own).
  using config::DeviceKind;
  for (int l : route) {
    const auto& link = network.links()[l];
    const std::string& cls = link.link_class;
    const bool nic_cable = (link.from_kind == DeviceKind::kNic || link.to_kind == DeviceKind::kNic) &&
                           (link.from_kind == DeviceKind::kSwitch || link.to_kind == DeviceKind::kSwitch ||
                            link.from_kind == link.to_kind);
    if (nic_cable || config::is_scale_out_class(cls)) return collective::HopKind::kNet;
    if (cls == "pcie") kind = collective::HopKind::kPcie;
  }
  return kind;
}

Expected<std::unique_ptr<Backend>> make_backend(const std::string& name) {
  if (name == "simgrid") return std::unique_ptr<Backend>(std::make_unique<SimGridBackend>());
  if (name == "analytical") return std::unique_ptr<Backend>(std::make_unique<AnalyticalBackend>());
  return make_error(fmt::format("unknown backend '{}': expected simgrid or analytical", name));
}

double guard_memory_bytes() {
  for (const char* name : {"COLLSIM_MEMORY_GB", "COLLSIM_SIMGRID_MEMORY_GB"})
    if (const char* gb = std::getenv(name); gb != nullptr && std::atof(gb) > 0) return std::atof(gb) * 1e9;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0;
}

}  // namespace collsim::engine
