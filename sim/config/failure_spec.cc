#include "sim/config/failure_spec.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/units/units.h"

namespace collsim::config {

namespace {

constexpr char kFlagMark = '\x1f';  // starts (and ends the flag of) an overrides entry made by failure_flag

Status read_entry(const MapReader& entry, bool degrade, FailuresSpec& failures) {
  if (auto s = entry.check({"device", "from", "to", "class", "tier", "fraction", "rate"}); !s) return s;
  FailureSpec f;
  f.degrade = degrade;
  f.at = entry.mark();
  f.path = entry.path();
  for (const char* key : {"device", "from", "to", "class", "tier", "fraction", "rate"})
    if (entry.has(key)) f.marks[key] = entry.mark_of(key);
  const int selectors =
      (entry.has("device") ? 1 : 0) + (entry.has("from") || entry.has("to") ? 1 : 0) + (entry.has("class") ? 1 : 0);
  if (selectors != 1) {
    return Error{"expected one selector: device, from and to, or class", entry.path(), entry.mark()};
  }
  for (auto [key, target] :
       {std::pair{"device", &f.device}, {"from", &f.from}, {"to", &f.to}, {"class", &f.link_class}}) {
    if (!entry.has(key)) continue;
    auto v = entry.scalar(key);
    if (!v) return v.error();
    if (v->empty())
      return entry.error_at(
          key, fmt::format("expected a {} name, found ''", key == std::string_view("class") ? "link class" : "device"));
    *target = *v;
  }
  if (f.from.empty() != f.to.empty()) {
    return entry.error_at(f.from.empty() ? "to" : "from", "a link is selected by both of its devices: from and to");
  }
  if (entry.has("tier")) {
    auto tier = entry.scalar("tier");
    if (!tier) return tier.error();
    if (*tier != "fabric" && *tier != "edge")
      return entry.error_at(
          "tier", fmt::format("expected fabric (links between switches) or edge (the others), found '{}'", *tier));
    f.tier = *tier;
  }
  if (entry.has("fraction")) {
    auto text = entry.scalar("fraction");
    if (!text) return text.error();
    auto share = units::parse_share(*text);
    if (!share) return entry.error_at("fraction", share.error().message);
    f.fraction = *share;
  }
  if (!degrade) {
    if (entry.has("rate")) return entry.error_at("rate", "a failed link has no rate: use degrade to lower it");
  } else {
    auto text = entry.scalar("rate");
    if (!text) return text.error();
    if (!text->empty() && text->back() == '%') {
      auto share = units::parse_share(*text);
      if (!share || *share <= 0) {
        return entry.error_at("rate", fmt::format("expected a share of the link's rate above 0% and up to 100% "
                                                  "(0% is a failed link: use fail), found '{}'",
                                                  *text));
      }
      f.rate_share = *share;
    } else {
      auto rate = units::parse_rate(*text);
      if (!rate) return entry.error_at("rate", rate.error().message + " (or a share of the link's rate, such as 50%)");
      if (!(rate->bytes_per_s > 0))
        return entry.error_at("rate", fmt::format("expected a rate above 0, found '{}'", *text));
      f.rate_Bps = rate->bytes_per_s;
    }
  }
  failures.entries.push_back(std::move(f));
  return Ok{};
}

}  // namespace

Status read_failures(const MapReader& top, TopologySpec& spec) {
  if (!top.has("failures") || top.child("failures").IsNull()) return Ok{};  // absent or empty: none
  const YAML::Node node = top.child("failures");
  if (!node.IsMap()) return top.error_at("failures", "expected a map with fail, degrade and seed");
  MapReader failures(node, top.file(), "failures");
  if (auto s = failures.check({"seed", "fail", "degrade"}); !s) return s;
  if (failures.has("seed")) {
    auto seed = failures.integer("seed");
    if (!seed) return seed.error();
    if (*seed < 0) return failures.error_at("seed", fmt::format("expected a whole number from 0, found {}", *seed));
    spec.failures.seed = static_cast<std::uint64_t>(*seed);
  }
  for (const char* key : {"fail", "degrade"}) {
    if (!failures.has(key)) continue;
    const YAML::Node list = failures.child(key);
    if (!list.IsSequence()) return failures.error_at(key, "expected a list of selectors such as {device: spine3}");
    for (std::size_t i = 0; i < list.size(); ++i) {
      MapReader entry(list[i], top.file(), fmt::format("failures.{}[{}]", key, i));
      if (!list[i].IsMap()) return Error{"expected a map such as {device: spine3}", entry.path(), entry.mark()};
      if (auto s = read_entry(entry, std::string_view(key) == "degrade", spec.failures); !s) return s;
    }
  }
  return Ok{};
}

std::string failure_flag(std::string_view flag, std::string_view selector) {
  return fmt::format("{}{}{}{}", kFlagMark, flag, kFlagMark, selector);
}

std::vector<std::string> with_failure_flags(std::vector<std::string> sets, const std::vector<std::string>& fails,
                                            const std::vector<std::string>& degrades) {
  for (const auto& f : fails) sets.push_back(failure_flag("--fail", f));
  for (const auto& d : degrades) sets.push_back(failure_flag("--degrade", d));
  return sets;
}

bool is_failure_flag(const std::string& entry) { return !entry.empty() && entry.front() == kFlagMark; }

Status apply_failure_flag(YAML::Node& root, const std::string& entry) {
  const auto second = entry.find(kFlagMark, 1);
  const std::string flag = entry.substr(1, second - 1);
  const std::string selector = entry.substr(second + 1);
  const std::string where = fmt::format("{} {}", flag, selector);
  const std::string tag = std::string(kSetValueTag) + where;
  auto bad = [&](const std::string& message) { return Error{message, "", SourceMark{where, 0, 0}}; };
  if (!root.IsMap()) return Ok{};  // the reader reports the document itself
  YAML::Node map(YAML::NodeType::Map);
  map.SetTag(tag);
  std::size_t start = 0;
  while (start <= selector.size()) {
    const auto comma = std::min(selector.find(',', start), selector.size());
    const std::string pair = selector.substr(start, comma - start);
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size()) {
      return bad(
          fmt::format("expected key=value pairs separated by commas (such as class=infiniband,fraction=1%), "
                      "found '{}'",
                      pair));
    }
    const std::string key = pair.substr(0, eq);
    if (map[key]) return bad(fmt::format("'{}' is given twice", key));
    YAML::Node value(pair.substr(eq + 1));
    value.SetTag(tag);
    map[key] = value;
    start = comma + 1;
  }
  const std::string list_key = flag == "--fail" ? "fail" : "degrade";
  if (!root["failures"]) {
    YAML::Node created(YAML::NodeType::Map);
    created.SetTag(std::string(kSetCreatedTag) + where);
    root["failures"] = created;
  }
  YAML::Node failures = root["failures"];
  if (!failures.IsMap()) return Ok{};  // the reader reports it at the file's failures
  if (!failures[list_key]) {
    YAML::Node created(YAML::NodeType::Sequence);
    created.SetTag(std::string(kSetCreatedTag) + where);
    failures[list_key] = created;
  }
  YAML::Node list = failures[list_key];
  if (!list.IsSequence()) return Ok{};
  list.push_back(map);
  return Ok{};
}

}  // namespace collsim::config
