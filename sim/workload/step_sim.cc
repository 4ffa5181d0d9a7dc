#include "sim/workload/step_sim.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <unordered_map>

#include "sim/workload/step_account.h"

namespace collsim::workload {

namespace {

constexpr double kTolerance = 1e-9;

struct Flow {
  int op = -1;
  int call = -1;  // its costed collective (StepGraph::calls)
  double time_alone = 0;
  double remaining = 1;  // fraction of the collective still to do
  double rate = 1;       // progress rate relative to running alone
  double updated_at = 0;
  double started_at = 0;
  int version = 0;
  double peak_demand = 0;  // bytes/s on its busiest link, alone
  // link -> bytes/s alone: its collective's (Simulator::demand_of, shared
  // by every flow of the same costed collective).
  const std::vector<std::pair<int, double>>* demand = nullptr;
  bool active = false;
};

struct Event {
  double t;
  long long seq;  // FIFO among equal times: deterministic
  int kind;       // 0 = compute done, 1 = flow done
  int id;
  int version;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

class Simulator {
 public:
  Simulator(const StepGraph& g, const std::vector<CommCost>& costs, const topology::Network& net,
            const StepSimOptions& opt)
      : g_(g), costs_(costs), net_(net), opt_(opt) {}

  StepResult run() {
    const std::size_t n = g_.ops.size();
    r_.start_s.assign(n, 0);
    r_.finish_s.assign(n, -1);
    r_.binding.assign(n, -1);
    r_.link_bytes.assign(net_.links().size(), 0);
    // Resources: the network's links, then each NVSwitch's reduction engines
    // that some collective uses (CommCost::engine_adds), at their rate in adds.
    std::vector<double> engine_rate;
    for (const auto& cost : costs_) {
      for (auto [sw, adds] : cost.engine_adds) {
        auto [it, fresh] = engine_slot_.try_emplace(sw, static_cast<int>(net_.links().size() + engine_rate.size()));
        if (fresh) engine_rate.push_back(net_.nvls_reduction_rate_Bps(sw));
      }
    }
    const std::size_t resources = net_.links().size() + engine_rate.size();
    link_flows_.assign(resources, {});
    link_load_.assign(resources, 0);
    link_demand_.assign(resources, 0);
    link_slowed_.assign(resources, 0);
    rate_.resize(resources);  // the resources' rates, packed (hot in start and the solver)
    for (std::size_t l = 0; l < net_.links().size(); ++l) rate_[l] = net_.links()[l].rate_Bps;
    std::copy(engine_rate.begin(), engine_rate.end(), rate_.begin() + static_cast<std::ptrdiff_t>(net_.links().size()));
    tracked_.assign(resources, -1);
    demand_.assign(costs_.size(), {});
    peak_demand_.assign(costs_.size(), 0.0);
    demand_known_.assign(costs_.size(), false);
    starts_.assign(costs_.size(), 0);
    r_.call_mean_s.assign(costs_.size(), 0);
    r_.link_timeline.assign(opt_.track_links.size(), {});
    for (std::size_t k = 0; k < opt_.track_links.size(); ++k) tracked_[opt_.track_links[k]] = static_cast<int>(k);
    if (!opt_.link_group.empty()) {
      opt_.time_bins = std::max(2, opt_.time_bins + opt_.time_bins % 2);  // even, so bins merge in pairs
      const int groups = *std::max_element(opt_.link_group.begin(), opt_.link_group.end()) + 1;
      r_.group_bytes.bin_s = 1e-6;
      r_.group_bytes.bytes.assign(std::max(0, groups), std::vector<double>(opt_.time_bins, 0.0));
      group_load_.assign(std::max(0, groups), 0.0);
      group_since_.assign(std::max(0, groups), 0.0);
    }
    pending_.assign(n, 0);
    parts_left_.assign(n, 0);
    auto dependents = dependents_of(g_);
    dep_start_ = std::move(dependents.start);
    dependents_ = std::move(dependents.of);
    for (std::size_t i = 0; i < n; ++i) pending_[i] = static_cast<int>(g_.ops[i].deps.size());
    for (std::size_t i = 0; i < n; ++i)
      if (pending_[i] == 0) start(static_cast<int>(i), 0.0);
    while (!events_.empty()) {
      const Event e = events_.top();
      events_.pop();
      now_ = e.t;
      if (e.kind == 0) {
        finish(e.id);
      } else {
        Flow& f = flows_[e.id];
        if (!f.active || f.version != e.version) continue;
        end_flow(e.id);
      }
    }
    // Every link's bytes: each costed collective's, times the ops that ran
    // it (one pass per distinct collective, not per op: a 16,384-GPU step
    // starts 3.2 M operations over a few thousand distinct ones).
    // And each costed collective's mean time as run (the sum of its runs until here).
    for (std::size_t c = 0; c < costs_.size(); ++c) {
      if (!(starts_[c] > 0)) continue;
      for (auto [l, b] : costs_[c].link_bytes) r_.link_bytes[l] += b * starts_[c];
      r_.call_mean_s[c] /= starts_[c];
    }
    std::map<int, double> adds;
    for (std::size_t c = 0; c < costs_.size(); ++c)
      if (starts_[c] > 0)
        for (auto [sw, a] : costs_[c].engine_adds) adds[sw] += a * starts_[c];
    r_.engine_adds.assign(adds.begin(), adds.end());
    for (std::size_t i = 0; i < n; ++i) {
      if (r_.finish_s[i] < 0) r_.complete = false;
      r_.step_time_s = std::max(r_.step_time_s, r_.finish_s[i]);
    }
    if (!r_.complete) return std::move(r_);
    if (!opt_.link_group.empty()) cover_step(r_.step_time_s);
    account_step(g_, r_);
    return std::move(r_);
  }

