#include "sim/config/topology_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "sim/config/cluster_template.h"
#include "sim/config/failure_spec.h"
#include "sim/config/floor_reader.h"
#include "sim/config/gpu_models.h"
#include "sim/config/link_classes.h"
#include "sim/config/overrides.h"
#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::config {

const char* to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::kGpu:
      return "gpu";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kNic:
      return "nic";
    case DeviceKind::kNvSwitch:
      return "nvswitch";
    case DeviceKind::kPcieSwitch:
      return "pcie_switch";
    case DeviceKind::kSwitch:
      return "switch";
  }
  return "?";
}

bool forwards_traffic(DeviceKind kind) { return kind != DeviceKind::kGpu && kind != DeviceKind::kCpu; }

namespace {

constexpr DeviceKind kAllKinds[] = {DeviceKind::kGpu,      DeviceKind::kCpu,        DeviceKind::kNic,
                                    DeviceKind::kNvSwitch, DeviceKind::kPcieSwitch, DeviceKind::kSwitch};

struct DeviceGroup {
  std::string name;
  int first = 0;  // index of its first device in TopologySpec::devices
  int count = 0;
  std::string ports_field;  // "devices[i].ports", for errors about its budget
  SourceMark ports_at;      // where the port count is (or the entry)
};

class TopologyReader {
 public:
  explicit TopologyReader(std::string file) : file_(std::move(file)) {}

  Expected<TopologySpec> read(const YAML::Node& root) {
    MapReader top(root, file_, "");
    if (!root.IsMap()) return Error{"expected a map with keys name, devices, links", "", mark_of(root, file_)};
    // A template alone: its devices go straight into the spec.
    const bool template_alone = root["cluster"] && !root["racks"] && !root["devices"] && !root["links"];
    if (template_alone) {
      if (auto s = top.check({"name", "description", "link_classes", "media", "gpu_models", "floor", "nccl", "cluster",
                              "failures", "catalog"});
          !s) {
        // A cluster's own field at the top (--set fabric.class=...): name its place.
        Error e = s.error();
        for (const char* key : {"node", "nodes", "node_gpus", "domain_gpus", "gpu", "nic", "fabric", "layout", "host"})
          if (e.field == key) e.message = fmt::format("unknown key '{}' (did you mean 'cluster.{}'?)", key, key);
        return e;
      }
    } else if (auto s = top.check({"name", "description", "link_classes", "media", "gpu_models", "floor", "nccl",
                                   "racks", "devices", "links", "failures", "catalog"});
               !s) {
      return s.error();
    }
    spec_.file = file_;
    auto name = top.scalar("name");
    if (!name) return name.error();
    spec_.name = *name;
    if (auto d = top.optional_scalar("description"); !d) return d.error();  // text, not a list or map
    for (const auto& c : builtin_link_classes()) spec_.link_classes[c.name] = c;
    for (const auto& m : builtin_media()) spec_.media[m.name] = m;
    for (const auto& g : builtin_gpu_models()) spec_.gpu_models[g.name] = g;
    spec_.catalog = builtin_catalog();
    if (top.has("catalog")) {
      if (auto s = read_catalog(top.child("catalog"), file_, "catalog", spec_.catalog); !s) return s.error();
    }
    if (auto s = read_gpu_models(top, spec_); !s) return s.error();
    if (auto s = read_media(top, spec_); !s) return s.error();
    if (auto s = check_catalog_media(spec_); !s) return s.error();
    if (auto s = read_floor(top, spec_); !s) return s.error();
    if (auto s = read_racks(top, spec_, rack_of_name_); !s) return s.error();
    if (auto s = read_link_classes(top, spec_); !s) return s.error();
    if (auto s = read_nccl_settings(top, spec_); !s) return s.error();
    if (auto s = read_failures(top, spec_); !s) return s.error();
    if (template_alone) {
      if (auto s = build_cluster_spec(root["cluster"], file_, spec_); !s) return s.error();
      if (auto s = check_port_budgets(); !s) return s.error();
      return std::move(spec_);
    }
    if (auto s = read_list(top, "devices", &TopologyReader::read_device_group); !s) return s.error();
    if (auto s = read_list(top, "links", &TopologyReader::read_link); !s) return s.error();
    if (auto s = check_port_budgets(); !s) return s.error();
    return std::move(spec_);
  }

