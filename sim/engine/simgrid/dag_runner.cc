#include "sim/engine/simgrid/dag_runner.h"

#include <unistd.h>
#include <xbt/log.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <queue>
#include <simgrid/kernel/routing/NetPoint.hpp>
#include <simgrid/kernel/routing/NetZoneImpl.hpp>
#include <simgrid/s4u.hpp>
#include <unordered_map>

#include "sim/engine/compact_cost.h"

namespace sg4 = simgrid::s4u;

namespace collsim::engine::detail {

namespace {

// Timers closer than this to "now" are due: sleeps and timeouts can land a
// few ulps away from the requested date.
constexpr double kDueSlack_s = 1e-15;

// The plan's routes as a SimGrid zone, stored per routed pair. SimGrid's
// full zone keeps a hosts x hosts table (8.6 GB of pointers for 32,768
// GPUs, most of them empty); this keeps only the routes a plan uses.
// Links carry no latency (collsim pays it: simgrid_backend.h).
class PlanZone final : public simgrid::kernel::routing::NetZoneImpl {
 public:
  explicit PlanZone(const std::string& name) : NetZoneImpl(name) {}
  void set_route(const sg4::Host* src, const sg4::Host* dst, const std::vector<sg4::Link*>& links) {
    auto& route = routes_[key(src->get_netpoint(), dst->get_netpoint())];
    route.clear();
    for (sg4::Link* l : links) route.push_back(l->get_impl());
  }

 private:
  using NetPoint = simgrid::kernel::routing::NetPoint;
  static std::uint64_t key(const NetPoint* src, const NetPoint* dst) {
    return (static_cast<std::uint64_t>(src->id()) << 32) | static_cast<std::uint64_t>(dst->id());
  }
  void get_local_route(const NetPoint* src, const NetPoint* dst, simgrid::kernel::routing::Route* into,
                       double* /*latency: always 0*/) override {
    const auto it = routes_.find(key(src, dst));
    if (it != routes_.end()) into->link_list_.insert(into->link_list_.end(), it->second.begin(), it->second.end());
  }
  std::unordered_map<std::uint64_t, std::vector<simgrid::kernel::resource::StandardLinkImpl*>> routes_;
};

// Where a transfer to a host is put. Each host's mailbox has a permanent
// receiver (a daemon actor on that host that only drains it) that accepts
// every put at once, so a comm starts without a matching get and runs from
// the sender's host to this one. Not Comm::sendto: SimGrid 3.32 detaches
// host-to-host comms into one engine-wide list that every completion scans
// (CommImpl::finish), so n concurrent transfers cost O(n^2): a 128-GPU
// all-to-all (16,256 flows) spent 90% of its time in that scan.
class Inboxes {
 public:
  explicit Inboxes(const std::vector<sg4::Host*>& hosts) : hosts_(hosts) {}
  sg4::Mailbox* of(int host) {
    sg4::Mailbox*& box = boxes_[host];
    if (box == nullptr) {
      box = sg4::Mailbox::by_name("to#" + std::to_string(host));
      sg4::ActorPtr sink = sg4::Actor::create("sink", hosts_[host], [box]() {
        for (;;) box->get<int>();  // frees delivered comms; never reads them
      });
      sink->daemonize();
      box->set_receiver(sink);
    }
    return box;
  }
  static inline int payload = 0;  // what every put carries; nothing reads it

 private:
  const std::vector<sg4::Host*>& hosts_;
  std::unordered_map<int, sg4::Mailbox*> boxes_;
};

class DagRun {
 public:
  DagRun(const PlannedSchedule& s, const std::vector<sg4::Host*>& hosts, Inboxes& inboxes, bool record,
         bool progress = false)
      : s_(s), hosts_(hosts), inboxes_(inboxes), record_(record), progress_(progress) {}

