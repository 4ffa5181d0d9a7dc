#include "sim/topology/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>

namespace collsim::topology {

namespace {

// What a switch looks like from its neighbours; twins have equal signatures.
struct Signature {
  config::DeviceKind kind;
  // (neighbour, efficiency, class) of every incident edge, sorted. Latency is
  // not part of it: cables to twin switches may differ in length.
  std::vector<std::tuple<Vertex, double, std::string>> ports;
  bool operator<(const Signature& o) const { return std::tie(kind, ports) < std::tie(o.kind, o.ports); }
};

Signature signature_of(const Graph& g, Vertex v) {
  Signature s{g[v].kind, {}};
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Link& l = g[*e];
    s.ports.emplace_back(boost::target(*e, g), l.efficiency, l.link_class);
  }
  std::sort(s.ports.begin(), s.ports.end());
  s.ports.erase(std::unique(s.ports.begin(), s.ports.end()), s.ports.end());
  return s;
}

// Total rate from `v` to `neighbour` (parallel edges add up) and back.
std::pair<double, double> rates_between(const Graph& g, Vertex v, Vertex neighbour) {
  double out = 0, in = 0;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
    if (boost::target(*e, g) == neighbour) out += g[*e].rate_Bps;
  for (auto [e, end] = boost::in_edges(v, g); e != end; ++e)
    if (boost::source(*e, g) == neighbour) in += g[*e].rate_Bps;
  return {out, in};
}

// Twins may merge only if each takes the same share of every neighbour's bandwidth.
bool shares_are_proportional(const Graph& g, const std::vector<Vertex>& twins) {
  const Signature s = signature_of(g, twins.front());
  std::vector<double> first_share;
  for (std::size_t p = 0; p < s.ports.size(); ++p) {
    const Vertex nb = std::get<0>(s.ports[p]);
    double total = 0;
    std::vector<double> each;
    for (Vertex t : twins) {
      auto [out, in] = rates_between(g, t, nb);
      if (std::fabs(out - in) > 1e-9 * std::max(out, in)) return false;  // asymmetric bundle
      each.push_back(out);
      total += out;
    }
    for (double& x : each) x /= total;
    if (p == 0) {
      first_share = each;
    } else {
      for (std::size_t i = 0; i < each.size(); ++i)
        if (std::fabs(each[i] - first_share[i]) > 1e-9) return false;
    }
  }
  return true;
}

// A NIC on a PCIe switch that joins several GPUs and NICs belongs to one
// GPU (NIC affinity): merging it with its twin would let one GPU use both.
bool has_nic_affinity(const Graph& g, Vertex v) {
  if (g[v].kind != config::DeviceKind::kNic) return false;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Vertex sw = boost::target(*e, g);
    if (g[sw].kind != config::DeviceKind::kPcieSwitch) continue;
    int gpus = 0, nics = 0;
    for (auto [f, fend] = boost::out_edges(sw, g); f != fend; ++f) {
      gpus += g[boost::target(*f, g)].kind == config::DeviceKind::kGpu;
      nics += g[boost::target(*f, g)].kind == config::DeviceKind::kNic;
    }
    if (gpus > 0 && nics > 0 && gpus + nics > 2) return true;
  }
  return false;
}

std::string merged_name(const Graph& g, const std::vector<Vertex>& twins) {
  if (twins.size() == 1) return g[twins.front()].name;
  return fmt::format("{}..{} ({} planes)", g[twins.front()].name, g[twins.back()].name, twins.size());
}

}  // namespace

