#include "sim/engine/analytical_backend.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>

#include "sim/engine/all_pairs_cost.h"
#include "sim/engine/compact_cost.h"
#include "sim/engine/nccl_tests_loop.h"
#include "sim/engine/plan.h"

namespace collsim::engine {

Expected<std::vector<ScheduleResult>> AnalyticalBackend::run(const topology::Network& network,
                                                             const std::vector<collective::Schedule>& schedules,
                                                             const RunOptions& asked) {
  // nccl-tests' loop is replayed from every transfer's time (nccl_tests_loop.h).
  RunOptions options = asked;
  const bool loop = asked.nccl_tests_iterations > 1;
  options.record_transfers |= loop;
  auto plan = detail::make_plan(network, schedules, options,
                                {.keep_compact = !options.record_transfers,
                                 .keep_all_pairs = !options.record_transfers,
                                 .defer_candidates = true});
  if (!plan) return plan.error();
  std::vector<double> route_rate(plan->routes.size());
  for (std::size_t r = 0; r < plan->routes.size(); ++r) route_rate[r] = plan->route_rate_Bps(r);
  std::vector<double> link_bytes(plan->num_links(), 0.0);
  // The routes a schedule used, to read and clear only their links (a step
  // costs thousands of small schedules on a network of a million links).
  std::vector<char> route_used(plan->routes.size(), 0);
  std::vector<int> used;
  auto use = [&](int route) {
    if (!route_used[static_cast<std::size_t>(route)]) {
      route_used[static_cast<std::size_t>(route)] = 1;
      used.push_back(route);
    }
  };
  // All-pairs schedules that differ only in their protocol (a tuner's
  // candidates) are costed together, at the cost of one (all_pairs_cost.h).
  std::vector<std::optional<ScheduleResult>> all_pairs_done(schedules.size());
  auto cost_all_pairs = [&](std::size_t si) -> Expected<ScheduleResult> {
    if (!all_pairs_done[si]) {
      const auto& a = schedules[si];
      const auto& map = detail::rank_map_of(options, si);
      std::vector<std::size_t> which;
      std::vector<const collective::Schedule*> same;
      for (std::size_t sj = si; sj < schedules.size(); ++sj) {
        const auto& b = schedules[sj];
        if (all_pairs_done[sj] || !b.all_pairs || b.ranks != a.ranks || b.bytes != a.bytes ||
            b.latency_family != a.latency_family || detail::rank_map_of(options, sj) != map)
          continue;
        which.push_back(sj);
        same.push_back(&b);
      }
      auto r = detail::cost_all_pairs(network, same, map, static_cast<bool>(options.on_progress));
      if (!r) return r.error();
      for (std::size_t k = 0; k < which.size(); ++k) all_pairs_done[which[k]] = std::move((*r)[k]);
    }
    return *all_pairs_done[si];
  };
  // One schedule's time, alone on the network. A candidate's deferred
  // transfers are built for it and dropped after (plan.h DeferredTransfers).
  auto cost = [&](std::size_t si) -> Expected<ScheduleResult> {
    auto& s = plan->schedules[si];
    if (s.all_pairs) return cost_all_pairs(si);
    const bool deferred = s.deferred.schedule != nullptr;
    if (deferred) detail::build_transfers(s);
    const std::size_t n = s.transfers.size();
    std::vector<double> finish(s.repeats > 1 ? 0 : n, 0.0);  // explicit schedules' (pipelines keep their own)
    for (const auto& t : s.transfers) use(t.route);
    for (const auto& phase : s.phases)
      for (const auto& pass : phase)
        for (int route : pass.route) use(route);
    ScheduleResult r;
    r.buffer_bound = s.buffer_bound;
    double makespan = s.launch_latency_s;
    if (s.repeats > 1) {
      std::vector<double> flow(n);
      for (std::size_t i = 0; i < n; ++i) {
        const auto& t = s.transfers[i];
        flow[i] = t.bytes / detail::capped_rate(route_rate[static_cast<std::size_t>(t.route)], t.max_rate_Bps);
      }
      detail::cost_repeated(*plan, s, flow, flow, link_bytes, r);
      makespan = r.time_s;
    }
    for (std::size_t i = 0; i < n && s.repeats == 1; ++i) {
      const auto& t = s.transfers[i];
      double ready = s.launch_latency_s;
      for (int d : t.deps) ready = std::max(ready, finish[d]);
      double start = ready + t.route_latency_s;
      if (t.queue_after >= 0) start = std::max(start, finish[t.queue_after]);
      const auto route = static_cast<std::size_t>(t.route);
      finish[i] = start + t.bytes / detail::capped_rate(route_rate[route], t.max_rate_Bps);
      makespan = std::max(makespan, finish[i]);
      for (int l : plan->routes[route].links) link_bytes[l] += t.bytes;
      r.bytes_sent += t.bytes;
      r.bytes_received += t.bytes;
    }
    if (!s.phases.empty()) {
      auto c = detail::alpha_beta_times(s, route_rate);
      detail::cost_compact(*plan, s, c, link_bytes, r);
      makespan = r.time_s;
    }
    double bound = 0;
    for (int route : used) {
      for (int l : plan->routes[static_cast<std::size_t>(route)].links) {
        double& b = link_bytes[static_cast<std::size_t>(l)];
        if (b > 0) bound = std::max(bound, b / plan->link(static_cast<std::size_t>(l)).rate_Bps);
      }
    }
    for (int route : used) {
      route_used[static_cast<std::size_t>(route)] = 0;
      for (int l : plan->routes[static_cast<std::size_t>(route)].links) link_bytes[static_cast<std::size_t>(l)] = 0;
    }
    used.clear();
    // No link carries a byte before the launch (its latency and the
    // chunk overhead plan.cc adds to it), so the bound starts there too.
    bound += s.launch_latency_s;
    r.load_bound = bound > makespan;
    r.time_s = std::max(makespan, bound);
    // Each iteration moves the busiest link's bytes (the bound less the launch).
    if (loop && finish.size() == s.transfers.size())
      r.loop_time_s = std::max(detail::nccl_tests_loop_s(*plan, s, finish, asked.nccl_tests_iterations),
                               bound - s.launch_latency_s);
    if (asked.record_transfers) r.transfer_finish_s = std::move(finish);
    if (deferred) detail::drop_transfers(s);
    return r;
  };
  // A schedule's lower bound, cheaper than its cost: each link's bytes over
  // the whole schedule / its rate (the time's second term above), and for
  // transfers their chain without queueing behind one another: copy 0 of
  // transfer i cannot finish before its deps' copy 0 and its own latency and
  // flow time (pre), its last copy not before copies - 2 more flow times
  // and the last copy's own (a repeated schedule's copies of a transfer
  // queue on its connection, compact_cost.h; a protocol's cap, such as the
  // tree's per channel, sets the flow time; the last copy may be a
  // remainder), and what depends on it in the last copy not before that
  // (post). O(transfers + deps); a pipeline's fill, its copies and its
  // drain.
  // Bytes are summed per route first, then spread over its links (a tree
  // over 131,072 GPUs sends 4.2 M transfers over far fewer routes).
  std::vector<double> pre, post, flow, own;
  std::vector<double> bound_bytes(plan->num_links(), 0.0), route_bytes(plan->routes.size(), 0.0);
  std::vector<int> touched, routes_touched;
  auto load_bound = [&](std::size_t si) {
    const auto& s = plan->schedules[si];
    auto add = [&](int route, double bytes) {
      double& b = route_bytes[static_cast<std::size_t>(route)];
      if (b == 0) routes_touched.push_back(route);
      b += bytes;
    };
    const double copies = std::max(1, s.repeats);
    // The last copy of a pipeline is the remainder (plan.h
    // last_copy_fraction): its bytes and flow times scale by it.
    const double last = s.repeats > 1 ? s.last_copy_fraction : 1.0;
    const std::size_t n = s.num_transfers();
    pre.assign(n, 0.0);
    post.assign(n, 0.0);
    flow.resize(n);
    own.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const detail::PlannedTransfer t = s.transfer(i);
      add(t.route, t.bytes * (copies - 1 + last));
      flow[i] = t.bytes / detail::capped_rate(route_rate[static_cast<std::size_t>(t.route)], t.max_rate_Bps);
      own[i] = t.route_latency_s + flow[i];
      double ready = s.launch_latency_s;
      for (int d : t.deps) ready = std::max(ready, pre[static_cast<std::size_t>(d)]);
      pre[i] = ready + own[i];
    }
    double serial = 0;
    for (std::size_t i = n; i-- > 0;) {
      const double through = own[i] - (1 - last) * flow[i] + post[i];  // in the last copy
      for (int d : s.deps_of(i))
        post[static_cast<std::size_t>(d)] = std::max(post[static_cast<std::size_t>(d)], through);
      serial = std::max(serial, pre[i] + (copies - 2 + last) * flow[i] + post[i]);
    }
    // A compact schedule's passes: no pass ends before its slowest chain
    // of steps from the launch (compact_cost.h pass_chain_bound).
    const auto pass_times = s.phases.empty() ? detail::PassTimes{} : detail::alpha_beta_times(s, route_rate);
    for (std::size_t ph = 0; ph < s.phases.size(); ++ph) {
      for (std::size_t pi = 0; pi < s.phases[ph].size(); ++pi) {
        const auto& pass = s.phases[ph][pi];
        for (std::size_t i = 0; i < pass.route.size(); ++i)
          add(pass.route[i], pass.slice_bytes[i] * pass.slices * pass.steps);
        serial = std::max(serial, s.launch_latency_s + detail::pass_chain_bound(pass, pass_times[ph][pi]));
      }
    }
    for (int route : routes_touched) {
      const double bytes = route_bytes[static_cast<std::size_t>(route)];
      route_bytes[static_cast<std::size_t>(route)] = 0;
      for (int l : plan->routes[static_cast<std::size_t>(route)].links) {
        double& b = bound_bytes[static_cast<std::size_t>(l)];
        if (b == 0) touched.push_back(l);
        b += bytes;
      }
    }
    routes_touched.clear();
    double bound = serial;
    for (int l : touched) {
      bound = std::max(bound, s.launch_latency_s + bound_bytes[static_cast<std::size_t>(l)] /
                                                       plan->link(static_cast<std::size_t>(l)).rate_Bps);
      bound_bytes[static_cast<std::size_t>(l)] = 0;
    }
    touched.clear();
    return bound;  // all-pairs schedules: 0 (costed, never pruned)
  };

