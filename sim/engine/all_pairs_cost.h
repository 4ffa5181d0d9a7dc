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
// one relay, the domain's GPU at d's position, so the route relay -> d is
// found once per (domain, d) and carries the whole domain's blocks, and
// each sender's leg to its relay once per (sender, relay). Without a relay
// (PXN off, no NVSwitch) each pair's route is found once. Routes across
// the network are not cached (Network::route_into): memory stays
// O(links + p x domain size). Work: O(p x domains) route searches with PXN
// (O(p^2) without), O(p^2) arithmetic.
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

// Route searches above which an all-to-all is refused: 1-2 us each on
// the 2-core machine of docs/performance.md, so some minutes. 131,072 GPUs
// in 16,384 NVLink domains would need 2.1 G.
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

}  // namespace collsim::engine::detail
