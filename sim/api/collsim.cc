// The public API (include/collsim/collsim.h) over the pieces the command
// line uses: the same readers, tuner sweep and step pipeline, so a script
// and `collsim collective` / `collsim run` give the same numbers.
#include "collsim/collsim.h"

#include <fmt/format.h>

#include <optional>

#include "sim/cli/collective_sweep.h"
#include "sim/cli/step_run.h"
#include "sim/collective/protocol.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/engine/tuner_choice.h"
#include "sim/report/step_report.h"
#include "sim/topology/topology.h"

namespace collsim::api {

namespace {

[[noreturn]] void raise(const collsim::Error& e) { throw Error(e.to_string(), !e.internal()); }
[[noreturn]] void raise_input(const std::string& message) { throw Error(message, true); }

template <class T>
T take(Expected<T>&& e) {
  if (!e) raise(e.error());
  return std::move(*e);
}

}  // namespace

std::string version() { return COLLSIM_VERSION; }

std::vector<CollectiveRow> run_collective(const CollectiveRequest& request) {
  const auto op = collective::parse_op(request.op);
  if (!op) raise_input(fmt::format("op: unknown collective '{}'", request.op));
  engine::TunerChoice choice;
  choice.algorithm = engine::algorithm_name(request.algo);
  choice.protocol = request.proto;
  if (auto s = engine::check_choice(choice); !s) raise_input(fmt::format("{}: {}", s.error().field, s.error().message));
  if (auto a = engine::candidate_algorithms(*op, choice); !a) raise_input("algo: " + a.error().message);
  const int type_size = take(cli::datatype_size(request.datatype));
  const std::string& redop = request.redop;
  if (!cli::known_redop(redop))
    raise_input(fmt::format("redop: expected sum, prod, min, max or avg, found '{}'", redop));
  for (double s : request.sizes) {
    if (!(s >= 1 && s <= cli::kMaxCollectiveBytes))
      raise_input(fmt::format("sizes: expected sizes from 1 byte to 1 PiB, found {}", s));
  }

  std::optional<topology::Network> network;
  {
    auto spec = take(config::load_topology_file(request.topology, request.topology_sets));
    const auto topo = take(topology::build_topology(spec));
    network.emplace(topo);
  }
  cli::SweepRequest sweep;
  sweep.op = *op;
  sweep.algo = request.algo;
  sweep.proto = request.proto;
  sweep.sizes = request.sizes.empty() ? std::vector<double>{32.0 * 1024 * 1024} : request.sizes;
  sweep.type_size = type_size;
  sweep.type_name = request.datatype;
  sweep.redop = redop;
  sweep.ranks = request.ranks == 0 ? network->num_gpus() : request.ranks;
  if (sweep.ranks < 2 || sweep.ranks > network->num_gpus())
    raise_input(fmt::format("ranks: expected 0 (all) or 2 to {} (the topology's GPUs), found {}", network->num_gpus(),
                            request.ranks));
  if (request.root < 0 || request.root >= sweep.ranks)
    raise_input(fmt::format("root: expected a rank from 0 to {}, found {}", sweep.ranks - 1, request.root));
  if (request.placement != "all") {
    if (request.ranks != 0) raise_input("ranks and placement both choose the GPUs: give one of them");
    take(cli::place_ranks(*network, request.placement, "placement", sweep));
    if (request.root < 0 || request.root >= sweep.ranks)
      raise_input(fmt::format("root: expected a rank from 0 to {}, found {}", sweep.ranks - 1, request.root));
  }
  sweep.root = request.root;
  if (!request.nccl.empty()) {
    auto nccl = collective::parse_nccl_release(request.nccl);
    if (!nccl) raise_input("nccl: " + nccl.error().message);
    sweep.nccl = *nccl;
  }
  auto backend = take(engine::make_backend(request.backend));
  const auto rows = take(cli::run_collective_sweep(sweep, *network, *backend));
  std::vector<CollectiveRow> out;
  for (const auto& r : rows) {
    std::vector<CollectiveRow::Busy> busiest;
    for (const auto& b : r.busiest) busiest.push_back({b.resource, b.where, b.share});
    out.push_back(CollectiveRow{r.op, r.algo, r.proto, r.bytes, r.count, r.type, r.redop, r.ranks, r.time_us,
                                r.algbw_GBps, r.busbw_GBps, r.aggregated, r.skipped, std::move(busiest),
                                r.busiest_skipped, r.root, r.contended, r.buffer_bound, r.nccl_model_us});
  }
  return out;
}

StepResult run_step(const StepRequest& request) {
  cli::StepRequest req;
  req.topology_file = request.topology;
  req.workload_file = request.workload;
  req.topology_sets = request.topology_sets;
  req.workload_sets = request.workload_sets;
  req.backend = request.backend;
  req.what_if = request.what_if;
  req.memory_check = request.memory_check;
  req.placement = request.placement;
  const auto run = take(cli::run_step(req));
  const auto& res = run->result;
  StepResult out;
  out.step_time_s = res.step_time_s;
  out.compute_s = res.compute_s;
  out.bubble_s = res.bubble_s;
  for (double e : res.exposed_s) out.exposed_communication_s += e;
  const auto throughput = report::throughput(run->report);
  out.tokens_per_s = throughput.tokens_per_s;
  out.mfu = throughput.mfu;
  out.peak_memory_bytes = run->report.memory.stages.empty() ? 0 : run->report.memory.peak().total();
  out.hbm_capacity_bytes = run->report.memory.capacity;
  out.gpus = run->report.gpus;
  out.json = report::step_json(run->report);
  return out;
}

}  // namespace collsim::api
