#include "sim/engine/analytical_backend.h"

#include <algorithm>
#include <deque>
#include <limits>

#include "sim/engine/plan.h"

namespace collsim::engine {

namespace {

// When each position's transfer of the last step finishes (schedule-relative
// seconds), given each position's start `g` and transfer time `c`.
std::vector<double> last_step_finish(const detail::PlannedPass& pass, const std::vector<double>& g,
                                     const std::vector<double>& c) {
  const std::size_t p = c.size();
  const auto S = static_cast<std::size_t>(pass.steps);
  std::vector<double> f(p);
  if (!pass.in_order) {
    // prefix[k] = c_0 + ... + c_{k-1} over two turns of the ring.
    std::vector<double> prefix(2 * p + 1, 0.0);
    for (std::size_t k = 0; k < 2 * p; ++k) prefix[k + 1] = prefix[k] + c[k % p];
    const double turn = prefix[p];
    const std::size_t q = S / p, r = S % p;
    for (std::size_t i = 0; i < p; ++i) {
      const std::size_t end = i + 1 + p;  // positions end - r .. end - 1 of the doubled ring
      const double window = static_cast<double>(q) * turn + (prefix[end] - prefix[end - r]);
      const std::size_t first = (i + p - (S - 1) % p) % p;  // where the chunk ending here started
      f[i] = g[first] + window;
    }
    return f;
  }
  bool alike = true;
  for (std::size_t i = 1; i < p && alike; ++i) alike = c[i] == c[0] && g[i] == g[0];
  if (alike) {
    std::fill(f.begin(), f.end(), g[0] + static_cast<double>(S) * c[0]);
    return f;
  }
  bool same_start = true;
  for (std::size_t i = 1; i < p && same_start; ++i) same_start = g[i] == g[0];
  if (same_start) {
    // Unrolled, f_{S-1}(i) = max over windows j..i (L = i - j + 1 <= S
    // positions, mod p) of g + (c_j + ... + c_i) + (S - L) x max(c_j..c_i): a
    // chain visits each position of its window and spends its extra steps
    // on the slowest. Windows longer than p (or past the first maximum)
    // never win, and within a stretch of equal maximum the shortest window
    // wins, so only "records" (positions slower than every one after them
    // up to i) are candidates: a monotonic deque over two turns of the ring.
    const std::size_t longest = std::min(S, p);
    std::vector<double> prefix(2 * p + 1, 0.0);
    for (std::size_t k = 0; k < 2 * p; ++k) prefix[k + 1] = prefix[k] + c[k % p];
    std::deque<std::size_t> records;  // positions of the doubled ring, c strictly decreasing front to back
    for (std::size_t k = 0; k < 2 * p; ++k) {
      while (!records.empty() && c[records.back() % p] <= c[k % p]) records.pop_back();
      records.push_back(k);
      while (k - records.front() + 1 > longest) records.pop_front();
      if (k < p) continue;
      double best = -std::numeric_limits<double>::infinity();
      for (std::size_t j : records) {
        const std::size_t L = k - j + 1;
        best = std::max(best, (prefix[k + 1] - prefix[j]) + static_cast<double>(S - L) * c[j % p]);
      }
      f[k - p] = g[0] + best;
    }
    return f;
  }
  for (std::size_t i = 0; i < p; ++i) f[i] = g[i] + c[i];
  std::vector<double> next(p);
  for (std::size_t step = 1; step < S; ++step) {
    const double* __restrict prev = f.data();
    const double* __restrict cost = c.data();
    double* __restrict out = next.data();
    out[0] = std::max(prev[p - 1], prev[0]) + cost[0];
    for (std::size_t i = 1; i < p; ++i) out[i] = std::max(prev[i - 1], prev[i]) + cost[i];  // vectorises
    f.swap(next);
  }
  return f;
}

// Costs a compact schedule: per-rank start times flow from phase to phase.
void run_compact(const detail::Plan& plan, const detail::PlannedSchedule& s, const std::vector<double>& route_rate,
                 std::vector<double>& link_bytes, ScheduleResult& r) {
  std::vector<double> ready(static_cast<std::size_t>(s.ranks), s.launch_latency_s), sent = ready;
  double makespan = s.launch_latency_s;
  for (const auto& phase : s.phases) {
    const std::vector<double> ready0 = ready, sent0 = sent;
    for (const auto& pass : phase) {
      if (pass.steps == 0) continue;
      const std::size_t p = pass.rank.size();
      std::vector<double> g(p), c(p);
      for (std::size_t i = 0; i < p; ++i) {
        const auto rank = static_cast<std::size_t>(pass.rank[i]);
        g[i] = std::max(ready0[rank], sent0[rank]);
        c[i] = pass.latency_s[i] + pass.slice_bytes[i] / route_rate[static_cast<std::size_t>(pass.route[i])];
      }
      const std::vector<double> f = last_step_finish(pass, g, c);
      for (std::size_t i = 0; i < p; ++i) {
        makespan = std::max(makespan, f[i]);
        sent[static_cast<std::size_t>(pass.rank[i])] = f[i];
        ready[static_cast<std::size_t>(pass.rank[(i + 1) % p])] = f[i];
        const double bytes = pass.slice_bytes[i] * pass.slices * pass.steps;
        for (int l : plan.routes[static_cast<std::size_t>(pass.route[i])].links) link_bytes[static_cast<std::size_t>(l)] += bytes;
        r.bytes_sent += bytes;
        r.bytes_received += bytes;
      }
    }
  }
  r.time_s = makespan;
}

}  // namespace

Expected<std::vector<ScheduleResult>> AnalyticalBackend::run(const topology::Network& network,
                                                             const std::vector<collective::Schedule>& schedules,
                                                             const RunOptions& options) {
  auto plan = detail::make_plan(network, schedules, options, /*keep_compact=*/!options.record_transfers);
  if (!plan) return plan.error();
  std::vector<double> route_rate(plan->routes.size());
  for (std::size_t r = 0; r < plan->routes.size(); ++r) route_rate[r] = network.route_rate_Bps(plan->routes[r].links);
  std::vector<ScheduleResult> results;
  std::vector<double> link_bytes(plan->links->size(), 0.0);
  for (std::size_t si = 0; si < plan->schedules.size(); ++si) {
    const auto& s = plan->schedules[si];
    const std::size_t n = s.transfers.size();
    std::vector<double> finish(n, 0.0);
    std::fill(link_bytes.begin(), link_bytes.end(), 0.0);
    ScheduleResult r;
    double makespan = s.launch_latency_s;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& t = s.transfers[i];
      double ready = s.launch_latency_s;
      for (int d : t.deps) ready = std::max(ready, finish[d]);
      double start = ready + t.route_latency_s;
      if (t.queue_after >= 0) start = std::max(start, finish[t.queue_after]);
      const auto route = static_cast<std::size_t>(t.route);
      finish[i] = start + t.bytes / route_rate[route];
      makespan = std::max(makespan, finish[i]);
      for (int l : plan->routes[route].links) link_bytes[l] += t.bytes;
      r.bytes_sent += t.bytes;
      r.bytes_received += t.bytes;
    }
    if (!s.phases.empty()) {
      run_compact(*plan, s, route_rate, link_bytes, r);
      makespan = r.time_s;
    }
    double bound = 0;
    for (std::size_t l = 0; l < link_bytes.size(); ++l)
      if (link_bytes[l] > 0) bound = std::max(bound, link_bytes[l] / (*plan->links)[l].rate_Bps);
    r.load_bound = bound > makespan;
    r.time_s = std::max(makespan, bound);
    if (options.record_transfers) r.transfer_finish_s = std::move(finish);
    results.push_back(std::move(r));
    if (options.on_progress) options.on_progress(si + 1, plan->schedules.size());
  }
  return results;
}

}  // namespace collsim::engine
