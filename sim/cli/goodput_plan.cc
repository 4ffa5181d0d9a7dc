#include "sim/cli/goodput_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/range/iterator_range.hpp>
#include <cmath>
#include <set>

#include "sim/units/units.h"

namespace collsim::cli {

namespace {

report::GoodputWhatIf what_if(std::string change, const goodput::GoodputParams& p) {
  const auto r = goodput::simulate_goodput(p);
  return {std::move(change), r.ettr.mean, r.wall_s.p50};
}

}  // namespace

Expected<report::GoodputReport> plan_goodput(const StepRun& run, const GoodputInputs& in) {
  const auto& network = *run.network;
  const auto& w = run.workload;
  report::GoodputReport r;
  r.workload = w.name;
  r.topology = run.spec.name;
  if (run.topo.failed.any()) {
    r.failures =
        run.topo.failed.text() + (in.step_s ? "; not used: the step's time is given" : "; in the step's simulation");
  }
  r.step_s = in.step_s.value_or(run.result.step_time_s);
  r.step_source = in.step_source;
  r.tokens_per_step = static_cast<double>(w.batch.global) * w.model.seq_len;

  auto& c = r.counts;
  c.gpus = network.num_gpus();
  std::set<int> domains;
  for (int g = 0; g < c.gpus; ++g) domains.insert(network.nvlink_domain_of(g));
  c.gpus_per_domain = c.gpus / std::max<int>(1, static_cast<int>(domains.size()));
  for (auto v : boost::make_iterator_range(boost::vertices(run.topo.graph))) {
    if (run.topo.graph[v].kind == config::DeviceKind::kNic) ++c.nics;
  }
  if (in.gpus_per_host && (*in.gpus_per_host > c.gpus || c.gpus % *in.gpus_per_host != 0)) {
    return make_error(
        fmt::format("--gpus-per-host {} does not divide the {} GPUs into whole servers", *in.gpus_per_host, c.gpus));
  }
  c.gpus_per_host = std::min(
      in.gpus_per_host.value_or(goodput::default_gpus_per_host(run.topo.graph[run.topo.gpus.front()].model)), c.gpus);
  c.hosts = (c.gpus + c.gpus_per_host - 1) / c.gpus_per_host;
  const int nvlink_group = w.parallel.tp * w.parallel.cp;
  const bool domain =
      in.blast_radius == "domain" ||
      (in.blast_radius == "auto" && c.gpus_per_domain > c.gpus_per_host && nvlink_group > c.gpus_per_host);
  r.blast_radius = domain ? "NVLink domain" : "host";
  r.unit_gpus = domain ? std::max(c.gpus_per_domain, c.gpus_per_host) : c.gpus_per_host;

  r.parameters = workload::count_model(w.model).total_params;
  r.checkpoint_bytes =
      in.checkpoint_bytes.value_or(r.parameters * (w.precision.weight_bytes + w.memory.optimizer_state_bytes));
  r.write_Bps = in.write_Bps.value_or(kStorageBpsPerGpu * c.gpus);
  r.read_Bps = in.read_Bps.value_or(r.write_Bps);

  auto& p = r.params;
  p.samples = in.samples;
  p.seed = in.seed;
  p.restart_s = in.restart_s;
  p.repair_s = in.repair_s;
  p.spares = in.spares;
  p.step_s = r.step_s;
  p.save_s = r.checkpoint_bytes / r.write_Bps;
  p.load_s = r.checkpoint_bytes / r.read_Bps;
  p.interval_s = in.interval_s;
  r.interval_source = in.interval_s > 0 ? "given" : "Daly";
  r.tokens = in.tokens;
  if (in.tokens > 0) {
    p.target_train_s = std::ceil(in.tokens / r.tokens_per_step) * r.step_s;
  } else {
    p.horizon_s = in.days * 86400;
  }
  // A run by time must finish a step and a checkpoint save, or its time
  // shares count unfinished work as training.
  if (p.horizon_s > 0 && p.step_s > p.horizon_s) {
    return make_error(fmt::format(
        "a step takes {}, longer than the whole run ({:g} days): no step would finish; give a longer --days or "
        "check --step-time",
        units::format(units::Duration{p.step_s}), in.days));
  }
  if (p.horizon_s > 0 && p.save_s > p.horizon_s) {
    return make_error(
        fmt::format("a checkpoint save takes {} ({} at {}), longer than the whole run ({:g} days): give a faster "
                    "--storage-write, a smaller --checkpoint-size or a longer --days",
                    units::format(units::Duration{p.save_s}), units::format(units::Bytes{r.checkpoint_bytes}),
                    units::format(units::Rate{r.write_Bps}), in.days));
  }
  p.causes = goodput::failure_causes(c, in.failure_scale);
  p.planned_per_hour = in.planned ? goodput::planned_rate_per_hour(in.failure_scale) : 0;
  if (const double events = goodput::expected_events(p); events > goodput::kMaxEvents) {
    return make_error(fmt::format(
        "{} run{} at this cluster's failure rate could meet up to {:.2g} interruptions ({}), more than the {:.0e} "
        "collsim simulates: give fewer --samples, a shorter run (--days, --tokens) or a lower --failure-scale",
        p.samples, p.samples == 1 ? "" : "s", events,
        in.tokens > 0 ? "each lasting up to 20x its training time" : fmt::format("of {:g} days each", in.days),
        goodput::kMaxEvents));
  }
  return r;
}

void add_goodput_what_ifs(report::GoodputReport& r, int samples) {
  const auto& p = r.params;
  auto q = p;
  q.samples = std::min(p.samples, samples);
  auto faster = q;
  faster.save_s /= 2;
  faster.load_s /= 2;
  r.what_ifs.push_back(what_if("checkpoint storage 2x faster", faster));
  auto restart_fast = q;
  restart_fast.restart_s /= 2;
  r.what_ifs.push_back(what_if("restarts 2x faster", restart_fast));
  auto fewer = q;
  for (auto& cause : fewer.causes) cause.rate_per_hour /= 2;
  fewer.planned_per_hour /= 2;
  r.what_ifs.push_back(what_if("failure rates halved", fewer));
  if (p.spares >= 0) {
    auto more = q;
    more.spares = std::max(1, 2 * p.spares);
    r.what_ifs.push_back(what_if(fmt::format("{} spare{}", more.spares, more.spares == 1 ? "" : "s"), more));
    more.spares = -1;
    r.what_ifs.push_back(what_if("unlimited spares", more));
    return;
  }
  // The fewest spares whose mean ETTR is within 0.5 points of unlimited.
  const double target = what_if("", q).ettr - 0.005;
  auto ettr_at = [&](int s) {
    auto t = q;
    t.spares = s;
    return what_if("", t).ettr;
  };
  int lo = -1, hi = 1;  // ETTR(lo) < target <= ETTR(hi)
  while (hi < 1'000'000 && ettr_at(hi) < target) lo = hi, hi *= 2;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (mid >= 0 && ettr_at(mid) >= target ? hi : lo) = mid;
  }
  r.spares_needed = hi;
}

}  // namespace collsim::cli
