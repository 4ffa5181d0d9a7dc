#include "sim/config/study_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <unordered_set>

#include "sim/config/overrides.h"
#include "sim/config/yaml_fields.h"

namespace collsim::config {

std::vector<std::string> study_neighbours(const std::string& value) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= value.size()) {
    const auto end = std::min(value.find(';', from), value.size());
    std::string part = value.substr(from, end - from);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (!part.empty() && part != "none") out.push_back(part);
    from = end + 1;
  }
  return out;
}

namespace {

constexpr int kMaxPoints = 1'000'000;

const std::vector<std::string_view> kRunFields{"algo",          "proto",     "backend",   "what_if", "stragglers",
                                               "jitter",        "goodput",   "restart",   "spares",  "storage_write",
                                               "failure_scale", "placement", "neighbours"};
const std::vector<std::string_view> kCollectiveFields{"op",    "algo",    "proto",     "bytes", "datatype",
                                                      "ranks", "backend", "placement", "nccl"};

Expected<std::vector<std::string>> string_list(const MapReader& m, std::string_view key) {
  std::vector<std::string> out;
  if (!m.has(key)) return out;
  const YAML::Node list = m.child(key);
  if (!list.IsSequence()) return m.error_at(key, "expected a list of \"path=value\" assignments");
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].IsScalar() || list[i].Scalar().find('=') == std::string::npos) {
      return Error{"expected \"path=value\", as --set takes", fmt::format("{}[{}]", m.field(key), i),
                   mark_of(list[i], m.file())};
    }
    // One value a key, as --set takes (the last would win silently).
    const std::string& set = list[i].Scalar();
    if (const std::string* earlier = conflicting_override(out, set)) {
      return Error{
          fmt::format("{} is set twice, '{}' then '{}': expected each key once", override_key(set), *earlier, set),
          fmt::format("{}[{}]", m.field(key), i), mark_of(list[i], m.file())};
    }
    out.push_back(set);
  }
  return out;
}

// "12.5m" -> (12.5, "m"); the unit is whatever follows the number.
bool split_number(const std::string& text, double* value, std::string* unit) {
  const char* s = text.c_str();
  char* end = nullptr;
  *value = std::strtod(s, &end);
  if (end == s || !std::isfinite(*value)) return false;
  *unit = std::string(end);
  return true;
}

// {from: 0m, to: 50m, step: 10m}: from, from + step, ... up to `to`.
Expected<std::vector<std::string>> range_values(const MapReader& r) {
  if (auto s = r.check({"from", "to", "step"}); !s) return s.error();
  double v[3];
  std::string unit[3];
  const char* keys[3] = {"from", "to", "step"};
  for (int k = 0; k < 3; ++k) {
    auto text = r.scalar(keys[k]);
    if (!text) return text.error();
    if (!split_number(*text, &v[k], &unit[k])) {
      return r.error_at(keys[k], fmt::format("expected a number with an optional unit (e.g. 10m), found '{}'", *text));
    }
  }
  if (unit[0] != unit[1] || (!unit[2].empty() && unit[2] != unit[0])) {
    return r.error_at(
        unit[0] != unit[1] ? "to" : "step",
        fmt::format("from, to and step must have the same unit, found '{}', '{}' and '{}'", unit[0], unit[1], unit[2]));
  }
  if (!(v[2] > 0)) return r.error_at("step", fmt::format("expected a step > 0, found {}", v[2]));
  if (v[1] < v[0]) return r.error_at("to", fmt::format("expected to >= from ({}), found {}", v[0], v[1]));
  if (v[2] < std::abs(v[0]) * 1e-9 || v[2] < std::abs(v[1]) * 1e-9) {
    return r.error_at("step", fmt::format("step {} is too small for values near {} (12 significant digits)", v[2],
                                          std::max(std::abs(v[0]), std::abs(v[1]))));
  }
  const double count = std::floor((v[1] - v[0]) / v[2] + 1e-9) + 1;
  if (count > 10000) return r.error_at("step", fmt::format("the range has {:.0f} values; at most 10000", count));
  std::vector<std::string> out;
  for (int k = 0; k < static_cast<int>(count); ++k) {
    // 12 significant digits: no 0.30000000000000004, and no -0.
    double x = std::strtod(fmt::format("{:.12g}", v[0] + k * v[2]).c_str(), nullptr);  // no throw on underflow
    if (x == 0) x = 0;
    out.push_back(fmt::format("{}{}", x, unit[0]));
  }
  return out;
}