 private:
  void push(double t, int kind, int id, int version) { events_.push(Event{t, seq_++, kind, id, version}); }

  void start(int op, double t) {
    r_.start_s[op] = t;
    const StepOp& o = g_.ops[op];
    if (o.kind == StepOp::Kind::kCompute) {
      double scale = opt_.compute_scale;
      if (!opt_.worker_compute_scale.empty()) {
        double worst = 0;
        for (int w : o.workers) worst = std::max(worst, opt_.worker_compute_scale[static_cast<std::size_t>(w)]);
        if (worst > 0) scale *= worst;
      }
      push(t + o.duration_s * scale, 0, op, 0);
      return;
    }
    parts_left_[op] = static_cast<int>(o.calls.size());
    for (int c : o.calls) {
      const CommCost& cost = costs_[c];
      ++starts_[c];  // its bytes join r_.link_bytes once, times its starts, after the run
      if (!(cost.time_s > 0)) {
        --parts_left_[op];
        continue;
      }
      Flow f;
      f.op = op;
      f.call = c;
      f.time_alone = cost.time_s;
      f.updated_at = t;
      f.started_at = t;
      f.active = true;
      f.demand = &demand_of(c);
      f.peak_demand = peak_demand_[c];
      int id;
      if (!free_flows_.empty()) {
        id = free_flows_.back();
        free_flows_.pop_back();
        f.version = flows_[id].version + 1;  // stale events of the slot's old flow stay stale
        flows_[id] = std::move(f);
      } else {
        id = static_cast<int>(flows_.size());
        flows_.push_back(std::move(f));
      }
      add_flow(id);
    }
    if (parts_left_[op] == 0) push(t, 0, op, 0);
  }

  void finish(int op) {
    r_.finish_s[op] = now_;
    for (int k = dep_start_[op]; k < dep_start_[op + 1]; ++k) {
      const int child = dependents_[k];
      if (r_.binding[child] < 0 || r_.finish_s[r_.binding[child]] < now_) r_.binding[child] = op;
      if (--pending_[child] == 0) start(child, now_);
    }
  }

