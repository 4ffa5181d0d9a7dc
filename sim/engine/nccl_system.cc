#include "sim/engine/nccl_system.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace collsim::engine {

collective::NcclSystem nccl_system(const topology::Network& network, const std::vector<int>& gpus) {
  collective::NcclSystem s;
  const int first = gpus.front();
  s.gpu_model = network.gpu_model(first);
  s.ranks = static_cast<int>(gpus.size());
  // Per domain: its ranks' NICs and the slowest one's rate; every rank's
  // NVLink. NCCL searches each node's graphs and then keeps the smallest
  // channel count and bandwidths over all ranks (src/init.cc, the graphs'
  // allgather), so each distinct node is searched (NcclSystem::node_nics),
  // never the first alone.
  // NICs two GPUs share (behind one PCIe switch) count once, as NCCL's
  // graph holds each NET once.
  std::unordered_map<int, int> nics_of_domain;
  std::unordered_set<int> counted;
  double nvlink_Bps = network.nvlink_line_rate_Bps(first);
  for (int g : gpus) {
    int& nics = nics_of_domain[network.nvlink_domain_of(g)];
    nvlink_Bps = std::min(nvlink_Bps, network.nvlink_line_rate_Bps(g));
    const double nic = network.nic_line_rate_Bps(g) / 1e9;
    if (!(nic > 0)) continue;
    if (!counted.insert(network.nic_of_gpu(g)).second) continue;
    ++nics;
    s.net_latency_us = std::max(s.net_latency_us, network.plugin_latency_of(g) * 1e6);
    s.nic_GBps = s.nic_GBps == 0 ? nic : std::min(s.nic_GBps, nic);
  }
  s.nodes = static_cast<int>(nics_of_domain.size());
  s.nics = nics_of_domain.begin()->second;
  for (const auto& [domain, nics] : nics_of_domain) {
    s.nics = std::min(s.nics, nics);
    if (std::find(s.node_nics.begin(), s.node_nics.end(), nics) == s.node_nics.end()) s.node_nics.push_back(nics);
  }
  std::sort(s.node_nics.begin(), s.node_nics.end());
  if (s.node_nics.size() < 2) s.node_nics.clear();
  s.nvswitch = network.nvswitch_endpoint_near(first) >= 0;
  s.nvls = network.nvls_enabled() && network.nvls_efficiency_near(first) > 0;
  // NCCL's per-link NVLink figure (nccl_tables.h) times the links: the GPU's
  // NVLink line rate over one link's (NVLink 5, Blackwell: 50 GB/s each way;
  // NVLink 3 and 4: 25 GB/s).
  const auto arch = collective::nccl_arch(s.gpu_model);
  const double per_link = arch == collective::NcclArch::kBlackwell ? 50e9 : 25e9;
  s.nvlink_GBps = std::round(nvlink_Bps / per_link) * collective::nccl_nvlink_GBps_per_link(arch);
  s.collnet = network.collnet_enabled() && network.has_sharp();
  s.cross_nic = network.nccl_cross_nic();
  s.min_channels = network.nccl_min_channels();
  s.min_ctas = network.nccl_min_ctas();
  s.max_channels = network.nccl_max_channels();
  s.max_ctas = network.nccl_max_ctas();
  s.host_cpu = collective::nccl_host_setting(network.nccl_host_cpu());
  return s;
}

std::vector<char> nic_owners(const topology::Network& network, const std::vector<int>& gpus) {
  std::vector<char> out;
  out.reserve(gpus.size());
  std::unordered_set<int> claimed;
  for (int g : gpus) out.push_back(network.on_network(g) && claimed.insert(network.nic_of_gpu(g)).second ? 1 : 0);
  return out;
}

