#include "sim/config/validation_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <tuple>

#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

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

Expected<std::vector<std::string>> string_list(const MapReader& entry, const char* key) {
  std::vector<std::string> out;
  if (!entry.has(key)) return out;
  const YAML::Node list = entry.child(key);
  if (!list.IsSequence()) return entry.error_at(key, "expected a list of key=value overrides");
  for (const auto& item : list) {
    if (!item.IsScalar()) return entry.error_at(key, "expected a list of key=value overrides");
    out.push_back(item.Scalar());
  }
  return out;
}

Expected<ValidationCase> read_case(const MapReader& entry) {
  if (auto s = entry.check({"name", "source", "topology", "topology_set", "op", "algo", "proto", "ranks", "placement",
                            "nccl", "iters", "busbw_GBps", "time_us"});
      !s) {
    return s.error();
  }
  ValidationCase c;
  c.declared_at = entry.mark();
  for (auto [key, target] :
       {std::pair{"name", &c.name}, {"source", &c.source}, {"topology", &c.topology}, {"op", &c.op}}) {
    auto v = entry.scalar(key);
    if (!v) return v.error();
    *target = *v;
  }
  auto sets = string_list(entry, "topology_set");
  if (!sets) return sets.error();
  c.topology_set = std::move(*sets);
  c.topology_set_at = {entry.mark_of("topology_set"), entry.field("topology_set")};
  c.topology_at = entry.mark_of("topology");
  c.topology_field = entry.field("topology");
  for (auto [key, target] : {std::pair{"algo", &c.algo}, {"proto", &c.proto}, {"placement", &c.placement}}) {
    auto v = entry.optional_scalar(key);
    if (!v) return v.error();
    if (*v) *target = **v;
  }
  if (entry.has("ranks")) {
    auto ranks = entry.integer_in("ranks", 2, 1 << 24, "a rank count");
    if (!ranks) return ranks.error();
    c.ranks = *ranks;
    if (entry.has("placement"))
      return entry.error_at("placement", "expected 'ranks' or 'placement', not both (both choose the GPUs)");
  }
  if (entry.has("placement")) {
    if (c.placement.empty()) return entry.error_at("placement", "expected a placement such as per-domain:4, found ''");
    c.placement_at = entry.mark_of("placement");
    c.placement_field = entry.field("placement");
  }
  if (entry.has("iters")) {
    auto iters = entry.integer_in("iters", 1, collective::kMaxNcclTestsIters, "nccl-tests' -n, its timed iterations");
    if (!iters) return iters.error();
    c.iters = *iters;
  }
  auto nccl = entry.parsed("nccl", collective::parse_nccl_release, c.nccl);
  if (!nccl) return nccl.error();
  c.nccl = *nccl;
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

Expected<StepValidationCase> read_step_case(const MapReader& entry) {
  if (auto s = entry.check({"name", "source", "topology", "topology_set", "workload", "workload_set", "step",
                            "tokens_per_gpu_s", "model_tflops_per_gpu", "fitted"});
      !s) {
    return s.error();
  }
  StepValidationCase c;
  c.declared_at = entry.mark();
  for (auto [key, target] :
       {std::pair{"name", &c.name}, {"source", &c.source}, {"topology", &c.topology}, {"workload", &c.workload}}) {
    auto v = entry.scalar(key);
    if (!v) return v.error();
    *target = *v;
  }
  for (auto [key, target, at] : {std::tuple{"topology_set", &c.topology_set, &c.topology_set_at},
                                 {"workload_set", &c.workload_set, &c.workload_set_at}}) {
    auto v = string_list(entry, key);
    if (!v) return v.error();
    *target = std::move(*v);
    *at = {entry.mark_of(key), entry.field(key)};
  }
  const bool step = entry.has("step"), tokens = entry.has("tokens_per_gpu_s"),
             tflops = entry.has("model_tflops_per_gpu");
  if (step + tokens + tflops != 1) {
    return Error{"expected exactly one of 'step' (a duration), 'tokens_per_gpu_s' or 'model_tflops_per_gpu'",
                 entry.field("step"), entry.mark()};
  }
  if (step) {
    auto text = entry.scalar("step");
    if (!text) return text.error();
    auto d = units::parse_duration(*text);
    if (!d) return entry.error_at("step", d.error().message);
    if (!(d->seconds > 0 && d->seconds < 1e6)) return entry.error_at("step", "expected a positive duration");
    c.step_s = d->seconds;
  } else {
    const char* key = tokens ? "tokens_per_gpu_s" : "model_tflops_per_gpu";
    auto v = positive_number(entry.child(key), entry.file(), entry.field(key));
    if (!v) return v.error();
    (tokens ? c.tokens_per_gpu_s : c.model_tflops_per_gpu) = *v;
  }
  auto fitted = entry.boolean("fitted", c.fitted);
  if (!fitted) return fitted.error();
  c.fitted = *fitted;
  return c;
}

// The file's top-level list `key` (e.g. "cases"), each entry read by `read`.
template <class Case, class Read>
Expected<std::vector<Case>> read_list(const std::string& path, const char* key, Read read) {
  auto text = read_text_file(path, "validation file");
  if (!text) return text.error();
  auto root = load_yaml(*text, path);
  if (!root) return root.error();
  MapReader top(*root, path, "");
  if (auto s = top.check({key}); !s) return s.error();
  const YAML::Node list = top.child(key);
  if (!list.IsSequence() || list.size() == 0)
    return top.error_at(key, fmt::format("expected a non-empty list of {}", key));
  std::vector<Case> cases;
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto c = read(MapReader(list[i], path, fmt::format("{}[{}]", key, i)));
    if (!c) return c.error();
    cases.push_back(std::move(*c));
  }
  return cases;
}

}  // namespace

Expected<std::vector<StepValidationCase>> load_step_validation_file(const std::string& path) {
  return read_list<StepValidationCase>(path, "steps", read_step_case);
}

std::optional<SetEntryError> set_entry_error(const Error& e) {
  // "--set a=b" or "--set-workload a=b" (config/overrides.cc).
  if (!e.where || e.where->line > 0) return std::nullopt;
  const std::string& flag = e.where->file.str();
  const std::size_t space = flag.find(' ');
  if (flag.rfind("--set", 0) != 0 || space == std::string::npos) return std::nullopt;
  return SetEntryError{flag.substr(space + 1),
                       e.field.empty() ? e.message : fmt::format("field '{}': {}", e.field, e.message)};
}

Error at_set_list(Error e, const std::vector<std::string>& entries, const SetList& list) {
  const auto about = set_entry_error(e);
  if (!about || std::find(entries.begin(), entries.end(), about->entry) == entries.end()) return e;
  e.message = fmt::format("entry '{}': {}", about->entry, about->message);
  e.field = list.field;
  e.where = list.at;
  return e;
}

Expected<std::vector<ValidationCase>> load_validation_file(const std::string& path) {
  return read_list<ValidationCase>(path, "cases", read_case);
}

}  // namespace collsim::config