  // The per-link demand of costed collective `c` (bytes/s while it runs
  // alone), computed on its first start; its peak in peak_demand_[c].
  const std::vector<std::pair<int, double>>& demand_of(int c) {
    auto& d = demand_[c];
    if (demand_known_[c]) return d;
    demand_known_[c] = true;
    const CommCost& cost = costs_[c];
    for (auto [l, b] : cost.link_bytes) {
      const double x = std::min(b / cost.time_s, rate_[l]);
      if (!(x > 0)) continue;  // no bytes there (or a link without rate): no demand on it
      d.emplace_back(l, x);
      peak_demand_[c] = std::max(peak_demand_[c], x);
    }
    // The engines' demand (adds/s) joins the sharing but not the peak: a
    // collective counts as one flow in bytes per second on its links.
    for (auto [sw, adds] : cost.engine_adds) {
      const int l = engine_slot_.at(sw);
      const double x = std::min(adds / cost.time_s, rate_[l]);
      if (x > 0) d.emplace_back(l, x);
    }
    if (!(peak_demand_[c] > 0))
      for (auto [l, x] : d) peak_demand_[c] = std::max(peak_demand_[c], x);
    return d;
  }

  // ---- the fluid network ---------------------------------------------------
  void add_flow(int id) {
    Flow& f = flows_[id];
    f.rate = 0;  // not yet on any link: slowed (below full rate) until set_rate
    bool fits = true;
    for (auto [l, d] : *f.demand) {
      link_flows_[l].push_back(id);
      ++link_slowed_[l];
      link_demand_[l] += d;
      if (link_load_[l] + d > rate_[l] * (1 + kTolerance)) fits = false;
    }
    if (fits)
      set_rate(id, 1.0);
    else
      solve_component({id});
  }

  void end_flow(int id) {
    Flow& f = flows_[id];
    f.active = false;
    r_.max_slowdown = std::max(r_.max_slowdown, (now_ - f.started_at) / f.time_alone);
    r_.call_mean_s[static_cast<std::size_t>(f.call)] += now_ - f.started_at;
    std::vector<int> slowed;
    const bool was_slowed = slowed_at(f.rate);
    for (auto [l, d] : *f.demand) {
      change_load(l, -f.rate * d);
      link_demand_[l] -= d;
      if (was_slowed) --link_slowed_[l];
      auto& v = link_flows_[l];
      v.erase(std::find(v.begin(), v.end(), id));
      if (link_slowed_[l] == 0) continue;  // no flow here for this one's end to speed up
      for (int o : v)
        if (slowed_at(flows_[o].rate)) slowed.push_back(o);
    }
    const int op = f.op;
    f.demand = nullptr;
    free_flows_.push_back(id);
    if (!slowed.empty()) solve_component(slowed);
    if (--parts_left_[op] == 0) finish(op);
  }

  // Brings `remaining` up to now and changes the rate (and the finish event).
  void set_rate(int id, double rate) {
    Flow& f = flows_[id];
    f.remaining -= (now_ - f.updated_at) * f.rate / f.time_alone;
    f.remaining = std::max(0.0, f.remaining);
    f.updated_at = now_;
    const int slowed_change = (slowed_at(rate) ? 1 : 0) - (slowed_at(f.rate) ? 1 : 0);
    for (auto [l, d] : *f.demand) {
      change_load(l, (rate - f.rate) * d);
      link_slowed_[l] += slowed_change;
    }
    f.rate = rate;
    ++f.version;
    if (rate > 0) {
      push(now_ + f.remaining * f.time_alone / rate, 1, id, f.version);
    }
  }

  // A link's load (bytes/s) changes now: keeps the tracked links' timelines
  // (one sample per change, the last at an instant wins) and the binned
  // bytes of its group.
  void change_load(int l, double delta) {
    link_load_[l] += delta;
    if (static_cast<std::size_t>(l) < opt_.link_group.size() && opt_.link_group[l] >= 0) {
      const int grp = opt_.link_group[l];
      add_group_bytes(grp, group_since_[grp], now_, group_load_[grp]);
      group_since_[grp] = now_;
      group_load_[grp] += delta;
    }
    const int k = tracked_[l];
    if (k < 0) return;
    auto& tl = r_.link_timeline[k];
    const double u = std::max(0.0, link_load_[l] / rate_[l]);
    if (!tl.empty() && tl.back().first == now_)
      tl.back().second = u;
    else
      tl.emplace_back(now_, u);
  }

