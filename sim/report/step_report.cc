#include "sim/report/step_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "sim/collective/ops.h"
#include "sim/report/bill_report.h"
#include "sim/report/json.h"
#include "sim/units/units.h"
#include "sim/workload/kernels.h"

namespace collsim::report {

using workload::Group;
using workload::kGroupCount;

StepReport summarise_step(const workload::WorkloadSpec& spec, const std::string& topology_name,
                          const workload::StepGraph& graph, const std::vector<workload::CommCost>& costs,
                          const workload::StepResult& result, const topology::Network& network) {
  StepReport r;
  r.workload = spec.name;
  r.topology = topology_name;
  r.gpus = graph.gpus;
  r.spec = &spec;
  r.graph = &graph;
  r.result = &result;

  std::map<std::tuple<int, int, double, std::string, std::string, int>, std::size_t> index;
  for (std::size_t i = 0; i < graph.ops.size(); ++i) {
    const auto& o = graph.ops[i];
    if (o.kind != workload::StepOp::Kind::kComm) continue;
    const double duration = result.finish_s[i] - result.start_s[i];
    for (int c : o.calls) {
      const auto& call = graph.calls[c];
      const auto& cost = costs[c];
      r.bytes_per_gpu[static_cast<int>(o.group)] += cost.bytes_sent;
      auto key = std::make_tuple(static_cast<int>(o.group), static_cast<int>(call.op), call.bytes, cost.algo,
                                 cost.proto, static_cast<int>(call.gpus.size()));
      auto [it, inserted] = index.try_emplace(key, r.collectives.size());
      if (inserted) {
        // A pipeline send (one way) is not nccl-tests' two-way sendrecv.
        const std::string op = call.one_way ? "send" : std::string(collective::op_name(call.op));
        r.collectives.push_back(CollectiveSummary{to_string(o.group), op, cost.algo, cost.proto,
                                                  static_cast<int>(call.gpus.size()), call.bytes, 0, 0, 0});
      }
      auto& s = r.collectives[it->second];
      ++s.count;
      s.time_alone_s += cost.time_s;
      // Its own time as run, not its operation's (which ends with the
      // slowest of the operation's collectives).
      s.time_mean_s += static_cast<std::size_t>(c) < result.call_mean_s.size() ? result.call_mean_s[c] : duration;
    }
  }
  for (auto& s : r.collectives) {
    s.time_alone_s /= static_cast<double>(s.count);
    s.time_mean_s /= static_cast<double>(s.count);
  }
  std::stable_sort(r.collectives.begin(), r.collectives.end(), [](const auto& a, const auto& b) {
    return a.time_mean_s * static_cast<double>(a.count) > b.time_mean_s * static_cast<double>(b.count);
  });
  for (auto& b : r.bytes_per_gpu) b /= graph.gpus;

  const double T = result.step_time_s;
  std::map<std::string, ResourceUse> by_resource;
  std::vector<LinkUse> links;
  // One link (or one NVSwitch's reduction engines) of resource class `res`.
  auto use = [&](const std::string& res, std::string name, double bytes, double u) {
    auto& ru = by_resource[res];
    ru.resource = res;
    ++ru.links;
    ru.bytes += bytes;
    ru.mean_utilisation += u;
    ru.max_utilisation = std::max(ru.max_utilisation, u);
    if (bytes > 0) links.push_back(LinkUse{std::move(name), res, bytes, u});
  };
  for (std::size_t l = 0; l < network.links().size(); ++l) {
    const auto& link = network.links()[l];
    const double bytes = result.link_bytes[l];
    use(workload::resource_of(link.link_class, link.from_kind, link.to_kind),
        bytes > 0 ? network.link_name(static_cast<int>(l)) : std::string(), bytes,
        T > 0 ? bytes / (link.rate_Bps * T) : 0);
  }
  // NVSwitches' reduction engines (NVLS), a resource beside the links.
  for (auto [sw, adds] : result.engine_adds) {
    const double rate = network.nvls_reduction_rate_Bps(sw);
    use(workload::kEngineResource, network.endpoints()[static_cast<std::size_t>(sw)], adds,
        T > 0 && rate > 0 ? adds / (rate * T) : 0);
  }
  for (auto& [name, ru] : by_resource) {
    ru.mean_utilisation /= ru.links;
    r.resources.push_back(ru);
  }
  std::stable_sort(r.resources.begin(), r.resources.end(),
                   [](const auto& a, const auto& b) { return a.mean_utilisation > b.mean_utilisation; });
  std::stable_sort(links.begin(), links.end(),
                   [](const auto& a, const auto& b) { return a.utilisation > b.utilisation; });
  if (links.size() > 10) links.resize(10);
  r.busiest_links = std::move(links);
  return r;
}

namespace {

std::string secs(double s) { return s == 0 ? std::string("0 s") : units::format(units::Duration{s}); }
std::string pct(double part, double whole) { return whole > 0 ? fmt::format("{:.1f}%", part / whole * 100) : "-"; }

const std::array<Group, 5> kShownGroups{Group::kTp, Group::kCp, Group::kEp, Group::kPp, Group::kDp};

}  // namespace

Throughput throughput(const StepReport& r) {
  Throughput t;
  const double T = r.result->step_time_s;
  if (!(T > 0) || r.gpus <= 0) return t;
  const double tokens = static_cast<double>(r.spec->batch.global) * r.spec->model.seq_len;
  t.tokens_per_s = tokens / T;
  t.tokens_per_gpu_s = t.tokens_per_s / r.gpus;
  const double flops_per_gpu = workload::model_flops_per_token(r.spec->model) * t.tokens_per_gpu_s;
  t.model_tflops_per_gpu = flops_per_gpu / 1e12;
  t.mfu = r.gpu.peak_flop_per_s > 0 ? flops_per_gpu / r.gpu.peak_flop_per_s : std::nan("");
  return t;
}

std::string unpriced_list(const topology::BillOfMaterials& bill) {
  std::string list;
  for (const auto& [kind, n] : bill.unpriced) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", n, kind);
  return list;
}

std::string unpriced_note(const topology::BillOfMaterials& bill) {
  return fmt::format(
      "NOT COUNTED: {} without a catalog part (0 W, $0 above; add parts under catalog: parts:, "
      "docs/power-and-cost.md)",
      unpriced_list(bill));
}

namespace {

std::string stragglers_text(const StepReport& r) {
  const auto& s = *r.stragglers;
  const auto& o = r.straggler_options;
  auto rel = [&](double t) { return fmt::format("{:+.2f}%", 100 * (t / s.baseline_s - 1)); };
  std::string out =
      fmt::format("\nstragglers ({} samples, each GPU's compute time x (1 + {:.2g}% x N(0,1)){}, seed {}; {})\n",
                  s.samples.size(), 100 * o.jitter,
                  o.link_jitter > 0 ? fmt::format(", each link's time x (1 + {:.2g}% x N(0,1))", 100 * o.link_jitter)
                                    : std::string(),
                  o.seed, o.exact ? "every sample simulated" : "collectives frozen at their full-speed durations");
  out += fmt::format("  every GPU at full speed    {:>10}\n", secs(s.baseline_s));
  if (!r.slow_gpus.empty()) {
    // A long draw (--slow-random 500) names the first few; --json lists all.
    constexpr std::size_t kNamed = 8;
    const std::size_t named = std::min(r.slow_gpus.size(), kNamed);
    std::string names = fmt::format("{}", fmt::join(r.slow_gpus.begin(), r.slow_gpus.begin() + named, ", "));
    if (named < r.slow_gpus.size())
      names =
          fmt::format("{} slow GPUs: {}, ... {} more in --json", r.slow_gpus.size(), names, r.slow_gpus.size() - named);
    out +=
        fmt::format("  slow GPUs alone            {:>10}  {}  ({})\n", secs(s.slow_only_s), rel(s.slow_only_s), names);
  }
  for (auto [name, t] : {std::pair{"mean", s.mean_s},
                         {"p50", s.p50_s},
                         {"p90", s.p90_s},
                         {"p99", s.p99_s},
                         {"slowest sample", s.max_s}}) {
    out += fmt::format("  {:<26} {:>10}  {}\n", name, secs(t), rel(t));
  }
  std::vector<std::string> stages;
  int tail = 0;
  for (int c : s.tail_by_stage) tail += c;
  for (std::size_t k = 0; k < s.tail_by_stage.size(); ++k) {
    if (s.tail_by_stage[k] > 0)
      stages.push_back(fmt::format("stage {} {:.0f}%", k, 100.0 * s.tail_by_stage[k] / std::max(1, tail)));
  }
  if (o.jitter > 0 || o.link_jitter > 0 || !r.slow_gpus.empty())  // else every GPU is alike and no stage sets the tail
    out += fmt::format("  the tail's slowest GPU (samples from p90) by pipeline stage: {}\n", fmt::join(stages, ", "));
  return out;
}

}  // namespace

std::string step_text(const StepReport& r) {
  const auto& w = *r.spec;
  const auto& g = *r.graph;
  const auto& res = *r.result;
  const double T = res.step_time_s;
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  line(fmt::format("collsim run: {} on {} ({} GPUs){}", r.workload, r.topology, r.gpus,
                   r.backend.empty() ? std::string() : ", backend " + r.backend));
  if (!r.failures.empty()) line("  failures      " + r.failures);
  if (!r.placement.empty()) line("  placement     " + r.placement);
  // The pipeline schedule only where there is a pipeline.
  const std::string schedule = g.pp <= 1 ? std::string()
                               : g.virtual_stages > 1
                                   ? fmt::format("; interleaved 1F1B, {} virtual stages", g.virtual_stages)
                                   : std::string("; 1F1B");
  line(fmt::format(
      "  parallelism   tp {} x cp {} x pp {} x dp {} (ep {}); {} micro-batch{} of {} x {} tokens{}; ZeRO-{}", g.tp,
      g.cp, g.pp, g.dp, g.ep, g.micro_batches, g.micro_batches == 1 ? "" : "es", w.batch.micro, w.model.seq_len,
      schedule, w.parallel.zero));
  std::string params = fmt::format("{:.1f}B parameters", g.counts.total_params / 1e9);
  if (w.model.experts > 0) params += fmt::format(" ({:.1f}B active)", g.counts.active_params / 1e9);
  if (w.model.published_parameters > 0) {
    // Named limit: 10% off says the shape is another model's (the shipped
    // ones are within 0.5%): an edited field, or the wrong figure.
    const double off = g.counts.total_params / w.model.published_parameters - 1;
    params += fmt::format(", published {:.1f}B ({:+.1f}%{})", w.model.published_parameters / 1e9, off * 100,
                          std::abs(off) > 0.10 ? ": not the published model's shape" : "");
  }
  line(fmt::format("  model         {}; up to {:.2f}B per GPU", params, g.params_per_gpu_max / 1e9));
  line("");
  line(fmt::format("step time       {}", secs(T)));
  line(fmt::format("  compute       {:>12}  {:>6}", secs(res.compute_s), pct(res.compute_s, T)));
  double exposed = 0;
  for (double e : res.exposed_s) exposed += e;
  std::string parts;
  for (Group gr : kShownGroups) {
    const double e = res.exposed_s[static_cast<int>(gr)];
    if (e > 0) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", to_string(gr), secs(e));
  }
  line(fmt::format("  exposed comm  {:>12}  {:>6}  {}", secs(exposed), pct(exposed, T), parts));
  line(fmt::format("  bubble/idle   {:>12}  {:>6}", secs(res.bubble_s), pct(res.bubble_s, T)));
  // TP's collectives sit between the GEMMs that need them: nothing here
  // runs them under compute (Megatron-LM's --tp-comm-overlap, which splits
  // the GEMMs, is not modelled: docs/workload-format.md).
  line(res.exposed_s[static_cast<int>(Group::kTp)] > 0
           ? "  (per GPU, mean over GPUs; comm running under compute is hidden; tp runs between its GEMMs, not\n"
             "   under them: TP communication overlap is not modelled)"
           : "  (per GPU, mean over GPUs; comm running under compute is hidden)");
  {
    const Throughput tp = throughput(r);
    line(fmt::format("throughput      {:.4g} tokens/s, {:.4g} per GPU; model {:.1f} TFLOP/s per GPU{}", tp.tokens_per_s,
                     tp.tokens_per_gpu_s, tp.model_tflops_per_gpu,
                     std::isnan(tp.mfu) ? " (MFU: the GPUs' peak is unknown)"
                                        : fmt::format(", MFU {:.1f}% of {} {}", tp.mfu * 100,
                                                      r.gpu.peak_from_workload || r.gpu.model.empty()
                                                          ? std::string("compute.peak")
                                                          : r.gpu.model + " " + r.spec->precision.compute,
                                                      units::format(units::FlopRate{r.gpu.peak_flop_per_s}))));
  }
  if (r.has_energy) {
    const double tokens = throughput(r).tokens_per_s * T;
    out += format_step_energy(r.energy, r.energy_spec, tokens);
    if (!r.bill.unpriced.empty()) line("  " + unpriced_note(r.bill));
  }
  if (!g.layer_compute_by_kind.empty()) {  // where compute goes, per kernel kind
    double total = 0;
    for (double x : g.layer_compute_by_kind) total += x;
    std::string parts;
    for (int k = 0; k < workload::kKernelKinds; ++k) {
      parts += fmt::format("{}{} {:.0f}%", parts.empty() ? "" : ", ", workload::kernel_kind_name(k),
                           total > 0 ? 100 * g.layer_compute_by_kind[k] / total : 0.0);
    }
    // The layer's own kernels: recomputation runs part of its forward again
    // on top (compute.recompute), which the step's compute time includes.
    const workload::Recompute rc = r.spec ? r.spec->compute.recompute : workload::Recompute::kNone;
    line(fmt::format("compute kernels {} per layer and micro-batch (forward + backward{}): {}", secs(total),
                     rc == workload::Recompute::kNone
                         ? std::string()
                         : fmt::format("; {} recomputation not included", workload::to_string(rc)),
                     parts));
    // Under FlashAttention the scores selective recomputation would drop
    // are never stored (memory.cc): it costs a forward and saves nothing.
    if (rc == workload::Recompute::kSelective && r.spec->compute.attention == workload::AttentionKernel::kFlash)
      line(
          "  selective recomputation saves no memory here: FlashAttention (compute.attention: flash) keeps no "
          "attention scores, yet the attention core's forward runs again");
  }
  if (!r.memory.stages.empty()) {
    std::string mem = workload::memory_text(r.memory);
    if (!mem.empty() && mem.back() == '\n') mem.pop_back();
    line(mem);
  }
  std::string cp = fmt::format("compute {}", secs(res.critical_compute_s));
  for (Group gr : kShownGroups) {
    const double c = res.critical_s[static_cast<int>(gr)];
    if (c > 0) cp += fmt::format(", {} {}", to_string(gr), secs(c));
  }
  line(fmt::format("critical path   {} operations: {}", res.critical_path.size(), cp));
  if (res.max_slowdown > 1 + 1e-6) {
    line(fmt::format("contention      concurrent collectives slowed each other, the worst by {:.2f}x",
                     res.max_slowdown));
  }
  line("");
  line(fmt::format("collectives per step ({}; count: calls in all groups together, alone / as run: one call's time)",
                   r.collectives.size() > 8 ? std::string("the 8 costliest") : std::to_string(r.collectives.size())));
  line(fmt::format("  {:<5} {:<14} {:>6} {:>11} {:>6} {:>7} {:>8} {:>11} {:>11}", "group", "op", "ranks", "size",
                   "algo", "proto", "count", "alone", "as run"));
  for (std::size_t i = 0; i < r.collectives.size() && i < 8; ++i) {
    const auto& c = r.collectives[i];
    line(fmt::format("  {:<5} {:<14} {:>6} {:>11} {:>6} {:>7} {:>8} {:>11} {:>11}", c.group, c.op, c.ranks,
                     units::format(units::Bytes{c.bytes}), c.algo, c.proto, c.count, secs(c.time_alone_s),
                     secs(c.time_mean_s)));
  }
  line("");
  line(
      fmt::format("simulated       {} operations, {} collective calls ({} distinct wirings, {} candidate schedules "
                  "on the engine)",
                  g.ops.size(), r.cost_stats.calls, r.cost_stats.distinct, r.cost_stats.simulated_schedules));
  // Candidates the tuner did not simulate (engine/tuner.h), a few named.
  constexpr std::size_t kSkippedShown = 4;
  const auto& skipped = r.cost_stats.skipped;
  for (std::size_t i = 0; i < skipped.size() && i < kSkippedShown; ++i) line("  not simulated: " + skipped[i]);
  if (skipped.size() > kSkippedShown) {
    line(fmt::format("  not simulated: {} more (the JSON report lists them all)", skipped.size() - kSkippedShown));
  }
  line("");
  line("link use over the step (by resource)");
  for (const auto& ru : r.resources) {
    if (ru.bytes <= 0) continue;
    const bool engines = ru.resource == workload::kEngineResource;
    line(fmt::format("  {:<32} {:>5} {}  mean {:>5.1f}%  max {:>5.1f}%", ru.resource, ru.links,
                     engines ? "switches" : "links", ru.mean_utilisation * 100, ru.max_utilisation * 100));
  }
  line("busiest links");
  for (const auto& l : r.busiest_links)
    line(fmt::format("  {:<48} {:>5.1f}%  {}", l.name, l.utilisation * 100, l.resource));
  if (!r.bottlenecks.empty()) {
    line("");
    line("what would help (each a full re-simulation; ranked by step-time change)");
    for (const auto& b : r.bottlenecks) {
      line(fmt::format("  {:+7.1f}%  step {:>10}  {}: {}", b.delta_pct, secs(b.step_time_s), b.resource, b.what_if));
    }
  }
  if (r.stragglers != nullptr) out += stragglers_text(r);
  return out;
}

std::string step_json(const StepReport& r) {
  const auto& g = *r.graph;
  const auto& res = *r.result;
  JsonWriter j;
  j.begin_object();
  j.key("workload").value(r.workload);
  j.key("topology").value(r.topology);
  if (!r.backend.empty()) j.key("backend").value(r.backend);
  if (!r.failures.empty()) j.key("failures").value(r.failures);
  j.key("gpus").value(static_cast<double>(r.gpus));
  if (!r.placement.empty()) j.key("placement").value(r.placement);
  j.key("parallelism").begin_object();
  for (auto [k, v] : {std::pair{"tp", g.tp},
                      {"cp", g.cp},
                      {"pp", g.pp},
                      {"dp", g.dp},
                      {"ep", g.ep},
                      {"virtual_stages", g.virtual_stages},
                      {"micro_batches", g.micro_batches}})
    j.key(k).value(static_cast<double>(v));
  j.end_object();
  j.key("parameters").value(g.counts.total_params);
  j.key("active_parameters").value(g.counts.active_params);
  j.key("step_time_s").value(res.step_time_s);
  {
    const Throughput tp = throughput(r);
    j.key("tokens_per_s").value(tp.tokens_per_s);
    j.key("tokens_per_gpu_s").value(tp.tokens_per_gpu_s);
    j.key("model_tflops_per_gpu").value(tp.model_tflops_per_gpu);
    j.key("mfu").value(tp.mfu);  // null when the peak is unknown
    j.key("gpu_model").value(r.gpu.model);
    j.key("peak_flop_per_s").value(r.gpu.peak_flop_per_s);
    if (r.has_energy) write_step_energy_json(j, r.energy, r.energy_spec, tp.tokens_per_s * res.step_time_s);
  }
  if (!g.layer_compute_by_kind.empty()) {
    j.key("layer_compute_s").begin_object();  // one layer, one micro-batch, forward + backward
    j.key("gemm").value(g.layer_compute_by_kind[workload::kGemmKernels]);
    j.key("attention_core").value(g.layer_compute_by_kind[workload::kAttentionCore]);
    j.key("memory_bound").value(g.layer_compute_by_kind[workload::kMemoryBound]);
    j.key("kernel_overhead").value(g.layer_compute_by_kind[workload::kKernelOverhead]);
    j.end_object();
  }
  if (!r.memory.stages.empty()) {
    j.key("memory");
    write_memory_json(j, r.memory);
  }
  j.key("compute_s").value(res.compute_s);
  j.key("exposed_comm_s").begin_object();
  for (Group gr : kShownGroups) j.key(to_string(gr)).value(res.exposed_s[static_cast<int>(gr)]);
  j.end_object();
  j.key("comm_s").begin_object();
  for (Group gr : kShownGroups) j.key(to_string(gr)).value(res.comm_s[static_cast<int>(gr)]);
  j.end_object();
  j.key("bytes_per_gpu").begin_object();
  for (Group gr : kShownGroups) j.key(to_string(gr)).value(r.bytes_per_gpu[static_cast<int>(gr)]);
  j.end_object();
  j.key("bubble_s").value(res.bubble_s);
  j.key("critical_path").begin_object();
  j.key("operations").value(static_cast<double>(res.critical_path.size()));
  j.key("compute_s").value(res.critical_compute_s);
  for (Group gr : kShownGroups) j.key(fmt::format("{}_s", to_string(gr))).value(res.critical_s[static_cast<int>(gr)]);
  j.end_object();
  j.key("max_contention_slowdown").value(res.max_slowdown);
  j.key("collectives").begin_array();
  for (const auto& c : r.collectives) {
    j.begin_object();
    j.key("group").value(c.group);
    j.key("op").value(c.op);
    j.key("ranks").value(static_cast<double>(c.ranks));
    j.key("bytes").value(c.bytes);
    j.key("algo").value(c.algo);
    j.key("proto").value(c.proto);
    j.key("count").value(static_cast<double>(c.count));
    j.key("time_alone_s").value(c.time_alone_s);
    j.key("time_mean_s").value(c.time_mean_s);
    j.end_object();
  }
  j.end_array();
  j.key("not_simulated").begin_array();
  for (const auto& why : r.cost_stats.skipped) j.value(why);
  j.end_array();
  j.key("link_classes").begin_array();
  for (const auto& ru : r.resources) {
    j.begin_object();
    j.key("resource").value(ru.resource);
    j.key("links").value(static_cast<double>(ru.links));
    j.key("bytes").value(ru.bytes);
    j.key("mean_utilisation").value(ru.mean_utilisation);
    j.key("max_utilisation").value(ru.max_utilisation);
    j.end_object();
  }
  j.end_array();
  j.key("links").begin_array();
  for (const auto& l : r.busiest_links) {
    j.begin_object();
    j.key("name").value(l.name);
    j.key("resource").value(l.resource);
    j.key("bytes").value(l.bytes);
    j.key("utilisation").value(l.utilisation);
    j.end_object();
  }
  j.end_array();
  j.key("bottlenecks").begin_array();
  for (const auto& b : r.bottlenecks) {
    j.begin_object();
    j.key("resource").value(b.resource);
    j.key("what_if").value(b.what_if);
    j.key("critical_path_s").value(b.critical_s);
    j.key("step_time_s").value(b.step_time_s);
    j.key("delta_pct").value(b.delta_pct);
    j.end_object();
  }
  j.end_array();
  if (r.stragglers != nullptr) {
    const auto& s = *r.stragglers;
    j.key("stragglers").begin_object();
    j.key("samples").value(static_cast<double>(s.samples.size()));
    j.key("exact").value(r.straggler_options.exact);
    j.key("link_jitter").value(r.straggler_options.link_jitter);
    j.key("jitter").value(r.straggler_options.jitter).key("seed").value(static_cast<double>(r.straggler_options.seed));
    j.key("slow_gpus").begin_array();
    for (const auto& g : r.slow_gpus) j.value(g);
    j.end_array();
    j.key("baseline_s").value(s.baseline_s).key("slow_only_s").value(s.slow_only_s);
    j.key("mean_s").value(s.mean_s).key("p50_s").value(s.p50_s).key("p90_s").value(s.p90_s);
    j.key("p99_s").value(s.p99_s).key("max_s").value(s.max_s);
    j.key("tail_by_stage").begin_array();
    for (int c : s.tail_by_stage) j.value(static_cast<double>(c));
    j.end_array();
    j.key("step_times_s").begin_array();
    for (double t : s.samples) j.value(t);
    j.end_array();
    j.end_object();
  }
  j.end_object();
  return j.str() + "\n";
}

}  // namespace collsim::report
