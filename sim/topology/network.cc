#include "sim/topology/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "sim/core/log.h"
#include "sim/topology/planes.h"
#include "sim/topology/twins.h"

namespace collsim::topology {

Network::Network(const Topology& topo) {
  const Graph& g = topo.graph;
  std::vector<int> node_of;
  const auto members = merge_twins(g, topo.failed, node_of);
  for (const auto& m : members)
    if (config::forwards_traffic(g[m.front()].kind)) ++num_logical_switches_;
  aggregate_links(g, members, node_of);
  if (!topo.sharp_efficiency.empty() || !topo.ring_step_latency_s.empty()) {
    for (auto& l : links_) {
      if (const auto it = topo.sharp_efficiency.find(l.link_class); it != topo.sharp_efficiency.end())
        l.sharp_efficiency = it->second;
      if (const auto it = topo.ring_step_latency_s.find(l.link_class); it != topo.ring_step_latency_s.end())
        l.ring_step_latency_s = it->second;
    }
  }
  set_up_nic_affinity(g, members);
  number_endpoints(topo, members, node_of);
}

// Aggregates edges between merged nodes: parallel links of equal efficiency
// and class add their rates; a striped message arrives with its slowest
// stripe, so the aggregate takes the largest latency.
void Network::aggregate_links(const Graph& g, const std::vector<std::vector<Vertex>>& members,
                              const std::vector<int>& node_of) {
  node_names_.clear();
  node_names_.reserve(members.size());
  for (const auto& m : members) node_names_.push_back(merged_name(g, m));
  // Links are keyed by (from node, to node, class, efficiency) and found in
  // an open-addressed table of link ids (a switch may have hundreds of
  // thousands of arcs: a scan of them per edge was quadratic, 12 s for
  // 200,000 GPUs on one switch; a node-based hash map cost a second at
  // 131,072 GPUs).
  std::unordered_map<std::string, int> class_id;
  std::vector<int> link_class_id;
  std::vector<double> link_efficiency;
  const std::size_t edges = boost::num_edges(g);
  std::size_t capacity = 16;
  while (capacity < 2 * edges) capacity *= 2;
  const int shift = 64 - std::countr_zero(capacity);
  std::vector<int> table(capacity, -1);
  auto home = [&](int a, int b, int cls, double eff) {
    std::uint64_t h = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) ^ static_cast<std::uint32_t>(b);
    h = (h ^ (static_cast<std::uint64_t>(cls) << 17) ^ std::bit_cast<std::uint64_t>(eff)) * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(h >> shift);
  };
  std::vector<std::pair<int, int>> spec_of_link;  // (link, TopologySpec::links index), in edge order
  links_.clear();
  links_.reserve(edges);
  spec_of_link.reserve(edges);
  out_arcs_.assign(members.size(), {});
  node_forwards_.assign(members.size(), false);
  for (std::size_t m = 0; m < members.size(); ++m)
    node_forwards_[m] = config::forwards_traffic(g[members[m].front()].kind);
  std::optional<LinkLabel> last_class;
  int last_class_id = -1;
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    const Link& l = g[*e];
    const int a = node_of[boost::source(*e, g)], b = node_of[boost::target(*e, g)];
    if (!last_class || l.link_class != *last_class) {  // edges come in runs of one class
      last_class = l.link_class;
      last_class_id = class_id.try_emplace(l.link_class, static_cast<int>(class_id.size())).first->second;
    }
    const int cls = last_class_id;
    std::size_t slot = home(a, b, cls, l.efficiency);
    int id = -1;
    for (;; slot = (slot + 1) & (capacity - 1)) {
      const int at = table[slot];
      if (at < 0) break;
      const NetworkLink& k = links_[static_cast<std::size_t>(at)];
      if (k.from_node == a && k.to_node == b && link_class_id[static_cast<std::size_t>(at)] == cls &&
          link_efficiency[static_cast<std::size_t>(at)] == l.efficiency) {
        id = at;
        break;
      }
    }
    if (id < 0) {
      id = static_cast<int>(links_.size());
      table[slot] = id;
      links_.push_back(NetworkLink{0, 0, l.latency_s, l.link_class, l.nvls_efficiency, l.nvls_reduction,
                                   l.step_latency_s, a, b, g[boost::source(*e, g)].kind, g[boost::target(*e, g)].kind});
      link_class_id.push_back(cls);
      link_efficiency.push_back(l.efficiency);
      out_arcs_[a].push_back(Arc{b, id});
    }
    NetworkLink& link = links_[static_cast<std::size_t>(id)];
    link.line_rate_Bps += l.rate_Bps;
    link.latency_s = std::max(link.latency_s, l.latency_s);
    link.rate_Bps += l.rate_Bps * l.efficiency;
    if (l.spec_index >= 0) spec_of_link.emplace_back(id, l.spec_index);
  }
  // spec_links as one array per link, each in edge order (a counting sort).
  spec_link_first_.assign(links_.size() + 1, 0);
  for (const auto& [link, spec] : spec_of_link) ++spec_link_first_[static_cast<std::size_t>(link) + 1];
  for (std::size_t i = 1; i < spec_link_first_.size(); ++i) spec_link_first_[i] += spec_link_first_[i - 1];
  spec_link_ids_.assign(spec_of_link.size(), -1);
  std::vector<std::size_t> next(spec_link_first_.begin(), spec_link_first_.end() - 1);
  for (const auto& [link, spec] : spec_of_link) spec_link_ids_[next[static_cast<std::size_t>(link)]++] = spec;
  for (auto& arcs : out_arcs_) {
    std::stable_sort(arcs.begin(), arcs.end(), [](const Arc& x, const Arc& y) { return x.to < y.to; });
  }
}

