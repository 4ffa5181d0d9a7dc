// One collective over a range of sizes on one network: builds the candidate
// schedules (every algorithm x protocol when "auto"), runs them all on the
// backend in one go, and keeps the fastest per size, as NCCL's tuner would.
// Shared by `collsim collective` and `collsim validate`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/collective/ops.h"
#include "sim/core/error.h"
#include "sim/engine/backend.h"
#include "sim/report/collective_table.h"
#include "sim/topology/network.h"

namespace collsim::cli {

struct SweepRequest {
  collective::Op op = collective::Op::kAllReduce;
  std::string algo = "auto";   // or a name from collective::algorithms_for
  std::string proto = "auto";  // or LL, LL128, Simple, none
  std::vector<double> sizes;   // bytes, as nccl-tests prints them
  int type_size = 4;
  std::string type_name = "float";
  std::string redop = "sum";
  int ranks = 0;
  int root = 0;
  // Under "auto", candidates whose transfers x ranks exceed this are skipped:
  // a rough proxy for the SimGrid backend's cost, whose time per transfer
  // grows with the number of ranks (about 1 s per 20 M here: 1,024-GPU tree
  // all-reduce, 131k transfers, took 140 s; 72-GPU NVLS, 331k, a few
  // seconds). A named default; an explicitly requested algorithm always runs.
  double auto_max_work = 50e6;
  double simgrid_aggregate_above = 1e6;  // engine::RunOptions::simgrid_aggregate_above
};

// Bytes per element of an nccl-tests datatype name ("float" -> 4).
Expected<int> datatype_size(const std::string& name);

// An explicitly requested algorithm or protocol that cannot run here is an
// error; under "auto" such candidates are skipped.
Expected<std::vector<report::CollectiveRow>> run_collective_sweep(
    const SweepRequest& request, const topology::Network& network, engine::Backend& backend,
    const std::function<void(std::size_t, std::size_t)>& on_progress = {});

}  // namespace collsim::cli
