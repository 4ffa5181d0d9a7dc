#include "sim/workload/stragglers.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace collsim::workload {

namespace {

// Each worker's multiplier: the largest of its GPUs'. `argmax` gets the
// worker with the largest.
std::vector<double> worker_scale(const StepGraph& graph, const std::vector<double>& gpu, int* argmax) {
  std::vector<double> w(graph.worker_gpus.size(), 1.0);
  double best = -1;
  for (std::size_t k = 0; k < w.size(); ++k) {
    double m = 0;
    for (int g : graph.worker_gpus[k]) m = std::max(m, gpu[static_cast<std::size_t>(g)]);
    w[k] = m > 0 ? m : 1.0;
    if (w[k] > best) {
      best = w[k];
      if (argmax) *argmax = static_cast<int>(k);
    }
  }
  return w;
}

double step_time(const StepGraph& graph, const std::vector<CommCost>& costs, const topology::Network& network,
                 StepSimOptions options, std::vector<double> scale) {
  options.track_links.clear();
  options.link_group.clear();
  options.worker_compute_scale = std::move(scale);
  return simulate_step(graph, costs, network, options).step_time_s;
}

// The step as a DAG with its collectives frozen at their durations in
// `baseline`: each sample is one longest path, over compact arrays in
// dependency order (a 576-GPU step has most of a million operations).
class FrozenStep {
 public:
  FrozenStep(const StepGraph& graph, const StepResult& baseline, double compute_scale) {
    const std::size_t n = graph.ops.size();
    const Dependents dependents = dependents_of(graph);
    std::vector<int> pending(n, 0);
    for (std::size_t i = 0; i < n; ++i) pending[i] = static_cast<int>(graph.ops[i].deps.size());
    std::vector<int> order;
    for (std::size_t i = 0; i < n; ++i)
      if (pending[i] == 0) order.push_back(static_cast<int>(i));
    for (std::size_t k = 0; k < order.size(); ++k) {  // Kahn's order: every op after its dependencies
      const auto op = static_cast<std::size_t>(order[k]);
      for (int j = dependents.start[op]; j < dependents.start[op + 1]; ++j)
        if (--pending[static_cast<std::size_t>(dependents.of[static_cast<std::size_t>(j)])] == 0)
          order.push_back(dependents.of[static_cast<std::size_t>(j)]);
    }
    std::vector<int> position(n, 0);
    for (std::size_t k = 0; k < order.size(); ++k) position[static_cast<std::size_t>(order[k])] = static_cast<int>(k);
    dep_start_.push_back(0);
    worker_start_.push_back(0);
    call_start_.push_back(0);
    for (int op : order) {
      const StepOp& o = graph.ops[static_cast<std::size_t>(op)];
      for (int d : o.deps) deps_.push_back(position[static_cast<std::size_t>(d)]);
      dep_start_.push_back(static_cast<int>(deps_.size()));
      if (o.kind == StepOp::Kind::kCompute) {
        duration_.push_back(o.duration_s * compute_scale);
        for (int w : o.workers) workers_.push_back(w);
      } else {
        duration_.push_back(baseline.finish_s[static_cast<std::size_t>(op)] -
                            baseline.start_s[static_cast<std::size_t>(op)]);
        for (int c : o.calls) calls_.push_back(c);
      }
      worker_start_.push_back(static_cast<int>(workers_.size()));
      call_start_.push_back(static_cast<int>(calls_.size()));
    }
    finish_.assign(order.size(), 0);
  }

  // `call_scale`: per collective call, a multiplier of its time (link
  // jitter); empty: none.
  double step_time(const std::vector<double>& worker_scale, const std::vector<double>& call_scale) {
    double step = 0;
    const std::size_t n = duration_.size();
    for (std::size_t i = 0; i < n; ++i) {
      double start = 0;
      for (int k = dep_start_[i]; k < dep_start_[i + 1]; ++k)
        start = std::max(start, finish_[static_cast<std::size_t>(deps_[static_cast<std::size_t>(k)])]);
      double scale = 1;
      if (!call_scale.empty() && call_start_[i] < call_start_[i + 1]) {
        for (int k = call_start_[i]; k < call_start_[i + 1]; ++k)
          scale = std::max(scale, call_scale[static_cast<std::size_t>(calls_[static_cast<std::size_t>(k)])]);
      }
      if (worker_start_[i] < worker_start_[i + 1]) {
        scale = 0;
        for (int k = worker_start_[i]; k < worker_start_[i + 1]; ++k)
          scale = std::max(scale, worker_scale[static_cast<std::size_t>(workers_[static_cast<std::size_t>(k)])]);
      }
      finish_[i] = start + duration_[i] * scale;
      step = std::max(step, finish_[i]);
    }
    return step;
  }