std::string Network::link_name(int l) const {
  const NetworkLink& link = links_[static_cast<std::size_t>(l)];
  return node_name(link.from_node) + "->" + node_name(link.to_node);
}

// Endpoints (GPUs in rank order, then the logical NVSwitches), their ECMP
// numbers and their positions in their NVLink domains (PXN).
void Network::number_endpoints(const Topology& topo, const std::vector<std::vector<Vertex>>& members,
                               const std::vector<int>& node_of) {
  const Graph& g = topo.graph;
  for (Vertex gpu : topo.gpus) {
    endpoints_.push_back(g[gpu].name);
    endpoint_node_.push_back(node_of[gpu]);
    gpu_models_.push_back(g[gpu].model);
  }
  num_gpus_ = static_cast<int>(endpoints_.size());
  for (std::size_t m = 0; m < members.size(); ++m) {
    if (g[members[m].front()].kind != config::DeviceKind::kNvSwitch) continue;
    endpoints_.push_back(node_names_[m]);
    endpoint_node_.push_back(static_cast<int>(m));
  }
  // Fabric switches that reduce (SHARP), after the NVSwitches.
  first_sharp_endpoint_ = static_cast<int>(endpoints_.size());
  collnet_ = topo.collnet;
  nvls_ = topo.nvls;
  cross_nic_ = topo.cross_nic;
  nvls_chunk_cost_s_.insert(topo.nvls_chunk_cost_s.begin(), topo.nvls_chunk_cost_s.end());
  p2p_channels_ = topo.p2p_channels;
  nchannels_per_net_peer_ = topo.nchannels_per_net_peer;
  p2p_per_channel_net_GBps_ = topo.p2p_per_channel_net_GBps;
  min_channels_ = topo.min_channels;
  min_ctas_ = topo.min_ctas;
  max_channels_ = topo.max_channels;
  max_ctas_ = topo.max_ctas;
  host_cpu_ = topo.host_cpu;
  ring_channel_net_GBps_ = topo.ring_channel_net_GBps;
  tree_chain_channel_GBps_ = topo.tree_chain_channel_GBps;
  ib_qps_per_connection_ = topo.ib_qps_per_connection;
  ib_ar_threshold_ = topo.ib_ar_threshold;
  buffsize_ = topo.buffsize;
  nics_per_gpu_ = topo.nics_per_gpu;
  if (topo.failed.any()) failures_text_ = topo.failed.text();
  p2p_net_chunksize_ = topo.p2p_net_chunksize;
  nvls_chunksize_ = topo.nvls_chunksize;
  nvlstree_max_chunksize_ = topo.nvlstree_max_chunksize;
  if (!topo.sharp_efficiency.empty()) {
    for (std::size_t m = 0; m < members.size(); ++m) {
      if (g[members[m].front()].kind != config::DeviceKind::kSwitch) continue;
      bool sharp = false;
      for (const Arc& a : out_arcs_[m]) sharp |= links_[static_cast<std::size_t>(a.link)].sharp_efficiency > 0;
      if (!sharp) continue;
      endpoints_.push_back(node_names_[m]);
      endpoint_node_.push_back(static_cast<int>(m));
    }
  }
  endpoint_of_node_.assign(members.size(), -1);
  for (std::size_t e = 0; e < endpoint_node_.size(); ++e)
    endpoint_of_node_[static_cast<std::size_t>(endpoint_node_[e])] = static_cast<int>(e);

  // ECMP numbering (walk_back; why: network.h, ECMP): GPUs in the order of
  // the fabric switch their NIC is cabled to, then by index. A GPU's NIC is
  // a direct neighbour or one a PCIe switch lets it turn to (NIC affinity).
  auto kind_of = [&](int m) { return g[members[static_cast<std::size_t>(m)].front()].kind; };
  // The GPU's NIC: its own (a neighbour), else its share behind its PCIe
  // switch (set_up_nic_affinity); of those, the first that reaches the
  // fabric (a NIC whose port is down is not NCCL's to take); none: the
  // first found, and the GPU is off the network (on_network).
  auto nic_of = [&](int gpu_node) {
    int first = -1;
    auto take = [&](int nic) {
      if (first < 0) first = nic;
      return reaches_fabric(g, members, nic);
    };
    for (const Arc& a : out_arcs_[static_cast<std::size_t>(gpu_node)])
      if (kind_of(a.to) == config::DeviceKind::kNic && take(a.to)) return a.to;
    for (const Arc& a : out_arcs_[static_cast<std::size_t>(gpu_node)]) {
      if (kind_of(a.to) != config::DeviceKind::kPcieSwitch) continue;
      for (const Arc& b : out_arcs_[static_cast<std::size_t>(a.to)])
        if (kind_of(b.to) == config::DeviceKind::kNic && turn_allowed(a.to, gpu_node, b.to) && take(b.to)) return b.to;
    }
    return first;
  };
  std::vector<std::pair<int, int>> by_port;  // (switch node the GPU's NIC is cabled to, or -1; GPU)
  gpu_has_nic_.assign(static_cast<std::size_t>(num_gpus_), false);
  gpu_nic_rate_Bps_.assign(static_cast<std::size_t>(num_gpus_), 0.0);
  gpu_nic_.assign(static_cast<std::size_t>(num_gpus_), -1);
  if (!topo.p2p_op_cost_s.empty()) gpu_p2p_op_cost_s_.assign(static_cast<std::size_t>(num_gpus_), 0.0);
  if (!topo.qp_rate_GBps.empty()) gpu_qp_rate_GBps_.assign(static_cast<std::size_t>(num_gpus_), 0.0);
  if (!topo.qp_msg_cost_s.empty()) gpu_qp_msg_cost_s_.assign(static_cast<std::size_t>(num_gpus_), 0.0);
  if (!topo.plugin_latency_s.empty()) gpu_plugin_latency_s_.assign(static_cast<std::size_t>(num_gpus_), 0.0);
  // The largest cost of the port's link class in `by_class` into GPU e's
  // entry of `per_gpu` (left empty when no class has one).
  auto keep_largest = [](const std::map<std::string, double>& by_class, std::vector<double>& per_gpu,
                         const NetworkLink& port, int e) {
    if (per_gpu.empty()) return;
    if (const auto it = by_class.find(port.link_class.str()); it != by_class.end())
      per_gpu[static_cast<std::size_t>(e)] = std::max(per_gpu[static_cast<std::size_t>(e)], it->second);
  };
  for (int e = 0; e < num_gpus_; ++e) {
    int sw = -1;
    if (const int nic = nic_of(endpoint_node_[static_cast<std::size_t>(e)]); nic >= 0) {
      gpu_nic_[static_cast<std::size_t>(e)] = nic;
      // A NIC whose every port to the fabric is down (failures) leaves its
      // GPU off the network (on_network).
      gpu_has_nic_[static_cast<std::size_t>(e)] = reaches_fabric(g, members, nic);
      for (const Arc& a : out_arcs_[static_cast<std::size_t>(nic)]) {
        if (kind_of(a.to) != config::DeviceKind::kSwitch) continue;
        if (sw < 0 || a.to < sw) sw = a.to;
        const NetworkLink& port = links_[static_cast<std::size_t>(a.link)];
        gpu_nic_rate_Bps_[static_cast<std::size_t>(e)] += port.line_rate_Bps;
        if (!gpu_qp_rate_GBps_.empty()) {
          if (const auto it = topo.qp_rate_GBps.find(port.link_class.str()); it != topo.qp_rate_GBps.end()) {
            double& rate = gpu_qp_rate_GBps_[static_cast<std::size_t>(e)];
            rate = rate > 0 ? std::min(rate, it->second) : it->second;
          }
        }
        keep_largest(topo.qp_msg_cost_s, gpu_qp_msg_cost_s_, port, e);
        keep_largest(topo.p2p_op_cost_s, gpu_p2p_op_cost_s_, port, e);
        keep_largest(topo.plugin_latency_s, gpu_plugin_latency_s_, port, e);
      }
    }
    by_port.emplace_back(sw, e);
  }
  std::sort(by_port.begin(), by_port.end());
  ecmp_index_.assign(static_cast<std::size_t>(num_gpus_), 0);
  for (std::size_t i = 0; i < by_port.size(); ++i)
    ecmp_index_[static_cast<std::size_t>(by_port[i].second)] = static_cast<int>(i);

  // PXN relays (pxn_relay): each GPU's position in its NVLink domain.
  pxn_ = topo.pxn;
  domain_position_.assign(static_cast<std::size_t>(num_gpus_), 0);
  for (int e = 0; e < num_gpus_; ++e) {
    auto& members_of_domain = domain_gpus_[nvlink_domain_of(e)];
    domain_position_[static_cast<std::size_t>(e)] = static_cast<int>(members_of_domain.size());
    members_of_domain.push_back(e);
  }
}

