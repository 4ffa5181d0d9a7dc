// Flow-level backend on SimGrid S4U (CM02 max-min fair sharing).
//
// Exactness (measured on SimGrid 3.32): CM02 with cross-traffic and the TCP
// window off, one SimGrid link per direction, gives size/rate + latency
// exactly. CM02 weights a flow's share by its route latency, so the SimGrid
// links get zero latency and collsim pays each route's latency itself: a
// transfer's flow starts as soon as it is ready and it arrives `route
// latency` after its last byte left (a transfer queued behind it on its
// connection starts flowing then, so their latencies overlap). Uncontended
// times are size/rate + latency exactly, and flows share equally.
//
// Latency after the flow, not before it (the choice until 2026-11-30): the
// two are the same on idle links; with contention they differ by at most
// the route latencies (microseconds against milliseconds of flow: 64-GPU
// all-to-all of 128 MiB, 52.375 -> 52.367 GB/s busbw). Paid before, every
// distinct route latency started its flows at a distinct instant, and each
// instant re-solved the whole max-min system: a 128-GPU all-to-all took
// 153 s. Paid after, transfers ready together start together: 1.2 s.
//
// Flows are mailbox puts to a permanent receiver on the destination host,
// one short-lived actor per transfer in flight, with 16 KiB stacks
// (dag_runner.cc: 8 KiB passed the whole test suite with guard pages on);
// guard pages are dropped when a schedule keeps more transfers in flight
// than the kernel's default map limit allows (65,530 maps, two per stack).
//
// Isolation: SimGrid allows one engine per process, configured once. Each
// run() therefore forks a child that builds the platform, runs every schedule
// back to back (one platform for a whole size sweep) and sends the results to
// the parent through a pipe. A SimGrid abort kills the child, not the caller.
#pragma once

#include "sim/engine/backend.h"

namespace collsim::engine {

// The memory guard run() applies before it forks: whether `transfers`
// flows in flight at once, at `bytes_each` of simulator memory apiece, fit
// in half of guard_memory_bytes() (backend.h); else an input error naming
// --backend analytical.
// Callers that know a schedule's first wave before building it (an
// all-to-all: p (p - 1) transfers at once) check it first.
inline constexpr double kSimGridBytesPerTransferInFlight = 20 * 1024;
Expected<bool> simgrid_fits_in_flight(double transfers, double bytes_each = kSimGridBytesPerTransferInFlight);

class SimGridBackend final : public Backend {
 public:
  std::string name() const override { return "simgrid"; }
  Expected<std::vector<ScheduleResult>> run(const topology::Network& network,
                                            const std::vector<collective::Schedule>& schedules,
                                            const RunOptions& options) override;
};

}  // namespace collsim::engine
