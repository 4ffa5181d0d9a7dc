// What each collective of a step costs when it runs alone: its time on the
// engine backend (the algorithm and protocol chosen as NCCL's tuner would,
// or as the workload names them) and the bytes it puts on every link.
//
// Calls whose groups are wired alike (the same schedule over routes with the
// same shape: the same links shared in the same pattern, with the same rates
// and latencies) run once: a cluster's 72 TP groups inside NVL72 racks cost
// one simulation, not 72. The result is exact, not an approximation: the
// backend sees the same platform either way.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/error.h"
#include "sim/engine/backend.h"
#include "sim/engine/tuner.h"
#include "sim/topology/network.h"
#include "sim/workload/step_graph.h"

namespace collsim::workload {

struct CommCost {
  double time_s = 0;  // alone on an idle network
  std::string algo, proto;
  std::vector<std::pair<int, double>> link_bytes;  // network link -> bytes on the wire
  double bytes_sent = 0;                           // payload all ranks send, summed
  // NVSwitch endpoint -> the bytes of adds its reduction engines make for
  // this collective (an NVLS reduction: (p - 1) x the buffer per switch,
  // collective::Schedule::switch_inputs), at the engines' rate
  // (Network::nvls_reduction_rate_Bps): concurrent collectives in one
  // NVLink domain share them as they share links (step_sim.h).
  std::vector<std::pair<int, double>> engine_adds;
};

// The tuner's choice (engine/tuner.h); a named algorithm is used wherever
// it implements the op, the other ops keep their NCCL default.
using CommChoice = engine::TunerChoice;

struct CommCostStats {
  std::size_t calls = 0, distinct = 0, simulated_schedules = 0;
  // Algorithms the tuner did not simulate, "op of N bytes over G GPUs: algo: why", each once.
  std::vector<std::string> skipped;
};

Expected<std::vector<CommCost>> cost_calls(const std::vector<CommCall>& calls, const topology::Network& network,
                                           engine::Backend& backend, const CommChoice& choice,
                                           CommCostStats* stats = nullptr,
                                           const std::function<void(std::size_t, std::size_t)>& on_progress = {});

}  // namespace collsim::workload