 private:
  using EntryReader = Status (TopologyReader::*)(const MapReader&);

  Status read_list(const MapReader& top, std::string_view key, EntryReader reader) {
    if (!top.has(key)) return Error{fmt::format("missing required key '{}'", key), std::string(key), top.mark()};
    const YAML::Node list = top.child(key);
    if (!list.IsSequence() || list.size() == 0) {
      return top.error_at(key, "expected a non-empty list");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], file_, fmt::format("{}[{}]", key, i));
      entry_index_ = static_cast<int>(i);
      if (auto s = (this->*reader)(entry); !s) return s;
    }
    return Ok{};
  }

  Status read_device_group(const MapReader& entry) {
    if (auto s = entry.check({"name", "kind", "count", "ports", "rack", "u", "model", "part"}); !s) return s;
    int ports = 0;
    if (entry.has("ports")) {
      auto v = entry.integer_in("ports", 1, 1 << 20, "a port count");
      if (!v) return v.error();
      ports = *v;
    }
    int rack = -1;
    double height_m = -1;
    if (auto s = read_placement(entry, spec_, rack_of_name_, rack, height_m); !s) return s;
    auto name = entry.scalar("name");
    if (!name) return name.error();
    if (name->empty() || name->find_first_of("[]{},: ") != std::string::npos) {
      return entry.error_at("name", fmt::format("expected a name without spaces or []{{}},: , found '{}'", *name));
    }
    auto kind_text = entry.scalar("kind");
    if (!kind_text) return kind_text.error();
    std::optional<DeviceKind> kind;
    std::vector<std::string_view> kind_names;
    for (DeviceKind k : kAllKinds) {
      kind_names.push_back(to_string(k));
      if (*kind_text == to_string(k)) kind = k;
    }
    if (!kind) {
      std::string msg = fmt::format("unknown device kind '{}'", *kind_text);
      if (auto near = closest_match(*kind_text, kind_names)) msg += fmt::format(" (did you mean '{}'?)", *near);
      msg += "; expected one of: gpu, cpu, nic, nvswitch, pcie_switch, switch";
      return entry.error_at("kind", msg);
    }
    std::string model;
    if (entry.has("model")) {
      if (*kind != DeviceKind::kGpu) {
        return entry.error_at(
            "model", fmt::format("only GPUs have a model (gpu_models:), this device is a {}", to_string(*kind)));
      }
      auto m = entry.scalar("model");
      if (!m) return m.error();
      if (auto found = find_gpu_model(spec_, *m); !found) return entry.error_at("model", found.error().message);
      model = *m;
    }
    auto part = read_part_name(entry, spec_, *kind);
    if (!part) return part.error();
    long long count = 1;
    if (entry.has("count")) {
      // max_devices() (topology_spec.h), checked before any is made.
      const long long limit = max_devices();
      const long long room = limit - static_cast<long long>(spec_.devices.size());
      auto c = entry.integer_in(
          "count", 1, std::max(1LL, room),
          fmt::format("a device count (at most {} devices in all; {} raises it)", limit, kMaxDevicesEnv));
      if (!c) return c.error();
      count = *c;
    }
    if (groups_.count(*name)) {
      return entry.error_at("name", fmt::format("duplicate device group name '{}'", *name));
    }
    DeviceGroup group{*name, static_cast<int>(spec_.devices.size()), static_cast<int>(count), entry.path() + ".ports",
                      entry.mark_of("ports")};
    // A group of one is named as written; larger groups get an index suffix.
    const bool indexed = entry.has("count");
    const SourceMark declared_at = entry.mark_of("name");
    device_index_.reserve(device_index_.size() + static_cast<std::size_t>(count));
    spec_.devices.reserve(spec_.devices.size() + static_cast<std::size_t>(count));
    for (long long i = 0; i < count; ++i) {
      std::string device_name = indexed ? *name + std::to_string(i) : *name;
      if (!device_index_.try_emplace(device_name, static_cast<int>(spec_.devices.size())).second) {
        return entry.error_at("name", fmt::format("device name '{}' is defined twice", device_name));
      }
      spec_.devices.push_back(
          DeviceSpec{std::move(device_name), *kind, ports, rack, height_m, declared_at, model, *part});
    }
    groups_[*name] = group;
    return Ok{};
  }

  // "gpu", "gpu[*]", "gpu[3]", "gpu[0-3,6]", or a device name "gpu3".
  Expected<std::vector<int>> resolve_selector(const MapReader& entry, std::string_view key) {
    auto text = entry.scalar(key);
    if (!text) return text.error();
    const std::string& sel = *text;
    const auto bracket = sel.find('[');
    const std::string base = sel.substr(0, bracket);
    auto group_it = groups_.find(base);
    if (group_it == groups_.end()) {
      if (bracket == std::string::npos) {
        if (auto d = device_index_.find(base); d != device_index_.end()) return std::vector<int>{d->second};
      }
      std::vector<std::string_view> names;
      for (const auto& [n, g] : groups_) names.push_back(n);
      std::string msg = fmt::format("'{}' names no device or device group", sel);
      if (auto near = closest_match(base, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
      return entry.error_at(key, msg);
    }
    const DeviceGroup& g = group_it->second;
    if (bracket == std::string::npos) return whole_group(g);
    if (sel.back() != ']') return entry.error_at(key, fmt::format("expected 'name[...]', found '{}'", sel));
    const std::string inner = sel.substr(bracket + 1, sel.size() - bracket - 2);
    if (inner == "*") return whole_group(g);
    std::vector<int> out;
    std::stringstream parts(inner);
    std::string part;
    while (std::getline(parts, part, ',')) {
      int lo = 0, hi = 0;
      char dash = 0;
      std::istringstream in(part);
      if (!(in >> lo)) return bad_index(entry, key, sel);
      hi = lo;
      if (in >> dash) {
        if (dash != '-' || !(in >> hi)) return bad_index(entry, key, sel);
      }
      if (lo > hi) {
        return entry.error_at(
            key, fmt::format("index range {}-{} is reversed: write the lower index first ({}-{})", lo, hi, hi, lo));
      }
      if (lo < 0 || hi >= g.count) {
        return entry.error_at(
            key, fmt::format("index range {}-{} is outside group '{}' (indices 0-{})", lo, hi, g.name, g.count - 1));
      }
      for (int i = lo; i <= hi; ++i) out.push_back(g.first + i);
    }
    if (out.empty()) return bad_index(entry, key, sel);
    return out;
  }

  static std::vector<int> whole_group(const DeviceGroup& g) {
    std::vector<int> out;
    for (int i = 0; i < g.count; ++i) out.push_back(g.first + i);
    return out;
  }

  static Error bad_index(const MapReader& entry, std::string_view key, const std::string& sel) {
    return entry.error_at(key,
                          fmt::format("expected indices like 'gpu[*]', 'gpu[3]' or 'gpu[0-3,6]', found '{}'", sel));
  }

  template <class T>
  Expected<T> parse_field(const MapReader& entry, std::string_view key, Expected<T> (*parse)(std::string_view)) {
    auto text = entry.scalar(key);
    if (!text) return text.error();
    auto v = parse(*text);
    if (!v) return entry.error_at(key, v.error().message);
    return v;
  }

  Status read_link(const MapReader& entry) {
    if (auto s = entry.check(
            {"from", "to", "pattern", "rate", "lanes", "latency", "length", "medium", "class", "efficiency"});
        !s) {
      return s;
    }
    auto from = resolve_selector(entry, "from");
    if (!from) return from.error();
    auto to = resolve_selector(entry, "to");
    if (!to) return to.error();

    LinkSpec link;
    link.declared_at = entry.mark();
    link.entry = entry_index_;
    auto rate = parse_field(entry, "rate", units::parse_rate);
    if (!rate) return rate.error();
    if (!(rate->bytes_per_s > 0)) {
      return entry.error_at("rate", fmt::format("expected a positive rate, found {}", units::format(*rate)));
    }
    if (entry.has("lanes")) {
      auto lanes = entry.integer_in("lanes", 1, 1 << 16, "a lane count");
      if (!lanes) return lanes.error();
      link.lanes = *lanes;
    }
    link.rate_Bps = rate->bytes_per_s * link.lanes;

    auto latency = parse_field(entry, "latency", units::parse_duration);
    if (!latency) return latency.error();
    // Named limit: 1 s, the light time of 200,000 km of fibre; a link's own
    // latency beyond that is a typo, not a cable.
    if (latency->seconds < 0 || latency->seconds > 1.0) {
      return entry.error_at("latency",
                            fmt::format("expected a latency from 0 to 1 s, found {}", units::format(*latency)));
    }
    link.fixed_latency_s = latency->seconds;
    if (auto s = read_cable(entry, spec_, link); !s) return s;

    auto cls = entry.scalar("class");
    if (!cls) return cls.error();
    auto cls_it = spec_.link_classes.find(*cls);
    if (cls_it == spec_.link_classes.end()) {
      std::vector<std::string_view> names;
      for (const auto& [n, c] : spec_.link_classes) names.push_back(n);
      std::string msg = fmt::format("unknown link class '{}'", *cls);
      if (auto near = closest_match(*cls, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
      msg += "; define it under link_classes: or use a built-in one (docs/topology-format.md)";
      return entry.error_at("class", msg);
    }
    link.link_class = *cls;
    link.efficiency = cls_it->second.efficiency;
    link.nvls_efficiency = cls_it->second.nvls_efficiency;
    link.nvls_reduction = cls_it->second.nvls_reduction;
    link.step_latency_s = cls_it->second.step_latency_s;
    if (entry.has("efficiency")) {
      auto eff = entry.number("efficiency");
      if (!eff) return eff.error();
      if (!(*eff > 0 && *eff <= 1)) {
        return entry.error_at("efficiency", fmt::format("expected a fraction in (0, 1], found {}", *eff));
      }
      link.efficiency = *eff;
    }

    std::string pattern = "full";
    if (auto p = entry.optional_scalar("pattern"); !p) {
      return p.error();
    } else if (*p) {
      pattern = **p;
    }
    if (pattern == "full") {
      // Checked before building: a full pattern between two large groups is
      // refused at once instead of filling the memory (4,000 x 4,000 did).
      const double count = static_cast<double>(from->size()) * static_cast<double>(to->size());
      const auto limit = static_cast<double>(max_links());
      if (count + static_cast<double>(spec_.links.size()) > limit) {
        return entry.error_at("to", fmt::format("'from' selects {} devices and 'to' {}: {:.0f} links, and a file "
                                                "holds at most {:.0f} in all (pattern: zip pairs them one to one)",
                                                from->size(), to->size(), count, limit));
      }
      for (int a : *from)
        for (int b : *to)
          if (auto s = add_link(entry, link, a, b); !s) return s;
    } else if (pattern == "zip") {
      if (from->size() != to->size()) {
        return entry.error_at("pattern", fmt::format("'zip' pairs devices one to one, but 'from' selects {} and "
                                                     "'to' selects {}",
                                                     from->size(), to->size()));
      }
      for (std::size_t i = 0; i < from->size(); ++i)
        if (auto s = add_link(entry, link, (*from)[i], (*to)[i]); !s) return s;
    } else {
      return entry.error_at("pattern", fmt::format("expected 'full' or 'zip', found '{}'", pattern));
    }
    return Ok{};
  }

  // Every lane of a link takes one port at each end.
  Status check_port_budgets() const {
    std::vector<int> used(spec_.devices.size(), 0);
    std::vector<int> last_link(spec_.devices.size(), -1);
    for (std::size_t i = 0; i < spec_.links.size(); ++i) {
      for (int d : {spec_.links[i].a, spec_.links[i].b}) {
        used[d] += spec_.links[i].lanes;
        last_link[d] = static_cast<int>(i);
      }
    }
    std::vector<const DeviceGroup*> group_of(spec_.devices.size(), nullptr);
    for (const auto& entry : groups_)
      for (int d = entry.second.first; d < entry.second.first + entry.second.count; ++d) group_of[d] = &entry.second;
    for (std::size_t d = 0; d < spec_.devices.size(); ++d) {
      const DeviceSpec& dev = spec_.devices[d];
      if (dev.ports > 0 && used[d] > dev.ports) {
        const DeviceGroup* group = group_of[d];
        return Error{fmt::format("'{}' has {} ports but its links use {} (the last one is declared at line {})",
                                 dev.name, dev.ports, used[d], spec_.links[last_link[d]].declared_at.line),
                     group ? group->ports_field : "devices.ports", group ? group->ports_at : dev.declared_at};
      }
    }
    return Ok{};
  }

  // max_links() (topology_spec.h).
  Status add_link(const MapReader& entry, LinkSpec link, int a, int b) {
    if (static_cast<long long>(spec_.links.size()) >= max_links()) {
      return entry.error_at("from", fmt::format("more than {} links in the file ({} raises the limit, {} links per "
                                                "device)",
                                                max_links(), kMaxDevicesEnv, kMaxLinksPerDevice));
    }
    if (a == b) {
      return entry.error_at("to", fmt::format("link from '{}' to itself", spec_.devices[a].name));
    }
    link.a = a;
    link.b = b;
    spec_.links.push_back(link);
    return Ok{};
  }

  std::string file_;
  int entry_index_ = -1;  // read_list's entry being read
  TopologySpec spec_;
  std::map<std::string, DeviceGroup> groups_;
  std::unordered_map<std::string, int> device_index_;  // hashed: files may name millions of devices
  std::unordered_map<std::string, int> rack_of_name_;  // read_racks
};

}  // namespace

namespace {

// Parses, applies --set overrides and expands a cluster template.
Expected<YAML::Node> prepared_yaml(const std::string& text, const std::string& file,
                                   const std::vector<std::string>& overrides, bool expand_always) {
  auto loaded = load_yaml(text, file);
  if (!loaded) return loaded.error();
  YAML::Node root = *loaded;
  std::vector<std::string> sets;
  for (const auto& o : overrides) {
    if (!is_failure_flag(o)) sets.push_back(o);
  }
  if (auto s = apply_overrides(root, sets); !s) return s.error();
  for (const auto& o : overrides) {  // --fail and --degrade append to what the file and --set say
    if (!is_failure_flag(o)) continue;
    if (auto s = apply_failure_flag(root, o); !s) return s.error();
  }
  try {
    const bool template_alone = root.IsMap() && root["cluster"] && !root["racks"] && !root["devices"] && !root["links"];
    if (expand_always || !template_alone) {
      if (auto s = expand_cluster_template(root, file); !s) return s.error();
    }
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("malformed YAML: {}", e.msg), "cluster",
                 SourceMark{file, e.mark.line + 1, e.mark.column + 1}};
  }
  return root;
}

}  // namespace

long long max_devices() {
  const char* env = std::getenv(kMaxDevicesEnv);
  if (env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= (1LL << 26)) return v;
  }
  return kMaxDevices;
}

