// Collectives where every transfer is independent:
//   all-to-all (direct): every rank sends its S/p block for each peer to that
//     peer at once; the network's max-min sharing decides who waits. Built
//     in all-pairs form (Schedule::all_pairs); expand() lists the transfers.
//   send/recv: as nccl-tests' sendrecv, rank r sends S bytes to r+1 and
//     receives from r-1, all at once; or one way (2 ranks: 0 sends to 1), a
//     training step's pipeline send.
//
// NCCL's proxy operations (issue 16 item 4). NCCL splits each point-to-
// point message to a peer in another node into parts, one per channel, and
// its proxy thread runs one network operation per part and direction
// (NCCL 2.27.7 src/enqueue.cc: scheduleP2pTasksToPlan, addP2pToPlan). A
// link class's `p2p_op_cost` is what one such operation costs the rank
// beyond its bytes, paid once per collective (Schedule::chunk_overhead_s):
// ops x cost. FITTED on `efa` (docs/validation-efa.md), taken by
// InfiniBand and RoCE (config/link_classes.cc); 0 for other classes.
#pragma once

#include <vector>

#include "sim/collective/schedule.h"

namespace collsim::collective {

// What NCCL's point-to-point split reads (config::NcclSpec), resolved for
// the release and nodes modelled (nccl_tuner.h resolve_p2p_setup).
struct NcclP2pSetup {
  // p2pnChannels: NCCL's channels for point-to-point. NCCL opens its
  // communicator's channels, rounded up to a power of two (src/graph/
  // paths.cc ncclTopoComputeP2pChannels); config::NcclSpec::p2p_channels
  // overrides it. 32 here until resolved.
  int channels = 32;
  // p2pnChannelsPerPeer for peers across the network: NCCL_NCHANNELS_PER_NET_PEER
  // when set, else 0 for NCCL's rule (src/graph/paths.cc ncclTopoGetNchannels),
  // rounded up to a power of two. Before 2.29: 2, halved while 2 x ranks >
  // 4 x channels, at least the GPU's NICs (net_count). From 2.29
  // (bandwidth_rule): enough channels of NCCL_P2P_PER_CHANNEL_NET_BW (14
  // GB/s; channel_net_Bps when set) to carry the GPU's network bandwidth,
  // ceil(net_GBps / 14), at least net_count, then across nodes halved while it x ceil(ranks / 8)
  // exceeds the channels, so every peer fits one round. bandwidth_rule also
  // selects 2.29's protocol rule (nccl_p2p_protocol).
  int channels_per_net_peer = 0;
  // NCCL_P2P_NET_CHUNKSIZE in bytes (NCCL's default 128 KiB, src/init.cc).
  double net_chunk_bytes = 131072;
  double op_cost_s = 0;  // the ranks' network link class's p2p_op_cost; 0 = none
  // The NICs NCCL counts for a GPU (those at its closest distance): the
  // rules' least channels per peer (config::NcclSpec::nics_per_gpu).
  int net_count = 1;
  bool bandwidth_rule = false;
  double net_GBps = 0;  // NCCL's GPU-to-NIC path bandwidth (min of the NIC and PCIe)
  int nodes = 1;        // NVLink domains the ranks span
  // What one point-to-point channel carries through the network: NCCL's own
  // figure, NCCL_P2P_PER_CHANNEL_NET_BW = 14 GB/s (src/graph/paths.cc, 2.29.2
  // and later; config::NcclSpec::p2p_per_channel_net_bw). A message to a
  // network peer moves at most its parts x this. 0 = no limit.
  double channel_net_Bps = 0;
};

// NCCL_P2P_PER_CHANNEL_NET_BW's default in GB/s, and the peers one
// point-to-point round holds (NCCL_MAX_DEV_WORK_P2P_PER_BATCH, src/include/
// device.h); both NCCL 2.29.2's.
inline constexpr int kNcclP2pChannelNetGBps = 14;
inline constexpr int kNcclP2pPeersPerBatch = 8;
// p2pnChannelsPerPeer for a communicator of `ranks` (above).
int nccl_p2p_channels_per_net_peer(int ranks, const NcclP2pSetup& setup);
// The parts (channels) NCCL splits a message of `bytes` to one network peer
// into: nChannelsMin = channels per peer halved while x ranks > channels,
// min(nChannelsMin, ceil(bytes / (chunk / 2))) parts, doubled while a part
// exceeds one chunk and the parts stay within the channels per peer
// (src/enqueue.cc addP2pToPlan). 1 for 0 bytes.
int nccl_p2p_net_parts(double bytes, int ranks, const NcclP2pSetup& setup);
// NCCL's protocol for a point-to-point message of `peer_bytes` to one peer
// (src/enqueue.cc addP2pToPlan): LL while it is at most NCCL_P2P_LL_THRESHOLD
// (16 KiB, kNcclP2pLLThresholdBytes) x the channels per peer (before 2.29)
// or x its parts (2.29 on, bandwidth_rule: in effect 16 KiB, as a part
// holds at least half a chunk), else Simple; never LL128. What `auto` runs for an all-to-all (bytes / ranks a peer) and
// a send/recv (bytes).
inline constexpr double kNcclP2pLLThresholdBytes = 16384;
Protocol nccl_p2p_protocol(double peer_bytes, int ranks, const NcclP2pSetup& setup);

// `domain_of_rank` as AlgoParams (empty: one NVLink domain, no network peer).
Schedule direct_alltoall(int ranks, double bytes, const std::vector<int>& domain_of_rank = {},
                         const NcclP2pSetup& p2p = {});
// `one_way` (2 ranks): rank 0 sends to rank 1 and nothing comes back, a
// pipeline stage's ncclSend/ncclRecv pair in a training step.
Schedule ring_sendrecv(int ranks, double bytes, const std::vector<int>& domain_of_rank = {},
                       const NcclP2pSetup& p2p = {}, bool one_way = false);

}  // namespace collsim::collective