int Network::pxn_relay(int src, int dst) const {
  if (!pxn_ || src == dst || src < 0 || dst < 0 || src >= num_gpus_ || dst >= num_gpus_) return -1;
  const int domain = nvlink_domain_of(src);
  if (domain < 0 || domain == nvlink_domain_of(dst)) return -1;  // no NVSwitch, or no network between them
  const auto& peers = domain_gpus_.at(domain);
  const auto position = static_cast<std::size_t>(domain_position_[static_cast<std::size_t>(dst)]);
  if (position >= peers.size()) return -1;
  const int relay = peers[position];
  return relay != src && gpu_has_nic_[static_cast<std::size_t>(relay)] ? relay : -1;
}

int Network::network_stand_in(int gpu, int position) const {
  if (gpu < 0 || gpu >= num_gpus_ || gpu_has_nic_[static_cast<std::size_t>(gpu)]) return gpu;
  const int domain = nvlink_domain_of(gpu);
  if (domain < 0) return -1;
  const auto& peers = domain_gpus_.at(domain);
  const int n = static_cast<int>(peers.size());
  if (position >= 0 && position < n && gpu_has_nic_[static_cast<std::size_t>(peers[position])])
    return peers[static_cast<std::size_t>(position)];
  const int own = domain_position_[static_cast<std::size_t>(gpu)];
  for (int k = 1; k < n; ++k) {
    const int peer = peers[static_cast<std::size_t>((own + k) % n)];
    if (gpu_has_nic_[static_cast<std::size_t>(peer)]) return peer;
  }
  return -1;
}