Expected<TopologySpec> load_topology_text(const std::string& text, const std::string& file,
                                          const std::vector<std::string>& overrides) {
  auto root = prepared_yaml(text, file, overrides, /*expand_always=*/false);
  if (!root) return root.error();
  try {
    return TopologyReader(file).read(*root);
  } catch (const YAML::Exception& e) {  // defensive: yaml-cpp throws on some malformed accesses
    return Error{fmt::format("malformed YAML: {}", e.msg), "", SourceMark{file, e.mark.line + 1, e.mark.column + 1}};
  }
}

Expected<std::string> expanded_topology_yaml(const std::string& path, const std::vector<std::string>& overrides) {
  auto text = read_text_file(path, "topology file");
  if (!text) return text.error();
  auto root = prepared_yaml(*text, path, overrides, /*expand_always=*/true);
  if (!root) return root.error();
  // Check it reads before handing it out.
  try {
    if (auto spec = TopologyReader(path).read(*root); !spec) return spec.error();
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("malformed YAML: {}", e.msg), "", SourceMark{path, e.mark.line + 1, e.mark.column + 1}};
  }
  clear_override_tags(*root);
  YAML::Emitter out;
  out << *root;
  return fmt::format("# Expanded by collsim from {}\n{}\n", path, out.c_str());
}

Expected<TopologySpec> load_topology_file(const std::string& path, const std::vector<std::string>& overrides) {
  auto text = read_text_file(path, "topology file");
  if (!text) return text.error();
  return load_topology_text(*text, path, overrides);
}

}  // namespace collsim::config
