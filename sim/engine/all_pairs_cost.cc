#include "sim/engine/all_pairs_cost.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <limits>
#include <span>
#include <unordered_map>

#include "sim/core/log.h"
#include "sim/engine/all_pairs_parts.h"
#include "sim/engine/plan.h"
#include "sim/topology/exit_routes.h"

namespace collsim::engine::detail {

namespace {

using all_pairs::LinkFacts;
using all_pairs::LinkLoads;
using all_pairs::PairCoster;
using all_pairs::RelayedSenders;

// Above this many, a terminal shows progress (a few seconds of work).
constexpr double kProgressAboveSearches = 5e6;

// "collsim: all-to-all: G of N sender groups costed, about T s left" on
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
    std::fprintf(stderr, "\r\033[Kcollsim: all-to-all: %zu of %zu sender groups costed, about %.0f s left", done,
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
  auto r = cost_all_pairs(network, std::vector<const collective::Schedule*>{&s}, rank_map, show_progress,
                          max_route_searches);
  if (!r) return r.error();
  return std::move(r->front());
}

Expected<std::vector<ScheduleResult>> cost_all_pairs(const topology::Network& network,
                                                     const std::vector<const collective::Schedule*>& same,
                                                     const std::vector<int>& rank_map, bool show_progress,
                                                     double max_route_searches) {
  const collective::Schedule& s = *same.front();
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
  // straight; -2: no destination there). Every member relays through the
  // same GPU (pxn_relay depends on the sender's domain and the receiver's
  // position), the relay itself sending straight: pxn_relay(relay, d) is -1.
  auto outside = [&](std::size_t D, int r) { return domain_of[static_cast<std::size_t>(r)] != static_cast<int>(D); };
  std::vector<std::vector<int>> relay_at(members.size());
  double searches = 0;  // route searches and walks, counted before any is made
  for (std::size_t D = 0; D < members.size(); ++D) {
    const auto& m = members[D];
    searches += static_cast<double>(m.size()) * (static_cast<double>(m.size()) - 1);
    relay_at[D].assign(at_position.size(), -2);
    for (std::size_t j = 0; j < at_position.size(); ++j) {
      const auto& ranks = at_position[j];
      const auto first = std::find_if(ranks.begin(), ranks.end(), [&](int r) { return outside(D, r); });
      if (first == ranks.end()) continue;
      const int d0 = gpu[static_cast<std::size_t>(*first)];
      int relay = network.pxn_relay(m[0], d0);
      if (relay < 0 && m.size() > 1 && network.pxn_relay(m[1], d0) == m[0]) relay = m[0];
      relay_at[D][j] = relay;
      if (relay >= 0) {  // each member's leg to the relay (the walks are counted per exit group below)
        searches += static_cast<double>(m.size());
      } else {  // each member to each destination there outside the domain
        const auto there = std::count_if(ranks.begin(), ranks.end(), [&](int r) { return outside(D, r); });
        searches += static_cast<double>(there) * static_cast<double>(m.size());
      }
    }
  }
  // With relays, one walk per destination and exit group of the relays at
  // its position (topology/exit_routes.h), or per relay where a relay has
  // no gateway.
  auto relays_at = [&](std::size_t j, std::vector<int>* relays, std::vector<std::size_t>* domains) {
    relays->clear();
    domains->clear();
    for (std::size_t D = 0; D < members.size(); ++D) {
      if (relay_at[D][j] < 0) continue;
      relays->push_back(relay_at[D][j]);
      domains->push_back(D);
    }
  };
  std::vector<int> relays;
  std::vector<std::size_t> relay_domains;
  std::size_t group_count = 0;
  for (std::size_t j = 0; j < at_position.size(); ++j) {
    relays_at(j, &relays, &relay_domains);
    if (relays.empty()) continue;
    std::size_t ungrouped = 0;
    const std::size_t groups = topology::ExitRoutes::count_groups(network, relays, &ungrouped);
    searches += static_cast<double>(groups + ungrouped) * static_cast<double>(at_position[j].size());
    group_count += groups;
  }
  if (searches > max_route_searches) {
    return make_error(fmt::format(
        "an all-to-all over {} ranks in {} NVLink domains needs about {:.2g} route searches on the analytical "
        "backend (one per destination and group of relays leaving through one switch with PXN, one per pair "
        "without), above the {:.2g} it runs (minutes); use fewer ranks (--ranks)",
        p, members.size(), searches, max_route_searches));
  }

  PairCoster cost(same);
  LinkLoads loads(network);
  const LinkFacts link_facts(network);
  std::vector<int> route, straight;
  topology::ExitRoutes::TailParts parts;
  std::vector<double> chain_bytes;      // per chain of the group being costed
  std::vector<RouteFacts> chain_facts;  // per chain of the group being costed
  std::vector<RouteFacts> tails;        // the group's tails, the longest of each kind, rate and step
  auto direct = [&](int src, int dst) -> Status {
    network.route_into(src, dst, &straight);
    if (straight.empty()) {
      return make_error(network.no_route_message(src, dst));
    }
    loads.add(straight, cost.pair(link_facts.of(straight)));
    return Ok{};
  };
  for (std::size_t D = 0; D < members.size(); ++D)
    for (int a : members[D])
      for (int b : members[D])
        if (a != b)
          if (auto ok = direct(a, b); !ok) return ok.error();

  Progress progress(show_progress && searches > kProgressAboveSearches, group_count);
  std::size_t groups_done = 0;
  const bool debug = log::enabled(spdlog::level::debug);
  for (std::size_t j = 0; j < at_position.size(); ++j) {
    // Domains whose members send straight to every destination here.
    for (std::size_t D = 0; D < members.size(); ++D) {
      if (relay_at[D][j] != -1) continue;
      for (int dst_rank : at_position[j])
        if (outside(D, dst_rank))
          for (int a : members[D])
            if (auto ok = direct(a, gpu[static_cast<std::size_t>(dst_rank)]); !ok) return ok.error();
    }
    relays_at(j, &relays, &relay_domains);
    if (relays.empty()) continue;
    const topology::ExitRoutes exits(network, relays);
    RelayedSenders senders(network, link_facts, exits, relays, relay_domains, members);
    // One relay's destinations route by route (the per-pair form).
    auto each_pair = [&](std::size_t i, int d) -> Status {
      const auto& m = members[relay_domains[i]];
      const int relay = relays[i];
      network.route_into(relay, d, &route);
      if (route.empty()) {
        for (int a : m)
          if (auto ok = direct(a, d); !ok) return ok;
        return Ok{};
      }
      const RouteFacts last = link_facts.of(route);
      double sum = 0;
      for (std::size_t k = 0; k < m.size(); ++k) {
        if (!senders.relayed(i, k)) {
          if (auto ok = direct(m[k], d); !ok) return ok;
          continue;
        }
        if (debug && m[k] != relay) {  // as Network::p2p_route logs it
          log::debug("pxn: {} -> {} relayed through {}", network.endpoints()[static_cast<std::size_t>(m[k])],
                     network.endpoints()[static_cast<std::size_t>(d)],
                     network.endpoints()[static_cast<std::size_t>(relay)]);
        }
        const double wire = cost.pair(join(senders.leg(i, k), last));
        senders.add_leg_bytes(i, k, wire);
        sum += wire;
      }
      loads.add(route, sum);
      return Ok{};
    };
    std::vector<int> member_of_domain(members.size(), -1);
    for (std::size_t i = 0; i < relays.size(); ++i) member_of_domain[relay_domains[i]] = static_cast<int>(i);
    for (std::size_t i = 0; i < relays.size(); ++i) {
      if (exits.group_of(static_cast<int>(i)) >= 0) continue;
      for (int dst_rank : at_position[j])
        if (outside(relay_domains[i], dst_rank))
          if (auto ok = each_pair(i, gpu[static_cast<std::size_t>(dst_rank)]); !ok) return ok.error();
    }
    // A tail's loads by part (ExitRoutes::TailParts): the links picked per
    // destination at once, each chain's once per group, each destination's
    // path into its host once per position.
    const auto& dsts = at_position[j];
    std::vector<double> into_bytes(dsts.size(), 0.0);
    std::vector<RouteFacts> into_facts(dsts.size());
    std::vector<std::span<const int>> into_links(dsts.size());
    std::vector<char> into_known(dsts.size(), 0);
    for (int g = 0; g < exits.num_groups(); ++g) {
      progress.at(groups_done++);
      chain_bytes.clear();
      chain_facts.clear();
      tails.clear();
      const double per_destination = senders.group_bytes(g, cost);  // nobody excluded
      double destinations = 0;
      for (std::size_t x = 0; x < dsts.size(); ++x) {
        const int dst_rank = dsts[x];
        const int d = gpu[static_cast<std::size_t>(dst_rank)];
        const int own = member_of_domain[static_cast<std::size_t>(domain_of[static_cast<std::size_t>(dst_rank)])];
        const int excluded = own >= 0 && exits.group_of(own) == g ? own : -1;
        if (debug || !exits.tail_parts(g, d, excluded, &parts)) {
          for (int i : exits.members(g))
            if (i != excluded)
              if (auto ok = each_pair(static_cast<std::size_t>(i), d); !ok) return ok.error();
          continue;
        }
        if (!into_known[x]) {
          into_known[x] = 1;
          into_links[x] = parts.into;
          into_facts[x] = link_facts.of(parts.into);
        }
        RouteFacts tail_facts = join(link_facts.of(parts.chosen), into_facts[x]);
        if (parts.chain >= 0) {
          const auto c = static_cast<std::size_t>(parts.chain);
          while (chain_facts.size() <= c) {
            chain_facts.push_back(link_facts.of(exits.chain_links(static_cast<int>(chain_facts.size()))));
            chain_bytes.push_back(0);
          }
          tail_facts = join(chain_facts[c], tail_facts);
        }
        double sum = per_destination;
        if (excluded >= 0) {
          sum = senders.send_group(g, excluded, tail_facts, cost);
        } else {  // timed below, with the longest of the tails alike but for latency
          ++destinations;
          auto alike = std::find_if(tails.begin(), tails.end(), [&](const RouteFacts& t) {
            return t.kind == tail_facts.kind && t.rate_Bps == tail_facts.rate_Bps && t.step_s == tail_facts.step_s;
          });
          if (alike == tails.end()) {
            tails.push_back(tail_facts);
          } else {
            alike->latency_s = std::max(alike->latency_s, tail_facts.latency_s);
          }
        }
        loads.add(parts.chosen, sum);
        if (parts.chain >= 0) chain_bytes[static_cast<std::size_t>(parts.chain)] += sum;
        into_bytes[x] += sum;
        for (auto [i, k] : senders.straight(g))
          if (static_cast<int>(i) != excluded)
            if (auto ok = direct(members[relay_domains[i]][k], d); !ok) return ok.error();
      }
      for (std::size_t c = 0; c < chain_bytes.size(); ++c)
        if (chain_bytes[c] > 0) loads.add(exits.chain_links(static_cast<int>(c)), chain_bytes[c]);
      senders.send_group_bytes(g, destinations, cost);
      for (const RouteFacts& t : tails) senders.time_group(g, t, cost);
    }
    for (std::size_t x = 0; x < dsts.size(); ++x)
      if (into_bytes[x] > 0) loads.add(into_links[x], into_bytes[x]);
    senders.add_legs_and_prefixes(&loads);
  }
  progress.done();
  std::vector<ScheduleResult> results(same.size());
  const double payload_bound = loads.bound_s();
  for (std::size_t k = 0; k < same.size(); ++k) {
    ScheduleResult& r = results[k];
    // The launch and the proxy's operations come before any byte moves, so
    // they precede the busiest link's bytes too.
    const double makespan = cost.makespan_s(k), bound = cost.launch_s(k) + cost.wire_bytes(k, payload_bound);
    r.load_bound = bound > makespan;
    r.time_s = std::max(makespan, bound);
    r.bytes_sent = r.bytes_received = cost.wire_bytes(k, cost.payload_sent());
  }
  return results;
}

}  // namespace collsim::engine::detail