Network::Network(const Topology& topo) {
  const Graph& g = topo.graph;
  const std::size_t n = boost::num_vertices(g);

  // 1. Group forwarding devices into twin sets.
  std::map<Signature, std::vector<Vertex>> twin_sets;
  for (Vertex v = 0; v < n; ++v) {
    if (config::forwards_traffic(g[v].kind)) twin_sets[signature_of(g, v)].push_back(v);
  }
  std::vector<int> node_of(n, -1);
  std::vector<std::vector<Vertex>> members;  // merged node -> original vertices
  auto new_node = [&](std::vector<Vertex> vs) {
    for (Vertex v : vs) node_of[v] = static_cast<int>(members.size());
    members.push_back(std::move(vs));
  };
  for (Vertex v = 0; v < n; ++v) {
    if (node_of[v] >= 0) continue;
    if (!config::forwards_traffic(g[v].kind)) {
      new_node({v});
      continue;
    }
    const auto& twins = twin_sets[signature_of(g, v)];
    if (twins.size() > 1 && shares_are_proportional(g, twins) && !has_nic_affinity(g, v)) {
      new_node(twins);
    } else {
      new_node({v});
    }
  }
  for (const auto& m : members)
    if (config::forwards_traffic(g[m.front()].kind)) ++num_logical_switches_;

  // 2. Aggregate edges between merged nodes: parallel links of equal
  //    efficiency and class add their rates; a striped message arrives with
  //    its slowest stripe, so the aggregate takes the largest latency.
  std::map<std::tuple<int, int, double, std::string>, int> link_of;
  out_arcs_.assign(members.size(), {});
  node_forwards_.assign(members.size(), false);
  for (std::size_t m = 0; m < members.size(); ++m) node_forwards_[m] = config::forwards_traffic(g[members[m].front()].kind);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Link& l = g[*e];
    const int a = node_of[boost::source(*e, g)], b = node_of[boost::target(*e, g)];
    auto key = std::make_tuple(a, b, l.efficiency, l.link_class);
    auto [it, inserted] = link_of.try_emplace(key, static_cast<int>(links_.size()));
    if (inserted) {
      links_.push_back(NetworkLink{fmt::format("{}->{}", merged_name(g, members[a]), merged_name(g, members[b])), 0, 0,
                                   l.latency_s, l.link_class, l.nvls_efficiency, a, b,
                                   g[boost::source(*e, g)].kind, g[boost::target(*e, g)].kind, {}});
      out_arcs_[a].push_back(Arc{b, it->second});
    }
    links_[it->second].line_rate_Bps += l.rate_Bps;
    links_[it->second].latency_s = std::max(links_[it->second].latency_s, l.latency_s);
    links_[it->second].rate_Bps += l.rate_Bps * l.efficiency;
    if (l.spec_index >= 0) links_[it->second].spec_links.push_back(l.spec_index);
  }
  for (auto& arcs : out_arcs_) {
    std::stable_sort(arcs.begin(), arcs.end(), [](const Arc& x, const Arc& y) { return x.to < y.to; });
  }
  // NIC affinity at PCIe switches: the k-th GPU (in node order) pairs with
  // the k-th NIC; with fewer NICs than GPUs, neighbouring GPUs share one
  // (k x NICs / GPUs), with more NICs, each GPU gets its share of them.
  port_group_.assign(members.size(), {});
  split_base_.assign(members.size(), -1);
  node_is_gpu_.assign(members.size(), false);
  for (std::size_t m = 0; m < members.size(); ++m) node_is_gpu_[m] = g[members[m].front()].kind == config::DeviceKind::kGpu;
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (g[members[m].front()].kind != config::DeviceKind::kPcieSwitch) continue;
    std::vector<int> gpus, nics;
    for (const Arc& arc : out_arcs_[m]) {  // sorted by node: parallel arcs are adjacent
      const auto kind = g[members[static_cast<std::size_t>(arc.to)].front()].kind;
      std::vector<int>* list = kind == config::DeviceKind::kGpu ? &gpus : kind == config::DeviceKind::kNic ? &nics : nullptr;
      if (list && (list->empty() || list->back() != arc.to)) list->push_back(arc.to);
    }
    if (gpus.empty() || nics.empty() || (gpus.size() == 1 && nics.size() == 1)) continue;
    auto& groups = port_group_[m];
    const std::size_t G = gpus.size(), N = nics.size();
    for (std::size_t k = 0; k < G; ++k) groups[gpus[k]] = static_cast<int>(N <= G ? k * N / G : k);
    for (std::size_t j = 0; j < N; ++j) groups[nics[j]] = static_cast<int>(N <= G ? j : j * G / N);
  }
  // Routing states: one per node, plus one per (PCIe switch with affinity,
  // arc into it) for the neighbour it is entered from.
  num_states_ = static_cast<int>(members.size());
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (port_group_[m].empty()) continue;
    split_base_[m] = num_states_;
    num_states_ += static_cast<int>(out_arcs_[m].size());
  }

  for (Vertex gpu : topo.gpus) {
    endpoints_.push_back(g[gpu].name);
    endpoint_node_.push_back(node_of[gpu]);
  }
  num_gpus_ = static_cast<int>(endpoints_.size());
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (g[members[m].front()].kind != config::DeviceKind::kNvSwitch) continue;
    endpoints_.push_back(merged_name(g, members[m]));
    endpoint_node_.push_back(static_cast<int>(m));
  }
  routes_.resize(endpoints_.size());
}

