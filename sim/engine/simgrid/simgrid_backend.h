// Flow-level backend on SimGrid S4U (CM02 max-min fair sharing).
//
// Exactness (measured on SimGrid 3.32): CM02 with cross-traffic and the TCP
// window off, one SimGrid link per direction, gives size/rate + latency
// exactly. CM02 weights a flow's share by its route latency, so the SimGrid
// links get zero latency and each transfer starts `route latency` after it
// became ready: uncontended times are identical, and flows share equally.
//
// Isolation: SimGrid allows one engine per process, configured once. Each
// run() therefore forks a child that builds the platform, runs every schedule
// back to back (one platform for a whole size sweep) and sends the results to
// the parent through a pipe. A SimGrid abort kills the child, not the caller.
#pragma once

#include "sim/engine/backend.h"

namespace collsim::engine {

class SimGridBackend final : public Backend {
 public:
  std::string name() const override { return "simgrid"; }
  Expected<std::vector<ScheduleResult>> run(const topology::Network& network,
                                            const std::vector<collective::Schedule>& schedules,
                                            const RunOptions& options) override;
};

}  // namespace collsim::engine
