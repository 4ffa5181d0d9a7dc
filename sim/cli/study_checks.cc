#include "sim/cli/study_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/cli/collective_sweep.h"
#include "sim/cli/jobs_run.h"
#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"
#include "sim/config/overrides.h"
#include "sim/config/study_file.h"
#include "sim/config/topology_file.h"
#include "sim/config/yaml_fields.h"
#include "sim/engine/backend.h"
#include "sim/engine/tuner.h"
#include "sim/report/study_report.h"
#include "sim/topology/network.h"
#include "sim/topology/placement.h"
#include "sim/units/units.h"
#include "sim/workload/workload_spec.h"

namespace collsim::cli {

// Checks the study's run./collective. values, and that every topology./
// workload. path names a field, before anything runs: mistakes there would
// otherwise fail every point. Errors point at the value in the study file.
Status check_study(const config::Study& study, const std::map<std::string, std::string>& files) {
  // Every value each field takes: the base's, then each axis's.
  std::map<std::string, std::vector<std::pair<std::string, SourceMark>>> values;
  const auto& b = study.base;
  const std::string prefix = study.kind == config::StudyKind::kRun ? "run." : "collective.";
  auto base = [&](const char* f, const std::string& v) {
    auto it = study.base_marks.find(prefix + f);
    values[prefix + f].emplace_back(v, it != study.base_marks.end() ? it->second : study.declared_at);
  };
  if (!b.algo.empty()) base("algo", b.algo);
  base("placement", b.placement);
  if (study.kind == config::StudyKind::kRun && !b.neighbours.empty()) base("neighbours", b.neighbours);
  if (!b.proto.empty()) base("proto", b.proto);
  base("backend", b.backend);
  if (study.kind == config::StudyKind::kCollective) {
    base("op", b.op), base("bytes", b.bytes), base("datatype", b.datatype), base("ranks", b.ranks);
    if (!b.nccl.empty()) base("nccl", b.nccl);
  } else {
    base("stragglers", b.stragglers), base("jitter", b.jitter), base("restart", b.restart), base("spares", b.spares);
    base("failure_scale", b.failure_scale);
    if (!b.storage_write.empty()) base("storage_write", b.storage_write);
  }
  for (const auto& a : study.axes)
    for (std::size_t p = 0; p < a.paths.size(); ++p)
      for (const auto& v : a.values) values[a.paths[p]].emplace_back(v[p], a.declared_at);

  for (const auto& [path, list] : values) {
    const std::string field = path.substr(path.find('.') + 1);
    for (const auto& [v, mark] : list) {
      std::string problem;
      if (field == "algo") {
        if (auto s = workload::check_comm_choice(v, "auto"); !s) problem = s.error().message;
      } else if (field == "proto") {
        if (auto s = workload::check_comm_choice("auto", v); !s) problem = s.error().message;
      } else if (field == "backend") {
        if (auto be = engine::make_backend(v); !be) problem = be.error().message;
      } else if (field == "op") {
        if (!collective::parse_op(v)) {
          problem = fmt::format(
              "unknown collective '{}': expected allreduce, allgather, reducescatter, alltoall, "
              "broadcast, reduce or sendrecv",
              v);
        }
      } else if (field == "datatype") {
        if (auto t = datatype_size(v); !t) problem = t.error().message;
      } else if (field == "bytes") {
        auto n = units::parse_size_arg(v);
        if (!n)
          problem = n.error().message;
        else if (!(n->count >= 1) || !(n->count <= kMaxCollectiveBytes) || n->count != std::floor(n->count))
          problem = fmt::format("expected a whole number of bytes from 1 to {:.0f} (1 PiB), found '{}'",
                                kMaxCollectiveBytes, v);
      } else if (field == "stragglers" || (field == "spares" && v != "unlimited")) {
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        if (end == v.c_str() || *end != '\0' || n < 0 || n > 1'000'000)
          problem = fmt::format("expected a whole number from 0 to 1000000{}, found '{}'",
                                field == "spares" ? " or unlimited" : "", v);
      } else if (field == "jitter") {
        if (auto j = units::parse_share(v); !j) problem = j.error().message;
      } else if (field == "restart") {
        auto d = units::parse_duration(v);
        if (!d)
          problem = d.error().message;
        else if (d->seconds < 0)
          problem = fmt::format("expected a duration >= 0, found '{}'", v);
      } else if (field == "storage_write") {
        auto r = units::parse_rate(v);
        if (!r)
          problem = r.error().message;
        else if (!(r->bytes_per_s > 0))
          problem = fmt::format("expected a rate above 0, found '{}'", v);
      } else if (field == "failure_scale") {
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || !(x >= 0) || !std::isfinite(x))
          problem = fmt::format("expected a number >= 0, found '{}'", v);
      } else if (field == "neighbours") {
        for (const auto& spec : config::study_neighbours(v))
          if (auto job = parse_job(spec); !job) problem = job.error().message;
      } else if (field == "placement") {
        if (!topology::placement_form_known(v)) {
          problem = fmt::format("expected {}, found '{}'", topology::kPlacementForms, v);
        }
      } else if (field == "nccl") {
        if (auto release = collective::parse_nccl_release(v); !release) problem = release.error().message;
      } else if (field == "ranks") {
        char* end = nullptr;
        const long r = std::strtol(v.c_str(), &end, 10);
        if (v != "all" && (end == v.c_str() || *end != '\0' || r < 2)) {
          problem = fmt::format("expected all or a whole number >= 2, found '{}'", v);
        }
      }
      if (!problem.empty()) return Error{problem, path, mark};
    }
  }
  // Each point's op with its algorithm and protocol: an op no listed
  // algorithm runs, or LL128 for NCCL's point-to-point, would fail every
  // such point once running.
  if (study.kind == config::StudyKind::kCollective) {
    auto mark_of = [&](const std::string& path) {
      for (const auto& a : study.axes)
        if (std::find(a.paths.begin(), a.paths.end(), path) != a.paths.end()) return a.declared_at;
      auto it = study.base_marks.find(path);
      return it != study.base_marks.end() ? it->second : study.declared_at;
    };
    for (const auto& point : study.points()) {
      auto at = config::apply_point(study, point);
      if (!at) continue;  // named by the checks above or by the run
      const auto op = collective::parse_op(at->op);
      if (!op) continue;
      engine::TunerChoice choice;
      choice.algorithm = engine::algorithm_name(at->algo.empty() ? "auto" : at->algo);
      choice.protocol = at->proto.empty() ? "auto" : at->proto;
      if (auto a = engine::candidate_algorithms(*op, choice); !a)
        return Error{fmt::format("point {} ({}): {}", point.index, at->op, a.error().message), prefix + "algo",
                     mark_of(prefix + "algo")};
      if (auto why = engine::point_to_point_refusal(*op, choice.protocol); !why.empty())
        return Error{fmt::format("point {}: {}", point.index, why), prefix + "proto", mark_of(prefix + "proto")};
    }
  }
  // Goodput and straggler fields do nothing unless goodput or stragglers are
  // on somewhere in the study: say so rather than fill empty columns.
  if (study.kind == config::StudyKind::kRun) {
    auto given = [&](const std::string& field) -> const SourceMark* {
      if (auto it = study.base_marks.find("run." + field); it != study.base_marks.end()) return &it->second;
      for (const auto& a : study.axes)
        for (const auto& path : a.paths)
          if (path == "run." + field) return &a.declared_at;
      return nullptr;
    };
    bool goodput = b.goodput, stragglers = b.stragglers != "0";
    for (const auto& a : study.axes)
      for (std::size_t p = 0; p < a.paths.size(); ++p)
        for (const auto& v : a.values) {
          goodput |= a.paths[p] == "run.goodput" && (v[p] == "on" || v[p] == "true");
          stragglers |= a.paths[p] == "run.stragglers" && v[p] != "0";
        }
    for (const char* f : {"restart", "spares", "storage_write", "failure_scale"}) {
      if (const SourceMark* at = given(f); at && !goodput)
        return Error{fmt::format("run.{} applies with run.goodput: on, which this study never sets", f),
                     std::string("run.") + f, *at};
    }
    if (const SourceMark* at = given("jitter"); at && !stragglers)
      return Error{"run.jitter applies with run.stragglers above 0, which this study never sets", "run.jitter", *at};
  }
  // The fixed overrides (run.set, run.set_workload): a value of the wrong
  // kind for its own field (expected a number, found none) fails every
  // point no axis sets that field in, so it stops the study here.
  for (const bool topo : {true, false}) {
    if (topo ? b.topology.empty() : b.workload.empty()) continue;
    const auto& sets = topo ? b.topology_sets : b.workload_sets;
    if (sets.empty()) continue;
    const std::string& file = topo ? b.topology : b.workload;
    Error e;
    if (topo) {
      if (auto spec = config::load_topology_text(files.at(file), file, sets); !spec) e = spec.error();
    } else if (auto w = workload::load_workload_text(files.at(file), file, sets); !w) {
      e = w.error();
    }
    // Only messages about the value alone (its kind or range): one that
    // weighs it against another field (kv_heads against heads) an axis on
    // that field may mend.
    bool value_alone = false;
    for (const char* sign : {"expected a value", "expected a number", "expected a whole number", "expected a positive",
                             "expected true or false", "expected on or off", "has no unit", "unknown unit"})
      value_alone |= e.message.find(sign) != std::string::npos;
    if (!value_alone || e.field.empty()) continue;
    std::string own;  // the override that sets the field
    bool by_axis = false;
    for (const auto& set : sets)
      if (config::override_key(set) == e.field) own = set;
    for (const auto& a : study.axes)
      for (const auto& path : a.paths) by_axis |= path == (topo ? "topology." : "workload.") + e.field;
    if (!own.empty() && !by_axis) {
      const std::string list = fmt::format("{}.{}", study.kind == config::StudyKind::kRun ? "run" : "collective",
                                           topo ? "set" : "set_workload");
      const auto at = study.base_marks.find(list);
      return Error{fmt::format("'{}': {} for {}, so every point would fail", own, e.message, e.field), list,
                   at == study.base_marks.end() ? std::nullopt : std::optional(at->second)};
    }
  }
  // Paths into the topology and workload: does the first value's override
  // name a field? (Other errors belong to the points that hit them.)
  for (const auto& a : study.axes) {
    for (std::size_t p = 0; p < a.paths.size(); ++p) {
      const std::string& path = a.paths[p];
      const bool topo = path.rfind("topology.", 0) == 0, work = path.rfind("workload.", 0) == 0;
      if (!topo && !work) continue;
      const std::string set = path.substr(path.find('.') + 1) + "=" + a.values.front()[p];
      std::string message;
      if (topo) {
        auto sets = b.topology_sets;
        sets.push_back(set);
        if (auto spec = config::load_topology_text(files.at(b.topology), b.topology, sets); !spec) {
          message = spec.error().message;
        }
      } else {
        auto sets = b.workload_sets;
        sets.push_back(set);
        if (auto w = workload::load_workload_text(files.at(b.workload), b.workload, sets); !w)
          message = w.error().message;
      }
      // The path's own mistakes (the value's belong to the points): a key
      // the file does not take, a list element or map it does not have, or
      // a section it lacks (`cluster.nic` on a file of explicit devices).
      bool bad_path = false;
      for (const char* sign : {"unknown key", "is not a list with an element", "is not a map, so it has no key",
                               "expected a list index", "unclosed '['", "(the file has no '"})
        bad_path |= message.find(sign) != std::string::npos;
      if (bad_path) {
        return Error{fmt::format("{} does not name a field of {}: {}", path, topo ? b.topology : b.workload, message),
                     path, a.declared_at};
      }
    }
  }
  return Ok{};
}

}  // namespace collsim::cli
