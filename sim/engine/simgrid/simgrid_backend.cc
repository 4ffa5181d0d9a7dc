#include "sim/engine/simgrid/simgrid_backend.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include "sim/engine/simgrid/dag_runner.h"

namespace collsim::engine {

namespace {

// Resolves ranks to hosts and routes, adds protocol costs, and checks every
// transfer can be routed.
Expected<detail::Plan> make_plan(const topology::Network& network, const std::vector<collective::Schedule>& schedules,
                                 const RunOptions& options) {
  detail::Plan plan;
  plan.host_names = network.endpoints();
  plan.links = network.links();
  plan.record_transfers = options.record_transfers;
  plan.on_progress = options.on_progress;
  std::map<std::pair<int, int>, bool> routed;
  if (!options.rank_to_endpoint_per_schedule.empty() &&
      options.rank_to_endpoint_per_schedule.size() != schedules.size()) {
    return make_error("one rank map per schedule expected");
  }
  for (std::size_t si = 0; si < schedules.size(); ++si) {
    const auto& s = schedules[si];
    const std::vector<int>& rank_map =
        options.rank_to_endpoint_per_schedule.empty() ? options.rank_to_endpoint : options.rank_to_endpoint_per_schedule[si];
    if (rank_map.empty() && s.ranks > network.num_gpus()) {
      return make_error(fmt::format("{} needs {} ranks but the topology has {} GPUs", s.op, s.ranks,
                                    network.num_gpus()));
    }
    if (!collective::protocol_supported(s.latency_family, s.protocol)) {
      return make_error(fmt::format("{} ({}) does not run the {} protocol", s.op, s.algo,
                                    collective::protocol_name(s.protocol)));
    }
    auto endpoint = [&](int rank) -> int {
      const int gpu_of_rank0 = rank_map.empty() ? 0 : rank_map.front();
      if (rank >= s.ranks) return network.nvswitch_endpoint_near(gpu_of_rank0);  // helper: the NVSwitch
      if (rank_map.empty()) return rank;
      return rank < static_cast<int>(rank_map.size()) ? rank_map[rank] : -1;
    };
    detail::PlannedSchedule planned;
    planned.transfers.reserve(s.transfers.size());
    for (std::size_t i = 0; i < s.transfers.size(); ++i) {
      const auto& t = s.transfers[i];
      if (t.queue_after >= static_cast<int>(i)) {
        return make_error(fmt::format("transfer {} queues after transfer {}, which is not before it", i, t.queue_after));
      }
      const int src = endpoint(t.src), dst = endpoint(t.dst);
      if (src < 0 || dst < 0 || src >= network.num_endpoints() || dst >= network.num_endpoints()) {
        if (t.src >= s.ranks || t.dst >= s.ranks) {
          return make_error(fmt::format("{} ({}) needs an NVSwitch next to the GPUs, and this topology has none",
                                        s.op, s.algo));
        }
        return make_error(fmt::format("rank {} or {} has no GPU in the rank map", t.src, t.dst));
      }
      if (src == dst) return make_error(fmt::format("a transfer from rank {} to itself", t.src));
      const auto& route = network.route(src, dst);
      if (route.empty()) {
        return make_error(fmt::format("no route from {} to {}", network.endpoints()[src], network.endpoints()[dst]));
      }
      if (!routed[{src, dst}]) {
        routed[{src, dst}] = true;
        plan.routes.push_back(detail::Plan::Route{src, dst, route});
      }
      const auto costs = collective::protocol_costs(s.latency_family, s.protocol, hop_kind(network, route));
      planned.launch_latency_s = std::max(planned.launch_latency_s, costs.launch_latency_s);
      planned.transfers.push_back(detail::PlannedTransfer{src, dst, t.bytes / costs.payload_fraction,
                                                          network.route_latency_s(route) + costs.step_latency_s,
                                                          t.deps, t.queue_after});
    }
    plan.schedules.push_back(std::move(planned));
  }
  return plan;
}

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Wire format, per schedule: time, sent, received, count, then `count` finish times (doubles).
void send_results(int fd, const std::vector<ScheduleResult>& results) {
  for (const auto& r : results) {
    const double header[4] = {r.time_s, r.bytes_sent, r.bytes_received,
                              static_cast<double>(r.transfer_finish_s.size())};
    if (!write_all(fd, header, sizeof header)) return;
    if (!write_all(fd, r.transfer_finish_s.data(), r.transfer_finish_s.size() * sizeof(double))) return;
  }
}

Expected<std::vector<ScheduleResult>> receive_results(int fd, std::size_t count) {
  std::vector<ScheduleResult> results(count);
  for (auto& r : results) {
    double header[4];
    if (!read_all(fd, header, sizeof header)) return make_error("the SimGrid child process sent incomplete results");
    r.time_s = header[0];
    r.bytes_sent = header[1];
    r.bytes_received = header[2];
    r.transfer_finish_s.resize(static_cast<std::size_t>(header[3]));
    if (!read_all(fd, r.transfer_finish_s.data(), r.transfer_finish_s.size() * sizeof(double))) {
      return make_error("the SimGrid child process sent incomplete results");
    }
  }
  return results;
}

}  // namespace

Expected<std::vector<ScheduleResult>> SimGridBackend::run(const topology::Network& network,
                                                          const std::vector<collective::Schedule>& schedules,
                                                          const RunOptions& options) {
  auto plan = make_plan(network, schedules, options);
  if (!plan) return plan.error();
  if (schedules.empty()) return std::vector<ScheduleResult>{};

  int fds[2];
  if (::pipe(fds) != 0) return make_error(fmt::format("pipe() failed: {}", std::strerror(errno)));
  std::fflush(nullptr);  // the child must not flush the parent's buffered output again
  const pid_t pid = ::fork();
  if (pid < 0) return make_error(fmt::format("fork() failed: {}", std::strerror(errno)));
  if (pid == 0) {
    // The child must never return into the caller's code (a test runner,
    // the CLI): whatever happens, it ends here.
    int code = 3;
    try {
      ::close(fds[0]);
      const auto results = detail::run_plan_in_this_process(*plan);
      send_results(fds[1], results);
      code = results.size() == schedules.size() ? 0 : 3;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "collsim: SimGrid engine error: %s\n", e.what());
      code = 4;
    } catch (...) {
      code = 4;
    }
    ::close(fds[1]);
    std::fflush(nullptr);
    ::_exit(code);
  }
  ::close(fds[1]);
  auto results = receive_results(fds[0], schedules.size());
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    return make_error(fmt::format("the SimGrid engine crashed (signal {}: {})", WTERMSIG(status),
                                  strsignal(WTERMSIG(status))));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(fmt::format("the SimGrid engine failed (exit code {})", WEXITSTATUS(status)));
  }
  return results;
}

}  // namespace collsim::engine
