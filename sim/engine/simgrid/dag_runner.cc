#include "sim/engine/simgrid/dag_runner.h"

#include <unistd.h>
#include <xbt/log.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <queue>
#include <simgrid/s4u.hpp>

#include "sim/engine/compact_cost.h"

namespace sg4 = simgrid::s4u;

namespace collsim::engine::detail {

namespace {

// Timers closer than this to "now" are due: sleeps and timeouts can land a
// few ulps away from the requested date.
constexpr double kDueSlack_s = 1e-15;

class DagRun {
 public:
  DagRun(const PlannedSchedule& s, const std::vector<sg4::Host*>& hosts, bool record, bool progress = false)
      : s_(s), hosts_(hosts), record_(record), progress_(progress) {}

  ScheduleResult run() {
    const std::size_t n = s_.transfers.size();
    const double t0 = sg4::Engine::get_clock();
    missing_deps_.resize(n);
    dependents_.resize(n);
    finish_.assign(n, 0);
    completed_.assign(n, false);
    parked_behind_.assign(n, -1);
    started_at_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      missing_deps_[i] = static_cast<int>(s_.transfers[i].deps.size());
      for (int d : s_.transfers[i].deps) dependents_[d].push_back(static_cast<int>(i));
      if (missing_deps_[i] == 0) schedule_start(static_cast<int>(i), t0 + s_.launch_latency_s);
    }
    if (n == 0 && s_.launch_latency_s > 0) sg4::this_actor::sleep_for(s_.launch_latency_s);
    // Each transfer runs in an actor of its own that sends and then reports
    // its completion (finish_transfer); this driver only starts transfers
    // when their timers are due. SimGrid 3.32 keeps the comms an actor has
    // in flight in a list it scans at every completion, and wait_any scans
    // every comm it waits for: one actor issuing and waiting on every
    // transfer made a 128-GPU all-to-all (16,256 concurrent flows) take
    // 300 s, 84% of it in that scan.
    mutex_ = sg4::Mutex::create();
    wake_ = sg4::ConditionVariable::create();
    while (done_ < n) {
      start_due_transfers();
      if (done_ >= n) break;
      std::unique_lock lock(*mutex_);
      if (timers_.empty()) {
        wake_->wait(lock);
      } else {
        wake_->wait_until(lock, timers_.top().first);
      }
    }
    if (progress_ && shown_) std::fputs("\r\033[K", stderr);
    ScheduleResult r;
    r.time_s = sg4::Engine::get_clock() - t0;
    r.bytes_sent = bytes_sent_;
    r.bytes_received = bytes_received_;
    if (record_) {
      for (double& f : finish_) f -= t0;
      r.transfer_finish_s = std::move(finish_);
    }
    return r;
  }

 private:
  // On a terminal, at most once a second: how far the simulation is.
  void report_progress(std::size_t n) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_shown_ < std::chrono::seconds(1)) return;
    last_shown_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r\033[Kcollsim: SimGrid: %zu of %zu transfers simulated", done_, n);
    std::fflush(stderr);
  }

  void schedule_start(int id, double ready_at) { timers_.emplace(ready_at + s_.transfers[id].route_latency_s, id); }

  void start_due_transfers() {
    const double now = sg4::Engine::get_clock();
    while (!timers_.empty() && timers_.top().first <= now + kDueSlack_s) {
      const int id = timers_.top().second;
      timers_.pop();
      const int ahead = s_.transfers[id].queue_after;
      if (ahead >= 0 && !completed_[ahead]) {
        parked_behind_[ahead] = id;  // FIFO: starts when the one ahead finishes
        continue;
      }
      start(id, now);
    }
  }

  void start(int id, double now) {
    const PlannedTransfer& t = s_.transfers[id];
    bytes_sent_ += t.bytes;
    const auto payload = static_cast<uint64_t>(std::llround(t.bytes));
    if (payload == 0) {
      complete(id, now);  // only the latency, already elapsed
      return;
    }
    started_at_[id] = now;
    sg4::Actor::create("transfer", hosts_[t.src_host], [this, id, payload]() {
      const PlannedTransfer& tr = s_.transfers[id];
      sg4::Comm::sendto(hosts_[tr.src_host], hosts_[tr.dst_host], payload);
      finish_transfer(id);
    });
  }

  // In the transfer's actor, once the network has delivered it.
  void finish_transfer(int id) {
    // Finite buffers (plan.h window_rate_Bps): a transfer whose window
    // allows less than the network gave it completes when the window
    // would have let it. Named approximation: while it ran it took the
    // network's share, so it may have slowed others a little more, and
    // for less long, than a rate-capped flow would.
    const auto& t = s_.transfers[id];
    if (t.max_rate_Bps > 0) {
      const double due = started_at_[id] + t.bytes / t.max_rate_Bps;
      if (due > sg4::Engine::get_clock() + kDueSlack_s) sg4::this_actor::sleep_until(due);
    }
    complete(id, sg4::Engine::get_clock());
    if (progress_ && (done_ & 1023) == 0) report_progress(s_.transfers.size());
    wake_->notify_one();  // new starts may be due before the driver's timer
  }

  void complete(int id, double at) {
    finish_[id] = at;
    completed_[id] = true;
    if (const int next = parked_behind_[id]; next >= 0) start(next, at);
    bytes_received_ += s_.transfers[id].bytes;
    ++done_;
    for (int j : dependents_[id])
      if (--missing_deps_[j] == 0) schedule_start(j, at);
  }