  // Adds `rate` bytes/s over [t0, t1) to the group's bins, doubling the bin
  // width (merging neighbours) until t1 fits.
  void add_group_bytes(int grp, double t0, double t1, double rate) {
    if (!(t1 > t0) || !(rate > 0)) return;
    cover_step(t1);
    auto& gb = r_.group_bytes;
    const int n = opt_.time_bins;
    auto& bins = gb.bytes[grp];
    // t0 / bin_s may round down past a bin edge: an empty first bin is
    // skipped, not taken for the end.
    for (int i = std::max(0, static_cast<int>(t0 / gb.bin_s) - 1); i < n; ++i) {
      const double a = std::max(t0, i * gb.bin_s), b = std::min(t1, (i + 1) * gb.bin_s);
      if (i * gb.bin_s >= t1) break;
      if (b > a) bins[i] += rate * (b - a);
    }
  }

  // Widens the bins until they cover the whole step (compute may run on
  // after the last byte moved).
  void cover_step(double step_s) {
    auto& gb = r_.group_bytes;
    const int n = opt_.time_bins;
    while (step_s > gb.bin_s * n) {
      for (auto& bins : gb.bytes) {
        for (int i = 0; i < n / 2; ++i) bins[i] = bins[2 * i] + bins[2 * i + 1];
        std::fill(bins.begin() + n / 2, bins.end(), 0.0);
      }
      gb.bin_s *= 2;
    }
  }

  // Whether link `l` can limit a flow: its flows' demands at full rate add
  // up to more than its rate. A link that cannot is left out of max-min
  // sharing (it binds no flow, so the rates are the same without it), and
  // flows that share only such links do not affect each other: a step's
  // collectives touch thousands of links each, few of them contended.
  // A flow below its full rate (one that a flow ending may speed up).
  static bool slowed_at(double rate) { return rate < 1 - kTolerance; }

  bool tight(int l) const { return link_demand_[l] > rate_[l] * (1 + kTolerance); }

