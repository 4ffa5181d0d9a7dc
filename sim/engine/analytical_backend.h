// Closed-form backend: runs the same plan as the SimGrid backend without
// per-flow events.
//
// Each transfer takes its route latency, then bytes / (the narrowest
// effective rate on its route) once its dependencies have arrived (and, on a
// FIFO connection, once the transfer ahead of it has finished): the
// alpha-beta model, exact when no two transfers share a link at the same
// time. Sharing inside a schedule is bounded from below by the link-load
// bound: no schedule finishes before its busiest link has carried its bytes
// (bytes / rate). The result is the larger of the two. Exact on idle
// networks for schedules whose concurrent transfers use disjoint links (a
// ring on a switch, a pipelined chain); optimistic where transfers contend
// part of the time (ScheduleResult::load_bound says which bound decided).
//
// Compact schedules (ring passes, schedule.h RingPass) are costed without
// their p x steps transfers and give the same times as their expansion
// (a test checks it on uneven rings). With c_i the time of position i's
// transfer (latency + slice bytes / rate) and g_i when its rank may start:
//   plain passes (a slice waits only for its arrival): the last step's
//     transfer at i finishes at g_{i-S+1} + c_{i-S+1} + ... + c_i (S steps,
//     positions mod p): O(p) with prefix sums;
//   in-order passes (also the rank's own previous send): f_s(i) =
//     max(f_{s-1}(i-1), f_{s-1}(i)) + c_i, O(p) per step; when every rank
//     starts at once, a window formula over "record" positions (the slowest
//     hop so far, looking back), O(p x records).
// Every link carries each position's bytes once per step: O(p x hops).
#pragma once

#include "sim/engine/backend.h"

namespace collsim::engine {

class AnalyticalBackend final : public Backend {
 public:
  std::string name() const override { return "analytical"; }
  Expected<std::vector<ScheduleResult>> run(const topology::Network& network,
                                            const std::vector<collective::Schedule>& schedules,
                                            const RunOptions& options) override;
};

}  // namespace collsim::engine
