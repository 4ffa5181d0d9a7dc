// Results of a collective size sweep, printed the way nccl-tests prints them
// (size, count, type, redop, root, then time, algbw, busbw, #wrong out of
// place and in place; GB = 1e9), with collsim's algorithm and protocol
// after them, and as JSON.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace collsim::report {

struct CollectiveRow {
  std::string op;
  std::string algo;
  std::string proto;  // LL, LL128, Simple, none
  double bytes = 0;
  long long count = 0;  // elements of `type`
  std::string type;     // "float", "half", ...
  std::string redop;    // "sum", or "none" for data movement only
  int root = -1;        // broadcast and reduce; -1 for the others (as nccl-tests prints it)
  int ranks = 0;
  double time_us = 0;
  // nccl-tests' loop (`--iters N` above 1, engine/nccl_tests_loop.h):
  // time_us is the time per iteration it reports, and single_us one
  // collective's; loop_iterations is N, or 0 where time_us is one
  // collective's (not asked, or a schedule above
  // engine::detail::kNcclTestsLoopMaxTransfers and too few copies of a
  // slice: then loop_skipped). loop_copies: above 0, a pipeline too long to
  // replay whole was replayed with this many copies of its slice
  // (engine::detail::kNcclTestsLoopMinCopies).
  double single_us = 0;
  int loop_iterations = 0;
  bool loop_skipped = false;
  int loop_copies = 0;
  double algbw_GBps = 0;  // bytes / time
  double busbw_GBps = 0;  // algbw x the op's nccl-tests factor
  // Analytical backend: the schedule's own transfers share links (the
  // link-load bound set the time, or transfers of one ring step share a
  // link), so the closed form is least certain here; the flow-level SimGrid
  // backend may be slower.
  bool contended = false;
  // SimGrid backend: simulated one step at a time (engine::RunOptions::simgrid_aggregate_above).
  bool aggregated = false;
  // NCCL's buffer held a transfer through the network below its links'
  // rate (engine::ScheduleResult::buffer_bound), and no resource was busy
  // for kBindingShare of the time (then that binds, not the buffer).
  bool buffer_bound = false;
  // Where NCCL's own cost model chose the algorithm and protocol (`auto`),
  // or one pair was named (--algo and --proto): its predicted time for
  // them, in us; 0 otherwise (tuned, fastest, point-to-point). collsim's time for
  // the same pair differs from it where the model leaves something out
  // (docs/nccl-choice.md); JSON only.
  double nccl_model_us = 0;
  // All-to-all and send/recv: what NCCL's proxy operations cost the row's
  // time, in us (collective/direct.h: one per part of each message to
  // another node and direction, the link class's p2p_op_cost each); 0
  // otherwise.
  double proxy_us = 0;
  // Algorithms the tuner did not simulate at this size, "name: why" each.
  std::vector<std::string> skipped;
  // What binds: the busiest resource of each class (a link class between
  // two kinds of device, "nvlink5 gpu-nvswitch", or an NVSwitch's reduction
  // engines, workload::kEngineResource), busiest first, at most kBusiestShown. Each is busy for its
  // bytes (on the wire) or adds over its rate (a link's effective rate; the
  // engines' nvls_reduction rate), `share` of the row's time: near 1 it
  // binds, well below 1 latency, a protocol's cap or a buffer does. Empty
  // at size 0 and where busiest_skipped.
  struct Busy {
    std::string resource;  // the class
    std::string where;     // the link ("gpu0->nvswitch0"), or the NVSwitch
    double share = 0;      // busy time / the row's time, in [0, 1] up to rounding
  };
  std::vector<Busy> busiest;
  bool busiest_skipped = false;  // the schedule has more connections than kBusiestMaxConnections
};

inline constexpr std::size_t kBusiestShown = 3;
// Named threshold: a resource busy for at least this share of a row's time
// binds it (nothing else, a buffer included, could save more than 1%).
inline constexpr double kBindingShare = 0.99;

// Named limits: a row's busiest resources are read from the chosen
// schedule's connections (engine::connection_visits), each distinct one
// routed once. Rings' and trees' routes are the plan's, already cached: up
// to kBusiestMaxConnections visits (a ring over 9,216 GPUs adds 4% to its
// run). An all-to-all's pairs are not routed by its cost (legs and
// prefixes, all_pairs_cost.h): each is a route search and a cached route,
// so at most kBusiestMaxPairs of them (about 300 GPUs: 0.5 s and 170 MB at
// a million pairs, measured 2026-12-05). Above either the row says so
// (busiest_skipped).
inline constexpr double kBusiestMaxConnections = 4e6;
inline constexpr double kBusiestMaxPairs = 1e5;

struct CollectiveHeader {
  std::string topology;  // name
  std::string backend;
  std::string op;
  std::string algo;
  int ranks = 0;
  std::string failures;  // topology::FailureSummary::text(); empty when none
  // Where the ranks run when not on every GPU (topology::Placement::where,
  // with the placement asked for); empty otherwise.
  std::string placement;
  // The NCCL release modelled (`--nccl`, or the default).
  std::string nccl;
  // The topology's --set overrides, as given (KEY=VALUE), in order.
  std::vector<std::string> overrides;
  // Some cable runs degraded (topology::FailureSummary::cables_degraded).
  bool degraded = false;
};

std::string format_collective_table(const CollectiveHeader& header, const std::vector<CollectiveRow>& rows);
// {"topology":..., "backend":..., "results": [{"op","algo","bytes","ranks","time_us","algbw_GBps","busbw_GBps",...}]}
std::string collective_json(const CollectiveHeader& header, const std::vector<CollectiveRow>& rows);
// The rows in nccl-tests' own JSON schema (its -J output: config, results
// with size, count, type, redop, root, out_of_place and in_place {time,
// alg_bw, bus_bw, nwrong}, average_bus_bandwidth), each result also
// carrying a "collsim" object (topology, backend, op, algo, proto). nwrong
// is null: no data is checked. NVIDIA/nccl-tests src/util.cu.
std::string nccl_tests_json(const CollectiveHeader& header, const std::vector<CollectiveRow>& rows);

}  // namespace collsim::report
