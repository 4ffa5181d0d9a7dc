// What a plan's transfers need of their routes: route facts and timing,
// the rank map, the rate along a route, a ring step's link users and the
// channels' shares (plan.h).
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "sim/collective/protocol.h"
#include "sim/engine/plan.h"

namespace collsim::engine::detail {

bool count_step_link_users(const Plan& plan, const std::vector<PlannedPass>& phase, std::vector<int>& users,
                           std::vector<int>& touched) {
  bool shared = false;
  for (const auto& pass : phase) {
    if (pass.steps == 0) continue;
    for (int route : pass.route) {
      for (int l : plan.routes[static_cast<std::size_t>(route)].links) {
        int& u = users[static_cast<std::size_t>(l)];
        if (u == 0) touched.push_back(l);
        u += pass.slices;
        shared |= u > 1;
      }
    }
  }
  return shared;
}

void add_explicit_channel_shares(const topology::Network& network, const collective::Schedule& s,
                                 const std::function<int(int)>& endpoint, double nvlink_busy,
                                 std::unordered_map<std::uint64_t, double>& share_of_connection) {
  const auto hosts = static_cast<std::uint64_t>(network.num_endpoints());
  // (connection key, channel) of every channel transfer, sorted: each
  // connection's channels side by side (a 9,216-GPU tree has 2.7 M).
  std::vector<std::pair<std::uint64_t, int>> uses;
  uses.reserve(s.transfers.size());
  for (const auto& t : s.transfers) {
    if (t.channel < 0) continue;
    const int a = endpoint(t.src), b = endpoint(t.dst);
    if (a < 0 || b < 0 || a == b || a >= network.num_endpoints() || b >= network.num_endpoints()) continue;
    uses.emplace_back(static_cast<std::uint64_t>(a) * hosts + static_cast<std::uint64_t>(b), t.channel);
  }
  std::sort(uses.begin(), uses.end());
  uses.erase(std::unique(uses.begin(), uses.end()), uses.end());
  std::vector<double> users(network.links().size(), 0.0);  // link -> channel connections busy at once
  struct Used {
    std::uint64_t key;
    const std::vector<int>* route;
    double weight;
  };
  std::vector<Used> routes;  // connections that carry a channel
  for (const auto& [key, channel] : uses) {
    if (routes.empty() || routes.back().key != key) {
      const int a = static_cast<int>(key / hosts), b = static_cast<int>(key % hosts);
      const auto& route = network.route(a, b);
      const bool inside = nvlink_busy < 1 && network.same_nvlink_domain(a, b);
      routes.push_back({key, &route, inside ? nvlink_busy : 1.0});
    }
    for (int l : *routes.back().route) users[static_cast<std::size_t>(l)] += routes.back().weight;
  }
  for (const auto& [key, route, weight] : routes) {
    double share = 0;
    for (int l : *route) {
      const double r = network.links()[static_cast<std::size_t>(l)].rate_Bps / users[static_cast<std::size_t>(l)];
      share = share > 0 ? std::min(share, r) : r;
    }
    auto [it, fresh] = share_of_connection.try_emplace(key, share);
    if (!fresh) it->second = std::min(it->second > 0 ? it->second : share, share);
  }
}

void apply_channel_shares(const Plan& plan, std::vector<std::vector<PlannedPass>>& phases) {
  std::vector<int> users(plan.num_links(), 0), touched;
  for (auto& phase : phases) {
    for (int l : touched) users[static_cast<std::size_t>(l)] = 0;
    touched.clear();
    count_step_link_users(plan, phase, users, touched);
    for (auto& pass : phase) {
      if (pass.steps == 0) continue;
      for (std::size_t i = 0; i < pass.route.size(); ++i) {
        double share = 0;
        for (int l : plan.routes[static_cast<std::size_t>(pass.route[i])].links) {
          const double s =
              plan.link(static_cast<std::size_t>(l)).rate_Bps / std::max(1, users[static_cast<std::size_t>(l)]);
          share = share > 0 ? std::min(share, s) : s;
        }
        pass.max_rate_Bps[i] = pass.max_rate_Bps[i] > 0 && share > 0 ? std::min(pass.max_rate_Bps[i], share)
                                                                     : std::max(pass.max_rate_Bps[i], share);
      }
    }
  }
}

double Plan::route_rate_Bps(std::size_t r) const {
  double rate = std::numeric_limits<double>::infinity();
  for (int l : routes[r].links) rate = std::min(rate, link(static_cast<std::size_t>(l)).rate_Bps);
  return rate;
}

double window_rate_Bps(double window_bytes, double route_latency_s, double step_latency_s) {
  const double rtt = 2 * route_latency_s + step_latency_s;
  return window_bytes > 0 && rtt > 0 ? window_bytes / rtt : 0;
}

RouteFacts route_facts(const topology::Network& network, const std::vector<int>& route) {
  RouteFacts f;
  for (int l : route) {
    const auto& link = network.links()[static_cast<std::size_t>(l)];
    f.latency_s += link.latency_s;
    f.rate_Bps = std::min(f.rate_Bps, link.rate_Bps);
    f.step_s = std::max(f.step_s, link.step_latency_s);
    f.ring_step_s = std::max(f.ring_step_s, link.ring_step_latency_s);
  }
  f.kind = hop_kind(network, route);
  return f;
}

RouteFacts join(const RouteFacts& a, const RouteFacts& b) {
  // hop_kind's order (network over PCIe over NVLink) is the enum's.
  return RouteFacts{std::max(a.kind, b.kind), a.latency_s + b.latency_s, std::min(a.rate_Bps, b.rate_Bps),
                    std::max(a.step_s, b.step_s), std::max(a.ring_step_s, b.ring_step_s)};
}

double simple_ring_slot_rate_Bps(double step_bytes, double channels, double window_bytes, double data_latency_s,
                                 double credit_latency_s, double rate_Bps, double msg_cost_s,
                                 double ar_threshold_bytes) {
  if (!(step_bytes > 0) || !(channels > 0) || !(window_bytes > 0) || !(rate_Bps > 0)) return 0;
  // A chunk's bytes, and its first (larger) slice: half of them, at least
  // window / 128 (a slice's floor, prims_simple.h), at most all of them.
  const double chunk = std::min(window_bytes / 2, step_bytes);
  const double slice = std::min(chunk, std::max(chunk / 2, window_bytes / 128));
  // A transfer standing for less than one channel moves at most the route.
  const double channel_Bps = rate_Bps / std::max(1.0, channels);
  // Each slice is a message (the second may be empty), paying the cost
  // above the threshold.
  const double cost = std::max(0.0, msg_cost_s);
  const double cycle = data_latency_s + credit_latency_s + 2 * slice / channel_Bps +
                       (slice > ar_threshold_bytes ? cost : 0) + (chunk - slice > ar_threshold_bytes ? cost : 0);
  // 4 slices in flight, 2 chunks: a chunk of one slice still takes its
  // second slice's slots (prims_simple.h genericOp posts the empty slices).
  return channels * 2 * chunk / cycle;
}

double chain_message_latency_s(const collective::Schedule& s, collective::Protocol protocol,
                               const collective::ProtocolCosts& costs, double payload_bytes, double msg_cost_s) {
  if (!(s.chain_channels > 0) || !(msg_cost_s > 0) || !(s.ring_channel_step_bytes > 0) || !(s.bytes > 0)) return 0;
  // The messages of one NCCL channel, and the share of one this transfer
  // carries for each of the NCCL channels it stands for.
  const double messages = collective::ring_step_messages(protocol, s.ring_channel_step_bytes / costs.payload_fraction,
                                                         costs.window_bytes, s.ring_slots_per_message);
  // Messages no larger than NCCL_IB_AR_THRESHOLD pay nothing (protocol.h).
  if (s.ring_channel_step_bytes / costs.payload_fraction / messages <= s.ring_channel_ar_threshold_bytes) return 0;
  const double share = payload_bytes * s.chain_channels * messages / s.bytes;
  return msg_cost_s * std::max(0.0, 1 - share);
}

bool chain_waits_for_steps(const collective::Schedule& s, collective::Protocol protocol) {
  return s.chain_channels > 0 && s.ring_channel_step_bytes > 0 && collective::streams_lines(protocol);
}

double chain_hop_latency_s(const collective::Schedule& s, collective::Protocol protocol,
                           const collective::ProtocolCosts& costs, double latency_s, double payload_bytes,
                           double rate_Bps, bool through_net, const RingSlots& slots) {
  if (through_net) latency_s += chain_message_latency_s(s, protocol, costs, payload_bytes, slots.msg_cost_s);
  // A chain's copies are its units (chain.h): pipelined, or one slice a channel.
  const bool units = s.repeated() || s.chunks <= s.chain_channels;
  if (!(s.chain_channels > 0) || !collective::streams_lines(protocol) || !units || !(rate_Bps > 0) ||
      !(costs.payload_fraction > 0))
    return latency_s;
  // Inside a node a hop's latency is NCCL's per-hop time of the protocol,
  // which a warp's pass of its unit is part of: the larger of the two.
  if (!through_net) return std::max(latency_s - payload_bytes / costs.payload_fraction / rate_Bps, 0.0);
  if (!chain_waits_for_steps(s, protocol)) return latency_s;
  // Across the network the proxy sends a step once the GPU has written all
  // of it: min(the protocol's step, the channel's bytes) per NCCL channel,
  // at the hop's rate before its message cost, which is paid above.
  const double step = costs.window_bytes / collective::kNcclSteps * costs.payload_fraction;
  const double whole = std::min(step, s.ring_channel_step_bytes) * std::max(1.0, s.chain_nccl_channels);
  const double open_Bps = slots.msg_rate_factor > 0 ? rate_Bps / slots.msg_rate_factor : rate_Bps;
  return latency_s + std::max(0.0, whole - payload_bytes) / costs.payload_fraction / open_Bps;
}

TransferTiming transfer_timing(const RouteFacts& route, const collective::ProtocolCosts& costs,
                               collective::Protocol protocol, double net_cap_Bps, const RingSlots* slots,
                               double channel_wire_bytes, double message_wire_bytes) {
  const bool net = route.kind == collective::HopKind::kNet;
  // The fabric's own step latency (a link class's step_latency: EFA), once
  // per network step of an NCCL protocol: the largest along the route
  // (Protocol::kNone is the bare network).
  // A ring step under LL/LL128 adds its fabric's ring step latency
  // (config::LinkClassSpec::ring_step_latency_s).
  const double fabric_step_s =
      net && protocol != collective::Protocol::kNone ? route.step_s + (costs.ring_step ? route.ring_step_s : 0) : 0;
  const double latency = route.latency_s + costs.step_latency_s + fabric_step_s;
  double max_rate = 0;
  bool slot_cycle = false;
  // What the route and the NCCL channels allow (wire bytes), which the
  // buffer may cut.
  const double open_rate =
      net_cap_Bps > 0 ? std::min(route.rate_Bps, net_cap_Bps / costs.payload_fraction) : route.rate_Bps;
  if (net && slots && protocol == collective::Protocol::kSimple) {
    slot_cycle = true;
    // The slices move at the channels' rate before their message cost,
    // which the cycle pays per slice.
    const double slice_rate =
        net_cap_Bps > 0 && slots->msg_rate_factor > 0
            ? std::min(route.rate_Bps, net_cap_Bps / slots->msg_rate_factor / costs.payload_fraction)
            : open_rate;
    max_rate = simple_ring_slot_rate_Bps(slots->step_bytes, slots->channels, costs.window_bytes, latency,
                                         route.latency_s + route.step_s, slice_rate, slots->msg_cost_s,
                                         slots->ar_threshold_bytes);
  } else if (net) {
    // Each NCCL channel a ring transfer stands for keeps its own window.
    const double window = costs.window_bytes * (slots && slots->channels > 0 ? slots->channels : 1);
    max_rate = window_rate_Bps(window, route.latency_s, costs.step_latency_s + fabric_step_s);
    // A whole message (point-to-point) sends its first window without
    // waiting for a credit and the rest a window a round trip: none of it
    // waits when it fits, and the cap tends to window / round trip.
    if (message_wire_bytes > 0 && max_rate > 0 && open_rate > 0) {
      max_rate = message_wire_bytes <= window
                     ? 0
                     : message_wire_bytes / ((message_wire_bytes - window) / max_rate + window / open_rate);
    }
  }
  // Simple's ring slots are recycled step after step; a window binds only
  // a transfer needing more than one of it in flight per NCCL channel (an
  // 8-byte message never waits for a credit).
  const bool buffer_bound =
      max_rate > 0 && max_rate < open_rate && (slot_cycle || channel_wire_bytes > costs.window_bytes);
  // The NCCL channels a transfer stands for, through the network, in wire
  // bytes.
  if (net && protocol != collective::Protocol::kNone && net_cap_Bps > 0) {
    const double channels = net_cap_Bps / costs.payload_fraction;
    max_rate = max_rate > 0 ? std::min(max_rate, channels) : channels;
  }
  return TransferTiming{latency, max_rate, buffer_bound};
}

const std::vector<int>& rank_map_of(const RunOptions& options, std::size_t si) {
  return options.rank_to_endpoint_per_schedule.empty() ? options.rank_to_endpoint
                                                       : options.rank_to_endpoint_per_schedule[si];
}

}  // namespace collsim::engine::detail