  const PlannedSchedule& s_;
  const std::vector<sg4::Host*>& hosts_;
  bool record_;
  std::vector<int> missing_deps_;
  std::vector<std::vector<int>> dependents_;
  std::vector<double> finish_;
  std::vector<bool> completed_;
  std::vector<int> parked_behind_;       // [t] = transfer waiting for t to finish, or -1
  std::vector<double> started_at_;       // when each transfer's comm started
  using Timer = std::pair<double, int>;  // (date, transfer to start)
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  sg4::MutexPtr mutex_;
  sg4::ConditionVariablePtr wake_;
  std::size_t done_ = 0;
  bool progress_ = false, shown_ = false;
  std::chrono::steady_clock::time_point last_shown_ = std::chrono::steady_clock::now();
  double bytes_sent_ = 0;
  double bytes_received_ = 0;
};

// A compact schedule, aggregated: per phase, one step of every pass is
// simulated with all its flows started together; each position's contended
// time (plus its latency) then drives the step recurrence (compact_cost.h).
// The result is no lower than the busiest link's bytes over its rate.
ScheduleResult run_aggregated(const Plan& plan, const PlannedSchedule& s, const std::vector<sg4::Host*>& hosts) {
  PassTimes times;
  for (const auto& phase : s.phases) {
    times.emplace_back();
    std::vector<sg4::CommPtr> comms;
    std::vector<std::pair<std::size_t, std::size_t>> owner;  // (pass, position) of each comm
    const double t0 = sg4::Engine::get_clock();
    for (std::size_t pi = 0; pi < phase.size(); ++pi) {
      const auto& pass = phase[pi];
      times.back().emplace_back(pass.rank.size(), 0.0);
      for (std::size_t i = 0; i < pass.rank.size(); ++i) {
        const auto& route = plan.routes[static_cast<std::size_t>(pass.route[i])];
        const auto bytes = static_cast<std::uint64_t>(std::llround(pass.slice_bytes[i]));
        if (bytes == 0 || pass.steps == 0) continue;
        for (int slice = 0; slice < pass.slices; ++slice) {
          comms.push_back(sg4::Comm::sendto_async(hosts[route.src_host], hosts[route.dst_host], bytes));
          owner.emplace_back(pi, i);
        }
      }
    }
    sg4::Comm::wait_all(comms);
    for (std::size_t k = 0; k < comms.size(); ++k) {
      const auto& pass = phase[owner[k].first];
      const std::size_t i = owner[k].second;
      double& c = times.back()[owner[k].first][i];
      c = std::max(c, comms[k]->get_finish_time() - t0);
      // Finite buffers (plan.h window_rate_Bps): no faster than the window allows.
      if (i < pass.max_rate_Bps.size() && pass.max_rate_Bps[i] > 0)
        c = std::max(c, pass.slice_bytes[i] / pass.max_rate_Bps[i]);
    }
    for (std::size_t pi = 0; pi < phase.size(); ++pi)
      for (std::size_t i = 0; i < phase[pi].rank.size(); ++i) times.back()[pi][i] += phase[pi].latency_s[i];
  }
  ScheduleResult r;
  r.aggregated = true;
  std::vector<double> link_bytes(plan.num_links(), 0.0);
  cost_compact(plan, s, times, link_bytes, r);
  r.shared_links = false;  // the simulated step shares them
  for (std::size_t l = 0; l < link_bytes.size(); ++l)
    if (link_bytes[l] > 0) r.time_s = std::max(r.time_s, link_bytes[l] / plan.link(l).rate_Bps);
  return r;
}

}  // namespace

std::vector<ScheduleResult> run_plan_in_this_process(const Plan& plan) {
  xbt_log_control_set("root.thres:critical");
  sg4::Engine engine("collsim");
  // Exact alpha-beta timing: see simgrid_backend.h.
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/crosstraffic:0");
  sg4::Engine::set_config("network/TCP-gamma:0");
  // Times down to picoseconds stay exact (default 1e-9 s would round a
  // 1 KiB transfer at 900 GB/s).
  sg4::Engine::set_config("surf/precision:1e-13");
  // One short-lived actor per transfer in flight (dag_runner.cc): small stacks.
  sg4::Engine::set_config("contexts/stack-size:256");

  auto* zone = sg4::create_full_zone("cluster");
  std::vector<sg4::Host*> hosts;
  for (std::size_t h = 0; h < plan.num_hosts(); ++h) hosts.push_back(zone->create_host(plan.host_name(h), 1e9));
  std::vector<sg4::Link*> links(plan.num_links(), nullptr);
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& l = plan.link(i);
    links[i] = zone->create_link(l.name + "#" + std::to_string(i), l.rate_Bps)->set_latency(0)->seal();
  }
  for (const auto& r : plan.routes) {
    std::vector<sg4::LinkInRoute> route;
    for (int l : r.links) route.emplace_back(links[l]);
    zone->add_route(hosts[r.src_host]->get_netpoint(), hosts[r.dst_host]->get_netpoint(), nullptr, nullptr, route,
                    false);
  }
  zone->seal();

  std::vector<ScheduleResult> results;
  const bool progress = ::isatty(STDERR_FILENO) != 0;  // quiet in pipes and files
  sg4::Actor::create("driver", hosts.front(), [&]() {
    for (const auto& s : plan.schedules) {
      results.push_back(s.phases.empty() ? DagRun(s, hosts, plan.record_transfers, progress).run()
                                         : run_aggregated(plan, s, hosts));
      if (plan.on_progress) plan.on_progress(results.size(), plan.schedules.size());
    }
  });
  engine.run();
  return results;
}

}  // namespace collsim::engine::detail
