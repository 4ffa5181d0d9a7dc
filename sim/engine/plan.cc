#include "sim/engine/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/collective/protocol.h"

namespace collsim::engine::detail {

Expected<Plan> make_plan(const topology::Network& network, const std::vector<collective::Schedule>& schedules,
                                 const RunOptions& options) {
  Plan plan;
  plan.host_names = network.endpoints();
  plan.links = network.links();
  plan.record_transfers = options.record_transfers;
  plan.on_progress = options.on_progress;
  std::map<std::pair<int, int>, bool> routed;
  if (!options.rank_to_endpoint_per_schedule.empty() &&
      options.rank_to_endpoint_per_schedule.size() != schedules.size()) {
    return make_error("one rank map per schedule expected");
  }
  for (std::size_t si = 0; si < schedules.size(); ++si) {
    const auto& s = schedules[si];
    const std::vector<int>& rank_map =
        options.rank_to_endpoint_per_schedule.empty() ? options.rank_to_endpoint : options.rank_to_endpoint_per_schedule[si];
    if (rank_map.empty() && s.ranks > network.num_gpus()) {
      return make_error(fmt::format("{} needs {} ranks but the topology has {} GPUs", s.op, s.ranks,
                                    network.num_gpus()));
    }
    if (!collective::protocol_supported(s.latency_family, s.protocol)) {
      return make_error(fmt::format("{} ({}) does not run the {} protocol", s.op, s.algo,
                                    collective::protocol_name(s.protocol)));
    }
    auto endpoint = [&](int rank) -> int {
      const int gpu_of_rank0 = rank_map.empty() ? 0 : rank_map.front();
      if (rank >= s.ranks) return network.nvswitch_endpoint_near(gpu_of_rank0);  // helper: the NVSwitch
      if (rank_map.empty()) return rank;
      return rank < static_cast<int>(rank_map.size()) ? rank_map[rank] : -1;
    };
    PlannedSchedule planned;
    planned.transfers.reserve(s.transfers.size());
    for (std::size_t i = 0; i < s.transfers.size(); ++i) {
      const auto& t = s.transfers[i];
      if (t.queue_after >= static_cast<int>(i)) {
        return make_error(fmt::format("transfer {} queues after transfer {}, which is not before it", i, t.queue_after));
      }
      const int src = endpoint(t.src), dst = endpoint(t.dst);
      if (src < 0 || dst < 0 || src >= network.num_endpoints() || dst >= network.num_endpoints()) {
        if (t.src >= s.ranks || t.dst >= s.ranks) {
          return make_error(fmt::format("{} ({}) needs an NVSwitch next to the GPUs, and this topology has none",
                                        s.op, s.algo));
        }
        return make_error(fmt::format("rank {} or {} has no GPU in the rank map", t.src, t.dst));
      }
      if (src == dst) return make_error(fmt::format("a transfer from rank {} to itself", t.src));
      const auto& route = network.route(src, dst);
      if (route.empty()) {
        return make_error(fmt::format("no route from {} to {}", network.endpoints()[src], network.endpoints()[dst]));
      }
      if (!routed[{src, dst}]) {
        routed[{src, dst}] = true;
        plan.routes.push_back(Plan::Route{src, dst, route});
      }
      const auto costs = collective::protocol_costs(s.latency_family, s.protocol, hop_kind(network, route));
      planned.launch_latency_s = std::max(planned.launch_latency_s, costs.launch_latency_s);
      planned.transfers.push_back(PlannedTransfer{src, dst, t.bytes / costs.payload_fraction,
                                                          network.route_latency_s(route) + costs.step_latency_s,
                                                          t.deps, t.queue_after});
    }
    plan.schedules.push_back(std::move(planned));
  }
  return plan;
}

}  // namespace collsim::engine::detail
