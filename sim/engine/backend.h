// The engine interface: runs schedules on a network and reports when things
// finished. Backends (simgrid now, analytical later) implement it; nothing
// above the engine knows which one runs.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/collective/schedule.h"
#include "sim/core/error.h"
#include "sim/engine/tuner_choice.h"
#include "sim/topology/network.h"

namespace collsim::engine {

struct RunOptions {
  // rank -> endpoint of the network; empty means rank i on endpoint i.
  std::vector<int> rank_to_endpoint;
  // When not empty: one rank map per schedule, overriding rank_to_endpoint.
  std::vector<std::vector<int>> rank_to_endpoint_per_schedule;
  // Keep each transfer's finish time (memory grows with the schedule).
  bool record_transfers = false;
  // Above 1: also replay that many back-to-back runs of each schedule as
  // nccl-tests times them (its -n; nccl_tests_loop.h) into
  // ScheduleResult::loop_time_s. Every schedule is then expanded and its
  // transfers recorded while running, as for record_transfers: callers
  // keep it to schedules of at most kNcclTestsLoopMaxTransfers.
  int nccl_tests_iterations = 1;
  // Called after each schedule finishes with (finished, total). It may run in
  // another process (the SimGrid backend forks): it must only print.
  std::function<void(std::size_t, std::size_t)> on_progress;
  // SimGrid backend: a compact schedule (rings) standing for more transfers
  // than this is simulated one step at a time (aggregated, simgrid_backend.h)
  // instead of transfer by transfer. Named default: tuner_choice.h
  // kDefaultSimgridAggregateAbove; 0 = always, infinity = never.
  double simgrid_aggregate_above = kDefaultSimgridAggregateAbove;
  // Analytical backend: lists of schedules (indices) of which only the
  // fastest matters (a tuner's candidates for one case). In each list, in
  // order of their link-load bounds (bytes on the busiest link / its rate,
  // a lower bound of the analytical time), a schedule whose bound exceeds
  // the best time found so far is not costed: ScheduleResult::pruned, time_s
  // its bound. Schedules in no list are costed. Empty: cost every one.
  std::vector<std::vector<std::size_t>> choose_among;
  // The NCCL release whose tuning tables apply (collective::NcclRelease:
  // the tree's per-channel throughput).
  collective::NcclRelease nccl = collective::kDefaultNcclRelease;
};

struct ScheduleResult {
  double time_s = 0;  // from the first transfer's start to the last arrival
  double bytes_sent = 0;
  double bytes_received = 0;
  std::vector<double> transfer_finish_s;  // relative to the start; only if recorded
  // RunOptions::nccl_tests_iterations above 1: the time per iteration
  // nccl-tests would report (rank-averaged, nccl_tests_loop.h); else 0.
  double loop_time_s = 0;
  // Analytical backend: the busiest link's load, not the transfers' chain,
  // decided the time (transfers shared links: the time is a lower bound).
  bool load_bound = false;
  // Analytical backend, compact schedules: transfers of one step share a
  // link (channels over one NVLink, rings over one uplink), which alpha-beta
  // does not see; the flow-level time may be longer.
  bool shared_links = false;
  // SimGrid backend: simulated one step at a time (RunOptions::simgrid_aggregate_above).
  bool aggregated = false;
  // NCCL's buffer (its window, or Simple's slots on a ring across nodes)
  // held some transfer through the network below its links' rate
  // (detail::TransferTiming::buffer_bound), or Simple's slots cut a ring
  // channel's step into network messages whose cost takes a twentieth of
  // its rate or more; a larger NCCL_BUFFSIZE helps where a step fills its
  // slots.
  bool buffer_bound = false;
  // Not simulated while choosing: time_s is the analytical lower bound,
  // already above another candidate's time (tuner.h run_candidates).
  bool pruned = false;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Runs each schedule alone on an idle network, one after another, and
  // returns one result per schedule, in order.
  virtual Expected<std::vector<ScheduleResult>> run(const topology::Network& network,
                                                    const std::vector<collective::Schedule>& schedules,
                                                    const RunOptions& options) = 0;
};

// The protocol's view of a route: over the network if any link is a NIC
// link (infiniband, ethernet), else PCIe if any link is, else NVLink.
collective::HopKind hop_kind(const topology::Network& network, const std::vector<int>& route);

// The route a connection of `s` takes from GPU endpoint `src` to `dst`:
// out of the NIC of `via` when that is a GPU (Network::exit_via of the
// sender's Schedule::exit_relay; -1: none, Network::exit_route), else
// Network::p2p_route (PXN's relay or a stand-in's NIC) for point-to-point
// messages, rings between domains and GPUs off the network, else the
// direct route. make_plan and the step's cost of calls both route by it.
const std::vector<int>& connection_route(const topology::Network& network, const collective::Schedule& s, int src,
                                         int via, int dst);

// "simgrid" (flow-level, max-min fair sharing) or "analytical" (closed form,
// analytical_backend.h). Error for an unknown name.
Expected<std::unique_ptr<Backend>> make_backend(const std::string& name);

// The memory the guards weigh requests against: this machine's, or
// COLLSIM_MEMORY_GB (COLLSIM_SIMGRID_MEMORY_GB, its older name) when set to
// a positive number (a shared machine, a test). Bytes; 0 if unknown.
double guard_memory_bytes();

}  // namespace collsim::engine
