#include "sim/workload/what_if.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/config/link_classes.h"
#include "sim/topology/network.h"
#include "sim/units/units.h"

namespace collsim::workload {

std::string resource_of(const std::string& link_class, config::DeviceKind a, config::DeviceKind b) {
  std::string x = config::to_string(a), y = config::to_string(b);
  if (y < x) std::swap(x, y);
  return fmt::format("{} {}-{}", link_class, x, y);
}

namespace {

// A rate per lane: one cable (one port) of a scale-out class, one NVLink
// or x16 slot of the others (a link of 18 lanes is 18 cables or NVLinks).
std::string rate_text(const std::string& link_class, double bytes_per_s) {
  if (config::is_scale_out_class(link_class)) return fmt::format("{:g} Gb/s", bytes_per_s * 8 / 1e9);
  return units::format(units::Rate{bytes_per_s}) + " per link";
}

double percent(double x, double base) { return base > 0 ? (x - base) / base * 100 : 0; }

// A copy of `topo` with the rate of every link of the `resources` classes
// multiplied by `factor`; `rates` gets their original rates per lane.
topology::Topology scaled(const topology::Topology& topo, const std::set<std::string>& resources, double factor,
                          std::set<double>* rates = nullptr, std::string* link_class = nullptr) {
  topology::Topology changed = topo;
  const auto& g = topo.graph;
  for (auto [e, end] = boost::edges(changed.graph); e != end; ++e) {
    auto& link = changed.graph[*e];
    if (!resources.count(resource_of(link.link_class, g[boost::source(*e, g)].kind, g[boost::target(*e, g)].kind)))
      continue;
    if (rates) rates->insert(link.rate_Bps / std::max(1, link.lanes));
    if (link_class) *link_class = link.link_class;
    link.rate_Bps *= factor;
  }
  return changed;
}

}  // namespace

std::vector<std::pair<std::string, double>> critical_resources(const StepGraph& graph,
                                                               const std::vector<CommCost>& costs,
                                                               const StepResult& result,
                                                               const topology::Network& network) {
  std::map<std::string, double> seconds;
  for (int op : result.critical_path) {
    const StepOp& o = graph.ops[op];
    if (o.kind != StepOp::Kind::kComm) continue;
    std::set<std::string> used;
    for (int c : o.calls)
      for (auto [l, b] : costs[c].link_bytes) {
        const auto& link = network.links()[l];
        used.insert(resource_of(link.link_class, link.from_kind, link.to_kind));
      }
    for (const auto& r : used) seconds[r] += result.finish_s[op] - result.start_s[op];
  }
  std::vector<std::pair<std::string, double>> out(seconds.begin(), seconds.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

Expected<std::vector<WhatIf>> run_what_ifs(const config::TopologySpec& spec, const topology::Topology& topo,
                                           const StepGraph& graph, const std::vector<CommCost>& costs,
                                           const StepResult& baseline, const CommChoice& choice,
                                           engine::Backend& backend, const WhatIfOptions& options,
                                           const std::function<void(const std::string&)>& on_start) {
  std::vector<WhatIf> out;
  const double base = baseline.step_time_s;
  auto rerun_network = [&](const topology::Topology& changed) -> Expected<double> {
    const topology::Network net(changed);
    auto new_costs = cost_calls(graph.calls, net, backend, choice);
    if (!new_costs) return new_costs.error();
    return simulate_step(graph, *new_costs, net).step_time_s;
  };
  const auto& g = topo.graph;

  // GPU compute.
  if (on_start) on_start("GPU compute");
  {
    StepSimOptions o;
    o.compute_scale = 1 / options.speedup;
    topology::Network net(topo);
    const double t = simulate_step(graph, costs, net, o).step_time_s;
    out.push_back(WhatIf{"GPU compute", fmt::format("{:g}x faster", options.speedup), baseline.critical_compute_s, t,
                         percent(t, base)});
  }

  // HBM bandwidth: the kernels re-timed, the same collectives.
  if (options.workload && options.gpu && options.workload->compute.by_kernel() && options.gpu->hbm_Bps > 0) {
    if (on_start) on_start("GPU HBM");
    StepGpu faster = *options.gpu;
    faster.hbm_Bps *= options.speedup;
    const topology::Network net(topo);
    auto changed =
        compile_step(*options.workload, net, faster, options.placement ? *options.placement : std::vector<int>{});
    if (!changed) return changed.error();
    if (changed->calls.size() != graph.calls.size() || changed->ops.size() != graph.ops.size())
      return make_internal_error("the step compiled with faster HBM has other collectives");
    const double t = simulate_step(*changed, costs, net).step_time_s;
    out.push_back(WhatIf{"GPU HBM",
                         fmt::format("{} -> {}", units::format(units::Rate{options.gpu->hbm_Bps}),
                                     units::format(units::Rate{faster.hbm_Bps})),
                         0, t, percent(t, base)});
  }

  // Link classes on the critical path.
  const topology::Network base_net(topo);
  const auto resources = critical_resources(graph, costs, baseline, base_net);
  // The scale-out path's classes (below): PCIe to the NIC, NIC, fabric.
  auto scale_out = [](const std::string& resource) {
    return resource.rfind("nvlink", 0) != 0 && resource.rfind("c2c", 0) != 0;
  };
  const auto on_path =
      std::count_if(resources.begin(), resources.end(), [&](const auto& r) { return scale_out(r.first); });
  int tried = 0;
  for (const auto& [resource, seconds] : resources) {
    if (tried++ >= options.max_link_classes) break;
    if (on_start) on_start(resource);
    std::set<double> rates;
    std::string cls;
    auto t = rerun_network(scaled(topo, {resource}, options.speedup, &rates, &cls));
    if (!t) return t.error();
    std::string what = rates.size() == 1 ? fmt::format("{} -> {}", rate_text(cls, *rates.begin()),
                                                       rate_text(cls, *rates.begin() * options.speedup))
                                         : fmt::format("{:g}x the rate", options.speedup);
    // One class of several in series (a 400G NIC and its PCIe hops): the
    // scale-out path row raises them together, as a real upgrade would.
    if (scale_out(resource) && on_path > 1) what += " (this class alone)";
    out.push_back(WhatIf{resource, what, seconds, *t, percent(*t, base)});
  }

  // NVSwitches' reduction engines, when a collective on the critical path
  // reduces in them (NVLS): their rate (nvls_reduction) x the speed-up.
  {
    double seconds = 0;
    for (int op : baseline.critical_path) {
      const StepOp& o = graph.ops[op];
      if (o.kind != StepOp::Kind::kComm) continue;
      const bool reduces = std::any_of(o.calls.begin(), o.calls.end(),
                                       [&](int c) { return !costs[static_cast<std::size_t>(c)].engine_adds.empty(); });
      if (reduces) seconds += baseline.finish_s[op] - baseline.start_s[op];
    }
    if (seconds > 0) {
      if (on_start) on_start(kEngineResource);
      topology::Topology changed = topo;
      for (auto [e, end] = boost::edges(changed.graph); e != end; ++e)
        changed.graph[*e].nvls_reduction *= options.speedup;
      auto t = rerun_network(changed);
      if (!t) return t.error();
      out.push_back(WhatIf{kEngineResource, fmt::format("{:g}x the adds per second (nvls_reduction)", options.speedup),
                           seconds, *t, percent(*t, base)});
    }
  }

  // The whole scale-out path at once (PCIe to the NIC, NIC, fabric): its
  // classes are often co-bottlenecks, so upgrading one alone buys nothing.
  {
    std::set<std::string> path;
    for (const auto& [resource, seconds] : resources)
      if (scale_out(resource)) path.insert(resource);
    if (path.size() > 1) {
      if (on_start) on_start("scale-out path");
      auto t = rerun_network(scaled(topo, path, options.speedup));
      if (!t) return t.error();
      std::string names;
      for (const auto& p : path) names += (names.empty() ? "" : " + ") + p;
      double seconds = 0;
      for (const auto& [resource, s] : resources)
        if (path.count(resource)) seconds = std::max(seconds, s);
      out.push_back(WhatIf{"scale-out path", fmt::format("{:g}x the rate of {}", options.speedup, names), seconds, *t,
                           percent(*t, base)});
    }
  }

  // NCCL's queue pairs: where a ring channel's network rate is its queue
  // pairs' (collective/protocol.h ring_channel_net_GBps: the NIC link
  // class's qp_rate_GBps per queue pair), a faster NIC can buy nothing while
  // a setting does. Tried when the critical path leaves the NVLink domain.
  {
    const bool network_on_path = std::any_of(resources.begin(), resources.end(), [](const auto& r) {
      return r.first.rfind("nvlink", 0) != 0 && r.first.rfind("c2c", 0) != 0 && r.first != kEngineResource;
    });
    if (network_on_path && !topo.qp_rate_GBps.empty() && topo.ring_channel_net_GBps < 0 &&
        topo.ib_qps_per_connection < 16) {
      if (on_start) on_start("NCCL queue pairs");
      topology::Topology changed = topo;
      changed.ib_qps_per_connection *= 2;
      auto t = rerun_network(changed);
      if (!t) return t.error();
      out.push_back(
          WhatIf{"NCCL queue pairs",
                 fmt::format("{} -> {} per connection (NCCL_IB_QPS_PER_CONNECTION, a setting: "
                             "--set nccl.ib_qps_per_connection={})",
                             topo.ib_qps_per_connection, changed.ib_qps_per_connection, changed.ib_qps_per_connection),
                 0, *t, percent(*t, base)});
    }
  }

  // In-network reduction: an InfiniBand fabric whose switches do not reduce
  // yet, under all-reduces across NVLink domains, re-run with SHARP on every
  // infiniband switch and NCCL's CollNet enabled (ASSUMPTION: SHARP at the
  // links' rate, sharp_efficiency 1).
  {
    bool spans = false;
    for (const auto& call : graph.calls) {
      if (call.op != collective::Op::kAllReduce || call.gpus.empty()) continue;
      for (int gpu : call.gpus) spans |= base_net.nvlink_domain_of(gpu) != base_net.nvlink_domain_of(call.gpus.front());
    }
    bool infiniband = false;
    for (const auto& l : base_net.links()) infiniband |= l.link_class == "infiniband";
    if (spans && infiniband && !(base_net.has_sharp() && topo.collnet)) {
      if (on_start) on_start("in-network reduction");
      topology::Topology changed = topo;
      changed.sharp_efficiency["infiniband"] = 1.0;
      changed.collnet = true;
      auto t = rerun_network(changed);
      if (!t) return t.error();
      out.push_back(WhatIf{"in-network reduction", "InfiniBand switches reduce (SHARP, NCCL CollNet on)", 0, *t,
                           percent(*t, base)});
    }
  }

  // Cables, when the critical path crosses any.
  bool crosses_cable = false;
  {
    std::set<std::string> on_path;
    for (const auto& r : resources) on_path.insert(r.first);
    for (auto [e, end] = boost::edges(g); e != end; ++e) {
      const auto& link = g[*e];
      if (link.medium.empty() || link.length_m <= 0) continue;
      if (on_path.count(resource_of(link.link_class, g[boost::source(*e, g)].kind, g[boost::target(*e, g)].kind)))
        crosses_cable = true;
    }
  }
  if (crosses_cable) {
    if (on_start) on_start("cables");
    topology::Topology changed = topo;
    double cut_total = 0;
    int cables = 0, to_zero = 0;  // directed edges, two per cable
    for (auto [e, end] = boost::edges(changed.graph); e != end; ++e) {
      auto& link = changed.graph[*e];
      if (link.medium.empty() || link.length_m <= 0) continue;
      const auto medium = spec.media.find(link.medium);
      if (medium == spec.media.end()) continue;
      const double cut = std::min(options.cable_cut_m, link.length_m);
      link.latency_s = std::max(0.0, link.latency_s - cut * medium->second.delay_s_per_m);
      link.length_m -= cut;
      cut_total += cut * link.lanes;  // a bundle of lanes is that many cables
      cables += link.lanes;
      if (link.length_m <= 0) to_zero += link.lanes;
    }
    auto t = rerun_network(changed);
    if (!t) return t.error();
    // Two directed edges per cable. A cable shorter than the cut loses all
    // its length (and propagation delay): said, as "10 m shorter" read as
    // if every cable kept some (8 GB200 racks: 6,275 of 6,496 m went).
    out.push_back(WhatIf{
        "cables",
        fmt::format("every cable {:g} m shorter ({} cables, {:.0f} m less{})", options.cable_cut_m, cables / 2,
                    cut_total / 2, to_zero > 0 ? fmt::format("; {} of them now 0 m long", to_zero / 2) : std::string()),
        0, *t, percent(*t, base)});
  }
  std::stable_sort(out.begin(), out.end(), [](const WhatIf& a, const WhatIf& b) { return a.delta_pct < b.delta_pct; });
  return out;
}

}  // namespace collsim::workload
