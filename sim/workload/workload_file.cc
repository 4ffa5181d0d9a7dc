#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "sim/config/overrides.h"
#include "sim/config/yaml_fields.h"
#include "sim/engine/tuner_choice.h"
#include "sim/units/units.h"
#include "sim/workload/nearest_valid.h"
#include "sim/workload/workload_reader.h"
#include "sim/workload/workload_spec.h"

namespace collsim::workload {

using config::MapReader;

const char* to_string(Dim d) {
  switch (d) {
    case Dim::kTp:
      return "tp";
    case Dim::kCp:
      return "cp";
    case Dim::kDp:
      return "dp";
    case Dim::kPp:
      return "pp";
  }
  return "?";
}

Status check_comm_choice(const std::string& algorithm, const std::string& protocol) {
  engine::TunerChoice choice;
  choice.algorithm = algorithm;
  choice.protocol = protocol;
  return engine::check_choice(choice);
}

Error WorkloadSpec::error_at(const std::string& field, std::string message) const {
  auto it = marks.find(field);
  if (it == marks.end()) return Error{std::move(message), field, SourceMark{file, 0, 0}};
  return Error{std::move(message), field, it->second};
}

namespace detail {

Status Reader::model(const MapReader& m) {
  if (auto s = m.check({"name", "layers", "hidden", "ffn_hidden", "heads", "kv_heads", "head_dim", "vocab", "seq_len",
                        "mlp", "tied_embeddings", "experts", "top_k", "expert_ffn_hidden", "shared_experts",
                        "dense_layers", "parameters"});
      !s) {
    return s;
  }
  auto& md = w_.model;
  if (auto v = m.optional_scalar("name"); !v)
    return v.error();
  else
    md.name = v->value_or(w_.name);
  for (auto [key, target] : {std::pair{"layers", &md.layers},
                             {"hidden", &md.hidden},
                             {"ffn_hidden", &md.ffn_hidden},
                             {"heads", &md.heads},
                             {"vocab", &md.vocab},
                             {"seq_len", &md.seq_len}}) {
    auto v = positive_int(m, key);
    if (!v) return v.error();
    *target = *v;
  }
  auto kv = positive_int(m, "kv_heads", md.heads);
  if (!kv) return kv.error();
  md.kv_heads = *kv;
  if (md.kv_heads > md.heads || md.heads % md.kv_heads != 0) {
    return m.error_at("kv_heads", fmt::format("expected a divisor of heads ({}), found {}", md.heads, md.kv_heads));
  }
  if (!m.has("head_dim") && md.hidden % md.heads != 0) {
    return m.error_at("heads",
                      fmt::format("hidden ({}) is not a multiple of heads ({}); give head_dim", md.hidden, md.heads));
  }
  auto hd = positive_int(m, "head_dim", std::max(1, md.hidden / md.heads));
  if (!hd) return hd.error();
  md.head_dim = *hd;
  if (auto v = m.optional_scalar("mlp"); !v) {
    return v.error();
  } else if (*v) {
    if (**v == "swiglu")
      md.mlp = Mlp::kSwiGlu;
    else if (**v == "gelu")
      md.mlp = Mlp::kGelu;
    else
      return m.error_at("mlp", fmt::format("expected swiglu or gelu, found '{}'", **v));
  }
  auto tied = boolean(m, "tied_embeddings", false);
  if (!tied) return tied.error();
  md.tied_embeddings = *tied;
  for (auto [key, target] : {std::pair{"experts", &md.experts},
                             {"top_k", &md.top_k},
                             {"expert_ffn_hidden", &md.expert_ffn_hidden},
                             {"shared_experts", &md.shared_experts},
                             {"dense_layers", &md.dense_layers}}) {
    auto v = nonnegative_int(m, key, 0);
    if (!v) return v.error();
    *target = *v;
  }
  if (md.experts > 0) {
    if (md.top_k < 1 || md.top_k > md.experts) {
      return m.error_at("top_k", fmt::format("expected 1 to experts ({}), found {}", md.experts, md.top_k));
    }
    if (md.expert_ffn_hidden < 1) return m.error_at("expert_ffn_hidden", "a MoE model needs expert_ffn_hidden");
    if (md.dense_layers >= md.layers) {
      return m.error_at("dense_layers",
                        fmt::format("expected fewer than layers ({}), found {}", md.layers, md.dense_layers));
    }
  } else {
    for (auto key : {"top_k", "expert_ffn_hidden", "shared_experts", "dense_layers"}) {
      if (m.has(key)) return m.error_at(key, "only for a mixture-of-experts model: set experts too");
    }
  }
  if (m.has("parameters")) {
    auto v = m.number("parameters");
    if (!v) return v.error();
    if (!(*v > 0)) return m.error_at("parameters", "expected a positive number of parameters, e.g. 70.6e9");
    md.published_parameters = *v;
  }
  return Ok{};
}

// first_stage_layers / last_stage_layers: at least one layer per chunk,
// and the other stages' layers splitting evenly into their chunks.
Status Reader::check_uneven_stages(const MapReader& m) {
  const auto& p = w_.parallel;
  const int L = w_.model.layers, v = p.virtual_stages;
  for (auto [key, n] :
       {std::pair{"first_stage_layers", p.first_stage_layers}, {"last_stage_layers", p.last_stage_layers}}) {
    if (n == 0) continue;
    if (p.pp < 2) return m.error_at(key, fmt::format("uneven stages need a pipeline: pp >= 2, found {}", p.pp));
    if (n < v) {
      return m.error_at(key, fmt::format("{} layers cannot fill virtual_stages = {} chunks of at least one layer; "
                                         "expected {} or more",
                                         n, v, v));
    }
  }
  const char* key = p.last_stage_layers > 0 ? "last_stage_layers" : "first_stage_layers";
  if (const StageSplit s = split_stages(L, p.pp, v, p.first_stage_layers, p.last_stage_layers); !s.even) {
    return m.error_at(key, fmt::format("the other {} stages would hold {} of the {} layers, which do not split evenly "
                                       "into {} x virtual_stages {} chunks of at least one layer",
                                       s.stages, s.rest, L, s.stages, v));
  }
  return Ok{};
}

Status Reader::parallelism(const MapReader& m) {
  if (auto s = m.check({"tp", "pp", "dp", "cp", "ep", "sequence_parallel", "virtual_stages", "zero", "order",
                        "tp_across_nvlink_domains", "first_stage_layers", "last_stage_layers"});
      !s) {
    return s;
  }
  auto& p = w_.parallel;
  for (auto [key, target] :
       {std::pair{"tp", &p.tp}, {"pp", &p.pp}, {"cp", &p.cp}, {"ep", &p.ep}, {"virtual_stages", &p.virtual_stages}}) {
    auto v = positive_int(m, key, 1);
    if (!v) return v.error();
    *target = *v;
  }
  // Later checks multiply degrees in int (layers % (pp x virtual_stages),
  // tp x cp x pp, ...): their product is bounded here, so none overflows.
  constexpr long long kMaxDegreeProduct = 1LL << 24;  // 16,777,216: above any cluster collsim builds
  long long product = 1;
  for (auto [key, degree] :
       {std::pair{"tp", p.tp}, {"cp", p.cp}, {"pp", p.pp}, {"ep", p.ep}, {"virtual_stages", p.virtual_stages}}) {
    product *= degree;  // each <= 2^31 and the running product <= 2^24: no overflow
    if (product > kMaxDegreeProduct) {
      return m.error_at(key, fmt::format("tp x cp x pp x ep x virtual_stages reaches {} at '{}', above the limit of {}",
                                         product, key, kMaxDegreeProduct));
    }
  }
  auto dp = nonnegative_int(m, "dp", 0);
  if (!dp) return dp.error();
  p.dp = *dp;
  for (auto [key, target] :
       {std::pair{"first_stage_layers", &p.first_stage_layers}, {"last_stage_layers", &p.last_stage_layers}}) {
    auto v = nonnegative_int(m, key, 0);
    if (!v) return v.error();
    *target = *v;
  }
  auto sp = boolean(m, "sequence_parallel", p.tp > 1);
  if (!sp) return sp.error();
  p.sequence_parallel = *sp;
  auto zero = nonnegative_int(m, "zero", 1);
  if (!zero) return zero.error();
  if (*zero > 3) return m.error_at("zero", fmt::format("expected 0, 1, 2 or 3, found {}", *zero));
  p.zero = *zero;
  auto across = boolean(m, "tp_across_nvlink_domains", false);
  if (!across) return across.error();
  p.tp_across_domains = *across;
  remember(m, "order");
  if (m.has("order")) {
    const YAML::Node order = m.child("order");
    const std::string expect = "expected a list of tp, dp, pp and optionally cp (each once, innermost first)";
    if (!order.IsSequence() || order.size() < 3 || order.size() > 4) return m.error_at("order", expect);
    p.order.clear();
    for (const auto& item : order) {
      const std::string name = item.IsScalar() ? item.Scalar() : "";
      Dim d;
      if (name == "tp")
        d = Dim::kTp;
      else if (name == "cp")
        d = Dim::kCp;
      else if (name == "dp")
        d = Dim::kDp;
      else if (name == "pp")
        d = Dim::kPp;
      else
        return Error{fmt::format("{}, found '{}'", expect, name), m.field("order"), config::mark_of(item, m.file())};
      if (std::find(p.order.begin(), p.order.end(), d) != p.order.end()) {
        return Error{fmt::format("{}: '{}' appears twice", expect, name), m.field("order"),
                     config::mark_of(item, m.file())};
      }
      p.order.push_back(d);
    }
    for (Dim d : {Dim::kTp, Dim::kDp, Dim::kPp}) {
      if (std::find(p.order.begin(), p.order.end(), d) == p.order.end()) {
        return m.error_at("order", fmt::format("{}: '{}' is missing", expect, to_string(d)));
      }
    }
    if (p.order.size() == 3) {  // cp right after tp
      p.order.insert(std::find(p.order.begin(), p.order.end(), Dim::kTp) + 1, Dim::kCp);
    }
  }
  // Checks that need only the model (those that need the GPU count come later).
  const auto& md = w_.model;
  if (p.first_stage_layers > 0 || p.last_stage_layers > 0) {
    if (auto st = check_uneven_stages(m); !st) return st;
  } else if (md.layers % (p.pp * p.virtual_stages) != 0) {
    // Name the nearest values of the field the error points at.
    const bool vs = m.has("virtual_stages");
    const int other = vs ? p.pp : p.virtual_stages;
    const Nearest fit = nearest_where(vs ? p.virtual_stages : p.pp, md.layers / other,
                                      [&](long long v) { return md.layers % (v * other) == 0; });
    const std::string what = fmt::format(
        "layers ({}) must split evenly into pp x virtual_stages = {} x {} pipeline "
        "chunks",
        md.layers, p.pp, p.virtual_stages);
    // With dp fixed, another pp changes the GPUs tp x cp x pp x dp needs:
    // uneven stages keep the depth, so they come first.
    if (!vs && p.dp > 0 && p.pp <= md.layers) {
      return m.error_at("pp", fmt::format("{}; give first_stage_layers / last_stage_layers to keep pp {}, or a pp "
                                          "that splits them ({}) with dp (fixed at {}) changed to fill the GPUs",
                                          what, p.pp, to_string(fit), p.dp));
    }
    return m.error_at(vs ? "virtual_stages" : "pp",
                      fmt::format("{}; nearest valid {}: {} (or give first_stage_layers / last_stage_layers)", what,
                                  vs ? "virtual_stages" : "pp", to_string(fit)));
  }
  if (p.virtual_stages > 1 && p.pp < 2) {
    return m.error_at(
        "virtual_stages",
        fmt::format("interleaving (virtual_stages {}) needs a pipeline: pp >= 2, found {}", p.virtual_stages, p.pp));
  }
  if (md.heads % p.tp != 0) {
    const Nearest tp = nearest_where(p.tp, md.heads, [&](long long v) { return md.heads % v == 0; });
    return m.error_at("tp", fmt::format("tp ({}) must divide the attention heads ({}); nearest valid tp: {}", p.tp,
                                        md.heads, to_string(tp)));
  }
  // Megatron splits the key/value heads (query groups) over TP too
  // (megatron/core/transformer/attention.py divides num_query_groups by the
  // TP size): tp beyond them would split a head.
  if (md.kv_heads % p.tp != 0) {
    const Nearest tp = nearest_where(p.tp, md.kv_heads, [&](long long v) { return md.kv_heads % v == 0; });
    return m.error_at("tp", fmt::format("tp ({}) must divide the key/value heads (model.kv_heads, {}); nearest valid "
                                        "tp: {}",
                                        p.tp, md.kv_heads, to_string(tp)));
  }
  // Megatron splits an MLP's columns over TP
  // (megatron/core/tensor_parallel/layers.py ColumnParallelLinear divides
  // its output size by the TP size, which must divide it): the dense MLP's
  // ffn_hidden where dense layers run, and the experts' as collsim splits
  // them (memory.cc, model.cc).
  const bool dense = md.experts == 0 || md.dense_layers > 0, moe = md.experts > 0;
  for (const auto& [field, columns, used] : {std::tuple{"model.ffn_hidden", md.ffn_hidden, dense},
                                             std::tuple{"model.expert_ffn_hidden", md.expert_ffn_hidden, moe}}) {
    if (!used || columns % p.tp == 0) continue;
    const Nearest tp = nearest_where(p.tp, md.heads, [&](long long v) {
      return md.heads % v == 0 && md.kv_heads % v == 0 && (!dense || md.ffn_hidden % v == 0) &&
             (!moe || md.expert_ffn_hidden % v == 0);
    });
    return m.error_at("tp", fmt::format("tp ({}) must divide the MLP's columns ({}, {}); nearest valid tp: {}", p.tp,
                                        field, columns, to_string(tp)));
  }
  if (p.sequence_parallel && md.seq_len % (p.tp * p.cp) != 0) {
    return m.error_at("sequence_parallel",
                      fmt::format("seq_len ({}) must be a multiple of tp x cp ({})", md.seq_len, p.tp * p.cp));
  }
  if (md.seq_len % p.cp != 0) {
    const Nearest cp = nearest_where(p.cp, md.seq_len, [&](long long v) { return md.seq_len % v == 0; });
    return m.error_at(
        "cp", fmt::format("cp ({}) must divide seq_len ({}); nearest valid cp: {}", p.cp, md.seq_len, to_string(cp)));
  }
  if (p.ep > 1 && md.experts == 0) return m.error_at("ep", "expert parallelism needs a MoE model (model.experts)");
  // ep divides the experts and, when dp is given, dp (expert-parallel
  // groups are cut from the data-parallel dimension).
  auto ep_fits = [&](long long v) { return md.experts % v == 0 && (p.dp == 0 || p.dp % v == 0); };
  if (md.experts > 0 && md.experts % p.ep != 0) {
    return m.error_at("ep", fmt::format("ep ({}) must divide the experts ({}); nearest valid ep: {}", p.ep, md.experts,
                                        to_string(nearest_where(p.ep, md.experts, ep_fits))));
  }
  if (p.dp > 0 && p.dp % p.ep != 0) {
    return m.error_at("ep", fmt::format("ep ({}) must divide dp ({}): expert-parallel groups are cut from the "
                                        "data-parallel dimension; nearest valid ep: {}",
                                        p.ep, p.dp, to_string(nearest_where(p.ep, p.dp, ep_fits))));
  }
  return Ok{};
}

Status Reader::batch(const MapReader& m) {
  if (auto s = m.check({"global", "micro"}); !s) return s;
  auto g = positive_int(m, "global");
  if (!g) return g.error();
  auto mi = positive_int(m, "micro", 1);
  if (!mi) return mi.error();
  w_.batch = BatchSpec{*g, *mi};
  return Ok{};
}

Status Reader::read(const YAML::Node& root, const std::string& file) {
  MapReader top(root, file, "");
  if (auto s = top.check(
          {"name", "description", "model", "parallelism", "batch", "precision", "compute", "communication", "memory"});
      !s) {
    return s;
  }
  if (auto d = top.optional_scalar("description"); !d) return d.error();  // text, not a list or map
  auto name = top.scalar("name");
  if (!name) return name.error();
  w_.name = *name;
  for (auto key : {"model", "parallelism", "batch"}) {
    if (!top.has(key)) return top.error_at(key, fmt::format("missing section '{}'", key));
  }
  auto section = [&](const char* key) { return MapReader(top.child(key), file, key); };
  if (auto s = model(section("model")); !s) return s;
  if (auto s = parallelism(section("parallelism")); !s) return s;
  if (auto s = batch(section("batch")); !s) return s;
  if (top.has("precision")) {
    if (auto s = precision(section("precision")); !s) return s;
  }
  if (top.has("compute")) {
    if (auto s = compute(section("compute")); !s) return s;
  }
  if (top.has("communication")) {
    if (auto s = communication(section("communication")); !s) return s;
  }
  if (top.has("memory")) {
    if (auto s = memory(section("memory")); !s) return s;
  }
  return Ok{};
}

}  // namespace detail

Expected<WorkloadSpec> load_workload_text(const std::string& text, const std::string& file,
                                          const std::vector<std::string>& overrides) {
  auto loaded = config::load_yaml(text, file);
  if (!loaded) return loaded.error();
  YAML::Node root = *loaded;
  if (auto s = config::apply_overrides(root, overrides, "--set-workload"); !s) return s.error();
  WorkloadSpec w;
  w.file = file;
  try {
    if (auto s = detail::Reader(w).read(root, file); !s) return s.error();
  } catch (const YAML::Exception& e) {  // defensive: yaml-cpp throws on some malformed accesses
    return Error{fmt::format("malformed YAML: {}", e.msg), "", SourceMark{file, e.mark.line + 1, e.mark.column + 1}};
  }
  return w;
}

Expected<WorkloadSpec> load_workload_file(const std::string& path, const std::vector<std::string>& overrides) {
  auto text = config::read_text_file(path, "workload file");
  if (!text) return text.error();
  return load_workload_text(*text, path, overrides);
}

}  // namespace collsim::workload
