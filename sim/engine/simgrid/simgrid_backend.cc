#include "sim/engine/simgrid/simgrid_backend.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>

#include "sim/core/log.h"
#include "sim/core/subprocess.h"
#include "sim/engine/nccl_tests_loop.h"
#include "sim/engine/plan.h"
#include "sim/engine/simgrid/dag_runner.h"

namespace collsim::engine {

namespace {

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

// Wire format, per schedule: time, sent, received, aggregated (0/1), count, then `count` finish times (doubles).
void send_results(int fd, const std::vector<ScheduleResult>& results) {
  for (const auto& r : results) {
    const double header[5] = {r.time_s, r.bytes_sent, r.bytes_received, r.aggregated ? 1.0 : 0.0,
                              static_cast<double>(r.transfer_finish_s.size())};
    if (!write_all(fd, header, sizeof header)) return;
    if (!write_all(fd, r.transfer_finish_s.data(), r.transfer_finish_s.size() * sizeof(double))) return;
  }
}

Expected<std::vector<ScheduleResult>> receive_results(int fd, std::size_t count) {
  std::vector<ScheduleResult> results(count);
  for (auto& r : results) {
    double header[5];
    if (!read_all(fd, header, sizeof header))
      return make_internal_error("the SimGrid child process sent incomplete results");
    r.time_s = header[0];
    r.bytes_sent = header[1];
    r.bytes_received = header[2];
    r.aggregated = header[3] != 0;
    r.transfer_finish_s.resize(static_cast<std::size_t>(header[4]));
    if (!read_all(fd, r.transfer_finish_s.data(), r.transfer_finish_s.size() * sizeof(double))) {
      return make_internal_error("the SimGrid child process sent incomplete results");
    }
  }
  return results;
}

// Memory guard, before forking: SimGrid keeps an actor (a 16 KiB stack and
// its comm) per transfer in flight, measured at about 20 KiB each
// (kSimGridBytesPerTransferInFlight: a 512-GPU all-to-all, 261,632
// transfers at once: 5.2 GB), and about 3 KiB per flow of an aggregated
// step (9,216-GPU ring, 663,552 flows: 1.9 GB). A schedule whose first wave
// (transfers waiting for nothing) would need more than half of this
// machine's memory is refused with what to use instead, rather than killed
// by the kernel part way (guard_memory_bytes: COLLSIM_MEMORY_GB replaces
// the machine's memory).
constexpr double kBytesPerAggregatedFlow = 3 * 1024;
constexpr double kMaxShareOfMemory = 0.5;

Expected<bool> check_memory(const detail::Plan& plan) {
  for (const auto& s : plan.schedules) {
    double wave = 0, per = kSimGridBytesPerTransferInFlight;
    if (s.repeats > 1) {  // one copy's flows at once, unless they run at their channel shares
      per = kBytesPerAggregatedFlow;
      wave = s.at_channel_shares ? 0 : static_cast<double>(s.transfers.size());
    } else if (s.phases.empty()) {
      for (const auto& t : s.transfers) wave += t.deps.empty() && t.queue_after < 0 ? 1 : 0;
    } else {
      per = kBytesPerAggregatedFlow;
      for (const auto& phase : s.phases) {
        double flows = 0;
        for (const auto& pass : phase) flows += static_cast<double>(pass.rank.size()) * pass.slices;
        wave = std::max(wave, flows);
      }
    }
    if (auto fits = simgrid_fits_in_flight(wave, per); !fits) return fits.error();
  }
  return true;
}

}  // namespace

Expected<bool> simgrid_fits_in_flight(double transfers, double bytes_each) {
  const double memory = guard_memory_bytes();
  if (memory > 0 && transfers * bytes_each > kMaxShareOfMemory * memory) {
    return make_error(fmt::format(
        "the SimGrid backend would keep {:.0f} transfers in flight at once, about {:.1f} GB of simulator memory "
        "({:.0f} KiB each), more than half of this machine's {:.1f} GB; use --backend analytical, or fewer ranks",
        transfers, transfers * bytes_each / 1e9, bytes_each / 1024, memory / 1e9));
  }
  return true;
}

Expected<std::vector<ScheduleResult>> SimGridBackend::run(const topology::Network& network,
                                                          const std::vector<collective::Schedule>& schedules,
                                                          const RunOptions& asked) {
  // nccl-tests' loop is replayed from every transfer's time (nccl_tests_loop.h).
  RunOptions options = asked;
  const bool loop = asked.nccl_tests_iterations > 1;
  options.record_transfers |= loop;
  // Protocol candidates that share another's transfers get their own copy.
  for (const auto& s : schedules) {
    if (s.transfers_of < 0) continue;
    std::vector<collective::Schedule> own;
    for (std::size_t k = 0; k < schedules.size(); ++k) own.push_back(collective::materialize(schedules, k));
    return run(network, own, asked);
  }
  // Compact schedules stay compact (aggregated) only above the threshold;
  // make_plan expands the others (an expanded ring keeps its channels'
  // shares and its protocol's cap, and each channel connection is a FIFO:
  // collective::expand's fifo_rings).
  bool any_aggregated = false;
  auto aggregable = [](const collective::Schedule& s) { return s.compact() || s.repeated(); };
  for (const auto& s : schedules) {
    if (!aggregable(s) || s.transfer_count() <= options.simgrid_aggregate_above || options.record_transfers) continue;
    any_aggregated = true;
    log::info(
        "simgrid: {} ({}) of {:.0f} B on {} ranks: {:.3g} transfers, above --simgrid-aggregate-above {:.3g}: "
        "one step at a time (aggregated)",
        s.op, s.algo, s.bytes, s.ranks, s.transfer_count(), options.simgrid_aggregate_above);
  }
  auto plan = detail::make_plan(
      network, schedules, options,
      {.keep_compact = any_aggregated, .keep_compact_above = options.simgrid_aggregate_above, .fifo_rings = true});
  if (!plan) return plan.error();
  if (schedules.empty()) return std::vector<ScheduleResult>{};
  if (auto fits = check_memory(*plan); !fits) return fits.error();

  int fds[2];
  if (::pipe(fds) != 0) return make_internal_error(fmt::format("pipe() failed: {}", std::strerror(errno)));
  // The engine runs in a child process of its own (SimGrid keeps global
  // state; a crash there must not take the caller with it).
  auto pid = start_child([&] {
    ::close(fds[0]);
    int code = 4;
    try {
      const auto results = detail::run_plan_in_this_process(*plan);
      send_results(fds[1], results);
      code = results.size() == schedules.size() ? 0 : 3;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "collsim: SimGrid engine error: %s\n", e.what());
    }
    ::close(fds[1]);
    return code;
  });
  if (!pid) {
    ::close(fds[0]);
    ::close(fds[1]);
    return pid.error();
  }
  ::close(fds[1]);
  auto results = receive_results(fds[0], schedules.size());
  ::close(fds[0]);
  const int status = wait_child(*pid);
  if (WIFSIGNALED(status)) return make_internal_error("the SimGrid engine crashed (" + describe_exit(status) + ")");
  if (!exited_cleanly(status)) return make_internal_error("the SimGrid engine failed (" + describe_exit(status) + ")");
  // What the plan knew before the run: its buffers' caps.
  if (results) {
    for (std::size_t i = 0; i < results->size() && i < plan->schedules.size(); ++i) {
      auto& r = (*results)[i];
      r.buffer_bound = plan->schedules[i].buffer_bound;
      if (loop && r.transfer_finish_s.size() == plan->schedules[i].transfers.size())
        r.loop_time_s =
            detail::nccl_tests_loop_s(*plan, plan->schedules[i], r.transfer_finish_s, asked.nccl_tests_iterations);
      if (!asked.record_transfers) r.transfer_finish_s = {};
    }
  }
  return results;
}

}  // namespace collsim::engine
