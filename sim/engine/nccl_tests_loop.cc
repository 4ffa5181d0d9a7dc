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
  std::vector<double> flow(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = s.transfers[i];
    double ready = launch;
    for (int d : t.deps) ready = std::max(ready, finish_s[static_cast<std::size_t>(d)]);
    if (t.queue_after >= 0) {
      const auto& ahead = s.transfers[static_cast<std::size_t>(t.queue_after)];
      ready = std::max(ready, finish_s[static_cast<std::size_t>(t.queue_after)] - ahead.route_latency_s);
    }
    flow[i] = std::max(0.0, finish_s[i] - t.route_latency_s - ready);
  }
  // Each connection's (route's) wire bytes of one run, and each transfer's
  // bytes on its connection up to and including its own.
  std::unordered_map<int, double> run_bytes;
  std::vector<double> through(n);
  for (std::size_t i = 0; i < n; ++i) through[i] = run_bytes[s.transfers[i].route] += s.transfers[i].bytes;
  // ends[k][r]: kernel r's end of iteration k.
  std::vector<std::vector<double>> ends;
  std::vector<double> end(kernels, 0.0), next(kernels), arrival(n);
  for (int k = 0; k < iterations; ++k) {
    // A kernel starts at its previous one's end and pays the launch.
    for (std::size_t r = 0; r < kernels; ++r) next[r] = end[r] + launch;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& t = s.transfers[i];
      double ready = src_kernel[i] >= 0 ? end[static_cast<std::size_t>(src_kernel[i])] + launch : launch;
      // The receiver's buffer holds a window: the connection's bytes up to
      // this transfer's end, over every iteration so far, less the window,
      // must have been read. Iterations the receiver finished were read
      // whole; its current one is read as it runs (from its start).
      if (k > 0 && t.window_bytes > 0 && dst_kernel[i] >= 0) {
        const double per_run = run_bytes[t.route];
        const double unread = k * per_run + through[i] - t.window_bytes;  // must be read by now
        if (unread > 0) {
          const auto dst = static_cast<std::size_t>(dst_kernel[i]);
          const auto whole = static_cast<int>(std::ceil(unread / per_run - 1e-12));  // iterations 0 .. whole - 1
          ready = std::max(ready, whole <= k ? ends[static_cast<std::size_t>(whole - 1)][dst] : end[dst] + launch);
        }
      }
      for (int d : t.deps) ready = std::max(ready, arrival[static_cast<std::size_t>(d)]);
      if (t.queue_after >= 0) {
        const auto& ahead = s.transfers[static_cast<std::size_t>(t.queue_after)];
        ready = std::max(ready, arrival[static_cast<std::size_t>(t.queue_after)] - ahead.route_latency_s);
      }
      arrival[i] = ready + flow[i] + t.route_latency_s;
      for (int r : {src_kernel[i], dst_kernel[i]})
        if (r >= 0) next[static_cast<std::size_t>(r)] = std::max(next[static_cast<std::size_t>(r)], arrival[i]);
    }
    end.swap(next);
    ends.push_back(end);
  }
  if (kernels == 0) return launch;
  double sum = 0;
  for (double e : end) sum += e;
  return sum / static_cast<double>(kernels) / iterations;
}

}  // namespace collsim::engine::detail