// `unique`: an axis's values are its points, so one listed twice is an
// error; a zipped list's are not (its rows are: tp [8, 8] with pp [9, 18]).
Expected<std::vector<std::string>> axis_values(const YAML::Node& node, const std::string& file,
                                               const std::string& field, bool unique) {
  if (node.IsMap()) return range_values(MapReader(node, file, field));
  if (!node.IsSequence() || node.size() == 0) {
    return Error{"expected a non-empty list of values, or {from, to, step}", field, mark_of(node, file)};
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;  // linear: an axis may have thousands of values
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) {
      return Error{"expected a single value (a number, a size, a rate, a name)", fmt::format("{}[{}]", field, i),
                   mark_of(node[i], file)};
    }
    if (unique && !seen.insert(node[i].Scalar()).second) {
      return Error{fmt::format("'{}' is listed twice: every value is one point", node[i].Scalar()),
                   fmt::format("{}[{}]", field, i), mark_of(node[i], file)};
    }
    out.push_back(node[i].Scalar());
  }
  return out;
}

Status check_path(StudyKind kind, const std::string& path, const Error& where) {
  auto bad = [&](std::string message) {
    Error e = where;
    e.message = std::move(message);
    return e;
  };
  const auto dot = path.find('.');
  const std::string prefix = path.substr(0, dot);
  const std::string rest = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (prefix == "topology" || (prefix == "workload" && kind == StudyKind::kRun)) {
    if (rest.empty())
      return bad(fmt::format("'{}' needs a field after it, e.g. {}.", path, prefix) +
                 (prefix == "topology" ? "cluster.nic" : "parallelism.pp"));
    return Ok{};
  }
  const bool run = kind == StudyKind::kRun;
  if (prefix == (run ? "run" : "collective")) {
    const auto& fields = run ? kRunFields : kCollectiveFields;
    for (auto f : fields)
      if (rest == f) return Ok{};
    std::string msg = fmt::format("unknown field '{}' of {}", rest, prefix);
    if (auto near = closest_match(rest, fields)) msg += fmt::format(" (did you mean '{}'?)", *near);
    return bad(msg);
  }
  return bad(fmt::format("a path starts with {}, found '{}'",
                         run ? "topology., workload. or run." : "topology. or collective.", path));
}

Expected<bool> on_off(const std::string& text, const std::string& field, const SourceMark& where) {
  if (text == "on" || text == "true") return true;
  if (text == "off" || text == "false") return false;
  return Error{fmt::format("expected on or off, found '{}'", text), field, where};
}

// Sets a run.*/collective.* field of the base.
Status set_base_field(StudyBase& b, StudyKind kind, const std::string& field, const std::string& value,
                      const std::string& where_field, const SourceMark& where) {
  if (field == "algo")
    b.algo = value;
  else if (field == "proto")
    b.proto = value;
  else if (field == "backend")
    b.backend = value;
  else if ((field == "what_if" || field == "goodput") && kind == StudyKind::kRun) {
    auto v = on_off(value, where_field, where);
    if (!v) return v.error();
    (field == "what_if" ? b.what_if : b.goodput) = *v;
  } else if (kind == StudyKind::kRun && field == "stragglers")
    b.stragglers = value;
  else if (kind == StudyKind::kRun && field == "jitter")
    b.jitter = value;
  else if (kind == StudyKind::kRun && field == "restart")
    b.restart = value;
  else if (kind == StudyKind::kRun && field == "spares")
    b.spares = value;
  else if (kind == StudyKind::kRun && field == "storage_write")
    b.storage_write = value;
  else if (kind == StudyKind::kRun && field == "failure_scale")
    b.failure_scale = value;
  else if (field == "op")
    b.op = value;
  else if (field == "bytes")
    b.bytes = value;
  else if (field == "datatype")
    b.datatype = value;
  else if (field == "ranks")
    b.ranks = value;
  else if (field == "placement")
    b.placement = value;
  else if (kind == StudyKind::kCollective && field == "nccl")
    b.nccl = value;
  else if (kind == StudyKind::kRun && field == "neighbours")
    b.neighbours = value;
  else
    return Error{fmt::format("unknown field '{}'", field), where_field, where};
  return Ok{};
}

}  // namespace

