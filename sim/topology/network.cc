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

#include "sim/topology/planes.h"

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

// Neighbours are named by their plane representative (planes.h), so a
// switch and its counterparts in the other planes have one signature.
Signature signature_of(const Graph& g, Vertex v, const std::vector<Vertex>& rep) {
  Signature s{g[v].kind, {}};
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Link& l = g[*e];
    s.ports.emplace_back(rep[boost::target(*e, g)], l.efficiency, l.link_class);
  }
  std::sort(s.ports.begin(), s.ports.end());
  s.ports.erase(std::unique(s.ports.begin(), s.ports.end()), s.ports.end());
  return s;
}

// Total rate from `v` to `neighbour` and its plane counterparts (parallel
// edges add up) and back.
std::pair<double, double> rates_between(const Graph& g, Vertex v, Vertex neighbour, const std::vector<Vertex>& rep) {
  double out = 0, in = 0;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
    if (rep[boost::target(*e, g)] == neighbour) out += g[*e].rate_Bps;
  for (auto [e, end] = boost::in_edges(v, g); e != end; ++e)
    if (rep[boost::source(*e, g)] == neighbour) in += g[*e].rate_Bps;
  return {out, in};
}

// Twins may merge only if each takes the same share of every neighbour's bandwidth.
bool shares_are_proportional(const Graph& g, const std::vector<Vertex>& twins, const std::vector<Vertex>& rep) {
  const Signature s = signature_of(g, twins.front(), rep);
  std::vector<double> first_share;
  for (std::size_t p = 0; p < s.ports.size(); ++p) {
    const Vertex nb = std::get<0>(s.ports[p]);
    double total = 0;
    std::vector<double> each;
    for (Vertex t : twins) {
      auto [out, in] = rates_between(g, t, nb, rep);
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

  // 1. Group forwarding devices into twin sets (each signature computed
  //    once), neighbours named across fabric planes.
  const std::vector<Vertex> rep = plane_representatives(g);
  std::map<Signature, int> set_of_signature;
  std::vector<std::vector<Vertex>> twin_list;
  std::vector<int> twin_set(n, -1);
  for (Vertex v = 0; v < n; ++v) {
    if (!config::forwards_traffic(g[v].kind)) continue;
    auto [it, fresh] = set_of_signature.try_emplace(signature_of(g, v, rep), static_cast<int>(twin_list.size()));
    if (fresh) twin_list.emplace_back();
    twin_list[static_cast<std::size_t>(it->second)].push_back(v);
    twin_set[v] = it->second;
  }
  set_of_signature.clear();
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
    const auto& twins = twin_list[static_cast<std::size_t>(twin_set[v])];
    if (twins.size() > 1 && shares_are_proportional(g, twins, rep) && !has_nic_affinity(g, v)) {
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
  // Links are keyed by (from node, to node, efficiency, class); found by a
  // scan of the from node's arcs so far (a few dozen at most), classes interned.
  std::unordered_map<std::string, int> class_id;
  std::vector<int> link_class_id;
  std::vector<double> link_efficiency;
  links_.reserve(boost::num_edges(g));
  out_arcs_.assign(members.size(), {});
  node_forwards_.assign(members.size(), false);
  for (std::size_t m = 0; m < members.size(); ++m)
    node_forwards_[m] = config::forwards_traffic(g[members[m].front()].kind);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Link& l = g[*e];
    const int a = node_of[boost::source(*e, g)], b = node_of[boost::target(*e, g)];
    const int cls = class_id.try_emplace(l.link_class, static_cast<int>(class_id.size())).first->second;
    int id = -1;
    for (const Arc& arc : out_arcs_[static_cast<std::size_t>(a)]) {
      const auto k = static_cast<std::size_t>(arc.link);
      if (arc.to == b && link_class_id[k] == cls && link_efficiency[k] == l.efficiency) {
        id = arc.link;
        break;
      }
    }
    if (id < 0) {
      id = static_cast<int>(links_.size());
      links_.push_back(NetworkLink{fmt::format("{}->{}", merged_name(g, members[a]), merged_name(g, members[b])),
                                   0,
                                   0,
                                   l.latency_s,
                                   l.link_class,
                                   l.nvls_efficiency,
                                   a,
                                   b,
                                   g[boost::source(*e, g)].kind,
                                   g[boost::target(*e, g)].kind,
                                   {}});
      link_class_id.push_back(cls);
      link_efficiency.push_back(l.efficiency);
      out_arcs_[a].push_back(Arc{b, id});
    }
    NetworkLink& link = links_[static_cast<std::size_t>(id)];
    link.line_rate_Bps += l.rate_Bps;
    link.latency_s = std::max(link.latency_s, l.latency_s);
    link.rate_Bps += l.rate_Bps * l.efficiency;
    if (l.spec_index >= 0) link.spec_links.push_back(l.spec_index);
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
  for (std::size_t m = 0; m < members.size(); ++m)
    node_is_gpu_[m] = g[members[m].front()].kind == config::DeviceKind::kGpu;
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (g[members[m].front()].kind != config::DeviceKind::kPcieSwitch) continue;
    std::vector<int> gpus, nics;
    for (const Arc& arc : out_arcs_[m]) {  // sorted by node: parallel arcs are adjacent
      const auto kind = g[members[static_cast<std::size_t>(arc.to)].front()].kind;
      std::vector<int>* list = kind == config::DeviceKind::kGpu   ? &gpus
                               : kind == config::DeviceKind::kNic ? &nics
                                                                  : nullptr;
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

  state_node_.assign(static_cast<std::size_t>(num_states_), -1);
  state_via_.assign(static_cast<std::size_t>(num_states_), -1);
  for (std::size_t m = 0; m < members.size(); ++m) state_node_[m] = static_cast<int>(m);
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (split_base_[m] < 0) continue;
    for (std::size_t k = 0; k < out_arcs_[m].size(); ++k) {
      state_node_[static_cast<std::size_t>(split_base_[m]) + k] = static_cast<int>(m);
      state_via_[static_cast<std::size_t>(split_base_[m]) + k] = out_arcs_[m][k].to;
    }
  }
  in_arcs_.assign(members.size(), {});
  for (std::size_t m = 0; m < members.size(); ++m)
    for (const Arc& arc : out_arcs_[m])
      in_arcs_[static_cast<std::size_t>(arc.to)].push_back(Arc{static_cast<int>(m), arc.link});

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
  endpoint_of_node_.assign(members.size(), -1);
  for (std::size_t e = 0; e < endpoint_node_.size(); ++e)
    endpoint_of_node_[static_cast<std::size_t>(endpoint_node_[e])] = static_cast<int>(e);
}

int Network::nvswitch_endpoint_near(int gpu) const {
  for (const Arc& arc : out_arcs_[endpoint_node_[gpu]]) {
    const int e = endpoint_of_node_[static_cast<std::size_t>(arc.to)];
    if (e >= num_gpus_) return e;
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
  const bool from_gpu = node_is_gpu_[static_cast<std::size_t>(from)],
             to_gpu = node_is_gpu_[static_cast<std::size_t>(to)];
  if (!from_gpu && !to_gpu) return false;  // NIC to NIC through the host: never a route
  return from_gpu == to_gpu || a->second == b->second;
}

void Network::bfs(int src, bool affinity, std::vector<std::vector<Arc>>* parents_out,
                  std::vector<int>* depth_out) const {
  const auto states = static_cast<std::size_t>(affinity ? num_states_ : static_cast<int>(out_arcs_.size()));
  auto& parents = *parents_out;
  parents.assign(states, {});  // Arc{from state, link}
  std::vector<int> local_depth;
  std::vector<int>& depth = depth_out ? *depth_out : local_depth;
  depth.assign(states, -1);
  std::vector<double> width(states, 0);
  const int start = endpoint_node_[src];
  std::deque<int> queue{start};
  depth[static_cast<std::size_t>(start)] = 0;
  width[static_cast<std::size_t>(start)] = std::numeric_limits<double>::infinity();
  while (!queue.empty()) {
    const int su = queue.front();
    queue.pop_front();
    for_each_next(su, start, affinity, [&](int t, int link) {
      const auto ut = static_cast<std::size_t>(su), tt = static_cast<std::size_t>(t);
      if (depth[tt] < 0) {
        depth[tt] = depth[ut] + 1;
        queue.push_back(t);
      }
      if (depth[tt] != depth[ut] + 1) return;
      const double w = std::min(width[ut], links_[static_cast<std::size_t>(link)].rate_Bps);
      auto& p = parents[tt];
      if (p.empty() || w > width[tt] * (1 + 1e-12)) {
        p.assign(1, Arc{su, link});
        width[tt] = w;
      } else if (w >= width[tt] * (1 - 1e-12)) {
        p.push_back(Arc{su, link});
      }
    });
  }
}

template <typename F>
void Network::for_each_next(int su, int start, bool affinity, F&& f) const {
  const int u = affinity ? node_of_state(su) : su;
  if (su != start && !node_forwards_[static_cast<std::size_t>(u)]) return;
  const int via = affinity ? via_of_state(su) : -1;
  for (const Arc& arc : out_arcs_[static_cast<std::size_t>(u)]) {
    if (via >= 0 && !turn_allowed(u, via, arc.to)) continue;
    f(affinity ? state_of(arc.to, u) : arc.to, arc.link);
  }
}

template <typename F>
void Network::for_each_prev(int t, int start, bool affinity, F&& f) const {
  const int v = affinity ? node_of_state(t) : t;
  const int entered_from = affinity ? via_of_state(t) : -1;
  auto from_node = [&](int u, int link) {
    const auto uu = static_cast<std::size_t>(u);
    if (affinity && split_base_[uu] >= 0) {
      const auto& arcs = out_arcs_[uu];
      for (std::size_t k = 0; k < arcs.size(); ++k) {
        if (k > 0 && arcs[k - 1].to == arcs[k].to) continue;  // parallel arcs share one entry state
        if (!turn_allowed(u, arcs[k].to, v)) continue;
        f(split_base_[uu] + static_cast<int>(k), link);
      }
    } else if (u == start || node_forwards_[uu]) {
      f(u, link);
    }
  };
  for (const Arc& arc : in_arcs_[static_cast<std::size_t>(v)]) {
    if (entered_from >= 0 && arc.to != entered_from) continue;
    from_node(arc.to, arc.link);
  }
}

int Network::state_of(int node, int via) const {
  const int base = split_base_[static_cast<std::size_t>(node)];
  if (base < 0) return node;
  const auto& arcs = out_arcs_[static_cast<std::size_t>(node)];  // sorted by target
  const auto it = std::lower_bound(arcs.begin(), arcs.end(), via, [](const Arc& a, int v) { return a.to < v; });
  return base + static_cast<int>(it - arcs.begin());
}

std::vector<int> Network::walk_back(int dst, const std::vector<std::vector<Arc>>& parents) const {
  // ECMP, destination-based (D-mod-k, the static routing fat trees use):
  // walking back from the destination, each choice among equal-cost
  // predecessors takes digit `dst mod n` of the destination's index in a
  // mixed radix of the choices met so far. Flows to different
  // destinations spread over the paths (a shift pattern such as a ring's
  // gets distinct uplinks), and a pair always takes the same path.
  std::vector<int> path;
  std::size_t digits = static_cast<std::size_t>(dst);
  for (int v = endpoint_node_[dst]; !parents[static_cast<std::size_t>(v)].empty();) {
    const auto& options = parents[static_cast<std::size_t>(v)];
    const Arc& pick = options[digits % options.size()];
    digits /= options.size();
    path.push_back(pick.link);
    v = pick.to;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<int> Network::reference_route(int src, int dst) const {
  // BFS keeping, among equal-depth predecessors, those on the widest paths:
  // all fewest-hop paths whose narrowest link is as wide as possible (so a
  // PCIe detour never ties with NVLink). Every depth-d state is dequeued
  // before any depth-(d+1) one, so width[u] is final when u expands.
  // States are nodes, except that a PCIe switch with NIC affinity has one
  // state per neighbour it is entered from (its allowed turns differ).
  // A destination the affinity rule leaves unreachable (a fabric where
  // only a sibling's NIC leads to it) is routed without the rule.
  if (src == dst) return {};
  std::vector<std::vector<Arc>> parents;
  bfs(src, true, &parents, nullptr);
  if (parents[static_cast<std::size_t>(endpoint_node_[dst])].empty()) bfs(src, false, &parents, nullptr);
  return walk_back(dst, parents);
}

std::vector<int> Network::hops_to_gpus(int src) const {
  std::vector<std::vector<Arc>> parents;
  std::vector<int> depth, fallback;
  bfs(src, true, &parents, &depth);
  std::vector<int> hops(static_cast<std::size_t>(num_gpus_), -1);
  for (int dst = 0; dst < num_gpus_; ++dst) {
    const int d = depth[static_cast<std::size_t>(endpoint_node_[dst])];
    if (d >= 0) {
      hops[static_cast<std::size_t>(dst)] = d;
      continue;
    }
    if (fallback.empty()) bfs(src, false, &parents, &fallback);
    hops[static_cast<std::size_t>(dst)] = fallback[static_cast<std::size_t>(endpoint_node_[dst])];
  }
  return hops;
}

bool Network::route_pair(int src, int dst, bool affinity, std::vector<int>* out) const {
  // 1. Level-synchronous bidirectional BFS, always growing the smaller
  //    frontier, until a new layer touches the other side's ball. Both balls
  //    were whole layers that did not meet one round earlier, so the
  //    distance is d = a + b, and the states at forward depth a on
  //    fewest-hop paths are exactly the new layer's meeting states.
  // 2. The fewest-hop DAG: from the meeting layer, back through the
  //    forward layers (states with a DAG successor one deeper) and out
  //    through the backward layers (states with a DAG predecessor).
  // 3. A BFS from src over DAG states only. Every predecessor at depth k-1
  //    of a DAG state is itself on the DAG, so the states are discovered in
  //    the full BFS's relative order with the same predecessor lists and
  //    widths: the route equals reference_route(src, dst).
  Scratch& S = scratch_;
  const auto states = static_cast<std::size_t>(affinity ? num_states_ : static_cast<int>(out_arcs_.size()));
  if (S.stamp_f.size() < states) {
    S.stamp_f.assign(states, 0);
    S.stamp_b.assign(states, 0);
    S.stamp_dag.assign(states, 0);
    S.dist_f.assign(states, 0);
    S.dist_b.assign(states, 0);
    S.width.assign(states, 0);
    S.parents.assign(states, {});
    S.epoch = 0;
  }
  if (S.epoch >= 0x7ffffff0u) {
    std::fill(S.stamp_f.begin(), S.stamp_f.end(), 0);
    std::fill(S.stamp_b.begin(), S.stamp_b.end(), 0);
    std::fill(S.stamp_dag.begin(), S.stamp_dag.end(), 0);
    S.epoch = 0;
  }
  // Stamps: `mark` = visited (forward, backward) or on the DAG; on the DAG
  // and reached by step 3 = `mark` with the top bit set.
  const std::uint32_t mark = ++S.epoch;
  const int start = endpoint_node_[src], goal = endpoint_node_[dst];
  auto at = [](auto& v, int i) -> auto& { return v[static_cast<std::size_t>(i)]; };
  std::vector<std::vector<int>> layers_f{{start}}, layers_b{{goal}};
  at(S.stamp_f, start) = mark;
  at(S.dist_f, start) = 0;
  at(S.stamp_b, goal) = mark;
  at(S.dist_b, goal) = 0;
  bool met = false, forward_last = true;
  while (!met) {
    const bool forward = layers_f.back().size() <= layers_b.back().size();
    auto& layers = forward ? layers_f : layers_b;
    auto& stamp_mine = forward ? S.stamp_f : S.stamp_b;
    auto& stamp_other = forward ? S.stamp_b : S.stamp_f;
    auto& dist = forward ? S.dist_f : S.dist_b;
    const int depth = static_cast<int>(layers.size());
    std::vector<int> next;
    auto visit = [&](int t, int) {
      if (at(stamp_mine, t) == mark) return;
      at(stamp_mine, t) = mark;
      at(dist, t) = depth;
      next.push_back(t);
      if (at(stamp_other, t) == mark) met = true;
    };
    for (int s : layers.back()) {
      if (forward) {
        for_each_next(s, start, affinity, visit);
      } else {
        for_each_prev(s, start, affinity, visit);
      }
    }
    if (next.empty()) return false;
    layers.push_back(std::move(next));
    forward_last = forward;
  }
  const int a = static_cast<int>(layers_f.size()) - 1, b = static_cast<int>(layers_b.size()) - 1;
  auto on_dag = [&](int s) { return at(S.stamp_dag, s) == mark; };
  for (int s : forward_last ? layers_f.back() : layers_b.back()) {
    if (at(S.stamp_f, s) == mark && at(S.stamp_b, s) == mark && at(S.dist_f, s) == a && at(S.dist_b, s) == b) {
      at(S.stamp_dag, s) = mark;
    }
  }
  for (int j = a - 1; j >= 0; --j) {
    for (int s : layers_f[static_cast<std::size_t>(j)]) {
      bool keep = false;
      for_each_next(s, start, affinity, [&](int t, int) {
        keep = keep || (on_dag(t) && at(S.stamp_f, t) == mark && at(S.dist_f, t) == j + 1);
      });
      if (keep) at(S.stamp_dag, s) = mark;
    }
  }
  for (int k = b - 1; k >= 0; --k) {
    for (int s : layers_b[static_cast<std::size_t>(k)]) {
      bool keep = false;
      for_each_prev(s, start, affinity, [&](int u, int) {
        keep = keep || (on_dag(u) && at(S.stamp_b, u) == mark && at(S.dist_b, u) == k + 1);
      });
      if (keep) at(S.stamp_dag, s) = mark;
    }
  }
  const int d = a + b;
  auto dag_depth = [&](int s) { return at(S.stamp_f, s) == mark ? at(S.dist_f, s) : d - at(S.dist_b, s); };
  // 3. Replay the BFS over the DAG.
  const std::uint32_t reached = mark | 0x80000000u;
  std::vector<int> queue{start};
  at(S.stamp_dag, start) = reached;
  at(S.parents, start).clear();
  at(S.width, start) = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const int su = queue[i];
    const int du = dag_depth(su);
    for_each_next(su, start, affinity, [&](int t, int link) {
      const std::uint32_t st = at(S.stamp_dag, t);
      if (st != mark && st != reached) return;  // off the DAG
      if (dag_depth(t) != du + 1) return;
      auto& p = at(S.parents, t);
      if (st == mark) {
        at(S.stamp_dag, t) = reached;
        p.clear();
        queue.push_back(t);
      }
      const double w = std::min(at(S.width, su), links_[static_cast<std::size_t>(link)].rate_Bps);
      if (p.empty() || w > at(S.width, t) * (1 + 1e-12)) {
        p.assign(1, Arc{su, link});
        at(S.width, t) = w;
      } else if (w >= at(S.width, t) * (1 - 1e-12)) {
        p.push_back(Arc{su, link});
      }
    });
  }
  *out = walk_back(dst, S.parents);
  return true;
}

const std::vector<int>& Network::route(int src, int dst) const {
  assert(src >= 0 && src < num_endpoints() && dst >= 0 && dst < num_endpoints());
  const std::uint64_t key =
      static_cast<std::uint64_t>(src) * static_cast<std::uint64_t>(num_endpoints()) + static_cast<std::uint64_t>(dst);
  auto [it, inserted] = route_cache_.try_emplace(key);
  if (inserted && src != dst) {
    if (!route_pair(src, dst, true, &it->second)) route_pair(src, dst, false, &it->second);
  }
  return it->second;
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
