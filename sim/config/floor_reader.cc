#include "sim/config/floor_reader.h"

#include <fmt/format.h>

#include "sim/units/units.h"

namespace collsim::config {

namespace {

// A length field that must be >= 0 (or > 0 when `positive`).
Status read_length_field(const MapReader& m, std::string_view key, double& out, bool positive) {
  if (!m.has(key)) return Ok{};
  auto text = m.scalar(key);
  if (!text) return text.error();
  auto len = units::parse_length(*text);
  if (!len) return m.error_at(key, len.error().message);
  if (positive ? !(len->metres > 0) : len->metres < 0) {
    return m.error_at(key, fmt::format("expected a length {} 0, found {}", positive ? ">" : ">=", units::format(*len)));
  }
  out = len->metres;
  return Ok{};
}

// A rack's `cooling` (air, liquid), `power_budget` and rack-level `parts`.
Status read_rack_power(const MapReader& entry, const TopologySpec& spec, RackSpec& rack) {
  if (entry.has("cooling")) {
    auto c = entry.scalar("cooling");
    if (!c) return c.error();
    if (*c != "air" && *c != "liquid") {
      return entry.error_at("cooling", fmt::format("expected air or liquid, found '{}'", *c));
    }
    rack.cooling = *c;
  }
  if (entry.has("power_budget")) {
    auto t = entry.scalar("power_budget");
    if (!t) return t.error();
    auto p = units::parse_power(*t);
    if (!p) return entry.error_at("power_budget", p.error().message);
    if (!(p->watts > 0)) return entry.error_at("power_budget", fmt::format("expected a power > 0, found '{}'", *t));
    rack.budget_W = p->watts;
  }
  if (!entry.has("parts")) return Ok{};
  const YAML::Node list = entry.child("parts");
  if (!list.IsSequence()) return entry.error_at("parts", "expected a list of catalog part names");
  for (const auto& item : list) {
    const std::string name = item.IsScalar() ? item.Scalar() : "";
    const PartSpec* p = spec.catalog.find(name);
    if (p == nullptr || p->kind != PartKind::kRack) {
      return Error{fmt::format("expected a catalog part of kind rack, found '{}'", name), entry.field("parts"),
                   mark_of(item, entry.file())};
    }
    rack.parts.push_back(name);
  }
  return Ok{};
}

}  // namespace

Status read_cable(const MapReader& entry, const TopologySpec& spec, LinkSpec& link) {
  if (entry.has("length") && !entry.has("medium")) {
    return Error{"a link with 'length' needs 'medium' (auto, fibre, aoc, aec, dac or copper)", entry.field("medium"),
                 entry.mark_of("length")};
  }
  if (!entry.has("medium")) return Ok{};
  auto medium = entry.scalar("medium");
  if (!medium) return medium.error();
  if (!spec.media.count(*medium) && *medium != kAutoMedium) {
    std::vector<std::string_view> names{kAutoMedium};
    for (const auto& [n, m] : spec.media) names.push_back(n);
    std::string msg = fmt::format("unknown medium '{}'", *medium);
    if (auto near = closest_match(*medium, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return entry.error_at("medium", msg + "; expected auto, fibre, aoc, aec, dac, copper or one defined under media:");
  }
  link.medium = *medium;
  link.medium_at = entry.mark_of("medium");
  return read_length_field(entry, "length", link.length_m, false);
}

Status check_catalog_media(const TopologySpec& spec) {
  for (const auto& p : spec.catalog.parts) {
    if (p.kind != PartKind::kCable || spec.media.count(p.medium)) continue;
    std::vector<std::string_view> names;
    for (const auto& [n, m] : spec.media) names.push_back(n);
    std::string msg = fmt::format("cable '{}' has medium '{}', which is not a medium", p.name, p.medium);
    if (auto near = closest_match(p.medium, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return Error{msg + "; expected fibre, aoc, aec, dac or one defined under media:", "catalog.parts.medium",
                 p.declared_at};
  }
  return Ok{};
}

Expected<std::string> read_part_name(const MapReader& entry, const TopologySpec& spec, DeviceKind kind) {
  if (!entry.has("part")) return std::string{};
  auto name = entry.scalar("part");
  if (!name) return name.error();
  const PartSpec* p = spec.catalog.find(*name);
  if (p == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& q : spec.catalog.parts) names.push_back(q.name);
    std::string msg = fmt::format("no part named '{}' in the catalog", *name);
    if (auto near = closest_match(*name, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return entry.error_at("part", msg + " (catalog/parts.yaml, or add it under catalog: parts:)");
  }
  if (std::string_view(to_string(p->kind)) != to_string(kind)) {
    return entry.error_at(
        "part", fmt::format("part '{}' is a {}, this device is a {}", *name, to_string(p->kind), to_string(kind)));
  }
  return *name;
}

Status read_floor(const MapReader& top, TopologySpec& spec) {
  if (!top.has("floor")) return Ok{};
  MapReader floor(top.child("floor"), top.file(), "floor");
  if (auto s = floor.check({"rack_pitch", "row_pitch", "rack_height", "tray_above_rack", "slack"}); !s) return s;
  FloorSpec& f = spec.floor;
  for (auto [key, out, positive] : {std::tuple{"rack_pitch", &f.rack_pitch_m, true},
                                    {"row_pitch", &f.row_pitch_m, true},
                                    {"rack_height", &f.rack_height_m, true},
                                    {"tray_above_rack", &f.tray_above_rack_m, false},
                                    {"slack", &f.slack_m, false}}) {
    if (auto s = read_length_field(floor, key, *out, positive); !s) return s;
  }
  return Ok{};
}

Status read_racks(const MapReader& top, TopologySpec& spec, std::unordered_map<std::string, int>& rack_of_name) {
  if (!top.has("racks")) return Ok{};
  std::unordered_map<long long, int> rack_at;  // row << 21 | slot -> index
  const YAML::Node list = top.child("racks");
  if (!list.IsSequence()) return top.error_at("racks", "expected a list of {name, row, slot}");
  for (std::size_t i = 0; i < list.size(); ++i) {
    MapReader entry(list[i], top.file(), fmt::format("racks[{}]", i));
    if (auto s = entry.check({"name", "row", "slot", "cooling", "power_budget", "parts"}); !s) return s;
    RackSpec rack;
    auto name = entry.scalar("name");
    if (!name) return name.error();
    rack.name = *name;
    rack.declared_at = entry.mark();
    for (auto [key, out] : {std::pair{"row", &rack.row}, {"slot", &rack.slot}}) {
      auto v = entry.integer_in(key, 0, 1 << 20, key == std::string_view("row") ? "a row" : "a slot");
      if (!v) return v.error();
      *out = *v;
    }
    const int index = static_cast<int>(spec.racks.size());
    if (!rack_of_name.try_emplace(rack.name, index).second) {
      return entry.error_at("name", fmt::format("rack '{}' is defined twice", rack.name));
    }
    if (auto [it, fresh] = rack_at.try_emplace((static_cast<long long>(rack.row) << 21) | rack.slot, index); !fresh) {
      const RackSpec& other = spec.racks[static_cast<std::size_t>(it->second)];
      return entry.error_at("slot", fmt::format("rack '{}' stands in row {} slot {}, where rack '{}' already is "
                                                "(line {})",
                                                rack.name, rack.row, rack.slot, other.name, other.declared_at.line));
    }
    if (auto s = read_rack_power(entry, spec, rack); !s) return s;
    spec.racks.push_back(rack);
  }
  return Ok{};
}

Status read_media(const MapReader& top, TopologySpec& spec) {
  if (!top.has("media")) return Ok{};
  const YAML::Node media = top.child("media");
  if (!media.IsMap()) return top.error_at("media", "expected a map of medium: {delay_per_m, reach}");
  for (const auto& kv : media) {
    const std::string name = kv.first.Scalar();
    MapReader entry(kv.second, top.file(), "media." + name);
    if (auto s = entry.check({"delay_per_m", "reach"}); !s) return s;
    MediumSpec m = spec.media.count(name) ? spec.media[name] : MediumSpec{name, 0, 0};
    if (entry.has("delay_per_m")) {
      auto text = entry.scalar("delay_per_m");
      if (!text) return text.error();
      auto d = units::parse_duration(*text);
      if (!d) return entry.error_at("delay_per_m", d.error().message);
      if (!(d->seconds > 0)) return entry.error_at("delay_per_m", "expected a delay per metre > 0, like 4.9ns");
      m.delay_s_per_m = d->seconds;
    }
    if (auto s = read_length_field(entry, "reach", m.reach_m, true); !s) return s;
    if (!(m.delay_s_per_m > 0 && m.reach_m > 0)) {
      return Error{fmt::format("a new medium '{}' needs both delay_per_m and reach", name), "media." + name,
                   entry.mark()};
    }
    spec.media[name] = m;
  }
  return Ok{};
}

Status read_placement(const MapReader& entry, const TopologySpec& spec,
                      const std::unordered_map<std::string, int>& rack_of_name, int& rack, double& height_m) {
  rack = -1;
  height_m = -1;
  if (!entry.has("rack")) {
    if (entry.has("u")) return entry.error_at("u", "'u' places a device in its rack: give 'rack' too");
    return Ok{};
  }
  auto name = entry.scalar("rack");
  if (!name) return name.error();
  if (auto it = rack_of_name.find(*name); it != rack_of_name.end()) rack = it->second;
  if (rack < 0) {
    std::vector<std::string_view> names;
    for (const auto& r : spec.racks) names.push_back(r.name);
    std::string msg = fmt::format("no rack named '{}' under racks:", *name);
    if (auto near = closest_match(*name, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return entry.error_at("rack", msg);
  }
  height_m = spec.floor.rack_height_m / 2;
  if (entry.has("u")) {
    auto u = entry.integer("u");
    if (!u) return u.error();
    const double h = (static_cast<double>(*u) - 0.5) * kRackUnit_m;
    if (*u < 1 || h > spec.floor.rack_height_m) {
      return entry.error_at("u", fmt::format("expected a rack unit from 1 to {} (rack_height {}), found {}",
                                             static_cast<int>(spec.floor.rack_height_m / kRackUnit_m),
                                             units::format(units::Length{spec.floor.rack_height_m}), *u));
    }
    height_m = h;
  }
  return Ok{};
}

}  // namespace collsim::config
