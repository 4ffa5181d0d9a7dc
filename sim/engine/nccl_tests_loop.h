// nccl-tests' timed loop: what its time column reports, as opposed to one
// collective's time.
//
// nccl-tests (its src/common.cu, benchmark loop) passes a barrier, launches
// `iters` collectives back to back on every rank's stream (20 by default:
// -n), waits for its own stream, and reports each rank's elapsed time over
// `iters`, averaged over the ranks (-a 1, the default). A rank's kernel for
// iteration k starts when its kernel for k - 1 has ended; nothing else
// waits. Where every rank's result needs every rank's input (all-reduce,
// all-gather, reduce-scatter, all-to-all) the ranks move in step and the
// loop's time is one collective's; where they do not (a broadcast's root
// and the ranks near it, a reduce's far end), iteration k + 1 starts while
// k still runs down the chain, and a small broadcast on 32 H100s reports
// about one hop's time, not its 31 hops'.
//
// The loop is replayed from one collective's simulated transfer times,
// APPROXIMATION (named): each transfer of iteration k takes as long, from
// when it may start, as it took in the single collective (its flow time and
// its route latency); overlapping iterations' contention for links is not
// simulated. Iteration k's transfer from rank r's host starts after its
// deps of iteration k, its connection's transfer ahead of it (FIFO, as in
// the single run) and r's kernel end of iteration k - 1 plus the launch
// latency, and after its receiver has read enough of the connection's
// earlier bytes (this iteration's and the ones before) that the rest fit
// its buffer (PlannedTransfer::window_bytes, NCCL's slots, one channel's;
// APPROXIMATION: one channel's even where a connection stands for
// several): iterations the receiver finished were read whole, its current
// one is read from its kernel's start. r's kernel ends at the last arrival of a transfer it sends or
// receives in the iteration (and never before its launch). Hosts that are
// not ranks (NVSwitch reduction engines) run no kernel.
#pragma once

#include <vector>

#include "sim/engine/plan.h"

namespace collsim::engine::detail {

// Named limit: the loop is replayed for schedules of at most this many
// transfers (an expanded schedule's, every copy written out); above it
// nccl_tests_loop_s is not called and a collective's own time stands
// (collective_sweep.cc). 2e5, the SimGrid backend's default aggregation
// threshold (tuner_choice.h kDefaultSimgridAggregateAbove): the size below
// which transfers are simulated one by one anyway.
inline constexpr double kNcclTestsLoopMaxTransfers = 2e5;

// Named limits and APPROXIMATION (nccl_tests_loop_fewer_copies): a
// pipelined schedule (collective::Schedule::repeats) above
// kNcclTestsLoopMaxTransfers is replayed with fewer copies of its slice,
// kNcclTestsLoopCopies or as many as fit the limit, and its loop time is its
// own single run's less what the loop hid of the shorter one (single less
// loop time): the chain's fill that later iterations overlap, which depends
// on the slice and the hops, not on how many slices follow. On 16 H100
// nodes (LL128 broadcast, 4-64 MiB, one slice) the replays hide 123.1-123.3
// us at every size; a 4 MiB LL broadcast on 32 nodes gives 718.1 to 718.8
// us per iteration with 39 to 1,960 copies (the whole replay, cut by
// kNcclTestsLoopWork at 4.2 M transfers, 777). Below kNcclTestsLoopMinCopies
// (a connection's 8 NCCL steps) the loop may not reach its steady state:
// the row stays one collective's (loop_skipped).
inline constexpr int kNcclTestsLoopCopies = 32;
inline constexpr int kNcclTestsLoopMinCopies = 8;

// Named limit: transfers replayed in all (iterations x transfers), about
// half a second. Past it, and as soon as the loop is steady (every rank's
// kernel ending the same time later each iteration, which a replay reaches
// after the chain's fill), the iterations left are added at each rank's
// last increment: exact once steady, an APPROXIMATION where the budget
// cut it first. Memory: the last few iterations' kernel ends only.
inline constexpr double kNcclTestsLoopWork = 5e7;

// The time per iteration nccl-tests reports for `iterations` back-to-back
// runs of `s` (an explicit schedule: no compact passes, repeats == 1),
// given each transfer's arrival in one run, `finish_s` (seconds from the
// schedule's start, one per transfer), and its ranks' hosts
// (PlannedSchedule::rank_hosts, filled when transfers are recorded; a
// relayed send, from Plan::relay_sender's host, is its sender's).
// REQUIRES: iterations >= 1, finish_s.size() == s.transfers.size().
// With iterations == 1: the mean over ranks of each rank's last arrival.
double nccl_tests_loop_s(const Plan& plan, const PlannedSchedule& s, const std::vector<double>& finish_s,
                         int iterations);

}  // namespace collsim::engine::detail