  const std::size_t total = plan->schedules.size();
  std::vector<ScheduleResult> results(total);
  std::vector<char> in_list(total, 0);
  std::size_t done = 0;
  auto run_one = [&](std::size_t si) -> Status {
    auto r = cost(si);
    if (!r) return r.error();
    results[si] = std::move(*r);
    if (options.on_progress) options.on_progress(++done, total);
    return Ok{};
  };
  for (const auto& list : options.choose_among) {
    std::vector<std::pair<double, std::size_t>> order;  // (bound, schedule), lowest first
    for (std::size_t si : list) {
      in_list[si] = 1;
      order.emplace_back(list.size() > 1 ? load_bound(si) : 0.0, si);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    double best = std::numeric_limits<double>::infinity();
    for (const auto& [bound, si] : order) {
      if (bound > best) {  // cannot be the fastest: its time is at least its bound
        results[si].time_s = bound;
        results[si].load_bound = results[si].pruned = true;
        if (options.on_progress) options.on_progress(++done, total);
        continue;
      }
      if (auto st = run_one(si); !st) return st.error();
      best = std::min(best, results[si].time_s);
    }
  }
  for (std::size_t si = 0; si < total; ++si)
    if (!in_list[si])
      if (auto st = run_one(si); !st) return st.error();
  return results;
}

}  // namespace collsim::engine
