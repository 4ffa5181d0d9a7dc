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
// their p x steps transfers (compact_cost.h) and give the same times as
// their expansion (a test checks it on uneven rings); a ring step whose
// transfers share a link sets ScheduleResult::shared_links.
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
