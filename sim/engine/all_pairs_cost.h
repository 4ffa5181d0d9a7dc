// Costing an all-pairs schedule (collective::Schedule::all_pairs, the
// direct all-to-all) on the analytical backend without listing its
// p (p - 1) transfers.
//
// The model is the analytical backend's for explicit schedules
// (analytical_backend.h), pair by pair: every transfer starts after the
// launch latency, takes its route's latency plus the protocol's step
// latencies, and moves its wire bytes at its route's narrowest rate (capped
// by the finite buffer's window / round trip across the network, plan.h);
// the schedule takes its slowest transfer or its busiest link's bytes /
// rate, whichever is longer (ScheduleResult::load_bound says which).
//
// What changes is how the pairs are visited. With PXN (Network::pxn_relay)
// every GPU of an NVLink domain sends to GPU d of another domain through
// one relay, the domain's GPU at d's position, so the relay's route to d
// carries the whole domain's blocks, and each sender's leg to its relay is
// found once per (sender, relay). Relays whose routes leave their hosts
// through the same switch (an exit group, topology/exit_routes.h: on a
// rail-optimized fabric the relays of one rail under one leaf) share
// everything after that switch, so the rest of the route to d is walked
// once per (exit group, d), and the group's senders are costed together:
// senders whose routes start alike (the same leg and prefix facts but for
// the prefix's latency) are costed as the one with the longest. Without a
// relay (PXN off, no NVSwitch) each pair's route is found once. Routes
// across the network are not cached (Network::route_into): memory stays
// O(links + states + p x domain size). Work: O(p x exit groups) walks with
// PXN (O(p^2) route searches without), plus one breadth-first search per
// exit group, grown to its farthest destination.
//
// A test checks time, bound and bytes against the expanded schedule's,
// transfer by transfer, on fabrics with and without PXN.
#pragma once

#include <vector>

#include "sim/collective/schedule.h"
#include "sim/core/error.h"
#include "sim/engine/backend.h"
#include "sim/topology/network.h"

namespace collsim::engine::detail {

// Route searches and walks above which an all-to-all is refused: 1-3 us
// each on the 2-core machine of docs/performance.md, so some minutes.
// 131,072 H100s (16,384 nodes, 256 leaves per rail) need 35 M: 8 rails x
// 256 exit groups x 16,384 destinations, and the legs and pairs inside
// nodes; searched pair by pair it would be 2.1 G.
constexpr double kMaxAllPairsRouteSearches = 3e8;

// REQUIRES: s.all_pairs; rank_map empty (rank r is GPU r) or one GPU
// endpoint per rank. Errors: a rank without a GPU, a pair without a route,
// more than `max_route_searches` route searches (counted before any is
// made; the message says how many). `show_progress`: a progress line with
// the time left on standard error for long ones (the caller checks it is a
// terminal).
Expected<ScheduleResult> cost_all_pairs(const topology::Network& network, const collective::Schedule& s,
                                        const std::vector<int>& rank_map, bool show_progress = false,
                                        double max_route_searches = kMaxAllPairsRouteSearches);
// The same for schedules that differ only in their protocol (a tuner's
// candidates), at the cost of one: their routes and payload are the same,
// a protocol changes the pairs' times and its wire bytes are the payload
// over its payload fraction. One result per schedule, in order.
// REQUIRES: `same` not empty; every schedule all_pairs with the first's
// ranks, bytes and latency family.
Expected<std::vector<ScheduleResult>> cost_all_pairs(const topology::Network& network,
                                                     const std::vector<const collective::Schedule*>& same,
                                                     const std::vector<int>& rank_map, bool show_progress = false,
                                                     double max_route_searches = kMaxAllPairsRouteSearches);

}  // namespace collsim::engine::detail
