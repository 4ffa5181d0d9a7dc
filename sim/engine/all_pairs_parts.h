// The parts of the analytical all-to-all's costing (all_pairs_cost.h):
// each pair's time, the bytes per link, each link's facts, and the senders
// behind one destination position's relays. Internal to all_pairs_cost.cc.
#pragma once

#include <algorithm>
#include <array>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "sim/collective/schedule.h"
#include "sim/engine/backend.h"
#include "sim/engine/plan.h"
#include "sim/topology/exit_routes.h"
#include "sim/topology/network.h"

namespace collsim::engine::detail::all_pairs {

using collective::HopKind;

// Each pair's time, as make_plan resolves a transfer (transfer_timing) and
// the analytical backend runs it: its latency, then its wire bytes at the
// route's rate under the window cap; for several protocols at once (the
// same routes and bytes; a protocol's wire bytes are the payload over its
// payload fraction, whatever the hop). Bytes are counted as payload: a
// protocol's wire bytes, link loads included, are payload / its fraction.
class PairCoster {
 public:
  // REQUIRES: every schedule of `same` has the ranks, bytes and latency
  // family of the first.
  explicit PairCoster(const std::vector<const collective::Schedule*>& same)
      : block_bytes_(same.front()->bytes / same.front()->ranks), ranks_(same.front()->ranks) {
    for (const collective::Schedule* s : same) {
      auto& p = protocols_.emplace_back();
      p.protocol = s->protocol;
      // The schedule's proxy operations (collective/direct.h), with the
      // launch under a protocol, as plan.cc pays them.
      p.overhead_s = s->protocol == collective::Protocol::kNone ? 0 : s->chunk_overhead_s;
      // And its channels' rate through the network (Schedule::p2p_net_cap_Bps;
      // transfer_timing applies it).
      p.net_cap_Bps = s->p2p_net_cap_Bps;
      for (HopKind k : {HopKind::kNvlink, HopKind::kPcie, HopKind::kNet}) {
        p.costs[static_cast<std::size_t>(k)] = collective::protocol_costs(s->latency_family, s->protocol, k);
        // Its parts' chunks in flight (Schedule::p2p_window_bytes), as plan.cc.
        if (s->protocol == collective::Protocol::kSimple && s->p2p_window_bytes > 0)
          p.costs[static_cast<std::size_t>(k)].window_bytes = s->p2p_window_bytes;
      }
    }
  }
  // Costs `count` pairs over routes with the facts `route` (0: times one,
  // its bytes counted apart with count()); returns one pair's payload bytes.
  double pair(const RouteFacts& route, double count = 1) {
    for (auto& p : protocols_) {
      const auto& c = p.costs[static_cast<std::size_t>(route.kind)];
      const double wire = block_bytes_ / c.payload_fraction;
      const TransferTiming timing = transfer_timing(route, c, p.protocol, p.net_cap_Bps, nullptr, wire, wire);
      p.slowest_s = std::max(p.slowest_s, timing.latency_s + wire / capped_rate(route.rate_Bps, timing.max_rate_Bps));
      p.launch_s = std::max(p.launch_s, p.overhead_s + c.launch_latency_s + c.launch_latency_per_rank_s * ranks_);
    }
    sent_ += count * block_bytes_;
    return block_bytes_;
  }
  // Counts `pairs` pairs' bytes (their times costed with pair(route, 0)).
  void count(double pairs) { sent_ += pairs * block_bytes_; }
  // One pair's payload bytes.
  double payload_bytes() const { return block_bytes_; }
  std::size_t protocols() const { return protocols_.size(); }
  double makespan_s(std::size_t p) const { return protocols_[p].launch_s + protocols_[p].slowest_s; }
  // Protocol p's launch: its launch latency and proxy operations
  // (collective/direct.h), paid before any transfer.
  double launch_s(std::size_t p) const { return protocols_[p].launch_s; }
  // Protocol p's wire bytes for `payload` bytes.
  double wire_bytes(std::size_t p, double payload) const {
    return payload / protocols_[p].costs[static_cast<std::size_t>(HopKind::kNet)].payload_fraction;
  }
  double payload_sent() const { return sent_; }

