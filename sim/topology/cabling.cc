#include "sim/topology/cabling.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>

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
                   link.entry >= 0 ? fmt::format("links[{}].length", link.entry) : std::string("links.length"),
                   link.declared_at};
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

namespace {

// Where a length taken from the floor plan came from, for errors about it:
// the two racks and the floor's pitches; "" for a length given in the file
// or inside one rack.
std::string floor_route_note(const config::TopologySpec& spec, const config::LinkSpec& link) {
  if (link.length_m >= 0) return "";
  const auto& a = spec.devices[link.a];
  const auto& b = spec.devices[link.b];
  if (a.rack < 0 || b.rack < 0 || a.rack == b.rack) return "";
  const auto& ra = spec.racks[static_cast<std::size_t>(a.rack)];
  const auto& rb = spec.racks[static_cast<std::size_t>(b.rack)];
  return fmt::format(
      "; the length is the floor plan's route from rack '{}' (row {}, slot {}) to '{}' (row {}, slot "
      "{}) at floor.rack_pitch {} and floor.row_pitch {}",
      ra.name, ra.row, ra.slot, rb.name, rb.row, rb.slot, units::format(units::Length{spec.floor.rack_pitch_m}),
      units::format(units::Length{spec.floor.row_pitch_m}));
}

}  // namespace

CableChooser::CableChooser(const config::TopologySpec& spec) : spec_(spec) {
  for (const auto& p : spec.catalog.parts) {
    if (p.kind != config::PartKind::kCable) continue;
    const auto m = spec.media.find(p.medium);
    if (m != spec.media.end()) options_.push_back({&p, std::min(p.reach_m, m->second.reach_m)});
  }
}

namespace {

// Where a cable error points: the link's `medium:` value, else the entry.
SourceMark medium_mark(const config::LinkSpec& link) {
  return link.medium_at.line > 0 ? link.medium_at : link.declared_at;
}

// The field that chose a link's cable: its entry's `medium`, or the cluster
// template's fabric cable.
std::string medium_field(const config::LinkSpec& link) {
  return link.entry >= 0 ? fmt::format("links[{}].medium", link.entry) : std::string("cluster.fabric.cable");
}

}  // namespace

Expected<const config::PartSpec*> CableChooser::choose(const config::LinkSpec& link, double length_m) const {
  const bool automatic = link.medium == config::kAutoMedium;
  // `copper` is the built-in alias of `dac`, whose cables the catalog lists.
  const std::string_view medium = link.medium == "copper" ? std::string_view("dac") : std::string_view(link.medium);
  const double lane_Bps = link.rate_Bps / link.lanes;
  const config::PartSpec* best = nullptr;
  double best_usd = 0, longest = 0;
  for (const Option& o : options_) {
    const config::PartSpec& p = *o.part;
    // 1e-9: a rate written as 400Gb/s on both sides.
    if (p.rate_Bps < lane_Bps * (1 - 1e-9) || (!automatic && p.medium != medium)) continue;
    longest = std::max(longest, o.reach_m);
    if (o.reach_m < length_m) continue;
    const double usd = config::cable_usd(p, length_m);
    if (best == nullptr || usd < best_usd) best = &p, best_usd = usd;
  }
  // None at this rate at all: not priced, not an error (an `auto` cable is
  // then fibre: topology.cc).
  if (best != nullptr || longest == 0) return best;
  return Error{
      fmt::format("no {} in the catalog carries {} from '{}' to '{}' over {} (the longest at that rate "
                  "reaches {}; add one under catalog: parts:, or move the racks closer{})",
                  automatic ? std::string("cable") : link.medium + " cable", units::format(units::Rate{lane_Bps}),
                  spec_.devices[link.a].name, spec_.devices[link.b].name, units::format(units::Length{length_m}),
                  units::format(units::Length{longest}), floor_route_note(spec_, link)),
      medium_field(link), medium_mark(link)};
}

Expected<double> link_latency_s(const config::TopologySpec& spec, const config::LinkSpec& link, double length_m,
                                const std::string& medium) {
  if (medium.empty()) return link.fixed_latency_s;
  const config::MediumSpec& m = spec.media.at(medium);
  if (length_m > m.reach_m) {
    return Error{fmt::format("the {} cable from '{}' to '{}' would be {} long, beyond the {} reach of {} (use a "
                             "longer-reach medium, or move the racks closer{})",
                             medium, spec.devices[link.a].name, spec.devices[link.b].name,
                             units::format(units::Length{length_m}), medium, units::format(units::Length{m.reach_m}),
                             floor_route_note(spec, link)),
                 medium_field(link), medium_mark(link)};
  }
  return link.fixed_latency_s + length_m * m.delay_s_per_m;
}

}  // namespace collsim::topology