bool Network::needs_stand_in(int src, int dst) const {
  if (src < 0 || dst < 0 || src >= num_gpus_ || dst >= num_gpus_ || src == dst) return false;
  const int domain = nvlink_domain_of(src), other = nvlink_domain_of(dst);
  if (domain < 0 || other < 0 || domain == other) return false;  // no NVLink peer to stand in, or no network between
  return !gpu_has_nic_[static_cast<std::size_t>(src)] || !gpu_has_nic_[static_cast<std::size_t>(dst)];
}

const std::vector<int>& Network::p2p_route(int src, int dst) const {
  const int relay = pxn_relay(src, dst);
  if (relay < 0 && !needs_stand_in(src, dst)) return route(src, dst);
  const std::uint64_t key =
      static_cast<std::uint64_t>(src) * static_cast<std::uint64_t>(num_endpoints()) + static_cast<std::uint64_t>(dst);
  auto [it, inserted] = pxn_route_cache_.try_emplace(key);
  if (inserted) {
    if (needs_stand_in(src, dst)) {
      it->second = stand_in_route(src, dst);
      return it->second;
    }
    const auto& to_relay = route(src, relay);
    const auto& onward = route(relay, dst);
    if (to_relay.empty() || onward.empty()) {
      it->second = route(src, dst);
    } else {
      it->second = to_relay;
      it->second.insert(it->second.end(), onward.begin(), onward.end());
      log::debug("pxn: {} -> {} relayed through {}", endpoints_[static_cast<std::size_t>(src)],
                 endpoints_[static_cast<std::size_t>(dst)], endpoints_[static_cast<std::size_t>(relay)]);
    }
  }
  return it->second;
}

