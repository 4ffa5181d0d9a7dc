// Routes from many source GPUs to one destination at once, composed where
// the sources' routes leave their hosts (Network's gateways, gateway.cc).
//
// Network::route(src, dst) between GPUs of different hosts is the path from
// src to its outbound gateway (the prefix), a D-mod-k walk of the fewest-hop
// DAG from that gateway to dst's inbound gateway, and the path from there
// to dst. The walk depends only on the two gateways, the prefix's width and
// dst's ECMP number, so sources whose prefixes end at the same gateway state
// with the same width (an exit group: on a rail-optimized fabric, the GPUs
// of one rail under one leaf) share everything after their prefixes. Visiting
// a group once per destination instead of each source once is what lets an
// all-to-all be costed per (leaf, destination) rather than per (NVLink domain,
// destination) (engine/all_pairs_cost.h).
//
// Exactness: tail_into() answers only where Network::route would compose
// every member's route at its gateway in the same way: no state of dst's
// inbound ball (or the non-forwarding nodes that step into it) is in a
// member's outbound ball, other than the group's gateway itself, and dst is
// not in one. Elsewhere it returns false and the caller routes each member
// (Network::route_into); the routes are the same either way, which
// tests/all_pairs_test.cc checks transfer by transfer.
//
// The middle: Network searches a DAG per pair of gateways (gateway.cc).
// Here one breadth-first search from the group's gateway, grown level by
// level until it reaches the destination's gateway, serves every
// destination of the group: on a fewest-hop DAG every state's equal-cost
// widest predecessors, in order, are the single-source search's (the
// argument of Network::search_dag, step 3), so the D-mod-k walk over the
// search's predecessors picks the route the DAG's would. Work per group:
// the states within the farthest destination's distance, once (on a
// three-tier fabric every core and aggregation switch), instead of a DAG
// holding every core switch per pair of leaves.
//
// Threads: as Network (not thread-safe; it fills the Network's caches).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/topology/network.h"

namespace collsim::topology {

class ExitRoutes {
 public:
  // `sources`: GPU endpoints (repeats allowed, each its own member).
  ExitRoutes(const Network& network, const std::vector<int>& sources);

  int num_groups() const { return static_cast<int>(groups_.size()); }
  // Indices into `sources` of group g's members, in order.
  const std::vector<int>& members(int g) const { return groups_[static_cast<std::size_t>(g)]; }
  // The group of source i, or -1 when its routes are searched pair by pair
  // (no gateway): route it with Network::route_into.
  int group_of(int i) const { return group_of_[static_cast<std::size_t>(i)]; }
  // Source i's prefix: its links from the GPU to its gateway, in travel
  // order. REQUIRES: group_of(i) >= 0.
  std::span<const int> prefix(int i) const;

  // Writes to `tail` the links every member of group g but source
  // `excluded` (-1: none; a member with no route to `dst` wanted) takes to
  // GPU `dst` after its prefix, and returns true; returns false where that
  // is not the same for all of them or not composed at gateways (route
  // each member).
  bool tail_into(int g, int dst, int excluded, std::vector<int>* tail) const;

 private:
  static constexpr int kShared = -2;  // a state in the balls of several sources
  const Network& network_;
  std::vector<int> group_of_;
  std::vector<std::vector<int>> groups_;
  std::vector<int> exit_state_;     // per group
  std::vector<double> exit_width_;  // per group
  std::vector<int> prefix_at_, prefix_n_;
  std::vector<int> prefix_links_;
  std::vector<int> mark_;  // per routing state: the source whose ball holds it, kShared, or -1

  // Grows the search from group g's gateway (restarted when g changes)
  // until routing state `goal` is reached with all its predecessors;
  // false if it cannot be.
  bool reach(int g, int goal) const;
  struct Search {
    int group = -1;
    std::uint32_t mark = 0;
    std::vector<std::uint32_t> stamp;  // per state: == mark once reached
    std::vector<int> depth;
    std::vector<double> width;
    std::vector<std::vector<Network::Arc>> parents;  // equal-cost widest predecessors, in the search's order
    std::vector<int> queue;
    std::size_t level_begin = 0, level_end = 0;  // queue range of the deepest level, not yet expanded
  };
  mutable Search search_;
};

}  // namespace collsim::topology
