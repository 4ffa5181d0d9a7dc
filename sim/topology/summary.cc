#include "sim/topology/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/push_relabel_max_flow.hpp>
#include <limits>
#include <map>
#include <tuple>

namespace collsim::topology {

namespace {

const std::vector<std::pair<double, std::string>>& bins() {
  static const std::vector<std::pair<double, std::string>> b{
      {1, "0-1m"},   {2, "1-2m"},    {3, "2-3m"},    {5, "3-5m"},
      {10, "5-10m"}, {20, "10-20m"}, {50, "20-50m"}, {std::numeric_limits<double>::infinity(), "50m+"}};
  return b;
}

// Max flow at line rate from GPUs [0, p/2) to [p/2, p) over the merged network.
double half_to_half_max_flow(const Network& net) {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const int source = net.num_nodes(), sink = net.num_nodes() + 1;
  std::vector<std::tuple<int, int, double>> arcs;
  for (const auto& l : net.links()) arcs.emplace_back(l.from_node, l.to_node, l.line_rate_Bps);
  const int p = net.num_gpus();
  const double unlimited = 1e30;
  for (int g = 0; g < p; ++g) {
    const int v = net.node_of_endpoint(g);
    if (g < p / 2) {
      arcs.emplace_back(source, v, unlimited);
    } else {
      arcs.emplace_back(v, sink, unlimited);
    }
  }
  FlowGraph fg(net.num_nodes() + 2);
  auto capacity = boost::get(boost::edge_capacity, fg);
  auto reverse = boost::get(boost::edge_reverse, fg);
  for (auto [a, b, c] : arcs) {
    auto e = boost::add_edge(a, b, fg).first;
    auto r = boost::add_edge(b, a, fg).first;
    capacity[e] = c;
    capacity[r] = 0;
    reverse[e] = r;
    reverse[r] = e;
  }
  return boost::push_relabel_max_flow(fg, source, sink);
}

}  // namespace

const std::vector<std::string>& cable_length_bins() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [limit, name] : bins()) n.push_back(name);
    return n;
  }();
  return names;
}

namespace {

// Line rate from `gpu` into its NVLink domain and toward the network (per
// direction), as TopologySummary describes them.
std::pair<double, double> gpu_rates(const Graph& g, Vertex gpu) {
  double nvlink = 0, network = 0;
  // Parallel links to one neighbour add up first: each neighbour's onward
  // links are then walked once (per link it was quadratic in the links).
  std::map<Vertex, double> rate_to;
  for (auto [e, end] = boost::out_edges(gpu, g); e != end; ++e) rate_to[boost::target(*e, g)] += g[*e].rate_Bps;
  for (const auto& [next, rate] : rate_to) {
    const auto kind = g[next].kind;
    if (kind == config::DeviceKind::kNvSwitch || kind == config::DeviceKind::kGpu) {
      nvlink += rate;
      continue;
    }
    if (kind == config::DeviceKind::kCpu) continue;  // NVLink-C2C or PCIe to a host CPU: not the network
    // Toward the network (PCIe -> NIC -> fabric): the narrower of this
    // hop and what the next device sends on, back to the GPU excluded.
    double onward = 0;
    bool nics_here = false;
    if (kind == config::DeviceKind::kPcieSwitch) {
      // Behind a PCIe switch a GPU uses its share of the switch's NICs
      // (network.h, NIC affinity): each NIC at the narrower of its PCIe
      // port and its network ports, split over the switch's GPUs.
      int gpus_here = 0;
      for (auto [f, fend] = boost::out_edges(next, g); f != fend; ++f) {
        const Vertex nic = boost::target(*f, g);
        if (g[nic].kind == config::DeviceKind::kGpu) ++gpus_here;
        if (g[nic].kind != config::DeviceKind::kNic) continue;
        nics_here = true;
        double out = 0;
        for (auto [h, hend] = boost::out_edges(nic, g); h != hend; ++h)
          if (boost::target(*h, g) != next) out += g[*h].rate_Bps;
        onward += std::min(g[*f].rate_Bps, out);
      }
      onward /= std::max(1, gpus_here);
    }
    if (!nics_here) {  // no NIC right there (or no PCIe switch): what the next device sends on
      for (auto [f, fend] = boost::out_edges(next, g); f != fend; ++f)
        if (boost::target(*f, g) != gpu) onward += g[*f].rate_Bps;
    }
    network += std::min(rate, onward);
  }
  return {nvlink, network};
}

}  // namespace