int Network::exit_via(int src, int exit, int dst) const {
  if (exit < 0 || exit >= num_gpus_ || exit == src || src < 0 || src >= num_gpus_ || dst < 0 || dst >= num_gpus_)
    return -1;
  const int domain = nvlink_domain_of(src);
  if (domain < 0 || domain != nvlink_domain_of(exit) || domain == nvlink_domain_of(dst)) return -1;
  if (!gpu_has_nic_[static_cast<std::size_t>(exit)] || !gpu_has_nic_[static_cast<std::size_t>(dst)]) return -1;
  if (exit == pxn_relay(src, dst)) return -1;  // p2p_route's own relay: the same route
  return exit_route(src, exit, dst).empty() ? -1 : exit;
}

const std::vector<int>& Network::exit_route(int src, int exit, int dst) const {
  auto [it, inserted] = exit_route_cache_.try_emplace({src, exit, dst});
  if (inserted) {
    const auto& to_exit = route(src, exit);
    const auto& onward = route(exit, dst);
    if (!to_exit.empty() && !onward.empty()) {
      it->second = to_exit;
      it->second.insert(it->second.end(), onward.begin(), onward.end());
      log::debug("ring: {} -> {} leaves through the NIC of {}", endpoints_[static_cast<std::size_t>(src)],
                 endpoints_[static_cast<std::size_t>(dst)], endpoints_[static_cast<std::size_t>(exit)]);
    }
  }
  return it->second;
}

std::vector<int> Network::stand_in_route(int src, int dst) const {
  // The receiver's stand-in: the peer on the sender's rail (its position),
  // so that a GPU's incoming traffic spreads over its peers' NICs as NCCL
  // spreads a NIC-less GPU's channels over the NICs equally near it
  // (src/graph/topo.cc ncclTopoGetLocalNet). The sender's: with PXN the
  // GPU on the receiving NIC's rail (pxn_relay), as for any send.
  const int to = network_stand_in(dst, domain_position_[static_cast<std::size_t>(src)]);
  if (to < 0) return {};
  int from = network_stand_in(src, pxn_ ? domain_position_[static_cast<std::size_t>(to)] : -1);
  if (from == src && to != dst)
    if (const int relay = pxn_relay(src, to); relay >= 0) from = relay;
  if (from < 0) return {};
  std::vector<int> out;
  for (const auto& [a, b] : {std::pair{src, from}, std::pair{from, to}, std::pair{to, dst}}) {
    if (a == b) continue;
    const auto& leg = route(a, b);
    if (leg.empty()) return {};
    out.insert(out.end(), leg.begin(), leg.end());
  }
  log::debug("failover: {} -> {} through the NICs of {} and {}", endpoints_[static_cast<std::size_t>(src)],
             endpoints_[static_cast<std::size_t>(dst)], endpoints_[static_cast<std::size_t>(from)],
             endpoints_[static_cast<std::size_t>(to)]);
  return out;
}

