#include "sim/engine/nccl_tests_loop.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace collsim::engine::detail {

double nccl_tests_loop_s(const Plan& plan, const PlannedSchedule& s, const std::vector<double>& finish_s,
                         int iterations) {
  const std::size_t n = s.transfers.size();
  const double launch = s.launch_latency_s;
  // Kernels per host: ranks' hosts get one, indexed densely.
  std::unordered_map<int, int> kernel_of;
  for (int h : s.rank_hosts) kernel_of.emplace(h, static_cast<int>(kernel_of.size()));
  const std::size_t kernels = kernel_of.size();
  auto kernel = [&](int host) {
    if (const auto relay = plan.relay_sender.find(host); relay != plan.relay_sender.end()) host = relay->second;
    const auto it = kernel_of.find(host);
    return it == kernel_of.end() ? -1 : it->second;
  };
  std::vector<int> src_kernel(n), dst_kernel(n);
  for (std::size_t i = 0; i < n; ++i) {
    src_kernel[i] = kernel(s.transfers[i].src_host);
    dst_kernel[i] = kernel(s.transfers[i].dst_host);
  }
  // Each transfer's flow time in the single run: its arrival less its route
  // latency, less when its flow could start (its deps' arrival, the launch,
  // and the flow ahead of it on its connection, which ended a route latency
  // before that one's arrival). Both backends start a flow so.
  // When transfer i's flow may start, from `ready` and the arrivals so far.
  auto flow_start = [&](std::size_t i, double ready, const std::vector<double>& arrived) {
    const auto& t = s.transfers[i];
    for (int d : t.deps) ready = std::max(ready, arrived[static_cast<std::size_t>(d)]);
    if (t.queue_after >= 0) {
      const auto q = static_cast<std::size_t>(t.queue_after);
      ready = std::max(ready, arrived[q] - s.transfers[q].route_latency_s);
    }
    return ready;
  };
  std::vector<double> flow(n);
  for (std::size_t i = 0; i < n; ++i)
    flow[i] = std::max(0.0, finish_s[i] - s.transfers[i].route_latency_s - flow_start(i, launch, finish_s));
  // Each connection's (route's) wire bytes of one run, per transfer, and
  // each transfer's bytes on its connection up to and including its own.
  std::vector<double> through(n), per_run(n);
  {
    std::unordered_map<int, double> run_bytes;
    for (std::size_t i = 0; i < n; ++i) through[i] = run_bytes[s.transfers[i].route] += s.transfers[i].bytes;
    for (std::size_t i = 0; i < n; ++i) per_run[i] = run_bytes[s.transfers[i].route];
  }
  // A credit reaches back at most floor(window / per_run) + 1 iterations
  // (one more for rounding): only that many iterations' kernel ends are
  // kept (a ring of them).
  std::vector<char> credited(n, 0);
  int depth = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = s.transfers[i];
    if (!(t.window_bytes > 0) || dst_kernel[i] < 0 || !(per_run[i] > 0)) continue;
    credited[i] = 1;
    depth =
        std::max(depth, static_cast<int>(std::min<double>(iterations, std::floor(t.window_bytes / per_run[i]))) + 2);
  }
  std::vector<std::vector<double>> ended(static_cast<std::size_t>(depth), std::vector<double>(kernels, 0.0));
  std::vector<double> end(kernels, 0.0), next(kernels), arrival(n), step(kernels, 0.0), last_step(kernels, 0.0);
  // Named limit: at most kNcclTestsLoopWork transfer replays; past them (or
  // once every kernel's end grows by the same as the iteration before for
  // more than `depth` iterations: steady, exactly) each kernel's end grows
  // by its last increment per iteration left.
  const long long budget = static_cast<long long>(kNcclTestsLoopWork / std::max<double>(1.0, static_cast<double>(n)));
  const int replayed = static_cast<int>(std::min<long long>(iterations, std::max<long long>(2LL * depth + 2, budget)));
  int done = 0, steady = 0;
  for (int k = 0; k < replayed; ++k) {
    // A kernel starts at its previous one's end and pays the launch.
    for (std::size_t r = 0; r < kernels; ++r) next[r] = end[r] + launch;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& t = s.transfers[i];
      double ready = src_kernel[i] >= 0 ? end[static_cast<std::size_t>(src_kernel[i])] + launch : launch;
      // The receiver's buffer holds a window: the connection's bytes up to
      // this transfer's end, over every iteration so far, less the window,
      // must have been read. Iterations the receiver finished were read
      // whole; its current one is read as it runs (from its start).
      if (k > 0 && credited[i]) {
        const double unread = k * per_run[i] + through[i] - t.window_bytes;  // must be read by now
        if (unread > 1e-9 * per_run[i]) {
          const auto dst = static_cast<std::size_t>(dst_kernel[i]);
          // Iterations 0 .. whole - 1 read; at least one (rounding).
          const int whole = std::max(1, static_cast<int>(std::ceil(unread / per_run[i] - 1e-9)));
          ready = std::max(ready,
                           whole <= k ? ended[static_cast<std::size_t>((whole - 1) % depth)][dst] : end[dst] + launch);
        }
      }
      arrival[i] = flow_start(i, ready, arrival) + flow[i] + t.route_latency_s;
      for (int r : {src_kernel[i], dst_kernel[i]})
        if (r >= 0) next[static_cast<std::size_t>(r)] = std::max(next[static_cast<std::size_t>(r)], arrival[i]);
    }
    double moved = 0, scale = 0;
    for (std::size_t r = 0; r < kernels; ++r) {
      step[r] = next[r] - end[r];
      moved = std::max(moved, std::abs(step[r] - last_step[r]));
      scale = std::max(scale, next[r]);
    }
    end.swap(next);
    ended[static_cast<std::size_t>(k % depth)] = end;
    last_step.swap(step);
    done = k + 1;
    steady = k > 0 && moved <= 1e-12 * scale ? steady + 1 : 0;
    if (steady > depth) break;
  }
  if (kernels == 0) return launch;
  double sum = 0;
  for (std::size_t r = 0; r < kernels; ++r) sum += end[r] + static_cast<double>(iterations - done) * last_step[r];
  return sum / static_cast<double>(kernels) / iterations;
}

}  // namespace collsim::engine::detail