  ScheduleResult run() {
    const std::size_t n = s_.transfers.size();
    const double t0 = sg4::Engine::get_clock();
    missing_deps_.resize(n);
    dependents_.resize(n);
    finish_.assign(n, 0);
    flow_ended_.assign(n, false);
    parked_behind_.assign(n, -1);
    started_at_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      missing_deps_[i] = static_cast<int>(s_.transfers[i].deps.size());
      for (int d : s_.transfers[i].deps) dependents_[d].push_back(static_cast<int>(i));
      if (missing_deps_[i] == 0) schedule_start(static_cast<int>(i), t0 + s_.launch_latency_s);
    }
    if (n == 0 && s_.launch_latency_s > 0) sg4::this_actor::sleep_for(s_.launch_latency_s);
    // Each transfer runs in an actor of its own that puts its bytes and
    // then hands its arrival to this driver's timers (finish_transfer);
    // the driver starts transfers and completes arrivals when due. SimGrid
    // 3.32 keeps the comms an actor has in flight in a list it scans at
    // every completion, and wait_any scans every comm it waits for: one
    // actor issuing and waiting on every transfer made a 128-GPU all-to-all
    // (16,256 concurrent flows) take 300 s, 84% of it in that scan.
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

  // A transfer's flow starts as soon as it is ready and its route latency is
  // paid after it (finish_transfer): see simgrid_backend.h.
  void schedule_start(int id, double ready_at) { timers_.emplace(ready_at, id); }

  void start_due_transfers() {
    const double now = sg4::Engine::get_clock();
    while (!timers_.empty() && timers_.top().first <= now + kDueSlack_s) {
      const int id = timers_.top().second;
      timers_.pop();
      if (id < 0) {  // an arrival (finish_transfer)
        complete(~id, now);
        continue;
      }
      const int ahead = s_.transfers[id].queue_after;
      if (ahead >= 0 && !flow_ended_[ahead]) {
        parked_behind_[ahead] = id;  // FIFO: starts when the one ahead's flow ends
        continue;
      }
      start(id, now);
    }
  }