int Network::nvswitch_endpoint_near(int gpu) const {
  for (const Arc& arc : out_arcs_[endpoint_node_[gpu]]) {
    const int e = endpoint_of_node_[static_cast<std::size_t>(arc.to)];
    if (e >= num_gpus_ && e < first_sharp_endpoint_) return e;
  }
  return -1;
}

double Network::nvlink_line_rate_Bps(int gpu) const {
  double rate = 0;
  for (const Arc& arc : out_arcs_[endpoint_node_[gpu]]) {
    const int e = endpoint_of_node_[static_cast<std::size_t>(arc.to)];
    if (e >= num_gpus_ && e < first_sharp_endpoint_) rate += links_[static_cast<std::size_t>(arc.link)].line_rate_Bps;
  }
  return rate;
}

int Network::nvswitch_link_of(int gpu) const {
  const int sw = nvswitch_endpoint_near(gpu);
  if (sw < 0) return -1;
  const auto& r = route(gpu, sw);
  return r.size() == 1 ? r.front() : -1;
}

double Network::nvls_efficiency_near(int gpu) const {
  const int l = nvswitch_link_of(gpu);
  return l < 0 ? 0 : links_[static_cast<std::size_t>(l)].nvls_efficiency;
}

double Network::nvls_chunk_cost_near(int gpu) const {
  if (nvls_chunk_cost_s_.empty()) return 0;
  const int l = nvswitch_link_of(gpu);
  if (l < 0) return 0;
  const auto it = nvls_chunk_cost_s_.find(links_[static_cast<std::size_t>(l)].link_class.str());
  return it == nvls_chunk_cost_s_.end() ? 0 : it->second;
}

double Network::nvls_reduction_rate_Bps(int sw) const {
  double rate = 0;
  for (const Arc& in : in_arcs_[static_cast<std::size_t>(endpoint_node_[sw])]) {
    if (!node_is_gpu_[static_cast<std::size_t>(in.to)]) continue;
    const NetworkLink& l = links_[static_cast<std::size_t>(in.link)];
    if (!(l.nvls_reduction > 0)) return 0;
    rate += l.line_rate_Bps * l.nvls_reduction;
  }
  return rate;
}

double Network::route_latency_s(const std::vector<int>& route) const {
  double sum = 0;
  for (int l : route) sum += links_[l].latency_s;
  return sum;
}

double Network::route_rate_Bps(const std::vector<int>& route) const {
  double rate = std::numeric_limits<double>::infinity();
  for (int l : route) rate = std::min(rate, links_[l].rate_Bps);
  return rate;
}

std::string Network::no_route_message(int src, int dst) const {
  std::string text = fmt::format("no route from {} to {}", endpoints_[static_cast<std::size_t>(src)],
                                 endpoints_[static_cast<std::size_t>(dst)]);
  // A GPU whose own NIC is down reaches other nodes only through an NVLink
  // peer's NIC (stand_in_route); routes never pass through a CPU.
  if (!failures_text_.empty())
    text += fmt::format(
        ": the failures ({}) cut every path; routes never cross a CPU, and a GPU whose NIC is down crosses the "
        "network only through the NIC of a GPU of its NVLink domain",
        failures_text_);
  // Two networked GPUs of different domains: a ring channel that leaves by
  // another rail's NIC (NCCL_CROSS_NIC, routing in topology-format.md)
  // needs a path between the rails, which a failed spine can cut.
  if (!failures_text_.empty() && cross_nic_ != 0 && src < num_gpus_ && dst < num_gpus_ && on_network(src) &&
      on_network(dst) && nvlink_domain_of(src) != nvlink_domain_of(dst))
    text += "; rings that change rails need a path between them (--set nccl.cross_nic=0 keeps each on its rail)";
  return text;
}

}  // namespace collsim::topology