TopologySummary summarize(const Topology& topo, const Network& net) {
  TopologySummary s;
  for (int e = net.num_gpus(); e < net.num_endpoints(); ++e) s.sharp_switches += net.reduces_in_network(e) ? 1 : 0;
  s.collnet = net.collnet_enabled();
  s.name = topo.name;
  s.file = topo.file;
  const Graph& g = topo.graph;
  for (auto [v, end] = boost::vertices(g); v != end; ++v) ++s.devices_by_kind[config::to_string(g[*v].kind)];
  std::map<std::string, std::pair<double, int>> latency_sum;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    if (boost::source(*e, g) > boost::target(*e, g)) continue;  // one direction per cable
    const Link& l = g[*e];
    ++s.links_by_class[l.link_class];
    s.lanes_by_class[l.link_class] += l.lanes;
    if (l.medium.empty()) continue;
    s.cables += l.lanes;  // a bundle of lanes is that many cables
    s.cable_total_m += l.lanes * l.length_m;
    if (l.length_m > s.cable_max_m) {
      s.cable_max_m = l.length_m;
      s.longest_cable = fmt::format("{} - {}", g[boost::source(*e, g)].name, g[boost::target(*e, g)].name);
    }
    auto& m = s.cables_by_medium[l.medium];
    m.count += l.lanes;
    m.total_m += l.lanes * l.length_m;
    for (const auto& [limit, name] : bins()) {
      if (l.length_m < limit) {
        s.cables_by_length_bin[name] += l.lanes;
        break;
      }
    }
    auto& [sum, n] = latency_sum[l.link_class];
    sum += l.latency_s;
    ++n;
  }
  for (const auto& [cls, sn] : latency_sum) s.mean_cable_latency_s_by_class[cls] = sn.first / sn.second;
  // Leaves (switches cabled to NICs): their NICs' line rate down and their
  // links to other switches up, each direction once.
  std::vector<char> leaf(boost::num_vertices(g), 0);
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Vertex a = boost::source(*e, g), b = boost::target(*e, g);
    if (g[a].kind == config::DeviceKind::kSwitch && g[b].kind == config::DeviceKind::kNic) {
      if (!leaf[a]) ++s.leaves;
      leaf[a] = 1;
      s.leaf_down_Bps += g[*e].rate_Bps;
    }
  }
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Vertex a = boost::source(*e, g), b = boost::target(*e, g);
    if (leaf[a] && g[b].kind == config::DeviceKind::kSwitch && !leaf[b]) s.leaf_up_Bps += g[*e].rate_Bps;
  }

  s.gpus = net.num_gpus();
  std::vector<int> domains;
  for (int i = 0; i < s.gpus; ++i) domains.push_back(net.nvlink_domain_of(i));
  std::sort(domains.begin(), domains.end());
  s.nvlink_domains = static_cast<int>(std::unique(domains.begin(), domains.end()) - domains.begin());
  if (!topo.gpus.empty()) std::tie(s.gpu_nvlink_Bps, s.gpu_network_Bps) = gpu_rates(g, topo.gpus.front());
  s.failed = topo.failed;
  if (topo.failed.any()) {  // the GPUs the failures hurt most
    s.lowest_gpu_nvlink_Bps = s.gpu_nvlink_Bps;
    s.lowest_gpu_network_Bps = s.gpu_network_Bps;
    s.lowest_nvlink_gpu = s.lowest_network_gpu = topo.gpus.empty() ? "" : g[topo.gpus.front()].name;
    for (Vertex gpu : topo.gpus) {
      const auto [nvlink, network] = gpu_rates(g, gpu);
      if (nvlink < s.lowest_gpu_nvlink_Bps)
        std::tie(s.lowest_gpu_nvlink_Bps, s.lowest_nvlink_gpu) = std::pair{nvlink, g[gpu].name};
      if (network < s.lowest_gpu_network_Bps)
        std::tie(s.lowest_gpu_network_Bps, s.lowest_network_gpu) = std::pair{network, g[gpu].name};
    }
  }
  // A BFS per source GPU: exact up to kDiameterExactGpus sources, evenly
  // spread sources beyond (131,072 BFS over a 131,072-GPU fabric take hours).
  const int sources = s.gpus <= TopologySummary::kDiameterExactGpus ? s.gpus : TopologySummary::kDiameterSampledGpus;
  for (int k = 0; k < sources; ++k) {
    const int a = static_cast<int>(static_cast<long long>(k) * s.gpus / sources);
    for (int h : net.hops_to_gpus(a)) s.diameter_hops = std::max(s.diameter_hops, h);
  }
  s.diameter_sources = sources;
  if (s.gpus >= 2) s.bisection_Bps = half_to_half_max_flow(net);
  return s;
}

CableTotals cable_totals(const Topology& topo) {
  CableTotals t;
  const Graph& g = topo.graph;
  for (auto [v, end] = boost::vertices(g); v != end; ++v) t.switches += g[*v].kind == config::DeviceKind::kSwitch;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Link& l = g[*e];
    if (boost::source(*e, g) > boost::target(*e, g) || l.medium.empty()) continue;  // one direction per cable
    t.cables += l.lanes;
    t.metres += l.lanes * l.length_m;
    t.longest_m = std::max(t.longest_m, l.length_m);
  }
  return t;
}

}  // namespace collsim::topology
