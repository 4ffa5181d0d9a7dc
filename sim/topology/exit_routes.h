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
// tests/exit_routes_test.cc checks route by route and
// tests/all_pairs_test.cc transfer by transfer.
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
#include <memory>
#include <span>
#include <vector>

#include "sim/topology/network.h"

namespace collsim::topology {

class ExitRoutes {
 public:
  // `sources`: GPU endpoints (repeats allowed, each its own member).
  // REQUIRES: every source in [0, network.num_gpus()); `network` outlives
  // this object.
  ExitRoutes(const Network& network, const std::vector<int>& sources);
  ~ExitRoutes();
  ExitRoutes(const ExitRoutes&) = delete;
  ExitRoutes& operator=(const ExitRoutes&) = delete;

  // The groups `sources` would form, and (`ungrouped`) how many sources
  // have no gateway, without building them.
  static std::size_t count_groups(const Network& network, const std::vector<int>& sources, std::size_t* ungrouped);

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
  // each member). REQUIRES: 0 <= g < num_groups(), dst a GPU endpoint.
  bool tail_into(int g, int dst, int excluded, std::vector<int>* tail) const;

  // The same tail in three parts, for callers that add loads per part
  // (engine/all_pairs_cost.cc): in travel order, chain_links(chain) from
  // the gateway (none when chain is -1: dst's own gateway is the group's),
  // then `chosen` read backwards (the links D-mod-k picked where a state
  // has several predecessors, nearest dst first), then `into`, dst's path
  // from its inbound gateway. Every route from the gateway to the chain's
  // end is that one path, so the chains of a group are few (on a
  // three-tier fabric one per aggregation switch) and shared by many
  // destinations. A chain's number is valid until the next call for
  // another group; numbers count from 0 (num_chains()).
  struct TailParts {
    std::vector<int> chosen;
    int chain = -1;
    std::span<const int> into;
  };
  bool tail_parts(int g, int dst, int excluded, TailParts* parts) const;
  std::span<const int> chain_links(int chain) const;
  int num_chains() const { return static_cast<int>(chain_at_.size()); }

 private:
  // Per-state arrays (sized to the network's routing states), stamped so
  // that nothing is cleared between uses: one per thread, lent to one
  // ExitRoutes at a time (another alive at once brings its own), so the
  // many small all-to-alls of a training step do not each allocate them.
  struct Storage;
  struct Meets;
  static Storage& thread_storage();
  // Destination `dst`'s summary (computed on first use).
  const Meets& meets(int dst) const;
  // The checks of tail_into; then meets_exit says whether dst's ball holds
  // group g's gateway.
  bool composes(int g, int dst, int excluded, bool* meets_exit) const;
  // The parts once the checks passed.
  bool composed_parts(int g, int dst, bool meets_exit, TailParts* parts) const;
  // The chain from the search's start to state v (its number), or -1 when
  // some state on the way has several predecessors.
  int chain_of(int v) const;
  mutable std::vector<int> chain_at_, chain_n_, chain_links_;  // per chain: first link, count; the links
  mutable std::vector<int> climb_;                             // chain_of's scratch
  mutable TailParts scratch_parts_;
  static constexpr int kShared = -2;  // a state in the balls of several sources
  const Network& network_;
  std::unique_ptr<Storage> own_;  // when the thread's storage is lent out
  Storage* storage_;
  std::uint32_t id_ = 0;  // this instance's stamp for its marks
  std::vector<int> group_of_;
  std::vector<std::vector<int>> groups_;
  std::vector<int> exit_state_;     // per group
  std::vector<double> exit_width_;  // per group
  std::vector<int> prefix_at_, prefix_n_;
  std::vector<int> prefix_links_;
  // The source whose ball holds routing state s, kShared, or -1.
  int mark(int s) const;

  // Grows the search from group g's gateway (restarted when g changes)
  // until routing state `goal` is reached with all its predecessors;
  // false if it cannot be.
  bool reach(int g, int goal) const;
  // Finds `goal`'s predecessors from its in-arcs when they all lie in the
  // search's deepest level, so that level need not be expanded (on a
  // three-tier fabric: every aggregation switch's down-links, for the
  // leaves of other pods); the same predecessors, in the same order, as
  // expanding it would give. false if none lies there.
  bool pull(int goal) const;
  mutable std::vector<std::pair<int, Network::Arc>> pulled_;  // (queue place, arc)
  mutable int search_group_ = -1;
  mutable std::uint32_t search_id_ = 0;                  // the search's stamp
  mutable std::vector<int> queue_;                       // states in the search's order
  mutable std::size_t level_begin_ = 0, level_end_ = 0;  // queue range of the deepest level, not yet expanded
};

}  // namespace collsim::topology