collective::AlgoParams placement_params(const topology::Network& network, const std::vector<int>& gpus) {
  collective::AlgoParams params;
  params.nvls_efficiency = network.nvls_efficiency_near(gpus.front());
  params.nvls_chunk_cost_s = network.nvls_chunk_cost_near(gpus.front());
  params.nccl_buffsize = network.nccl_buffsize();
  params.p2p.channels = network.nccl_p2p_channels();
  params.p2p.channels_per_net_peer = network.nccl_nchannels_per_net_peer();
  params.p2p.net_chunk_bytes = network.nccl_p2p_net_chunksize();
  params.p2p.channel_net_Bps = network.nccl_p2p_per_channel_net_GBps() * 1e9;
  params.p2p.net_count = network.nccl_nics_per_gpu();
  // A ring channel's network rate: its queue pairs' (protocol.h), the
  // slowest class among the placement's NICs.
  // Each of its network messages costs a queue pair the largest class cost.
  double qp_rate_GBps = 0;
  double qp_msg_cost_s = 0;
  for (int g : gpus) {
    const double r = network.qp_rate_GBps_of(g);
    if (r > 0) qp_rate_GBps = qp_rate_GBps > 0 ? std::min(qp_rate_GBps, r) : r;
    qp_msg_cost_s = std::max(qp_msg_cost_s, network.qp_msg_cost_of(g));
  }
  params.ring_channel_msg_cost_s = qp_msg_cost_s / std::max(1, network.nccl_ib_qps_per_connection());
  params.ring_channel_ar_threshold_bytes = network.nccl_ib_ar_threshold();
  params.ring_channel_net_Bps = collective::ring_channel_net_GBps(network.nccl_ring_channel_net_GBps(), qp_rate_GBps,
                                                                  network.nccl_ib_qps_per_connection()) *
                                1e9;
  params.nvls_chunk_settings = {network.nccl_nvls_chunksize(), network.nccl_nvlstree_max_chunksize()};
  params.p2p.op_cost_s = network.p2p_op_cost_of(gpus.front());
  params.gpu_model = network.gpu_model(gpus.front());
  params.domain_of_rank.reserve(gpus.size());
  for (int g : gpus) params.domain_of_rank.push_back(network.nvlink_domain_of(g));
  if (auto owners = nic_owners(network, gpus); std::count(owners.begin(), owners.end(), 0) > 0)
    params.rank_on_network = std::move(owners);
  params.pxn = network.pxn_enabled();
  params.collnet_enabled = network.collnet_enabled();
  params.nvls_enabled = network.nvls_enabled();
  params.nccl_system = nccl_system(network, gpus);
  return params;
}

std::string ring_queue_pair_note(const topology::Network& network, const std::vector<int>& gpus,
                                 collective::NcclRelease release) {
  // A channel rate set outright (nccl.ring_channel_net_bw) is the user's.
  if (gpus.empty() || network.nccl_ring_channel_net_GBps() >= 0) return {};
  const collective::AlgoParams params = placement_params(network, gpus);
  const collective::NcclSystem& s = params.nccl_system;
  // The NICs qp_bw was fitted on: 400 Gb/s, 50 GB/s of line rate.
  constexpr double kFittedNicGBps = 50.0;
  if (s.nodes < 2 || s.nics < 1 || !(s.nic_GBps > kFittedNicGBps * 1.001) || !(params.ring_channel_net_Bps > 0))
    return {};
  const int channels = collective::nccl_ring_channels(s, release);
  const double per_nic = static_cast<double>(channels) / s.nics;
  if (per_nic < 1) return {};
  const double cap_GBps = per_nic * params.ring_channel_net_Bps / 1e9;
  if (cap_GBps >= 0.9 * s.nic_GBps) return {};
  return fmt::format(
      "rings carry at most {:g} of each NIC's {:g} GB/s: {} NCCL ring channels over {} NICs ({:.3g} a NIC), each at "
      "most {:g} GB/s (qp_bw x {} queue pair(s), fitted on 400G NICs; a faster NIC's queue pairs NOT FOUND); --set "
      "nccl.ib_qps_per_connection=N or link_classes.CLASS.qp_bw=GBPS to assume more",
      cap_GBps, s.nic_GBps, channels, s.nics, per_nic, params.ring_channel_net_Bps / 1e9,
      network.nccl_ib_qps_per_connection());
}

std::string uneven_nodes_channel_note(const topology::Network& network, const std::vector<int>& gpus,
                                      collective::NcclRelease release) {
  if (gpus.empty()) return {};
  const collective::NcclSystem s = nccl_system(network, gpus);
  if (s.node_nics.size() < 2) return {};
  collective::NcclSystem even = s;
  even.nics = s.node_nics.back();
  even.node_nics.clear();
  const int now = collective::nccl_ring_channels(s, release);
  const int full = collective::nccl_ring_channels(even, release);
  if (now == full || now < 1 || full < 1) return {};
  const collective::NcclGraph ring = collective::nccl_graphs(s, release).ring;
  return fmt::format(
      "the ranks' nodes hold {} to {} NICs: NCCL aligns every node's ring graph to the fewest channels and lowest "
      "speed ({} at {:g} GB/s) and runs {} ring channels, where nodes of {} NICs each run {}; the time moves with "
      "the channels as well as the NICs (NCCL src/init.cc, src/graph/connect.cc)",
      s.node_nics.front(), s.node_nics.back(), ring.channels, ring.bw_inter, now, even.nics, full);
}

}  // namespace collsim::engine