std::vector<std::string> Study::axis_paths() const {
  std::vector<std::string> out;
  for (const auto& a : axes) out.insert(out.end(), a.paths.begin(), a.paths.end());
  return out;
}

std::vector<StudyPoint> Study::points() const {
  std::size_t total = 1;
  for (const auto& a : axes) total *= a.values.size();
  std::vector<StudyPoint> out(total);
  for (std::size_t i = 0; i < total; ++i) {
    out[i].index = static_cast<int>(i);
    std::size_t rest = i, stride = total;
    for (const auto& a : axes) {
      stride /= a.values.size();
      const std::size_t k = rest / stride;
      rest %= stride;
      for (std::size_t p = 0; p < a.paths.size(); ++p) out[i].assignments.emplace_back(a.paths[p], a.values[k][p]);
    }
  }
  return out;
}

Expected<Study> load_study_file(const std::string& path) {
  auto text = read_text_file(path, "study file");
  if (!text) return text.error();
  auto loaded = load_yaml(*text, path);
  if (!loaded) return loaded.error();
  const YAML::Node root = *loaded;
  Study st;
  st.file = path;
  st.declared_at = SourceMark{path, 1, 1};
  MapReader top(root, path, "");
  if (auto s = top.check({"name", "run", "collective", "axes", "zip"}); !s) return s.error();
  auto name = top.optional_scalar("name");
  if (!name) return name.error();
  st.name = name->value_or(std::filesystem::path(path).stem().string());
  // The name is the default results folder: a plain file name.
  if (st.name.empty() || st.name == "." || st.name == ".." || st.name.find_first_of("/\\") != std::string::npos) {
    return top.error_at("name",
                        fmt::format("expected a plain name (it names the results folder), found '{}'", st.name));
  }
  if (top.has("run") == top.has("collective")) {
    return Error{"a study has exactly one base: run (a training step) or collective", "run",
                 top.has("run") ? top.mark_of("collective") : top.mark()};
  }
  st.kind = top.has("run") ? StudyKind::kRun : StudyKind::kCollective;
  const char* base_key = st.kind == StudyKind::kRun ? "run" : "collective";
  MapReader b(top.child(base_key), path, base_key);
  std::vector<std::string_view> allowed{"topology", "set"};
  if (st.kind == StudyKind::kRun) {
    allowed.insert(allowed.end(), {"workload", "set_workload"});
    allowed.insert(allowed.end(), kRunFields.begin(), kRunFields.end());
  } else {
    allowed.insert(allowed.end(), kCollectiveFields.begin(), kCollectiveFields.end());
    st.base.algo = st.base.proto = "auto";
  }
  if (auto s = b.check(allowed); !s) return s.error();
  auto topo = b.scalar("topology");
  if (!topo) return topo.error();
  st.base.topology = *topo;
  auto sets = string_list(b, "set");
  if (!sets) return sets.error();
  st.base.topology_sets = *sets;
  if (b.has("set")) st.base_marks[base_key + std::string(".set")] = b.mark_of("set");
  if (st.kind == StudyKind::kRun) {
    auto w = b.scalar("workload");
    if (!w) return w.error();
    st.base.workload = *w;
    auto wsets = string_list(b, "set_workload");
    if (!wsets) return wsets.error();
    st.base.workload_sets = *wsets;
    if (b.has("set_workload")) st.base_marks[base_key + std::string(".set_workload")] = b.mark_of("set_workload");
  }
  for (auto f : st.kind == StudyKind::kRun ? kRunFields : kCollectiveFields) {
    auto v = b.optional_scalar(f);
    if (!v) return v.error();
    if (!*v) continue;
    if (auto s = set_base_field(st.base, st.kind, std::string(f), **v, b.field(f), b.mark_of(f)); !s) return s.error();
    st.base_marks[fmt::format("{}.{}", base_key, f)] = b.mark_of(f);
  }

  // Axes: each key of `axes` is a dimension; `zip` is one more, its lists
  // moving together.
  std::size_t total = 1;
  for (const char* section : {"axes", "zip"}) {
    if (!top.has(section)) continue;
    const YAML::Node node = top.child(section);
    if (!node.IsMap() || node.size() == 0) {
      return top.error_at(section, "expected a map of parameter paths to lists of values");
    }
    StudyAxis zipped;
    zipped.declared_at = top.mark_of(section);
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string p = it->first.Scalar();
      const std::string field = fmt::format("{}.{}", section, p);
      const Error where{"", field, mark_of(it->first, path)};
      if (auto s = check_path(st.kind, p, where); !s) return s.error();
      for (const auto& a : st.axes)
        for (const auto& q : a.paths)
          if (q == p) return Error{fmt::format("'{}' is already an axis", p), field, where.where};
      for (const auto& q : zipped.paths)
        if (q == p) return Error{fmt::format("'{}' is already an axis", p), field, where.where};
      auto values = axis_values(it->second, path, field, std::string(section) == "axes");
      if (!values) return values.error();
      if (std::string(section) == "axes") {
        StudyAxis a;
        a.paths = {p};
        for (auto& v : *values) a.values.push_back({v});
        a.declared_at = *where.where;
        total *= a.values.size();
        st.axes.push_back(std::move(a));
      } else {
        if (!zipped.paths.empty() && values->size() != zipped.values.size()) {
          return Error{fmt::format("zipped lists move together, so they need equal lengths: {} has {} values, "
                                   "{} has {}",
                                   zipped.paths.front(), zipped.values.size(), p, values->size()),
                       field, mark_of(it->second, path)};
        }
        if (zipped.paths.empty()) zipped.values.resize(values->size());
        zipped.paths.push_back(p);
        for (std::size_t k = 0; k < values->size(); ++k) zipped.values[k].push_back((*values)[k]);
      }
      if (total > kMaxPoints)
        return Error{fmt::format("the grid has more than {} points", kMaxPoints), field, where.where};
    }
    if (!zipped.paths.empty()) {
      // Every row is one point: a row listed twice is the error a repeated
      // axis value is.
      std::map<std::vector<std::string>, std::size_t> rows;
      for (std::size_t k = 0; k < zipped.values.size(); ++k) {
        if (auto [at, fresh] = rows.emplace(zipped.values[k], k); !fresh) {
          std::string row;
          for (std::size_t q = 0; q < zipped.paths.size(); ++q)
            row += fmt::format("{}{} {}", q ? ", " : "", zipped.paths[q], zipped.values[k][q]);
          return top.error_at(section,
                              fmt::format("row {} ({}) repeats row {}: every row is one point", k, row, at->second));
        }
      }
      total *= zipped.values.size();
      if (total > kMaxPoints) return top.error_at(section, fmt::format("the grid has more than {} points", kMaxPoints));
      st.axes.push_back(std::move(zipped));
    }
  }
  if (st.axes.empty()) return top.error_at("axes", "a study needs at least one axis (axes: or zip:)");
  // run.what_if and run.goodput values must be on or off.
  for (const auto& a : st.axes)
    for (std::size_t p = 0; p < a.paths.size(); ++p)
      if (a.paths[p] == "run.what_if" || a.paths[p] == "run.goodput")
        for (const auto& v : a.values)
          if (auto ok = on_off(v[p], a.paths[p], a.declared_at); !ok) return ok.error();
  return st;
}

Expected<StudyBase> apply_point(const Study& study, const StudyPoint& point) {
  StudyBase b = study.base;
  for (const auto& [p, v] : point.assignments) {
    const auto dot = p.find('.');
    const std::string prefix = p.substr(0, dot), rest = p.substr(dot + 1);
    if (prefix == "topology")
      b.topology_sets.push_back(rest + "=" + v);
    else if (prefix == "workload")
      b.workload_sets.push_back(rest + "=" + v);
    else if (auto s = set_base_field(b, study.kind, rest, v, p, study.declared_at); !s)
      return s.error();
  }
  return b;
}

}  // namespace collsim::config
