#include "sim/config/validation_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>

#include "sim/config/yaml_fields.h"

namespace collsim::config {

namespace {

Expected<double> positive_number(const YAML::Node& node, const std::string& file, const std::string& field) {
  const std::string text = node.IsScalar() ? node.Scalar() : "";
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(value > 0)) {
    return Error{fmt::format("expected a positive number, found '{}'", text), field, mark_of(node, file)};
  }
  return value;
}

Expected<ValidationCase> read_case(const MapReader& entry) {
  if (auto s = entry.check({"name", "source", "topology", "op", "algo", "proto", "busbw_GBps", "time_us"}); !s) {
    return s.error();
  }
  ValidationCase c;
  c.declared_at = entry.mark();
  for (auto [key, target] : {std::pair{"name", &c.name}, {"source", &c.source}, {"topology", &c.topology},
                             {"op", &c.op}}) {
    auto v = entry.scalar(key);
    if (!v) return v.error();
    *target = *v;
  }
  for (auto [key, target] : {std::pair{"algo", &c.algo}, {"proto", &c.proto}}) {
    auto v = entry.optional_scalar(key);
    if (!v) return v.error();
    if (*v) *target = **v;
  }
  const bool busbw = entry.has("busbw_GBps"), time = entry.has("time_us");
  if (busbw == time) {
    return Error{"expected exactly one of 'busbw_GBps' or 'time_us' (a map of size in bytes: value)",
                 entry.field("busbw_GBps"), entry.mark()};
  }
  c.metric = busbw ? "busbw_GBps" : "time_us";
  const YAML::Node table = entry.child(c.metric);
  if (!table.IsMap() || table.size() == 0) return entry.error_at(c.metric, "expected a map of size in bytes: value");
  for (const auto& kv : table) {
    auto bytes = positive_number(kv.first, entry.file(), entry.field(c.metric));
    if (!bytes) return bytes.error();
    auto value = positive_number(kv.second, entry.file(), entry.field(c.metric) + "." + kv.first.Scalar());
    if (!value) return value.error();
    c.points.push_back(ValidationPoint{*bytes, *value});
  }
  return c;
}

}  // namespace

Expected<std::vector<ValidationCase>> load_validation_file(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return make_error(fmt::format("{}: cannot open validation file", path));
  } catch (const YAML::ParserException& e) {
    return Error{fmt::format("YAML syntax error: {}", e.msg), "", SourceMark{path, e.mark.line + 1, e.mark.column + 1}};
  }
  MapReader top(root, path, "");
  if (auto s = top.check({"cases"}); !s) return s.error();
  const YAML::Node list = top.child("cases");
  if (!list.IsSequence() || list.size() == 0) return top.error_at("cases", "expected a non-empty list of cases");
  std::vector<ValidationCase> cases;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto c = read_case(MapReader(list[i], path, fmt::format("cases[{}]", i)));
    if (!c) return c.error();
    cases.push_back(std::move(*c));
  }
  return cases;
}

}  // namespace collsim::config
