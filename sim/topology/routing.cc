// Routing on the merged graph (network.h): the per-pair search, its
// full-BFS reference, NIC affinity turns at PCIe switches, ECMP by the
// destination's index, and the route cache. Split from network.cc, which
// builds the merged graph.
#include <algorithm>
#include <cassert>
#include <cstdint>
#include <deque>
#include <limits>

#include "sim/core/log.h"
#include "sim/topology/network.h"
#include "sim/topology/routing_steps.h"

namespace collsim::topology {

// NIC affinity at PCIe switches (network.h) and the routing states it needs.
void Network::set_up_nic_affinity(const Graph& g, const std::vector<std::vector<Vertex>>& members) {
  // NIC affinity at PCIe switches: the k-th GPU (in node order) pairs with
  // the k-th NIC; with fewer NICs than GPUs, neighbouring GPUs share one
  // (k x NICs / GPUs), with more NICs, each GPU gets its share of them.
  port_group_.assign(members.size(), {});
  split_base_.assign(members.size(), -1);
  node_is_gpu_.assign(members.size(), false);
  for (std::size_t m = 0; m < members.size(); ++m)
    node_is_gpu_[m] = g[members[m].front()].kind == config::DeviceKind::kGpu;
  auto kind_at = [&](int node) { return g[members[static_cast<std::size_t>(node)].front()].kind; };
  // A NIC whose every port to the fabric is down is not paired: NCCL does
  // not list a NIC whose port is down (NCCL's IB transport keeps only
  // active ports), so its GPU takes the switch's other NIC, as when the NIC
  // itself failed (the k-th GPU's share below).
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (g[members[m].front()].kind != config::DeviceKind::kPcieSwitch) continue;
    std::vector<int> gpus, nics;
    for (const Arc& arc : out_arcs_[m]) {  // sorted by node: parallel arcs are adjacent
      const auto kind = kind_at(arc.to);
      std::vector<int>* list = kind == config::DeviceKind::kGpu                                         ? &gpus
                               : kind == config::DeviceKind::kNic && reaches_fabric(g, members, arc.to) ? &nics
                                                                                                        : nullptr;
      if (list && (list->empty() || list->back() != arc.to)) list->push_back(arc.to);
    }
    if (gpus.empty() || nics.empty() || (gpus.size() == 1 && nics.size() == 1)) continue;
    auto& groups = port_group_[m];
    const std::size_t G = gpus.size(), N = nics.size();
    for (std::size_t k = 0; k < G; ++k) groups.emplace_back(gpus[k], static_cast<int>(N <= G ? k * N / G : k));
    for (std::size_t j = 0; j < N; ++j) groups.emplace_back(nics[j], static_cast<int>(N <= G ? j : j * G / N));
    std::sort(groups.begin(), groups.end());
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
}

bool Network::reaches_fabric(const Graph& g, const std::vector<std::vector<Vertex>>& members, int nic) const {
  return std::any_of(out_arcs_[static_cast<std::size_t>(nic)].begin(), out_arcs_[static_cast<std::size_t>(nic)].end(),
                     [&](const Arc& a) {
                       const auto kind = g[members[static_cast<std::size_t>(a.to)].front()].kind;
                       return kind == config::DeviceKind::kSwitch || kind == config::DeviceKind::kNic;
                     });
}

bool Network::turn_allowed(int via, int from, int to) const {
  const auto& groups = port_group_[static_cast<std::size_t>(via)];
  if (groups.empty()) return true;
  auto find = [&](int node) {
    const auto it = std::lower_bound(groups.begin(), groups.end(), std::pair<int, int>{node, -1});
    return it != groups.end() && it->first == node ? it->second : -1;
  };
  const int a = find(from), b = find(to);
  if (a < 0 || b < 0) return true;  // not a GPU-NIC turn
  const bool from_gpu = node_is_gpu_[static_cast<std::size_t>(from)],
             to_gpu = node_is_gpu_[static_cast<std::size_t>(to)];
  if (!from_gpu && !to_gpu) return false;  // NIC to NIC through the host: never a route
  return from_gpu == to_gpu || a == b;
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
      routing_detail::relax_widest(parents[tt], width[tt], Arc{su, link}, width[ut],
                                   links_[static_cast<std::size_t>(link)].rate_Bps);
    });
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
  // predecessors takes digit `dst mod n` of the destination's number (GPUs
  // numbered by the switch port their NIC uses: ecmp_index_) in a
  // mixed radix of the choices met so far. Flows to different
  // destinations spread over the paths (a shift pattern such as a ring's
  // gets distinct uplinks), and a pair always takes the same path.
  std::vector<int> path;
  walk_ecmp(
      endpoint_node_[dst], ecmp_number(dst),
      [&](int v) { return std::span<const Arc>(parents[static_cast<std::size_t>(v)]); }, &path);
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
  // bfs()'s depths without its predecessor lists (a plain BFS over the
  // same steps: the depths are the same), in the scratch arrays.
  Scratch& S = scratch_;
  auto depths = [&](bool affinity) {
    const std::uint32_t mark = new_mark();
    const int start = endpoint_node_[src];
    auto& queue = S.queue;
    queue.assign(1, start);
    S.stamp_f[static_cast<std::size_t>(start)] = mark;
    S.dist_f[static_cast<std::size_t>(start)] = 0;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      const int d = S.dist_f[static_cast<std::size_t>(queue[i])] + 1;
      for_each_next(queue[i], start, affinity, [&](int t, int) {
        if (S.stamp_f[static_cast<std::size_t>(t)] == mark) return;
        S.stamp_f[static_cast<std::size_t>(t)] = mark;
        S.dist_f[static_cast<std::size_t>(t)] = d;
        queue.push_back(t);
      });
    }
    return mark;
  };
  std::vector<int> hops(static_cast<std::size_t>(num_gpus_), -1);
  std::vector<int> missing;
  const std::uint32_t mark = depths(true);
  for (int dst = 0; dst < num_gpus_; ++dst) {
    const auto node = static_cast<std::size_t>(endpoint_node_[dst]);
    if (S.stamp_f[node] == mark) {
      hops[static_cast<std::size_t>(dst)] = S.dist_f[node];
    } else {
      missing.push_back(dst);
    }
  }
  if (missing.empty()) return hops;
  const std::uint32_t fallback = depths(false);
  for (int dst : missing) {
    const auto node = static_cast<std::size_t>(endpoint_node_[dst]);
    if (S.stamp_f[node] == fallback) hops[static_cast<std::size_t>(dst)] = S.dist_f[node];
  }
  return hops;
}

