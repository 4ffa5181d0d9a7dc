// Costing compact schedules (ring passes, collective::RingPass) without
// their p x steps transfers, given how long each position's transfer takes
// in one step. Shared by the analytical backend (alpha-beta times) and the
// SimGrid backend (times of one step simulated with all its flows at once).
//
// With c_i the time of position i's transfer (latency + slice transfer) and
// g_i when its rank may start:
//   plain passes (a slice waits only for its arrival): the last step's
//     transfer at i finishes at g_{i-S+1} + c_{i-S+1} + ... + c_i (S steps,
//     positions mod p): O(p) with prefix sums;
//   in-order passes (also the rank's own previous send): f_s(i) =
//     max(f_{s-1}(i-1), f_{s-1}(i)) + c_i, O(p) per step; when every rank
//     starts at once, a window formula over "record" positions (the slowest
//     hop so far, looking back), O(p x records).
// Per-rank finish times flow from phase to phase. Every link carries each
// position's bytes once per step: O(p x hops). A test checks the result
// equals the expanded schedule's, transfer by transfer.
#pragma once

#include <vector>

#include "sim/engine/backend.h"
#include "sim/engine/plan.h"

namespace collsim::engine::detail {

// [phase][pass][position]: seconds one transfer (one slice) takes, latency included.
using PassTimes = std::vector<std::vector<std::vector<double>>>;

// Uncontended times: route latency (+ protocol step latency) + slice bytes / route rate.
PassTimes alpha_beta_times(const PlannedSchedule& s, const std::vector<double>& route_rate);

// A lower bound on any pass's last step, from its start: the slowest
// chain of `steps` consecutive positions (times `c`, one slice), as a plain
// pass runs it (an in-order pass only waits longer). O(p).
double pass_chain_bound(const PlannedPass& pass, const std::vector<double>& c);

// Sets r.time_s (the chain) and r.shared_links (some link carries more than
// one transfer of a step), adds r.bytes_sent/received and each link's bytes.
void cost_compact(const Plan& plan, const PlannedSchedule& s, const PassTimes& times, std::vector<double>& link_bytes,
                  ScheduleResult& r);

// A repeated schedule (PlannedSchedule::repeats > 1), given each
// transfer's flow time alone on its route, `alone_s[i]`, and its period
// `period_s[i]` (how long its flow takes while every copy's transfers run
// at once, as a full pipeline keeps them; alone_s on an idle fabric):
// copy k's transfer i finishes at
//   max(ready + route latency + alone_s[i], copy k - 1's finish of i + period_s[i]),
// ready being the launch latency or the latest of its deps in copy k; in
// the last copy, when it is a remainder (last_copy_fraction f < 1),
// alone_s[i] and period_s[i] scale by f (route latencies do not). With
// period_s = alone_s this is the expanded schedule's own rule (a transfer
// starts after its deps' arrival and its connection's previous transfer),
// in O(copies x (transfers + deps)) time and O(transfers) memory; when no
// connection carries two transfers of a copy, in O(transfers + deps); and
// once one connection's queue sets the pace of every later copy (bounds
// from above and below meet within 1e-14, and so do the remainder's run
// from the last whole copy's bounded finishes), the copies left are added
// without running them. Sets
// r.time_s (the last finish), adds r.bytes_sent and r.bytes_received and
// each link's bytes, over every copy.
void cost_repeated(const Plan& plan, const PlannedSchedule& s, const std::vector<double>& alone_s,
                   const std::vector<double>& period_s, std::vector<double>& link_bytes, ScheduleResult& r);

}  // namespace collsim::engine::detail
