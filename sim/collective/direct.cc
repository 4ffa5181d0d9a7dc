#include "sim/collective/direct.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <unordered_map>

namespace collsim::collective {

namespace {

// What a rank's proxy spends on `messages` network sends and receives of
// `peer_bytes` each: one operation per part of each.
double proxy_overhead_s(double peer_bytes, int messages, int ranks, const NcclP2pSetup& p2p) {
  if (!(p2p.op_cost_s > 0) || messages <= 0) return 0;
  return p2p.op_cost_s * messages * nccl_p2p_net_parts(peer_bytes, ranks, p2p);
}

// The rate a message of `peer_bytes` to a network peer moves at: its parts,
// one channel each, x a channel's network rate; 0 = no limit.
double p2p_net_cap_Bps(double peer_bytes, int ranks, const NcclP2pSetup& p2p) {
  if (!(p2p.channel_net_Bps > 0)) return 0;
  return p2p.channel_net_Bps * nccl_p2p_net_parts(peer_bytes, ranks, p2p);
}

// What a message of `peer_bytes` to a network peer keeps in flight under
// Simple (Schedule::p2p_window_bytes).
double p2p_window_bytes(double peer_bytes, int ranks, const NcclP2pSetup& p2p) {
  return nccl_p2p_net_parts(peer_bytes, ranks, p2p) * kNcclSteps * p2p.net_chunk_bytes;
}

}  // namespace

int nccl_p2p_channels_per_net_peer(int ranks, const NcclP2pSetup& setup) {
  const int channels = static_cast<int>(std::bit_ceil(static_cast<unsigned>(std::max(1, setup.channels))));
  int per_peer = setup.channels_per_net_peer;
  if (per_peer > 0) return std::min(static_cast<int>(std::bit_ceil(static_cast<unsigned>(per_peer))), channels);
  const int nics = std::max(1, setup.net_count);
  if (setup.bandwidth_rule) {
    // NCCL truncates the bandwidth to whole GB/s; without a NIC it keeps 2.
    // NCCL_P2P_PER_CHANNEL_NET_BW sets the count as well as the limit (0,
    // no limit, counts with NCCL's 14).
    const int net = static_cast<int>(setup.net_GBps);
    const int per_channel =
        setup.channel_net_Bps >= 1e9 ? static_cast<int>(setup.channel_net_Bps / 1e9) : kNcclP2pChannelNetGBps;
    per_peer = net > 0 ? std::max(nics, (net + per_channel - 1) / per_channel) : 2;
    per_peer = static_cast<int>(std::bit_ceil(static_cast<unsigned>(per_peer)));
    if (setup.nodes <= 1) return std::min(per_peer, channels);
    const int rounds = (ranks + kNcclP2pPeersPerBatch - 1) / kNcclP2pPeersPerBatch;
    while (per_peer * rounds > channels && per_peer > 1) per_peer /= 2;
    return per_peer;
  }
  per_peer = 2;
  while (per_peer * ranks > channels * 4 && per_peer > 1) per_peer /= 2;
  per_peer = static_cast<int>(std::bit_ceil(static_cast<unsigned>(std::max(per_peer, nics))));
  return std::min(per_peer, channels);  // at least the GPU's NICs
}

Protocol nccl_p2p_protocol(double peer_bytes, int ranks, const NcclP2pSetup& setup) {
  const int channels = setup.bandwidth_rule ? nccl_p2p_net_parts(peer_bytes, ranks, setup)
                                            : nccl_p2p_channels_per_net_peer(ranks, setup);
  return peer_bytes <= kNcclP2pLLThresholdBytes * channels ? Protocol::kLL : Protocol::kSimple;
}

int nccl_p2p_net_parts(double bytes, int ranks, const NcclP2pSetup& setup) {
  if (!(bytes > 0)) return 1;
  const int max_parts = nccl_p2p_channels_per_net_peer(ranks, setup);
  int min_parts = max_parts;
  while (min_parts * ranks > std::max(1, setup.channels) && min_parts > 1) min_parts /= 2;
  const double chunk = std::max(2.0, setup.net_chunk_bytes);
  const double min_part = std::floor(chunk / 2), max_part = chunk;
  int parts = static_cast<int>(std::min<double>(min_parts, std::ceil(bytes / min_part)));
  double part = std::max(min_part, std::ceil(bytes / parts));
  while (part > max_part && parts <= max_parts / 2) {
    parts *= 2;
    part = std::ceil(bytes / parts);
  }
  return parts;
}

Schedule direct_alltoall(int ranks, double bytes, const std::vector<int>& domain_of_rank, const NcclP2pSetup& p2p) {
  Schedule s = empty_schedule("alltoall", "direct", ranks, bytes, ranks * ranks);  // chunk src*p + dst
  s.point_to_point = true;
  s.all_pairs = true;  // expand() lists the transfers
  if (static_cast<int>(domain_of_rank.size()) == ranks && ranks > 1) {
    std::unordered_map<int, int> size_of;
    for (int d : domain_of_rank) ++size_of[d];
    int smallest = ranks;
    for (const auto& [d, n] : size_of) smallest = std::min(smallest, n);
    s.chunk_overhead_s = proxy_overhead_s(bytes / ranks, 2 * (ranks - smallest), ranks, p2p);  // send and receive
  }
  s.p2p_net_cap_Bps = p2p_net_cap_Bps(bytes / ranks, ranks, p2p);
  s.p2p_window_bytes = p2p_window_bytes(bytes / ranks, ranks, p2p);
  return s;
}

Schedule ring_sendrecv(int ranks, double bytes, const std::vector<int>& domain_of_rank, const NcclP2pSetup& p2p,
                       bool one_way) {
  Schedule s = empty_schedule("sendrecv", "direct", ranks, bytes, ranks);  // chunk r = rank r's send buffer
  s.point_to_point = true;
  if (ranks < 2) return s;
  const bool domains = static_cast<int>(domain_of_rank.size()) == ranks;
  auto remote = [&](int a, int b) {
    return domains && domain_of_rank[static_cast<std::size_t>(a)] != domain_of_rank[static_cast<std::size_t>(b)];
  };
  const int senders = one_way && ranks == 2 ? 1 : ranks;
  for (int r = 0; r < senders; ++r) {
    Transfer t;
    t.src = r;
    t.dst = (r + 1) % ranks;
    t.bytes = bytes;
    t.chunk = r;
    t.action = Action::kCopy;
    s.transfers.push_back(t);
    // Rank r's proxy sends to r + 1 and (both ways) receives from r - 1,
    // where they are in other nodes; one way, each side runs one.
    const int messages = (remote(r, t.dst) ? 1 : 0) + (senders == ranks && remote(r, (r + ranks - 1) % ranks) ? 1 : 0);
    s.chunk_overhead_s = std::max(s.chunk_overhead_s, proxy_overhead_s(bytes, messages, ranks, p2p));
  }
  s.p2p_net_cap_Bps = p2p_net_cap_Bps(bytes, ranks, p2p);
  s.p2p_window_bytes = p2p_window_bytes(bytes, ranks, p2p);
  return s;
}

}  // namespace collsim::collective