 private:
  struct Protocol {
    collective::Protocol protocol{};
    std::array<collective::ProtocolCosts, 3> costs;
    double slowest_s = 0, launch_s = 0, overhead_s = 0, net_cap_Bps = 0;
  };
  std::vector<Protocol> protocols_;
  double block_bytes_;
  int ranks_;
  double sent_ = 0;
};

// Bytes per link, and the busiest link's bytes / rate.
class LinkLoads {
 public:
  explicit LinkLoads(const topology::Network& network) : network_(network), bytes_(network.links().size(), 0.0) {}
  void add(std::span<const int> route, double bytes) {
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

// Each link's facts as route_facts() reads them, in compact arrays (the
// hop kind's class test compares strings): a route's facts are then the
// same up to the order its latencies are added in (a few ulps). All but
// ring_step_s, which point-to-point pairs never pay (ProtocolCosts::ring_step).
class LinkFacts {
 public:
  explicit LinkFacts(const topology::Network& network) {
    const auto& links = network.links();
    latency_.reserve(links.size());
    std::vector<int> one(1);
    for (std::size_t l = 0; l < links.size(); ++l) {
      one[0] = static_cast<int>(l);
      latency_.push_back(links[l].latency_s);
      rate_.push_back(links[l].rate_Bps);
      step_.push_back(links[l].step_latency_s);
      kind_.push_back(hop_kind(network, one));  // a route's kind is its links' largest
    }
  }
  RouteFacts of(std::span<const int> route) const {
    RouteFacts f;
    for (int l : route) {
      const auto k = static_cast<std::size_t>(l);
      f.latency_s += latency_[k];
      f.rate_Bps = std::min(f.rate_Bps, rate_[k]);
      f.step_s = std::max(f.step_s, step_[k]);
      f.kind = std::max(f.kind, kind_[k]);
    }
    return f;
  }

 private:
  std::vector<double> latency_, rate_, step_;
  std::vector<collective::HopKind> kind_;
};

// The senders behind one destination position's relays (one relay per
// sending domain): each sender's leg to its relay and the bytes it carries,
// and per exit group the distinct starts of its senders' routes (heads: the
// leg's facts and the relay's prefix's), each with its number of senders.
// Prefixes that differ only in latency (cables of different lengths) share
// a head that keeps the two longest: a pair's time grows with its route's
// latency, so the longest gives the slowest pair, or the second longest
// when the longest's relay has no pair with the destination (its own
// domain's GPU).
class RelayedSenders {
 public:
  RelayedSenders(const topology::Network& network, const LinkFacts& facts, const topology::ExitRoutes& exits,
                 const std::vector<int>& relays, const std::vector<std::size_t>& domains,
                 const std::vector<std::vector<int>>& members)
      : facts_(facts),
        exits_(exits),
        straight_(static_cast<std::size_t>(exits.num_groups())),
        group_heads_(static_cast<std::size_t>(exits.num_groups())) {
    std::vector<int> route;
    for (std::size_t i = 0; i < relays.size(); ++i) {
      const auto& m = members[domains[i]];
      base_.push_back(leg_at_.size());
      const int g = exits.group_of(static_cast<int>(i));
      RouteFacts pf;
      if (g >= 0) pf = facts.of(exits.prefix(static_cast<int>(i)));
      for (std::size_t k = 0; k < m.size(); ++k) {
        leg_at_.push_back(leg_links_.size());
        route.clear();
        if (m[k] != relays[i]) network.route_into(m[k], relays[i], &route);
        leg_links_.insert(leg_links_.end(), route.begin(), route.end());
        // A sender without a leg to the relay sends straight (Network::p2p_route).
        const bool relayed = m[k] == relays[i] || !route.empty();
        relayed_.push_back(relayed ? 1 : 0);
        leg_.push_back(relayed ? facts.of(route) : RouteFacts{});
        leg_bytes_.push_back(0);
        excl_.push_back(0);
        head_.push_back(-1);
        if (g < 0) continue;
        if (!relayed) {
          straight_[static_cast<std::size_t>(g)].emplace_back(i, k);
          continue;
        }
        head_.back() = head_of(g, pf, leg_.back(), static_cast<int>(i));
      }
    }
    base_.push_back(leg_at_.size());
    leg_at_.push_back(leg_links_.size());
  }
  bool relayed(std::size_t i, std::size_t k) const { return relayed_[base_[i] + k] != 0; }
  const RouteFacts& leg(std::size_t i, std::size_t k) const { return leg_[base_[i] + k]; }
  void add_leg_bytes(std::size_t i, std::size_t k, double bytes) { leg_bytes_[base_[i] + k] += bytes; }
  // Group g's senders that do not relay: (relay index, member index).
  const std::vector<std::pair<std::size_t, std::size_t>>& straight(int g) const {
    return straight_[static_cast<std::size_t>(g)];
  }

  // Costs every relayed sender of group g (but those of relay `excluded`,
  // -1 for none) to one destination over its head then a tail with the
  // facts `tail_facts`; returns the payload bytes the tail carries.
  double send_group(int g, int excluded, const RouteFacts& tail_facts, PairCoster& cost) {
    const double payload = cost.payload_bytes();  // the same for every pair
    double sum = 0;
    for (int h_index : group_heads_[static_cast<std::size_t>(g)]) {
      const auto h = static_cast<std::size_t>(h_index);
      RouteFacts prefix = head_prefix_[h];
      prefix.latency_s = excluded == longest_[h] ? second_s_[h] : prefix.latency_s;
      double n = head_count_[h];
      if (excluded >= 0) {
        const auto e = static_cast<std::size_t>(excluded);
        for (std::size_t ik = base_[e]; ik < base_[e + 1]; ++ik) n -= head_[ik] == h_index ? 1 : 0;
      }
      if (n > 0) cost.pair(join(head_leg_[h], join(prefix, tail_facts)), n);
      head_total_[h] += payload;
      sum += n * payload;
    }
    if (excluded >= 0) {
      const auto e = static_cast<std::size_t>(excluded);
      for (std::size_t ik = base_[e]; ik < base_[e + 1]; ++ik)
        if (head_[ik] >= 0) excl_[ik] += payload;
    }
    return sum;
  }

  // send_group with nobody excluded, for `destinations` destinations at
  // once, in three parts: the payload bytes the tail to each carries ...
  double group_bytes(int g, const PairCoster& cost) const { return senders(g) * cost.payload_bytes(); }
  // ... their bytes counted ...
  void send_group_bytes(int g, double destinations, PairCoster& cost) {
    for (int h : group_heads_[static_cast<std::size_t>(g)])
      head_total_[static_cast<std::size_t>(h)] += destinations * cost.payload_bytes();
    cost.count(destinations * senders(g));
  }
  // ... and the time to one destination over a tail with the facts
  // `tail_facts`: a pair's time grows with its route's latency, so one
  // call with the longest of tails that differ only in latency costs them
  // all.
  void time_group(int g, const RouteFacts& tail_facts, PairCoster& cost) const {
    for (int h_index : group_heads_[static_cast<std::size_t>(g)]) {
      const auto h = static_cast<std::size_t>(h_index);
      cost.pair(join(head_leg_[h], join(head_prefix_[h], tail_facts)), 0);
    }
  }

  // Loads each sender's leg and each relay's prefix with what they carried.
  void add_legs_and_prefixes(LinkLoads* loads) const {
    for (std::size_t i = 0; i + 1 < base_.size(); ++i) {
      double through_prefix = 0;
      for (std::size_t ik = base_[i]; ik < base_[i + 1]; ++ik) {
        if (!relayed_[ik]) continue;
        const double grouped = head_[ik] >= 0 ? head_total_[static_cast<std::size_t>(head_[ik])] - excl_[ik] : 0.0;
        loads->add(std::span<const int>(leg_links_.data() + leg_at_[ik], leg_at_[ik + 1] - leg_at_[ik]),
                   leg_bytes_[ik] + grouped);
        through_prefix += grouped;
      }
      if (exits_.group_of(static_cast<int>(i)) >= 0 && through_prefix > 0)
        loads->add(exits_.prefix(static_cast<int>(i)), through_prefix);
    }
  }

 private:
  // Group g's relayed senders.
  double senders(int g) const {
    double n = 0;
    for (int h : group_heads_[static_cast<std::size_t>(g)]) n += head_count_[static_cast<std::size_t>(h)];
    return n;
  }
  static bool same_but_latency(const RouteFacts& a, const RouteFacts& b) {
    return a.kind == b.kind && a.rate_Bps == b.rate_Bps && a.step_s == b.step_s;
  }
  static bool same(const RouteFacts& a, const RouteFacts& b) {
    return same_but_latency(a, b) && a.latency_s == b.latency_s;
  }
  // The head of relay i's sender with `leg`, its prefix `prefix`.
  int head_of(int g, const RouteFacts& prefix, const RouteFacts& leg, int i) {
    auto& heads = group_heads_[static_cast<std::size_t>(g)];
    int h = -1;
    for (int x : heads)
      if (same_but_latency(head_prefix_[static_cast<std::size_t>(x)], prefix) &&
          same(head_leg_[static_cast<std::size_t>(x)], leg))
        h = x;
    if (h < 0) {
      h = static_cast<int>(head_prefix_.size());
      heads.push_back(h);
      head_prefix_.push_back(prefix);
      head_leg_.push_back(leg);
      head_count_.push_back(0);
      head_total_.push_back(0);
      longest_.push_back(i);
      second_s_.push_back(-std::numeric_limits<double>::infinity());
    }
    const auto k = static_cast<std::size_t>(h);
    head_count_[k] += 1;
    double& longest_s = head_prefix_[k].latency_s;
    if (i == longest_[k]) return h;  // the same relay, the same prefix
    if (prefix.latency_s > longest_s) {
      second_s_[k] = longest_s;
      longest_s = prefix.latency_s;
      longest_[k] = i;
    } else {
      second_s_[k] = std::max(second_s_[k], prefix.latency_s);
    }
    return h;
  }

  const LinkFacts& facts_;
  const topology::ExitRoutes& exits_;
  std::vector<std::size_t> base_;    // per relay: its members' first index below; one more closes the last
  std::vector<std::size_t> leg_at_;  // per sender: its leg's first link in leg_links_; one more closes the last
  std::vector<int> leg_links_;
  std::vector<char> relayed_;
  std::vector<RouteFacts> leg_;
  std::vector<double> leg_bytes_;  // bytes routed pair by pair
  std::vector<double> excl_;       // grouped bytes a sender did not send (its own domain's destination)
  std::vector<int> head_;          // -1: not relayed, or the relay has no exit group
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> straight_;
  std::vector<std::vector<int>> group_heads_;
  std::vector<RouteFacts> head_prefix_, head_leg_;  // the prefix with the longest latency
  std::vector<int> longest_;                        // per head: the relay whose prefix that is
  std::vector<double> second_s_;                    // per head: the longest of the other relays' prefixes
  std::vector<double> head_count_, head_total_;     // senders; bytes one sender sent grouped
};

}  // namespace collsim::engine::detail::all_pairs
