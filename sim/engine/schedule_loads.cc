#include "sim/engine/schedule_loads.h"

#include <cstdint>
#include <unordered_map>

#include "sim/collective/protocol.h"
#include "sim/engine/backend.h"

namespace collsim::engine {

int rank_endpoint(const topology::Network& network, const collective::Schedule& s, const std::vector<int>& rank_map,
                  int rank) {
  if (rank >= s.ranks) {  // helper: an NVSwitch, or a switch of the fabric's
    const auto k = static_cast<std::size_t>(rank - s.ranks);
    if (!s.helper_endpoint.empty()) return k < s.helper_endpoint.size() ? s.helper_endpoint[k] : -1;
    const int gpu_of_rank0 = rank_map.empty() ? 0 : rank_map.front();
    if (k >= s.helper_near_rank.size()) return network.nvswitch_endpoint_near(gpu_of_rank0);
    const int near = s.helper_near_rank[k];
    return network.nvswitch_endpoint_near(rank_map.empty() ? near : rank_map[static_cast<std::size_t>(near)]);
  }
  if (rank_map.empty()) return rank;
  return rank >= 0 && rank < static_cast<int>(rank_map.size()) ? rank_map[static_cast<std::size_t>(rank)] : -1;
}

void for_each_link_bytes(const topology::Network& network, const collective::Schedule& s, collective::Protocol protocol,
                         const std::function<int(int)>& endpoint, const std::function<void(int, double)>& f) {
  // Payload per connection first (a tree's slices repeat one connection
  // many times), keyed by sender and receiver endpoints.
  struct Connection {
    int src = 0, via = 0, dst = 0;
    double payload = 0;
  };
  std::vector<Connection> connections;
  std::unordered_map<std::uint64_t, std::size_t> index;
  collective::for_each_connection_bytes(s, [&](int src_rank, int dst_rank, double payload) {
    const int a = endpoint(src_rank), b = endpoint(dst_rank);
    if (a < 0 || b < 0 || a == b || a >= network.num_endpoints() || b >= network.num_endpoints()) return;
    const auto at = static_cast<std::size_t>(src_rank);
    const int via = at < s.exit_relay.size() ? network.exit_via(a, endpoint(s.exit_relay[at]), b) : -1;
    // One key per sender and receiver: each GPU endpoint is one rank's
    // (placement refuses a GPU twice), and a sender's exit depends on its
    // rank and the receiver alone (helpers, which may share a switch, have
    // no exit).
    const std::uint64_t key = (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b);
    auto [it, fresh] = index.try_emplace(key, connections.size());
    if (fresh) connections.push_back({a, via, b, 0.0});
    connections[it->second].payload += payload;
  });
  // Links in the order the connections first reach them (deterministic:
  // the step's straggler jitter draws per link in this order).
  std::vector<int> links;
  std::vector<double> bytes;
  std::unordered_map<int, std::size_t> slot;
  for (const auto& c : connections) {
    const auto& route = connection_route(network, s, c.src, c.via, c.dst);
    if (route.empty()) continue;
    const auto costs = collective::protocol_costs(s.latency_family, protocol, hop_kind(network, route));
    for (int l : route) {
      auto [it, fresh] = slot.try_emplace(l, links.size());
      if (fresh) {
        links.push_back(l);
        bytes.push_back(0.0);
      }
      bytes[it->second] += c.payload / costs.payload_fraction;
    }
  }
  for (std::size_t k = 0; k < links.size(); ++k)
    if (bytes[k] > 0) f(links[k], bytes[k]);
}

double connection_visits(const collective::Schedule& s) {
  double n = static_cast<double>(s.transfers.size());
  if (s.all_pairs) n += static_cast<double>(s.ranks) * (s.ranks - 1);
  for (const auto& phase : s.ring_phases)
    for (const auto& pass : phase) n += static_cast<double>(pass.order.size());
  return n;
}

}  // namespace collsim::engine