int Network::nvswitch_endpoint_near(int gpu) const {
  for (const Arc& arc : out_arcs_[endpoint_node_[gpu]]) {
    for (int e = num_gpus_; e < num_endpoints(); ++e)
      if (endpoint_node_[e] == arc.to) return e;
  }
  return -1;
}

double Network::nvls_efficiency_near(int gpu) const {
  const int sw = nvswitch_endpoint_near(gpu);
  if (sw < 0) return 0;
  const auto& r = route(gpu, sw);
  return r.size() == 1 ? links_[r.front()].nvls_efficiency : 0;
}

bool Network::turn_allowed(int via, int from, int to) const {
  const auto& groups = port_group_[static_cast<std::size_t>(via)];
  if (groups.empty()) return true;
  auto a = groups.find(from), b = groups.find(to);
  if (a == groups.end() || b == groups.end()) return true;  // not a GPU-NIC turn
  const bool from_gpu = node_is_gpu_[static_cast<std::size_t>(from)], to_gpu = node_is_gpu_[static_cast<std::size_t>(to)];
  if (!from_gpu && !to_gpu) return false;  // NIC to NIC through the host: never a route
  return from_gpu == to_gpu || a->second == b->second;
}

void Network::bfs(int src, bool affinity, std::vector<std::vector<Arc>>* parents_out) const {
  const auto states = static_cast<std::size_t>(affinity ? num_states_ : static_cast<int>(out_arcs_.size()));
  auto& parents = *parents_out;
  parents.assign(states, {});  // Arc{from state, link}
  std::vector<int> depth(states, -1), state_node(states, -1), state_via(states, -1);
  for (std::size_t n = 0; n < out_arcs_.size(); ++n) state_node[n] = static_cast<int>(n);
  if (affinity) {
    for (std::size_t n = 0; n < out_arcs_.size(); ++n) {
      if (split_base_[n] < 0) continue;
      for (std::size_t k = 0; k < out_arcs_[n].size(); ++k) {
        state_node[static_cast<std::size_t>(split_base_[n]) + k] = static_cast<int>(n);
        state_via[static_cast<std::size_t>(split_base_[n]) + k] = out_arcs_[n][k].to;
      }
    }
  }
  std::vector<double> width(states, 0);
  const int start = endpoint_node_[src];
  std::deque<int> queue{start};
  depth[static_cast<std::size_t>(start)] = 0;
  width[static_cast<std::size_t>(start)] = std::numeric_limits<double>::infinity();
  while (!queue.empty()) {
    const int su = queue.front();
    queue.pop_front();
    const int u = state_node[static_cast<std::size_t>(su)];
    if (su != start && !node_forwards_[static_cast<std::size_t>(u)]) continue;
    const int via = state_via[static_cast<std::size_t>(su)];
    for (const Arc& arc : out_arcs_[static_cast<std::size_t>(u)]) {
      if (via >= 0 && !turn_allowed(u, via, arc.to)) continue;
      const int t = affinity ? state_of(arc.to, u) : arc.to;
      const auto ut = static_cast<std::size_t>(su), tt = static_cast<std::size_t>(t);
      if (depth[tt] < 0) {
        depth[tt] = depth[ut] + 1;
        queue.push_back(t);
      }
      if (depth[tt] != depth[ut] + 1) continue;
      const double w = std::min(width[ut], links_[static_cast<std::size_t>(arc.link)].rate_Bps);
      auto& p = parents[tt];
      if (p.empty() || w > width[tt] * (1 + 1e-12)) {
        p.assign(1, Arc{su, arc.link});
        width[tt] = w;
      } else if (w >= width[tt] * (1 - 1e-12)) {
        p.push_back(Arc{su, arc.link});
      }
    }
  }
}