  // Max-min fair rates (bytes/s, each flow capped at its demand) for every
  // flow connected to `seeds` through shared links that can limit them (tight).
  void solve_component(const std::vector<int>& seeds) {
    // Scratch kept between calls (cleared, capacity reused): this runs at
    // every flow start and end, and allocating afresh was a third of a
    // large step's time.
    std::vector<int>& comp = scratch_.comp;
    std::vector<int>& links = scratch_.links;
    comp.clear();
    links.clear();
    ++mark_;
    if (link_mark_.size() < link_flows_.size()) {
      link_mark_.resize(link_flows_.size(), 0);
      link_local_.resize(link_flows_.size(), 0);
    }
    if (flow_mark_.size() < flows_.size()) flow_mark_.resize(flows_.size(), 0);
    for (int s : seeds) {
      if (flow_mark_[s] == mark_) continue;
      flow_mark_[s] = mark_;
      comp.push_back(s);
    }
    for (std::size_t k = 0; k < comp.size(); ++k) {
      for (auto [l, d] : *flows_[comp[k]].demand) {
        if (link_mark_[l] == mark_ || !tight(l)) continue;
        link_mark_[l] = mark_;
        link_local_[l] = static_cast<int>(links.size());
        links.push_back(l);
        for (int o : link_flows_[l]) {
          if (flow_mark_[o] != mark_) {
            flow_mark_[o] = mark_;
            comp.push_back(o);
          }
        }
      }
    }
    // Each link's flows with their weight (demand there / peak demand).
    auto& on_link = scratch_.on_link;
    if (on_link.size() < links.size()) on_link.resize(links.size());
    for (std::size_t li = 0; li < links.size(); ++li) on_link[li].clear();
    for (std::size_t k = 0; k < comp.size(); ++k) {
      const Flow& f = flows_[comp[k]];
      for (auto [l, d] : *f.demand)
        if (link_mark_[l] == mark_) on_link[link_local_[l]].emplace_back(static_cast<int>(k), d / f.peak_demand);
    }
    // Progressive filling in x = rate x peak demand (bytes/s).
    std::vector<double>& x = scratch_.x;
    std::vector<char>& frozen = scratch_.frozen;
    std::vector<double>& residual = scratch_.residual;
    std::vector<double>& weight = scratch_.weight;
    x.assign(comp.size(), 0);
    frozen.assign(comp.size(), 0);
    residual.assign(links.size(), 0);
    weight.assign(links.size(), 0);
    for (std::size_t li = 0; li < links.size(); ++li) residual[li] = rate_[links[li]];
    std::size_t unfrozen = comp.size();
    while (unfrozen > 0) {
      double step = std::numeric_limits<double>::infinity();
      for (std::size_t k = 0; k < comp.size(); ++k)
        if (!frozen[k]) step = std::min(step, flows_[comp[k]].peak_demand - x[k]);
      for (std::size_t li = 0; li < links.size(); ++li) {
        weight[li] = 0;
        for (auto [k, a] : on_link[li])
          if (!frozen[k]) weight[li] += a;
        if (weight[li] > 0) step = std::min(step, std::max(0.0, residual[li]) / weight[li]);
      }
      step = std::max(0.0, step);
      for (std::size_t k = 0; k < comp.size(); ++k)
        if (!frozen[k]) x[k] += step;
      for (std::size_t li = 0; li < links.size(); ++li) residual[li] -= step * weight[li];
      const std::size_t before = unfrozen;
      for (std::size_t k = 0; k < comp.size(); ++k) {
        if (!frozen[k] && x[k] >= flows_[comp[k]].peak_demand * (1 - kTolerance)) {
          frozen[k] = 1;
          --unfrozen;
        }
      }
      for (std::size_t li = 0; li < links.size(); ++li) {
        if (weight[li] > 0 && residual[li] <= rate_[links[li]] * kTolerance) {
          for (auto [k, a] : on_link[li]) {
            if (!frozen[k]) {
              frozen[k] = 1;
              --unfrozen;
            }
          }
        }
      }
      if (unfrozen == before) break;  // defensive: no progress possible
    }
    for (std::size_t k = 0; k < comp.size(); ++k) {
      Flow& f = flows_[comp[k]];
      const double rate = std::min(1.0, x[k] / f.peak_demand);
      if (std::abs(rate - f.rate) > kTolerance || f.rate == 0) set_rate(comp[k], rate);
    }
  }

  const StepGraph& g_;
  const std::vector<CommCost>& costs_;
  const topology::Network& net_;
  StepSimOptions opt_;
  StepResult r_;
  double now_ = 0;
  long long seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::vector<int> pending_, parts_left_, dep_start_, dependents_;
  std::vector<Flow> flows_;
  std::vector<std::vector<int>> link_flows_;
  std::vector<std::vector<std::pair<int, double>>> demand_;  // per cost (demand_of)
  std::vector<double> peak_demand_;
  std::vector<bool> demand_known_;
  std::vector<double> starts_;  // per costed collective: how many ops started it
  std::vector<double> link_load_;
  std::vector<double> link_demand_;  // per link: its flows' demands at full rate (bytes/s)
  std::vector<int> link_slowed_;     // per link: its flows below full rate (slowed_at)
  std::vector<double> rate_;         // per link: NetworkLink::rate_Bps; then per NVSwitch's engines (engine_slot_)
  std::unordered_map<int, int> engine_slot_;      // NVSwitch endpoint -> its engines' resource (after the links)
  std::vector<int> tracked_;                      // link -> index into options.track_links, or -1
  std::vector<double> group_load_, group_since_;  // per link group: bytes/s now, and since when
  std::vector<int> flow_mark_, link_mark_, link_local_;
  std::vector<int> free_flows_;  // slots of finished flows, reused
  int mark_ = 0;
  struct Scratch {  // solve_component's working vectors, reused between calls
    std::vector<int> comp, links;
    std::vector<std::vector<std::pair<int, double>>> on_link;
    std::vector<double> x, residual, weight;
    std::vector<char> frozen;
  } scratch_;
};

}  // namespace

StepResult simulate_step(const StepGraph& graph, const std::vector<CommCost>& costs, const topology::Network& network,
                         const StepSimOptions& options) {
  return Simulator(graph, costs, network, options).run();
}

}  // namespace collsim::workload
