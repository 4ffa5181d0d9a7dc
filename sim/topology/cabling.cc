#include "sim/topology/cabling.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "sim/units/units.h"

namespace collsim::topology {

Expected<double> cable_length_m(const config::TopologySpec& spec, const config::LinkSpec& link) {
  if (link.length_m >= 0) return link.length_m;
  const auto& a = spec.devices[link.a];
  const auto& b = spec.devices[link.b];
  for (const auto* d : {&a, &b}) {
    if (d->rack < 0) {
      return Error{fmt::format("the cable from '{}' to '{}' needs a length: give 'length:', or place '{}' in a rack "
                               "(rack: under its device group)",
                               a.name, b.name, d->name),
                   "links.length", link.declared_at};
    }
  }
  const config::FloorSpec& f = spec.floor;
  if (a.rack == b.rack) return std::fabs(a.height_m - b.height_m) + f.slack_m;
  const auto& ra = spec.racks[a.rack];
  const auto& rb = spec.racks[b.rack];
  const double up =
      (f.rack_height_m - a.height_m + f.tray_above_rack_m) + (f.rack_height_m - b.height_m + f.tray_above_rack_m);
  const double along = std::abs(ra.slot - rb.slot) * f.rack_pitch_m + std::abs(ra.row - rb.row) * f.row_pitch_m;
  return up + along + f.slack_m;
}

Expected<double> link_latency_s(const config::TopologySpec& spec, const config::LinkSpec& link, double length_m) {
  if (link.medium.empty()) return link.fixed_latency_s;
  const config::MediumSpec& m = spec.media.at(link.medium);
  if (length_m > m.reach_m) {
    return Error{
        fmt::format("the {} cable from '{}' to '{}' would be {} long, beyond the {} reach of {} (use a "
                    "longer-reach medium, or move the racks closer)",
                    link.medium, spec.devices[link.a].name, spec.devices[link.b].name,
                    units::format(units::Length{length_m}), link.medium, units::format(units::Length{m.reach_m})),
        "links.medium", link.declared_at};
  }
  return link.fixed_latency_s + length_m * m.delay_s_per_m;
}

}  // namespace collsim::topology
