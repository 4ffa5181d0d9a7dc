#include "sim/engine/all_pairs_cost.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "sim/core/log.h"
#include "sim/engine/plan.h"

namespace collsim::engine::detail {

namespace {

using collective::HopKind;

// Each pair's time, as make_plan resolves a transfer (transfer_timing) and
// the analytical backend runs it: its latency, then its wire bytes at the
// route's rate under the window cap.
class PairCoster {
 public:
  explicit PairCoster(const collective::Schedule& s)
      : block_bytes_(s.bytes / s.ranks), ranks_(s.ranks), protocol_(s.protocol) {
    for (HopKind k : {HopKind::kNvlink, HopKind::kPcie, HopKind::kNet})
      costs_[static_cast<std::size_t>(k)] = collective::protocol_costs(s.latency_family, s.protocol, k);
  }
  // Costs one pair over `route`; returns its wire bytes.
  double pair(const RouteFacts& route) {
    const auto& c = costs_[static_cast<std::size_t>(route.kind)];
    const TransferTiming timing = transfer_timing(route, c, protocol_);
    const double wire = block_bytes_ / c.payload_fraction;
    slowest_s_ = std::max(slowest_s_, timing.latency_s + wire / capped_rate(route.rate_Bps, timing.max_rate_Bps));
    launch_s_ = std::max(launch_s_, c.launch_latency_s + c.launch_latency_per_rank_s * ranks_);
    sent_ += wire;
    return wire;
  }
  double makespan_s() const { return launch_s_ + slowest_s_; }
  double bytes_sent() const { return sent_; }

 private:
  std::array<collective::ProtocolCosts, 3> costs_;
  double block_bytes_;
  int ranks_;
  collective::Protocol protocol_;
  double slowest_s_ = 0, launch_s_ = 0, sent_ = 0;
};

// Bytes per link, and the busiest link's bytes / rate.
class LinkLoads {
 public:
  explicit LinkLoads(const topology::Network& network) : network_(network), bytes_(network.links().size(), 0.0) {}
  void add(const std::vector<int>& route, double bytes) {
    for (int l : route) {
      double& b = bytes_[static_cast<std::size_t>(l)];
      if (b == 0) touched_.push_back(l);
      b += bytes;
    }
  }
  double bound_s() const {
    double bound = 0;
    for (int l : touched_)
      bound =
          std::max(bound, bytes_[static_cast<std::size_t>(l)] / network_.links()[static_cast<std::size_t>(l)].rate_Bps);
    return bound;
  }

