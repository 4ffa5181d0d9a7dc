// The routing search's steps (network.h): the routing states a route may
// move to from a state, or come from, in the order every search visits
// them. Shared by routing.cc and gateway.cc; include only there.
#pragma once

#include <algorithm>
#include <span>
#include <vector>

#include "sim/topology/network.h"

namespace collsim::topology {

namespace routing_detail {

// One step of the widest fewest-hop search: the arc `via` reaches a state
// whose equal-cost predecessors are `parents` and whose width (narrowest
// rate from the source) is `width`. A wider path replaces them; an equally
// wide one (within 1e-12) joins them, for ECMP.
template <class Arc>
inline void relax_widest(std::vector<Arc>& parents, double& width, const Arc& via, double width_before,
                         double link_rate) {
  const double w = std::min(width_before, link_rate);
  if (parents.empty() || w > width * (1 + 1e-12)) {
    parents.assign(1, via);
    width = w;
  } else if (w >= width * (1 - 1e-12)) {
    parents.push_back(via);
  }
}

}  // namespace routing_detail

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

template <typename OptionsOf>
void Network::walk_ecmp(int v, std::size_t digits, OptionsOf&& options_of, std::vector<int>* links) const {
  for (auto options = options_of(v); !options.empty(); options = options_of(v)) {
    const Arc& pick = options[digits % options.size()];
    digits /= options.size();
    links->push_back(pick.link);
    v = pick.to;
  }
}

}  // namespace collsim::topology
