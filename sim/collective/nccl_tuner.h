// NCCL's own choice of algorithm and protocol (issue 16): the cost model
// NCCL evaluates at every collective call (NCCL 2.30.7 src/graph/tuning.cc,
// ncclTopoTuneModel and ncclTopoGetAlgoTime) and the per-node graphs its
// topology search feeds it (src/graph/search.cc, ncclTopoCompute). nccl-
// tests run with NCCL's defaults measure what this model picks, which is
// not always what is fastest: on three GB200 partitions of 4 GPUs NCCL runs
// the ring at 197 GB/s where its tree reaches 234 (NVIDIA/nccl issue 1801).
// So `auto` (engine/tuner.h) simulates NCCL's pick, and `fastest` the best
// collsim finds.
//
// The model is NCCL's, term for term: per (algorithm, protocol) a latency
// (base + per-hop terms) and a bus bandwidth (graph channels x per-channel
// bandwidth, with NCCL's protocol factors and per-channel caps), turned into
// a time for `bytes`; the smallest time wins. Its inputs are NCCL's graph
// search results, which collsim estimates from the node (nccl_graphs); the
// estimate is an ASSUMPTION, documented there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/collective/direct.h"
#include "sim/collective/nccl_tables.h"
#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"

namespace collsim::collective {

// What NCCL's topology search sees of the ranks of one communicator: every
// node alike (NCCL's node is an NVLink domain, MNNVL racks included).
struct NcclSystem {
  // The GPU model (gpu_models.h names). Its generation picks NCCL's tables;
  // one NCCL does not know (nccl_arch kUnknown) leaves no model, and the
  // tuner simulates every candidate instead. The host CPU follows it
  // (nccl_tables.h, ASSUMPTION nccl_host): NCCL's LL bandwidth, its
  // network overhead and its NVLSTree correction depend on it.
  std::string gpu_model;
  int nodes = 1;  // NVLink domains the ranks span
  int ranks = 1;
  // Per GPU, in GB/s as NCCL counts them: its NVLinks x NCCL's per-link
  // figure (src/graph/topo.h: SM80 20.0, SM90 20.6, SM100 40.1 GB/s; so 18
  // H100 links are 370.8, 18 Blackwell links 721.8), 0 without NVLink.
  double nvlink_GBps = 0;
  bool nvswitch = false;  // the GPUs of a node share an NVSwitch
  bool nvls = false;      // that NVSwitch reduces and NCCL's NVLS is enabled
  // Per node: NICs of the node's ranks, and each one's rate as NCCL reads it
  // (port speed in Mb/s / 8000: 400 Gb/s is 50 GB/s). `nics` is the fewest
  // of any node; `node_nics` every distinct count, where nodes differ (a
  // failed NIC): NCCL searches each node's graphs and aligns them
  // (nccl_graphs). Empty or one value: every node has `nics`.
  int nics = 0;
  std::vector<int> node_nics;
  double nic_GBps = 0;
  bool collnet = false;  // NCCL_COLLNET_ENABLE=1 and the fabric reduces (SHARP)
  // NCCL_CROSS_NIC (config::NcclSpec::cross_nic): may a ring channel leave a
  // node by another NIC than it entered by? 0 never, 1 always, 2 (NCCL's
  // default) only where that finds more bandwidth (nccl_graphs).
  int cross_nic = 2;
  // NCCL_MIN_NCHANNELS (config::NcclSpec::min_channels): the
  // fewest channels the communicator keeps; 0, NCCL's default, sets none.
  int min_channels = 0;
  // NCCL_MIN_CTAS (config::NcclSpec::min_ctas): the same floor for the
  // rings, and for the NVLS and NVLSTree channels (collective/algorithms.cc).
  int min_ctas = 0;
  // NCCL_MAX_NCHANNELS and NCCL_MAX_CTAS (config::NcclSpec::max_channels,
  // max_ctas): the most ring channels, before the floors above; NCCL_MAX_CTAS
  // also the most NVLS and NVLSTree channels (nccl_capped_ctas); 0: none.
  int max_channels = 0;
  int max_ctas = 0;
  // The host CPU where a topology sets it (nccl: {host_cpu}); none: the GPU
  // model's (nccl_tables.h nccl_host).
  std::optional<NcclHost> host_cpu;
  // The latency the network plugin reports for the NICs, in us
  // (ncclNetProperties_t latency; config::LinkClassSpec::plugin_latency_s):
  // NCCL's graph takes its NIC's (latencyInter) and its model adds it to each
  // network step, and once more under Simple. 0: NCCL's InfiniBand transport.
  double net_latency_us = 0;
};

// One NCCL graph (struct ncclTopoGraph): channels and per-channel bandwidth
// inside the node and across nodes, in GB/s.
struct NcclGraph {
  int channels = 0;  // 0: NCCL found none (the algorithm does not run)
  double bw_intra = 0;
  double bw_inter = 0;
  // Rings across nodes: each channel leaves a node by another NIC than it
  // entered by (NCCL's graph crossNic 1 or 2) rather than by the same NIC,
  // which its last GPU reaches over NVLink (PXN).
  bool cross_nic = false;
};
struct NcclGraphs {
  NcclGraph ring, tree, nvls, collnet;
};

// ASSUMPTION (named nccl_graphs; NCCL's search explores real paths, this
// counts capacities): NCCL's search for each graph, reduced to the limits
// it meets on a node whose GPUs share NVSwitches and whose NICs each serve
// one GPU. A speed s is tried from NCCL's per-generation speed arrays of
// `release` (search.cc: sm90/sm100 intra and inter; nccl_tables.h)
// downwards, from the first not above the node's per-channel limit (the
// NIC across nodes, NVLink inside one); at s it fits channels = min(32,
// NVLink / s, NICs x floor(NIC / s)) (a ring channel crosses each GPU's
// NVLink once and one NIC), keeps the speed with the most total bandwidth,
// and stops once that reaches the GPU's NVLink. Across nodes a ring
// channel that leaves by the NIC it entered by reaches it from its last
// GPU over NVLink (PXN), so it crosses every GPU's NVLink; one that leaves
// by its last GPU's own NIC spares that GPU's, and fits NVLink x G / (G -
// 1) / s channels (G GPUs per node). NCCL_CROSS_NIC 2 tries the first,
// then the second, at each speed, keeping a graph only if it has strictly
// more bandwidth (search.cc: the crossNic retry in ncclTopoCompute,
// ncclTopoCompareGraphs): on 8 H100s with 8 NICs of 400 Gb/s crossing wins
// (8 x 48 against 7 x 48 and 8 x 45); with 200 Gb/s NICs or on Blackwell
// it buys nothing and rings keep their NIC. NCCL then doubles channels at
// half speed when s >= 25, unless Hopper or later with s < 50 on more than
// 4 channels (ncclTopoDupChannels). The tree has the ring's channels; on 2
// nodes its in-node speed rises to the fastest below twice the network's
// that NVLink holds (search.cc pass 2). NVLS: one channel per GPU on one
// node (at most 32), one per NIC head across nodes, each costing every
// GPU's NVLink s (its head 2 s); pass 2 then raises its network speed
// alone while below twice s and, across nodes, within the NIC. CollNet
// (Direct): one channel per NIC, at most 8, at the ring's speed. Nodes
// that differ (NcclSystem::node_nics) are searched one by one and the
// graphs aligned as NCCL aligns its ranks' (src/init.cc, after the graphs'
// allgather): the fewest channels, the lowest speeds. NCCL's nodes keep
// their own NICs per channel, where collsim's rings take one rule for all:
// APPROXIMATION (named nccl_graphs_cross_nic), the node with the fewest
// NICs sets whether rings leave by the NIC they entered by, its routes
// being the ones that change.
NcclGraphs nccl_graphs(const NcclSystem& system, NcclRelease release = kDefaultNcclRelease);

// Whether rings across nodes leave each node by the NIC they entered by
// (rail-aligned; collective::Schedule::pxn_between_domains): NCCL_CROSS_NIC
// 0 yes, 1 no, 2 as NCCL's ring graph for `system` has it. Where NCCL's
// tables lack the GPU (no graph), 2 crosses NICs, as 1: a named default,
// nccl_cross_nic_unknown_gpu.
bool rings_keep_their_nic(const NcclSystem& system, NcclRelease release = kDefaultNcclRelease);

// Whether rings that cross NICs (not rings_keep_their_nic) come in pairs
// that odd nodes swap so that every hop between nodes keeps its rail
// (rings_over_domains' `alternate`), by release (src/graph/connect.cc
// "Alternate rings to avoid crossing rails", src/graph/search.cc's pairs):
// none before 2.20.3; 2.20 on an even number of nodes, 2.21 and 2.22 on
// any, both for NCCL_CROSS_NIC 1 and 2 (its search then crosses as 1); from
// 2.23 for 2 only (1 no longer pairs its channels). Always on an even
// number of ring graph channels, and never without a graph (a GPU NCCL's
// tables lack).
bool rings_alternate(const NcclSystem& system, NcclRelease release = kDefaultNcclRelease);

// The communicator's channels (comm->nChannels), which ring collectives run
// on, for `system` under `release` (src/graph/connect.cc ncclTopoPostset):
// the ring graph's (nccl_graphs) doubled; across nodes doubled again while
// 2 x channels <= 64 on Hopper before 2.20.3, while under 16 on Hopper from
// 2.20.3 and on Hopper and later from 2.25.1, each at a ring speed above
// 45 GB/s; from 2.20.3 to 2.27.x at least NVLS's channels where NCCL runs
// NVLS (16 on Hopper, 32 on Blackwell across nodes; the step is gone from
// 2.28.3); at least NCCL_MIN_NCHANNELS / NCCL_MIN_CTAS
// (system.min_channels, system.min_ctas) after at most NCCL_MAX_NCHANNELS
// and NCCL_MAX_CTAS (system.max_channels, system.max_ctas: NCCL's "max, then
// min", src/graph/connect.cc), and NVLS's floor after both; at most 64. 0
// where NCCL's tables lack the GPU.
int nccl_ring_channels(const NcclSystem& system, NcclRelease release = kDefaultNcclRelease);

// NVLS's and NVLSTree's channels under NCCL_MIN_CTAS and NCCL_MAX_CTAS:
// max(min_ctas, min(max_ctas, channels)) (src/transport/nvls.cc), each
// setting ignored at 0.
int nccl_capped_ctas(int channels, const NcclSystem& system);
// NCCL_MIN_CTAS as NCCL keeps it: lowered to NCCL_MAX_CTAS where above it.
int nccl_min_ctas(const NcclSystem& system);

// The channels one ring collective of `bytes` (NCCL's nBytes: the larger
// of what a rank sends and receives; an all-gather's whole output) on
// `ranks` ranks runs on, of the communicator's `channels`, under
// `protocol`: NCCL drops channels while bytes < channels x threads x the
// protocol's threshold per thread, to 1 at least (NCCL 2.27-2.30
// src/enqueue.cc topoGetAlgoInfo, "Ring/Tree channel tuning"; thresholds
// from src/graph/tuning.cc and src/include/comm.h: LL 8 bytes a thread
// times the ranks, LL128 8, Simple 64; threads from src/include/device.h:
// LL and Simple 512, LL128 640). A 1 MiB LL ring on 32 ranks runs 8 of 16
// channels; an 8-byte one runs 1. kNone: `channels`.
int nccl_ring_channels_for(int channels, double bytes, int ranks, Protocol protocol);

// NCCL's point-to-point setup for `system` under `release`: `given`
// (config::NcclSpec's) with its p2pnChannels, when 0, NCCL's: the
// communicator's channels (nccl_ring_channels) rounded up to a power of
// two (src/graph/paths.cc ncclTopoComputeP2pChannels; 32 where NCCL's
// tables lack the GPU: ASSUMPTION nccl_p2p_channels); and the
// channels-per-peer rule of the release (2.29 on: bandwidth_rule, over
// min(NIC, PCIe)), across the system's nodes; from 2.29 a Grace-hosted
// Blackwell's network chunk doubled (src/init.cc computeBuffSizes).
NcclP2pSetup resolve_p2p_setup(NcclP2pSetup given, const NcclSystem& system, NcclRelease release);

// NCCL's predicted time in microseconds of `algo` ("ring", "tree", "nvls",
// "nvlstree", "collnetdirect", "pat") with `protocol` for `op` on `bytes`,
// or a negative value where NCCL would not run the pair (no graph, a
// protocol it disables, NVLSTree on one node, CollNet not enabled, PAT with
// more than one GPU per node, an op NCCL's model does not cover). The
// formula is 2.30.7's; the tables it reads (per-channel caps, NVLSTree's
// network latency and size correction) and the NVLS bandwidth model (before
// 2.28.3: min(in-node, network) x 5/6) follow `release` (nccl_tables.h).
// `graphs` should come from nccl_graphs under the same release.
double nccl_predicted_time_us(Op op, std::string_view algo, Protocol protocol, double bytes, const NcclSystem& system,
                              const NcclGraphs& graphs, NcclRelease release = kDefaultNcclRelease);

}  // namespace collsim::collective