int Network::state_of(int node, int via) const {
  const int base = split_base_[static_cast<std::size_t>(node)];
  if (base < 0) return node;
  const auto& arcs = out_arcs_[static_cast<std::size_t>(node)];  // sorted by target
  const auto it = std::lower_bound(arcs.begin(), arcs.end(), via, [](const Arc& a, int v) { return a.to < v; });
  return base + static_cast<int>(it - arcs.begin());
}

void Network::build_tree_from(int src) const {
  // BFS keeping, among equal-depth predecessors, those on the widest paths:
  // all fewest-hop paths whose narrowest link is as wide as possible (so a
  // PCIe detour never ties with NVLink). Every depth-d state is dequeued
  // before any depth-(d+1) one, so width[u] is final when u expands.
  // States are nodes, except that a PCIe switch with NIC affinity has one
  // state per neighbour it is entered from (its allowed turns differ).
  // A destination the affinity rule leaves unreachable (a fabric where
  // only a sibling's NIC leads to it) is routed without the rule.
  std::vector<std::vector<Arc>> parents;
  bfs(src, true, &parents);
  std::vector<std::vector<Arc>> fallback;
  for (std::size_t dst = 0; dst < static_cast<std::size_t>(num_gpus_); ++dst) {  // (NVSwitches of other domains are never reachable)
    const int node = endpoint_node_[dst];
    if (static_cast<int>(dst) != src && parents[static_cast<std::size_t>(node)].empty()) {
      bfs(src, false, &fallback);
      break;
    }
  }
  auto& table = routes_[src];
  table.assign(endpoints_.size(), {});
  for (std::size_t dst = 0; dst < endpoints_.size(); ++dst) {
    // ECMP, destination-based (D-mod-k, the static routing fat trees use):
    // walking back from the destination, each choice among equal-cost
    // predecessors takes digit `dst mod n` of the destination's index in a
    // mixed radix of the choices met so far. Flows to different
    // destinations spread over the paths (a shift pattern such as a ring's
    // gets distinct uplinks), and a pair always takes the same path.
    std::vector<int> path;
    std::size_t digits = dst;
    const auto& tree = parents[static_cast<std::size_t>(endpoint_node_[dst])].empty() && !fallback.empty() ? fallback : parents;
    for (int v = endpoint_node_[dst]; !tree[static_cast<std::size_t>(v)].empty();) {
      const auto& options = tree[static_cast<std::size_t>(v)];
      const Arc& pick = options[digits % options.size()];
      digits /= options.size();
      path.push_back(pick.link);
      v = pick.to;
    }
    std::reverse(path.begin(), path.end());
    table[dst] = std::move(path);
  }
}

const std::vector<int>& Network::route(int src, int dst) const {
  assert(src >= 0 && src < num_endpoints() && dst >= 0 && dst < num_endpoints());
  if (routes_[src].empty()) build_tree_from(src);
  return routes_[src][dst];
}

double Network::route_latency_s(const std::vector<int>& route) const {
  double sum = 0;
  for (int l : route) sum += links_[l].latency_s;
  return sum;
}

double Network::route_rate_Bps(const std::vector<int>& route) const {
  double rate = std::numeric_limits<double>::infinity();
  for (int l : route) rate = std::min(rate, links_[l].rate_Bps);
  return rate;
}

}  // namespace collsim::topology