std::uint32_t Network::new_mark() const {
  Scratch& S = scratch_;
  const auto states = static_cast<std::size_t>(num_states_);  // >= nodes: fits both modes
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
  return ++S.epoch;
}

bool Network::search_dag(int start, int goal, double start_width, bool affinity) const {
  // From routing state `start` (reached over a path of narrowest rate
  // `start_width`) to routing state `goal`:
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
  // Stamps: `mark` = visited (forward, backward) or on the DAG; on the DAG
  // and reached by step 3 = `mark` with the top bit set.
  const std::uint32_t mark = new_mark();
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
  std::vector<int>& queue = S.queue;
  queue.assign(1, start);
  at(S.stamp_dag, start) = reached;
  at(S.parents, start).clear();
  at(S.width, start) = start_width;
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
      routing_detail::relax_widest(p, at(S.width, t), Arc{su, link}, at(S.width, su),
                                   links_[static_cast<std::size_t>(link)].rate_Bps);
    });
  }
  return true;
}

bool Network::route_pair(int src, int dst, bool affinity, std::vector<int>* out) const {
  if (!search_dag(endpoint_node_[src], endpoint_node_[dst], std::numeric_limits<double>::infinity(), affinity))
    return false;
  *out = walk_back(dst, scratch_.parents);
  return true;
}

const std::vector<int>& Network::route(int src, int dst) const {
  assert(src >= 0 && src < num_endpoints() && dst >= 0 && dst < num_endpoints());
  const std::uint64_t key =
      static_cast<std::uint64_t>(src) * static_cast<std::uint64_t>(num_endpoints()) + static_cast<std::uint64_t>(dst);
  auto [it, inserted] = route_cache_.try_emplace(key);
  if (inserted && src != dst) route_into(src, dst, &it->second);
  return it->second;
}

void Network::route_into(int src, int dst, std::vector<int>* out) const {
  assert(src >= 0 && src < num_endpoints() && dst >= 0 && dst < num_endpoints());
  out->clear();
  if (src == dst) return;
  const bool composed = src < num_gpus_ && dst < num_gpus_ && gateway_route(src, dst, out);
  if (!composed) {
    ++route_stats_.searched;
    if (!route_pair(src, dst, true, out)) route_pair(src, dst, false, out);
  }
  if (log::enabled(spdlog::level::trace)) {
    std::string hops;
    for (int l : *out) hops += fmt::format("{}{}", hops.empty() ? "" : ", ", link_name(l));
    log::trace("route: {} -> {}: {}", endpoints_[static_cast<std::size_t>(src)],
               endpoints_[static_cast<std::size_t>(dst)], hops.empty() ? "none" : hops);
  }
}

}  // namespace collsim::topology
