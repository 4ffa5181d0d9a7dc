#include "sim/topology/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "sim/topology/cabling.h"
#include "sim/topology/failures.h"

namespace collsim::topology {

namespace {

// Which devices a path from `source` reaches. Switches, NICs and PCIe
// switches forward; a GPU forwards only between its NVSwitch and its NIC
// side (Network::stand_in_route: a GPU whose NIC is down crosses the network
// through an NVLink peer's NIC), so each device is visited once per side it
// is entered from.
std::vector<bool> reachable_from(const Graph& g, Vertex source) {
  const std::size_t n = boost::num_vertices(g);
  std::vector<bool> seen(n, false), entered(2 * n, false);  // entered[2 v + from an NVSwitch]
  std::deque<std::pair<Vertex, bool>> queue{{source, false}};
  seen[source] = true;
  while (!queue.empty()) {
    const auto [u, from_nvswitch] = queue.front();
    queue.pop_front();
    const auto kind = g[u].kind;
    const bool gpu = kind == config::DeviceKind::kGpu && u != source;
    if (!gpu && u != source && !config::forwards_traffic(kind)) continue;
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      const Vertex v = boost::target(*e, g);
      const bool nvswitch_side = g[v].kind == config::DeviceKind::kNvSwitch;
      if (gpu && nvswitch_side == from_nvswitch) continue;  // through the GPU, from one side to the other
      const bool via = kind == config::DeviceKind::kNvSwitch;
      if (entered[2 * v + (via ? 1 : 0)]) continue;
      entered[2 * v + (via ? 1 : 0)] = true;
      seen[v] = true;
      queue.emplace_back(v, via);
    }
  }
  return seen;
}

}  // namespace

Expected<Topology> build_topology(const config::TopologySpec& spec) {
  Topology topo;
  topo.name = spec.name;
  topo.file = spec.file;
  topo.pxn = spec.nccl.pxn;
  topo.collnet = spec.nccl.collnet;
  topo.nvls = spec.nccl.nvls;
  topo.p2p_channels = spec.nccl.p2p_channels;
  topo.nchannels_per_net_peer = spec.nccl.nchannels_per_net_peer;
  topo.p2p_per_channel_net_GBps = spec.nccl.p2p_per_channel_net_GBps;
  topo.min_channels = spec.nccl.min_channels;
  topo.min_ctas = spec.nccl.min_ctas;
  topo.max_channels = spec.nccl.max_channels;
  topo.max_ctas = spec.nccl.max_ctas;
  topo.host_cpu = spec.nccl.host_cpu;
  topo.ring_channel_net_GBps = spec.nccl.ring_channel_net_GBps;
  topo.tree_chain_channel_GBps = spec.nccl.tree_chain_channel_GBps;
  topo.ib_qps_per_connection = spec.nccl.ib_qps_per_connection;
  topo.ib_ar_threshold = spec.nccl.ib_ar_threshold;
  topo.buffsize = spec.nccl.buffsize;
  topo.nics_per_gpu = spec.nccl.nics_per_gpu;
  topo.p2p_net_chunksize = spec.nccl.p2p_net_chunksize;
  topo.nvls_chunksize = spec.nccl.nvls_chunksize;
  topo.nvlstree_max_chunksize = spec.nccl.nvlstree_max_chunksize;
  topo.cross_nic = spec.nccl.cross_nic;
  for (const auto& [name, cls] : spec.link_classes) {
    if (cls.sharp_efficiency > 0) topo.sharp_efficiency[name] = cls.sharp_efficiency;
    if (cls.nvls_chunk_cost_s > 0) topo.nvls_chunk_cost_s[name] = cls.nvls_chunk_cost_s;
    if (cls.p2p_op_cost_s > 0) topo.p2p_op_cost_s[name] = cls.p2p_op_cost_s;
    if (cls.ring_step_latency_s > 0) topo.ring_step_latency_s[name] = cls.ring_step_latency_s;
    if (cls.qp_rate_GBps > 0) topo.qp_rate_GBps[name] = cls.qp_rate_GBps;
    if (cls.qp_msg_cost_s > 0) topo.qp_msg_cost_s[name] = cls.qp_msg_cost_s;
    if (cls.plugin_latency_s > 0) topo.plugin_latency_s[name] = cls.plugin_latency_s;
  }
  topo.graph.m_vertices.reserve(spec.devices.size());
  for (const auto& d : spec.devices) {
    const Vertex v = boost::add_vertex(Device{d.name, d.kind, d.declared_at, d.model}, topo.graph);
    if (d.kind == config::DeviceKind::kGpu) topo.gpus.push_back(v);
  }
  auto failures = resolve_failures(spec);
  if (!failures) return failures.error();
  topo.failed = failures->summary;
  const CableChooser cables(spec);
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    const auto& l = spec.links[i];
    const double rate_Bps = failures->rate_Bps[i];
    if (rate_Bps <= 0) {  // down
      topo.failed.links_left_out.emplace_back(l.a, l.b, l.efficiency, l.link_class);
      continue;
    }
    double length_m = 0;
    std::string medium = l.medium;
    if (!l.medium.empty()) {
      auto len = cable_length_m(spec, l);
      if (!len) return len.error();
      length_m = *len;
      auto cable = cables.choose(l, length_m);
      if (!cable) return cable.error();
      if (*cable != nullptr) medium = (*cable)->medium;
      if (medium == config::kAutoMedium) medium = kUnpricedAutoMedium;
    }
    auto latency = link_latency_s(spec, l, length_m, medium);
    if (!latency) return latency.error();
    const Link dir{rate_Bps,          l.efficiency,     *latency,         l.link_class,
                   l.nvls_efficiency, l.nvls_reduction, l.step_latency_s, static_cast<int>(i),
                   length_m,          medium,           l.lanes};
    boost::add_edge(static_cast<Vertex>(l.a), static_cast<Vertex>(l.b), dir, topo.graph);
    boost::add_edge(static_cast<Vertex>(l.b), static_cast<Vertex>(l.a), dir, topo.graph);
  }
  if (topo.gpus.empty()) {
    return Error{"the topology has no device of kind gpu", "devices", SourceMark{spec.file, 1, 1}};
  }
  // Reachability is symmetric (every cable is full duplex), so checking from the first GPU suffices.
  const auto seen = reachable_from(topo.graph, topo.gpus.front());
  for (Vertex gpu : topo.gpus) {
    if (!seen[gpu]) {
      const Device& d = topo.graph[gpu];
      if (topo.failed.any()) {  // the failures cut it off: say so where they were given
        const auto& first = spec.failures.entries.front();
        const auto reached = std::count_if(topo.gpus.begin(), topo.gpus.end(), [&](Vertex v) { return seen[v]; });
        return Error{
            fmt::format(
                "after the failures ({} cable{} down) GPUs '{}' and '{}' have no path left between "
                "them ({} of {} GPUs reach '{}', a GPU without a NIC through an NVLink peer's): a collective over "
                "both cannot run (a job whose GPU is cut off stops and restarts elsewhere: collsim goodput counts "
                "that; --degrade studies a slower part)",
                topo.failed.cables_down, topo.failed.cables_down == 1 ? "" : "s", topo.graph[topo.gpus.front()].name,
                d.name, reached, topo.gpus.size(), topo.graph[topo.gpus.front()].name),
            first.path, first.at};
      }
      return Error{fmt::format("GPU '{}' is disconnected: no path to '{}' through switches or NICs", d.name,
                               topo.graph[topo.gpus.front()].name),
                   "devices", d.declared_at};
    }
  }
  return topo;
}

}  // namespace collsim::topology