 private:
  std::vector<int> dep_start_, deps_, worker_start_, workers_, call_start_, calls_;
  std::vector<double> duration_, finish_;
};

}  // namespace

StragglerResult simulate_stragglers(const StepGraph& graph, const std::vector<CommCost>& costs,
                                    const topology::Network& network, const StepSimOptions& base,
                                    const StragglerOptions& options, const std::function<void(int, int)>& progress) {
  StragglerResult r;
  const auto gpus = static_cast<std::size_t>(graph.gpus);
  std::vector<double> persistent(gpus, 1.0);
  for (auto [g, speed] : options.slow) persistent[static_cast<std::size_t>(g)] = 1 / speed;
  StepSimOptions quiet = base;
  quiet.track_links.clear();
  quiet.link_group.clear();
  const StepResult baseline = simulate_step(graph, costs, network, quiet);
  r.baseline_s = baseline.step_time_s;
  FrozenStep frozen(graph, baseline, base.compute_scale);
  r.slow_only_s = options.slow.empty()
                      ? r.baseline_s
                      : step_time(graph, costs, network, base, worker_scale(graph, persistent, nullptr));
  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<int> slowest_stage;
  std::vector<double> gpu(gpus);
  // Link jitter: each used link's time multiplier per sample; a call runs
  // at its slowest link's.
  std::vector<int> used;  // links some call puts bytes on
  std::vector<std::vector<int>> call_links(costs.size());
  if (options.link_jitter > 0) {
    std::vector<int> local(network.links().size(), -1);
    for (std::size_t c = 0; c < costs.size(); ++c) {
      for (auto [l, b] : costs[c].link_bytes) {
        if (!(b > 0)) continue;
        if (local[static_cast<std::size_t>(l)] < 0) {
          local[static_cast<std::size_t>(l)] = static_cast<int>(used.size());
          used.push_back(l);
        }
        call_links[c].push_back(local[static_cast<std::size_t>(l)]);
      }
    }
  }
  std::vector<double> link(used.size()), call_scale;
  std::vector<CommCost> scaled;  // exact mode with link jitter: the costs with their times scaled
  const int n = std::max(1, options.samples);
  for (int s = 0; s < n; ++s) {
    for (std::size_t g = 0; g < gpus; ++g)
      gpu[g] = std::max(kMinMultiplier, 1 + options.jitter * z(rng)) * persistent[g];
    int worst = 0;
    auto scale = worker_scale(graph, gpu, &worst);
    if (!used.empty()) {
      for (auto& m : link) m = std::max(kMinMultiplier, 1 + options.link_jitter * z(rng));
      call_scale.assign(costs.size(), 1.0);
      for (std::size_t c = 0; c < costs.size(); ++c)
        for (int k : call_links[c]) call_scale[c] = std::max(call_scale[c], link[static_cast<std::size_t>(k)]);
      if (options.exact) {
        scaled = costs;
        for (std::size_t c = 0; c < costs.size(); ++c) scaled[c].time_s *= call_scale[c];
      }
    }
    r.samples.push_back(options.exact ? step_time(graph, used.empty() ? costs : scaled, network, base, std::move(scale))
                                      : frozen.step_time(scale, call_scale));
    slowest_stage.push_back(graph.worker_stage[static_cast<std::size_t>(worst)]);
    if (progress && (s + 1) % (options.exact ? 8 : 256) == 0) progress(s + 1, n);
  }
  std::vector<double> sorted = r.samples;
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double f) { return sorted[static_cast<std::size_t>(std::floor(f * static_cast<double>(n - 1)))]; };
  r.p50_s = at(0.5);
  r.p90_s = at(0.9);
  r.p99_s = at(0.99);
  r.max_s = sorted.back();
  for (double x : sorted) r.mean_s += x / n;
  r.tail_by_stage.assign(static_cast<std::size_t>(graph.pp), 0);
  for (int s = 0; s < n; ++s) {
    if (r.samples[static_cast<std::size_t>(s)] >= r.p90_s)
      ++r.tail_by_stage[static_cast<std::size_t>(slowest_stage[static_cast<std::size_t>(s)])];
  }
  r.samples = std::move(sorted);
  return r;
}

}  // namespace collsim::workload
