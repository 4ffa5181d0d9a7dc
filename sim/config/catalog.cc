#include "sim/config/catalog.h"

#include <fmt/format.h>

#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::config {

extern const char* const kBuiltinCatalogText;  // catalog/parts.yaml (generated: build/generated/catalog_text.cc)

const char* to_string(PartKind kind) {
  switch (kind) {
    case PartKind::kGpu:
      return "gpu";
    case PartKind::kCpu:
      return "cpu";
    case PartKind::kNic:
      return "nic";
    case PartKind::kNvSwitch:
      return "nvswitch";
    case PartKind::kPcieSwitch:
      return "pcie_switch";
    case PartKind::kSwitch:
      return "switch";
    case PartKind::kCable:
      return "cable";
    case PartKind::kRack:
      return "rack";
  }
  return "?";
}

namespace {

constexpr PartKind kAllPartKinds[] = {PartKind::kGpu,        PartKind::kCpu,    PartKind::kNic,   PartKind::kNvSwitch,
                                      PartKind::kPcieSwitch, PartKind::kSwitch, PartKind::kCable, PartKind::kRack};

// A power field (units::parse_power), >= 0.
Expected<double> parse_watts(const MapReader& m, std::string_view key) {
  auto text = m.scalar(key);
  if (!text) return text.error();
  auto p = units::parse_power(*text);
  if (!p) return m.error_at(key, p.error().message);
  if (p->watts < 0) return m.error_at(key, fmt::format("expected a power >= 0, found '{}'", *text));
  return p->watts;
}

// A rate or a length field, > 0.
template <typename Parse>
Status positive_field(const MapReader& e, std::string_view key, Parse&& parse, double& out) {
  if (!e.has(key)) return Ok{};
  auto t = e.scalar(key);
  if (!t) return t.error();
  auto v = parse(*t);
  if (!v) return e.error_at(key, v.error().message);
  if (!(*v > 0)) return e.error_at(key, fmt::format("expected a {} > 0, found '{}'", key, *t));
  out = *v;
  return Ok{};
}

Expected<double> non_negative(const MapReader& m, std::string_view key, std::string_view what) {
  auto v = m.number(key);
  if (!v) return v.error();
  if (*v < 0) return m.error_at(key, fmt::format("expected {} >= 0, found {}", what, *v));
  return *v;
}

Status read_part(const MapReader& e, Catalog& into) {
  if (auto s = e.check({"name", "kind", "model", "medium", "class", "rate", "ports", "reach", "power", "idle_power",
                        "price", "price_per_m", "copper_cables", "source"});
      !s) {
    return s;
  }
  auto name = e.scalar("name");
  if (!name) return name.error();
  const PartSpec* old = into.find(*name);
  PartSpec p = old ? *old : PartSpec{};
  p.name = *name;
  p.declared_at = e.mark();
  if (e.has("kind") || !old) {
    auto kind = e.scalar("kind");
    if (!kind) return kind.error();
    bool known = false;
    std::vector<std::string_view> names;
    for (PartKind k : kAllPartKinds) {
      names.push_back(to_string(k));
      if (*kind == to_string(k)) p.kind = k, known = true;
    }
    if (!known) {
      std::string msg = fmt::format("unknown part kind '{}'", *kind);
      if (auto near = closest_match(*kind, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
      return e.error_at("kind", msg + "; expected gpu, cpu, nic, nvswitch, pcie_switch, switch, cable or rack");
    }
  }
  for (auto [key, out] :
       {std::pair{"model", &p.model}, {"medium", &p.medium}, {"class", &p.fabric_class}, {"source", &p.source}}) {
    if (!e.has(key)) continue;
    auto v = e.scalar(key);
    if (!v) return v.error();
    *out = *v;
  }
  auto rate = [](const std::string& t) -> Expected<double> {
    auto r = units::parse_rate(t);
    if (!r) return r.error();
    return r->bytes_per_s;
  };
  auto length = [](const std::string& t) -> Expected<double> {
    auto r = units::parse_length(t);
    if (!r) return r.error();
    return r->metres;
  };
  if (auto s = positive_field(e, "rate", rate, p.rate_Bps); !s) return s;
  if (auto s = positive_field(e, "reach", length, p.reach_m); !s) return s;
  if (e.has("ports")) {
    auto v = e.integer_in("ports", 1, 1 << 16, "a port count");
    if (!v) return v.error();
    p.ports = *v;
  }
  if (e.has("copper_cables")) {
    auto v = e.integer_in("copper_cables", 0, 1 << 24, "a cable count");
    if (!v) return v.error();
    p.copper_cables = *v;
  }
  for (auto [key, out] : {std::pair{"power", &p.watts}, {"idle_power", &p.idle_watts}}) {
    if (!e.has(key)) continue;
    auto w = parse_watts(e, key);
    if (!w) return w.error();
    *out = *w;
  }
  for (auto [key, out] : {std::pair{"price", &p.usd}, {"price_per_m", &p.usd_per_m}}) {
    if (!e.has(key)) continue;
    auto v = non_negative(e, key, "a price in US dollars");
    if (!v) return v.error();
    *out = *v;
  }
  if (!old) {
    // A new part must say what it draws, costs and where the figures come from.
    for (const char* key : {"power", "price", "source"}) {
      if (!e.has(key)) {
        return Error{fmt::format("part '{}' has no {} (every part needs power, price and source)", p.name, key),
                     e.field(key), e.mark()};
      }
    }
  }
  // What its kind needs (an override may change the kind).
  const bool cable = p.kind == PartKind::kCable;
  if (cable && (p.medium.empty() || !(p.rate_Bps > 0) || !(p.reach_m > 0))) {
    return e.error_at("medium", fmt::format("cable '{}' needs medium, rate and reach", p.name));
  }
  if (p.kind == PartKind::kGpu && p.model.empty()) {
    return e.error_at("model", fmt::format("GPU part '{}' needs the GPU model it is (model: h100...)", p.name));
  }
  if ((p.kind == PartKind::kNic || p.kind == PartKind::kSwitch) && !(p.rate_Bps > 0)) {
    return e.error_at("rate", fmt::format("{} part '{}' needs its port rate (rate:)", to_string(p.kind), p.name));
  }
  if (p.kind == PartKind::kSwitch && p.ports == 0) {
    return e.error_at("ports", fmt::format("switch part '{}' needs its port count (ports:)", p.name));
  }
  if (old) {
    into.parts[static_cast<std::size_t>(into.index.at(p.name))] = std::move(p);
  } else {
    into.index[p.name] = static_cast<int>(into.parts.size());
    into.parts.push_back(std::move(p));
  }
  return Ok{};
}

Status read_energy(const MapReader& m, EnergySpec& energy) {
  if (auto s = m.check({"pue", "usd_per_kwh", "depreciation_years", "gpu_busy_share", "sources"}); !s) return s;
  struct Field {
    const char* key;
    double* out;
    double lo, hi;
    const char* what;
  };
  for (const Field& f : {Field{"pue", &energy.pue, 1, 10, "a PUE from 1 to 10"},
                         Field{"usd_per_kwh", &energy.usd_per_kwh, 0, 100, "a price per kWh from 0 to 100 dollars"},
                         Field{"depreciation_years", &energy.depreciation_years, 0.1, 100, "years from 0.1 to 100"},
                         Field{"gpu_busy_share", &energy.gpu_busy_share, 0, 2, "a share of the GPU's power, 0 to 2"}}) {
    if (!m.has(f.key)) continue;
    auto v = m.number(f.key);
    if (!v) return v.error();
    if (!(*v >= f.lo && *v <= f.hi)) return m.error_at(f.key, fmt::format("expected {}, found {}", f.what, *v));
    *f.out = *v;
  }
  if (m.has("sources")) {
    MapReader src(m.child("sources"), m.file(), m.path() + ".sources");
    if (auto s = src.check({"pue", "usd_per_kwh", "depreciation_years", "gpu_busy_share"}); !s) return s;
    for (const char* key : {"pue", "usd_per_kwh", "depreciation_years", "gpu_busy_share"}) {
      if (!src.has(key)) continue;
      auto v = src.scalar(key);
      if (!v) return v.error();
      energy.sources[key] = *v;
    }
  }
  return Ok{};
}

Status read_rack_budgets(const MapReader& m, Catalog& into) {
  if (auto s = m.check({"air", "liquid"}); !s) return s;
  for (const char* cooling : {"air", "liquid"}) {
    if (!m.has(cooling)) continue;
    MapReader c(m.child(cooling), m.file(), m.path() + "." + cooling);
    if (auto s = c.check({"budget", "source"}); !s) return s;
    if (c.has("budget")) {
      auto w = parse_watts(c, "budget");
      if (!w) return w.error();
      if (!(*w > 0)) return c.error_at("budget", "expected a budget > 0");
      into.rack_budget_W[cooling] = *w;
    }
    if (c.has("source")) {
      auto v = c.scalar("source");
      if (!v) return v.error();
      into.rack_budget_source[cooling] = *v;
    }
  }
  return Ok{};
}

}  // namespace

Status read_catalog(const YAML::Node& node, const std::string& file, const std::string& path, Catalog& into) {
  MapReader top(node, file, path);
  if (!node.IsMap()) return Error{"expected a map with parts, energy and racks", path, mark_of(node, file)};
  if (auto s = top.check({"parts", "energy", "racks"}); !s) return s;
  if (top.has("energy")) {
    if (auto s = read_energy(MapReader(top.child("energy"), file, top.field("energy")), into.energy); !s) return s;
  }
  if (top.has("racks")) {
    if (auto s = read_rack_budgets(MapReader(top.child("racks"), file, top.field("racks")), into); !s) return s;
  }
  if (top.has("parts")) {
    const YAML::Node list = top.child("parts");
    if (!list.IsSequence()) return top.error_at("parts", "expected a list of parts");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (auto s = read_part(MapReader(list[i], file, fmt::format("{}[{}]", top.field("parts"), i)), into); !s) {
        return s;
      }
    }
  }
  return Ok{};
}

Expected<Catalog> read_builtin_catalog() {
  const std::string file = "catalog/parts.yaml (built in)";
  auto root = load_yaml(kBuiltinCatalogText, file);
  if (!root) return root.error();
  Catalog c;
  if (auto s = read_catalog(*root, file, "", c); !s) return s.error();
  return c;
}

const PartSpec* cheapest_switch(const Catalog& catalog, double port_Bps, int ports, const std::string& link_class) {
  constexpr double kSlack = 1 - 1e-9;  // rates written alike on both sides
  const PartSpec* best = nullptr;
  for (const PartSpec& p : catalog.parts) {
    if (p.kind != PartKind::kSwitch || p.rate_Bps < port_Bps * kSlack || p.ports < ports) continue;
    if (!p.fabric_class.empty() && p.fabric_class != link_class) continue;
    if (best == nullptr || p.usd < best->usd) best = &p;
  }
  return best;
}

const Catalog& builtin_catalog() {
  static const Catalog catalog = [] {
    auto c = read_builtin_catalog();
    return c ? std::move(*c) : Catalog{};
  }();
  return catalog;
}

}  // namespace collsim::config