 private:
  const topology::Network& network_;
  std::vector<double> bytes_;
  std::vector<int> touched_;
};

// Above this many, a terminal shows progress (a few seconds of work).
constexpr double kProgressAboveSearches = 5e6;

// "collsim: all-to-all: D of N NVLink domains costed, about T s left" on
// standard error, redrawn at most once a second; erased when done.
class Progress {
 public:
  Progress(bool shown, std::size_t total) : shown_(shown), total_(total), started_(Clock::now()), last_(started_) {}
  void at(std::size_t done) {
    if (!shown_ || done == 0) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    drawn_ = true;
    const double spent = std::chrono::duration<double>(now - started_).count();
    std::fprintf(stderr, "\r\033[Kcollsim: all-to-all: %zu of %zu NVLink domains costed, about %.0f s left", done,
                 total_, spent * static_cast<double>(total_ - done) / static_cast<double>(done));
    std::fflush(stderr);
  }
  void done() const {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool shown_;
  std::size_t total_;
  Clock::time_point started_, last_;
  bool drawn_ = false;
};

}  // namespace

Expected<ScheduleResult> cost_all_pairs(const topology::Network& network, const collective::Schedule& s,
                                        const std::vector<int>& rank_map, bool show_progress,
                                        double max_route_searches) {
  const int p = s.ranks;
  std::vector<int> gpu(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    gpu[static_cast<std::size_t>(r)] = rank_map.empty() ? r : rank_map[static_cast<std::size_t>(r)];
    if (gpu[static_cast<std::size_t>(r)] < 0 || gpu[static_cast<std::size_t>(r)] >= network.num_gpus())
      return make_internal_error(fmt::format("rank {} has no GPU in the rank map", r));
  }
  // The ranks' NVLink domains (in order of their first rank), and the ranks
  // at each domain position.
  std::unordered_map<int, int> domain_index;
  std::vector<std::vector<int>> members;  // per domain: GPUs
  std::vector<int> domain_of(static_cast<std::size_t>(p));
  std::vector<std::vector<int>> at_position;  // per position: ranks
  for (int r = 0; r < p; ++r) {
    const int g = gpu[static_cast<std::size_t>(r)];
    auto [it, fresh] = domain_index.try_emplace(network.nvlink_domain_of(g), static_cast<int>(members.size()));
    if (fresh) members.emplace_back();
    members[static_cast<std::size_t>(it->second)].push_back(g);
    domain_of[static_cast<std::size_t>(r)] = it->second;
    const auto position = static_cast<std::size_t>(network.domain_position(g));
    if (at_position.size() <= position) at_position.resize(position + 1);
    at_position[position].push_back(r);
  }

  // Each domain's relay per destination position (-1: every member sends
  // straight; -2: no destination there), and the route searches they make.
  // Every member relays through the same GPU (pxn_relay depends on the
  // sender's domain and the receiver's position), the relay itself sending
  // straight: pxn_relay(relay, d) is -1.
  auto outside = [&](std::size_t D, int r) { return domain_of[static_cast<std::size_t>(r)] != static_cast<int>(D); };
  std::vector<std::vector<int>> relay_at(members.size());
  double searches = 0;
  for (std::size_t D = 0; D < members.size(); ++D) {
    const auto& m = members[D];
    searches += static_cast<double>(m.size()) * (static_cast<double>(m.size()) - 1);
    relay_at[D].assign(at_position.size(), -2);
    std::vector<char> own(at_position.size(), 0);  // positions this domain has a rank at
    for (int g : m) own[static_cast<std::size_t>(network.domain_position(g))] = 1;
    for (std::size_t j = 0; j < at_position.size(); ++j) {
      const auto& ranks = at_position[j];
      const auto first = std::find_if(ranks.begin(), ranks.end(), [&](int r) { return outside(D, r); });
      if (first == ranks.end()) continue;
      const int d0 = gpu[static_cast<std::size_t>(*first)];
      int relay = network.pxn_relay(m[0], d0);
      if (relay < 0 && m.size() > 1 && network.pxn_relay(m[1], d0) == m[0]) relay = m[0];
      relay_at[D][j] = relay;
      const double there = static_cast<double>(ranks.size()) - own[j];  // destinations outside the domain
      searches += relay >= 0 ? there + static_cast<double>(m.size()) : there * static_cast<double>(m.size());
    }
  }
  if (searches > max_route_searches) {
    return make_error(fmt::format(
        "an all-to-all over {} ranks in {} NVLink domains needs about {:.2g} route searches on the analytical "
        "backend (one per destination and sending domain with PXN, one per pair without), above the {:.2g} "
        "it runs (minutes); use fewer ranks (--ranks)",
        p, members.size(), searches, max_route_searches));
  }

  PairCoster cost(s);
  LinkLoads loads(network);
  std::vector<int> route, straight;
  auto direct = [&](int src, int dst) -> Status {
    network.route_into(src, dst, &straight);
    if (straight.empty()) {
      return make_error(fmt::format("no route from {} to {}", network.endpoints()[static_cast<std::size_t>(src)],
                                    network.endpoints()[static_cast<std::size_t>(dst)]));
    }
    loads.add(straight, cost.pair(route_facts(network, straight)));
    return Ok{};
  };

  Progress progress(show_progress && searches > kProgressAboveSearches, members.size());
  const bool debug = log::enabled(spdlog::level::debug);
  std::vector<std::vector<int>> to_relay;  // per member of a domain: its leg to the relay
  std::vector<RouteFacts> leg;
  std::vector<double> leg_bytes;
  std::vector<char> relayed;
  for (std::size_t D = 0; D < members.size(); ++D) {
    progress.at(D);
    const auto& m = members[D];
    for (int a : m)
      for (int b : m)
        if (a != b)
          if (auto ok = direct(a, b); !ok) return ok.error();
    for (std::size_t j = 0; j < at_position.size(); ++j) {
      if (relay_at[D][j] == -2) continue;
      const int relay = relay_at[D][j];
      to_relay.resize(m.size());
      leg.assign(m.size(), RouteFacts{});
      leg_bytes.assign(m.size(), 0.0);
      relayed.assign(m.size(), 0);
      for (std::size_t k = 0; k < m.size() && relay >= 0; ++k) {
        to_relay[k].clear();
        if (m[k] != relay) network.route_into(m[k], relay, &to_relay[k]);
        // A sender without a leg to the relay sends straight (Network::p2p_route).
        relayed[k] = m[k] == relay || !to_relay[k].empty();
        if (relayed[k]) leg[k] = route_facts(network, to_relay[k]);
      }
      for (int dst_rank : at_position[j]) {
        if (!outside(D, dst_rank)) continue;
        const int d = gpu[static_cast<std::size_t>(dst_rank)];
        if (relay >= 0) network.route_into(relay, d, &route);
        const bool onward = relay >= 0 && !route.empty();
        if (!onward) {
          for (int a : m)
            if (auto ok = direct(a, d); !ok) return ok.error();
          continue;
        }
        const RouteFacts last = route_facts(network, route);
        double sum = 0;
        for (std::size_t k = 0; k < m.size(); ++k) {
          if (!relayed[k]) continue;
          if (debug && m[k] != relay) {  // as Network::p2p_route logs it
            log::debug("pxn: {} -> {} relayed through {}", network.endpoints()[static_cast<std::size_t>(m[k])],
                       network.endpoints()[static_cast<std::size_t>(d)],
                       network.endpoints()[static_cast<std::size_t>(relay)]);
          }
          const double wire = cost.pair(join(leg[k], last));
          leg_bytes[k] += wire;
          sum += wire;
        }
        loads.add(route, sum);
        for (std::size_t k = 0; k < m.size(); ++k)
          if (!relayed[k])
            if (auto ok = direct(m[k], d); !ok) return ok.error();
      }
      for (std::size_t k = 0; k < m.size(); ++k)
        if (relayed[k]) loads.add(to_relay[k], leg_bytes[k]);
    }
  }
  progress.done();
  ScheduleResult r;
  const double makespan = cost.makespan_s(), bound = loads.bound_s();
  r.load_bound = bound > makespan;
  r.time_s = std::max(makespan, bound);
  r.bytes_sent = r.bytes_received = cost.bytes_sent();
  return r;
}

}  // namespace collsim::engine::detail