  void start(int id, double now) {
    const PlannedTransfer& t = s_.transfers[id];
    bytes_sent_ += t.bytes;
    const auto payload = static_cast<uint64_t>(std::llround(t.bytes));
    started_at_[id] = now;
    if (payload == 0) {
      // A flow rounding to no byte (under half of one) is not simulated, but
      // a cap still holds it (a ring step of NCCL's Simple protocol waits
      // for its buffer's slots): finish_transfer applies it, as the
      // analytical backend does.
      if (t.max_rate_Bps > 0 && t.bytes > 0) {
        sg4::Actor::create("transfer", hosts_[t.src_host], [this, id]() { finish_transfer(id); });
        return;
      }
      end_flow(id, now);
      arrive(id, now + t.route_latency_s, now);
      return;
    }
    sg4::Mailbox* to = inboxes_.of(t.dst_host);
    sg4::Actor::create("transfer", hosts_[t.src_host], [this, id, payload, to]() {
      to->put(&Inboxes::payload, payload);
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
    double flow_end = sg4::Engine::get_clock();
    if (t.max_rate_Bps > 0) flow_end = std::max(flow_end, started_at_[id] + t.bytes / t.max_rate_Bps);
    if (flow_end > sg4::Engine::get_clock() + kDueSlack_s) sg4::this_actor::sleep_until(flow_end);
    const double now = sg4::Engine::get_clock();
    end_flow(id, now);
    arrive(id, flow_end + t.route_latency_s, now);
    wake_->notify_one();  // new timers may be due before the driver's
  }

  // The transfer arrives at `arrival`: now, or from the driver's timer queue
  // (an actor sleeping out each latency cost a sleep activity per transfer).
  void arrive(int id, double arrival, double now) {
    if (arrival > now + kDueSlack_s) {
      timers_.emplace(arrival, ~id);
      return;
    }
    complete(id, now);
  }

  // The last byte has left: a transfer queued behind this one on its
  // connection starts now, its latency overlapping this one's.
  void end_flow(int id, double at) {
    flow_ended_[id] = true;
    if (const int next = parked_behind_[id]; next >= 0) start(next, at);
  }

  void complete(int id, double at) {
    finish_[id] = at;
    bytes_received_ += s_.transfers[id].bytes;
    ++done_;
    if (progress_ && (done_ & 1023) == 0) report_progress(s_.transfers.size());
    for (int j : dependents_[id])
      if (--missing_deps_[j] == 0) schedule_start(j, at);
  }

  const PlannedSchedule& s_;
  const std::vector<sg4::Host*>& hosts_;
  Inboxes& inboxes_;
  bool record_;
  std::vector<int> missing_deps_;
  std::vector<std::vector<int>> dependents_;
  std::vector<double> finish_;
  std::vector<bool> flow_ended_;
  std::vector<int> parked_behind_;       // [t] = transfer waiting for t's flow to end, or -1
  std::vector<double> started_at_;       // when each transfer's comm started
  using Timer = std::pair<double, int>;  // (date, transfer to start, or ~transfer arriving)
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  sg4::MutexPtr mutex_;
  sg4::ConditionVariablePtr wake_;
  std::size_t done_ = 0;
  bool progress_ = false, shown_ = false;
  std::chrono::steady_clock::time_point last_shown_ = std::chrono::steady_clock::now();
  double bytes_sent_ = 0;
  double bytes_received_ = 0;
};

// One flow of a step simulated with all its flows at once; `slot` is what
// its time is reported against.
struct StepFlow {
  int src_host, dst_host;
  std::uint64_t bytes;
  std::size_t slot;
  double max_rate_Bps = 0;  // 0: none
};

// Starts every flow together and returns, per slot, the latest time (since
// the start) any of its flows took. The flows are grouped by source host:
// one actor per source puts its flows and waits for them (an actor's wait
// scans only its own comms; see Inboxes for why not Comm::sendto_async),
// in source order and, per source, in the given order (SimGrid's results
// depend on the order flows start: docs/performance.md, "Order of flows").
std::vector<double> simulate_together(const std::vector<StepFlow>& flows, std::size_t slots,
                                      const std::vector<sg4::Host*>& hosts, Inboxes& inboxes) {
  std::map<int, std::vector<const StepFlow*>> by_source;
  for (const StepFlow& f : flows) {
    by_source[f.src_host].push_back(&f);
    inboxes.of(f.dst_host);
  }
  sg4::this_actor::yield();  // every inbox's receiver waits before the first put
  std::vector<double> times(slots, 0.0);
  const double t0 = sg4::Engine::get_clock();
  std::vector<sg4::ActorPtr> senders;
  for (auto& [src, list] : by_source) {
    senders.push_back(sg4::Actor::create("step", hosts[src], [&list, &inboxes, &times, t0]() {
      std::vector<sg4::CommPtr> comms;
      comms.reserve(list.size());
      for (const StepFlow* f : list) {
        sg4::CommPtr c = inboxes.of(f->dst_host)->put_init(&Inboxes::payload, f->bytes);
        if (f->max_rate_Bps > 0) c->set_rate(f->max_rate_Bps);
        comms.push_back(c->start());
      }
      sg4::Comm::wait_all(comms);
      for (std::size_t m = 0; m < comms.size(); ++m) {
        double& c = times[list[m]->slot];
        c = std::max(c, comms[m]->get_finish_time() - t0);
      }
    }));
  }
  for (auto& a : senders) a->join();
  return times;
}

void show_step(bool progress, const char* what, std::size_t k, std::size_t of, std::size_t flows) {
  if (!progress) return;
  std::fprintf(stderr, "\r\033[Kcollsim: SimGrid: %s %zu of %zu, one step of %zu flows (aggregated)", what, k, of,
               flows);
  std::fflush(stderr);
}

// The result is no lower than the launch (no byte moves before it) plus the
// busiest link's bytes over its rate, as on the analytical backend.
void apply_load_bound(const Plan& plan, const PlannedSchedule& s, const std::vector<double>& link_bytes,
                      ScheduleResult& r) {
  for (std::size_t l = 0; l < link_bytes.size(); ++l)
    if (link_bytes[l] > 0) r.time_s = std::max(r.time_s, s.launch_latency_s + link_bytes[l] / plan.link(l).rate_Bps);
}

// A compact schedule, aggregated: per phase, one step of every pass is
// simulated with all its flows started together; each position's contended
// time (plus its latency) then drives the step recurrence (compact_cost.h).
ScheduleResult run_aggregated(const Plan& plan, const PlannedSchedule& s, const std::vector<sg4::Host*>& hosts,
                              Inboxes& inboxes, bool progress) {
  PassTimes times;
  for (std::size_t k = 0; k < s.phases.size(); ++k) {
    const auto& phase = s.phases[k];
    std::vector<StepFlow> flows;
    std::vector<std::size_t> first_slot;  // per pass
    std::size_t slots = 0;
    for (const auto& pass : phase) {
      first_slot.push_back(slots);
      for (std::size_t i = 0; i < pass.rank.size(); ++i) {
        const auto& route = plan.routes[static_cast<std::size_t>(pass.route[i])];
        const auto bytes = static_cast<std::uint64_t>(std::llround(pass.slice_bytes[i]));
        if (bytes == 0 || pass.steps == 0) continue;
        for (int slice = 0; slice < pass.slices; ++slice)
          flows.push_back(StepFlow{route.src_host, route.dst_host, bytes, slots + i});
      }
      slots += pass.rank.size();
    }
    show_step(progress, "phase", k + 1, s.phases.size(), flows.size());
    const std::vector<double> took = simulate_together(flows, slots, hosts, inboxes);
    if (progress) std::fputs("\r\033[K", stderr);
    times.emplace_back();
    for (std::size_t pi = 0; pi < phase.size(); ++pi) {
      const auto& pass = phase[pi];
      std::vector<double> c(took.begin() + static_cast<std::ptrdiff_t>(first_slot[pi]),
                            took.begin() + static_cast<std::ptrdiff_t>(first_slot[pi] + pass.rank.size()));
      for (std::size_t i = 0; i < pass.rank.size(); ++i) {
        // Finite buffers (plan.h window_rate_Bps): no faster than the window allows.
        if (i < pass.max_rate_Bps.size() && pass.max_rate_Bps[i] > 0)
          c[i] = std::max(c[i], pass.slice_bytes[i] / pass.max_rate_Bps[i]);
        c[i] += pass.latency_s[i];
      }
      times.back().push_back(std::move(c));
    }
  }
  ScheduleResult r;
  r.aggregated = true;
  std::vector<double> link_bytes(plan.num_links(), 0.0);
  cost_compact(plan, s, times, link_bytes, r);
  r.shared_links = false;  // the simulated step shares them
  apply_load_bound(plan, s, link_bytes, r);
  return r;
}

// A repeated schedule (a pipeline: trees), aggregated: one copy's transfers
// are simulated with all their flows started together, as every edge of a
// full pipeline carries a slice at once; each transfer's contended time
// then drives the copies' recurrence (compact_cost.h, cost_repeated).
ScheduleResult run_repeated(const Plan& plan, const PlannedSchedule& s, const std::vector<sg4::Host*>& hosts,
                            Inboxes& inboxes, bool progress) {
  const std::size_t n = s.transfers.size();
  // At their channel shares the flows never contend (plan.h): no need to simulate them.
  std::vector<double> period(n, 0.0);
  if (!s.at_channel_shares) {
    // A queue of transfers in one copy (queue_after) shares its connection
    // one after another: one flow of their bytes, each member's period its
    // share of that flow's time.
    std::vector<std::size_t> head(n);
    std::vector<double> queue_bytes(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const int ahead = s.transfers[i].queue_after;
      head[i] = ahead < 0 ? i : head[static_cast<std::size_t>(ahead)];
      queue_bytes[head[i]] += s.transfers[i].bytes;
    }
    std::vector<StepFlow> flows;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& t = s.transfers[i];
      const auto bytes = static_cast<std::uint64_t>(std::llround(queue_bytes[i]));
      if (head[i] == i && bytes > 0) flows.push_back(StepFlow{t.src_host, t.dst_host, bytes, i, t.max_rate_Bps});
    }
    show_step(progress, "pipeline", 1, 1, flows.size());
    const std::vector<double> took = simulate_together(flows, n, hosts, inboxes);
    if (progress) std::fputs("\r\033[K", stderr);
    for (std::size_t i = 0; i < n; ++i)
      if (queue_bytes[head[i]] > 0) period[i] = took[head[i]] * s.transfers[i].bytes / queue_bytes[head[i]];
  }
  std::vector<double> alone(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = s.transfers[i];
    alone[i] = t.bytes / capped_rate(plan.route_rate_Bps(static_cast<std::size_t>(t.route)), t.max_rate_Bps);
    // Finite buffers (plan.h window_rate_Bps): no faster than the window allows.
    if (t.max_rate_Bps > 0) period[i] = std::max(period[i], t.bytes / t.max_rate_Bps);
  }
  ScheduleResult r;
  r.aggregated = true;
  std::vector<double> link_bytes(plan.num_links(), 0.0);
  cost_repeated(plan, s, alone, period, link_bytes, r);
  apply_load_bound(plan, s, link_bytes, r);
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
  // One short-lived actor per transfer in flight, and per host a mailbox
  // receiver and (aggregated steps) a sender: small stacks (KiB; the whole
  // test suite ran with 8 and guard pages on). A guard page costs two memory
  // maps per stack, and Linux allows 65,530 maps by default: past
  // kMaxGuardedActors actors SimGrid aborted ("Failed to protect stack"), so
  // those runs go without guard pages.
  sg4::Engine::set_config("contexts/stack-size:16");
  constexpr std::size_t kMaxGuardedActors = 30000;
  std::size_t most_transfers = 0;
  for (const auto& s : plan.schedules) most_transfers = std::max(most_transfers, s.transfers.size());
  most_transfers += 2 * plan.num_hosts();
  if (most_transfers > kMaxGuardedActors) sg4::Engine::set_config("contexts/guard-size:0");

  auto* zone_impl = new PlanZone("cluster");  // the engine owns its root zone
  sg4::NetZone* zone = zone_impl->get_iface();
  std::vector<sg4::Host*> hosts;
  for (std::size_t h = 0; h < plan.num_hosts(); ++h) hosts.push_back(zone->create_host(plan.host_name(h), 1e9));
  std::vector<sg4::Link*> links(plan.num_links(), nullptr);
  for (std::size_t i = 0; i < links.size(); ++i) {
    const auto& l = plan.link(i);
    links[i] = zone->create_link(plan.link_name(i) + "#" + std::to_string(i), l.rate_Bps)->set_latency(0)->seal();
  }
  std::vector<sg4::Link*> route;
  for (const auto& r : plan.routes) {
    route.clear();
    for (int l : r.links) route.push_back(links[l]);
    zone_impl->set_route(hosts[r.src_host], hosts[r.dst_host], route);
  }
  zone->seal();

  std::vector<ScheduleResult> results;
  const bool progress = ::isatty(STDERR_FILENO) != 0;  // quiet in pipes and files
  sg4::Actor::create("driver", hosts.front(), [&]() {
    Inboxes inboxes(hosts);
    for (const auto& s : plan.schedules) {
      if (!s.phases.empty()) {
        results.push_back(run_aggregated(plan, s, hosts, inboxes, progress));
      } else if (s.repeats > 1) {
        results.push_back(run_repeated(plan, s, hosts, inboxes, progress));
      } else {
        results.push_back(DagRun(s, hosts, inboxes, plan.record_transfers, progress).run());
      }
      if (plan.on_progress) plan.on_progress(results.size(), plan.schedules.size());
    }
  });
  engine.run();
  return results;
}

}  // namespace collsim::engine::detail
