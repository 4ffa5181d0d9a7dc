#include "sim/cli/collective_sweep.h"

#include <fmt/format.h>

#include "sim/collective/algorithms.h"
#include "sim/collective/protocol.h"

namespace collsim::cli {

Expected<std::vector<report::CollectiveRow>> run_collective_sweep(
    const SweepRequest& request, const topology::Network& network, engine::Backend& backend,
    const std::function<void(std::size_t, std::size_t)>& on_progress) {
  const auto algos = request.algo == "auto" ? collective::algorithms_for(request.op)
                                            : std::vector<std::string>{request.algo};
  auto protos = collective::protocol_candidates(request.proto);
  if (!protos) return protos.error();
  const bool choosing = request.algo == "auto" || request.proto == "auto";

  collective::AlgoParams params;
  params.root = request.root;
  params.nvls_efficiency = network.nvls_efficiency_near(0);
  for (int r = 0; r < request.ranks; ++r) params.domain_of_rank.push_back(network.nvlink_domain_of(r));

  // candidates[i] = schedules for sizes[i]; all of them run in one backend call.
  std::vector<collective::Schedule> schedules;
  std::vector<std::vector<std::size_t>> candidates(request.sizes.size());
  std::vector<long long> counts;
  std::string last_refusal;
  for (std::size_t i = 0; i < request.sizes.size(); ++i) {
    const long long count = static_cast<long long>(request.sizes[i]) / request.type_size;
    counts.push_back(count);
    for (const auto& algo : algos) {
      for (auto proto : *protos) {
        params.protocol = proto;
        auto s = collective::build_schedule(request.op, algo, request.ranks,
                                            static_cast<double>(count) * request.type_size, params);
        if (!s) {
          if (!choosing) return s.error();
          last_refusal = s.error().message;
          continue;  // e.g. nvls without an NVSwitch, or LL on nvls
        }
        const double work = s->transfer_count() * request.ranks;
        if (request.algo == "auto" && work > request.auto_max_work) {
          last_refusal = fmt::format("every algorithm costs more than {:g} transfers x ranks at this size; name one "
                                     "with --algo (rhd is cheapest to simulate) or raise --auto-max-work",
                                     request.auto_max_work);
          continue;
        }
        candidates[i].push_back(schedules.size());
        schedules.push_back(std::move(*s));
      }
    }
    if (candidates[i].empty()) return make_error(last_refusal);
  }

  engine::RunOptions options;
  options.on_progress = on_progress;
  options.simgrid_aggregate_above = request.simgrid_aggregate_above;
  auto results = backend.run(network, schedules, options);
  if (!results) return results.error();

  std::vector<report::CollectiveRow> rows;
  const bool reduces = request.op == collective::Op::kAllReduce || request.op == collective::Op::kReduceScatter ||
                       request.op == collective::Op::kReduce;
  for (std::size_t i = 0; i < request.sizes.size(); ++i) {
    std::size_t best = candidates[i].front();
    for (std::size_t c : candidates[i])
      if ((*results)[c].time_s < (*results)[best].time_s) best = c;
    const auto& s = schedules[best];
    const double t = (*results)[best].time_s;
    report::CollectiveRow r;
    r.op = s.op;
    r.algo = s.algo;
    r.proto = std::string(collective::protocol_name(s.protocol));
    r.bytes = s.bytes;
    r.count = counts[i];
    r.type = request.type_name;
    r.redop = reduces ? request.redop : "none";
    r.ranks = request.ranks;
    r.time_us = t * 1e6;
    r.contended = (*results)[best].load_bound || (*results)[best].shared_links;
    r.aggregated = (*results)[best].aggregated;
    r.algbw_GBps = t > 0 ? s.bytes / t / 1e9 : 0;
    r.busbw_GBps = r.algbw_GBps * collective::busbw_factor(request.op, request.ranks);
    rows.push_back(r);
  }
  return rows;
}

Expected<int> datatype_size(const std::string& name) {
  static const std::vector<std::pair<std::string, int>> types{
      {"int8", 1},  {"uint8", 1},  {"f8e4m3", 1}, {"f8e5m2", 1}, {"half", 2},   {"bfloat16", 2},
      {"int32", 4}, {"uint32", 4}, {"float", 4},  {"int64", 8},  {"uint64", 8}, {"double", 8},
  };
  for (const auto& [n, size] : types)
    if (n == name) return size;
  return make_error(fmt::format("unknown datatype '{}': expected one of int8, uint8, f8e4m3, f8e5m2, half, "
                                "bfloat16, int32, uint32, float, int64, uint64, double",
                                name));
}

}  // namespace collsim::cli
