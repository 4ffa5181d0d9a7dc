// What one schedule puts on the network's resources when it runs: the wire
// bytes on each link, routed as make_plan routes its connections. Shared by
// the step's cost of calls (workload/comm_costs.cc: the links a call holds
// in the step simulation) and `collsim collective`'s busiest resource
// (cli/collective_sweep.cc).
#pragma once

#include <functional>
#include <vector>

#include "sim/collective/schedule.h"
#include "sim/topology/network.h"

namespace collsim::engine {

// The network endpoint rank `rank` of `s` runs on, as make_plan places it:
// a rank below s.ranks on rank_map[rank] (empty: endpoint `rank`); a helper
// (rank >= s.ranks) on its Schedule::helper_endpoint, else on the NVSwitch
// next to its Schedule::helper_near_rank's GPU, else on the one next to rank
// 0's. -1 where there is none (a rank outside a non-empty map, no
// NVSwitch); with an empty map a rank below s.ranks is returned unchecked.
int rank_endpoint(const topology::Network& network, const collective::Schedule& s, const std::vector<int>& rank_map,
                  int rank);

// Calls f(link, bytes) with the wire bytes every network link carries over
// the whole of `s` under `protocol`: each connection's payload
// (collective::for_each_connection_bytes, the repeats included) over the
// protocol's payload share on its route (LL's and LL128's flags), on the
// route make_plan gives it (connection_route, with the sender's
// Schedule::exit_relay). `endpoint(rank)` places ranks and helpers (as
// rank_endpoint), distinct ranks on distinct GPU endpoints. Each link is
// reported once, in the order the connections first reach it; connections
// whose ends have no endpoint or no route are left out. O(connections) map
// updates and a route lookup per distinct connection (each cached by the
// Network: a memory cost on large all-pairs schedules).
// REQUIRES: `s` holds its own transfers and ring phases (a tuner's protocol
// variant: pass collective::body_of(list, k) and the variant's protocol),
// and `protocol` runs on s.latency_family (collective::protocol_supported).
void for_each_link_bytes(const topology::Network& network, const collective::Schedule& s, collective::Protocol protocol,
                         const std::function<int(int)>& endpoint, const std::function<void(int, double)>& f);

// The connections for_each_link_bytes visits (transfers, all pairs, ring
// pass positions): what it costs, for callers that bound their work.
double connection_visits(const collective::Schedule& s);

}  // namespace collsim::engine
