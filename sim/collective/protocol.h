// NCCL's protocols as cost parameters (issue 4): each trades latency for
// bandwidth. Values are NCCL's own cost-model constants (NCCL 2.30.7,
// src/graph/tuning.cc), used as named,
// documented defaults:
//   - launch latency: baseLatencies[algorithm][protocol], paid once per
//     collective before its first transfer;
//   - step latency: hwLatencies[hop kind][algorithm][protocol], added to the
//     latency of every transfer, by the kind of its route (NVLink, PCIe or
//     network);
//   - payload fraction: the share of each wire line that carries data
//     (LL: 8 of 16 bytes; LL128: 120 of 128; Simple: all), so a transfer
//     occupies its links for bytes / fraction;
//   - window: the bytes one channel's connection keeps in flight, NCCL's
//     per-protocol buffer (NCCL_STEPS = 8 slots; src/init.cc defaults:
//     Simple 1 << 22 = 4 MiB, or NCCL_BUFFSIZE for collectives (config::NcclSpec::buffsize);
//     LL 8 lines/thread x 512 threads x 8 steps x
//     16 B = 512 KiB; LL128 120 elements/thread x 640 threads x 8 steps x
//     8 B = 4,915,200 B). A sender waits for the receiver to free a slot, so
//     a connection moves at most window / round trip (plan.h).
// Protocol::kNone charges nothing: the network alone, for studies and tests.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/error.h"

namespace collsim::collective {

enum class NcclHost;  // nccl_tables.h: the host CPU NCCL reads

enum class Protocol { kNone, kLL, kLL128, kSimple };
// The latency table a schedule uses (NCCL's algorithm rows).
enum class LatencyFamily { kRing, kTree, kNvls, kNvlsTree, kPat, kCollNet };
enum class HopKind { kNvlink, kPcie, kNet };

struct ProtocolCosts {
  double launch_latency_s = 0;
  double step_latency_s = 0;
  double payload_fraction = 1.0;
  double window_bytes = 0;  // wire bytes in flight per connection; 0 = unbounded
  // Added to the launch latency once per rank of the collective (PAT only).
  double launch_latency_per_rank_s = 0;
  // An NCCL ring under LL or LL128: its network steps pay the link class's
  // ring_step_latency (config::LinkClassSpec) too. protocol_costs leaves it
  // false; the engine sets it from the schedule (engine/plan.cc).
  bool ring_step = false;
};

// The NCCL release a run models (`--nccl`): it selects the tuning values
// whose change between releases measurements follow (the caps below and
// nccl_tables.h; not protocol_costs' latencies). Named default
// kDefaultNcclRelease, 2.30.7 (the newest release read).
struct NcclRelease {
  int major = 2;
  int minor = 30;
  int patch = 7;
  friend auto operator<=>(const NcclRelease&, const NcclRelease&) = default;
};
inline constexpr NcclRelease kDefaultNcclRelease{2, 30, 7};
// The first release with PAT (NVIDIA/nccl v2.23.4-1: src/graph/tuning.cc
// has no NCCL_ALGO_PAT in v2.22.3-1).
inline constexpr NcclRelease kFirstPatRelease{2, 23, 4};
// "2.27", "2.27.3" or "2.27.3-1" (the package number ignored; without a
// patch number, the series' first published release, NVIDIA/nccl's tags
// v2.18.1-1 to v2.30.3-1: 2.27 is 2.27.3, 2.25 is 2.25.1; it was 2.27.0,
// which NCCL never released, and 2.25 then lacked 2.25.1's Blackwell
// kernels). Other patch numbers are taken as given. Error (kind
// kBadInput) for anything else, or a release before 2.18 (the oldest whose
// tables are here) or after kDefaultNcclRelease (the newest).
Expected<NcclRelease> parse_nccl_release(std::string_view text);
// The patch numbers NVIDIA/nccl tagged for release 2.`minor` (v2.18.1-1 to
// v2.30.7-1), ascending; empty outside 2.18 to 2.30.
std::vector<int> nccl_published_patches(int minor);
std::string to_string(NcclRelease release);  // "2.27.3"

// NCCL_IB_AR_THRESHOLD's default (src/transport/net_ib/p2p.cc ncclIbArThreshold), bytes.
inline constexpr double kNcclIbArThresholdBytes = 8192;

// NCCL's throughput limit of the LL protocol on rings, from its tuning
// model (src/graph/tuning.cc, llMaxBws): LL carries at most llMaxBw of
// payload per GPU (flag polling, not the links, sets it); nccl_tables.h
// ll_max_GBps gives `release`'s values, by GPU generation in one node and by
// the host CPU (its ASSUMPTION nccl_host) across nodes.
// Returns the payload cap of one of the ring's `channels` channels in
// bytes/s, 0 when there is none (other protocols, a GPU model collsim does
// not place). NCCL's LL128 limit (perChMaxRingLL128Bws, per NCCL channel)
// is not applied: collsim's ring channels are not NCCL's channels.
double ring_protocol_cap_Bps(Protocol protocol, std::string_view gpu_model, int nodes, int channels,
                             NcclRelease release, std::optional<NcclHost> host = std::nullopt);

// What one NCCL ring channel moves through the network, in GB/s of wire
// bytes under any protocol (its payload share of them: Simple all, LL128 120
// of 128, LL half; engine/plan_facts.cc transfer_timing): `setting`
// (config::NcclSpec::ring_channel_net_GBps) when 0 or more (0: no limit),
// else `qp_rate_GBps` (its NIC link class's qp_rate_GBps,
// config/link_classes.cc; 0: not limited) times `qps`
// (NCCL_IB_QPS_PER_CONNECTION, config::NcclSpec::ib_qps_per_connection).
// Each network connection of NCCL's InfiniBand verbs transport posts its
// messages on its queue pairs in turn (src/transport/net_ib), and one queue
// pair of a ring channel falls short of its share of a 400G NIC: where NCCL
// runs 2 channels per NIC under Simple (8 GPUs with a NIC each: 16 channels
// from NCCL 2.20.3, collective/nccl_tuner.h nccl_ring_channels) with one
// queue pair each, the rings stop near 2 x 8 x 20 = 320 GB/s of busbw
// (since 2026-12-04 a rate of 23.5 less a cost per message,
// ring_channel_message_rate_Bps below, gives that 20); 3 or more channels
// per NIC, or 2 queue pairs per connection, reach the NIC.
// NCCL documents the setting for multi-level fabrics that need several queue
// pairs for routing entropy; collsim does not model the routing and keeps
// one rate per queue pair. Measured (the rate and the cost per message are
// fitted to the first, link_classes.cc):
// - 10 x 8 H100, NCCL 2.29.2, defaults: 314-324 GB/s from 4 GiB, while 1,
//   2 and 4 GPUs a node (4 channels per NIC) reach 49 GB/s per NIC
//   (xxrjun/nccl-tests-cluster, run 20260129-180219);
// - 2 to 32 x 8 B200, NCCL 2.29.7, no IB setting in the job script:
//   345 down to 304 GB/s (togethercomputer/together-nccl-tests,
//   baselines/use3a-ss/2026-05-02_nccl_collective_scaling_report.md and
//   benchmarks/B200/collective-scaling/submit_all.sh at 0492bede);
// - 4 x 8 B200, NCCL 2.30.7: 307 GB/s with NCCL's settings, 384 with
//   NCCL_IB_QPS_PER_CONNECTION=2 and four more settings added at once
//   (NCCL_IB_AR_THRESHOLD=0, which only moves messages under 8 KiB,
//   NCCL_IB_SPLIT_DATA_ON_QPS=0, NCCL_IB_PCI_RELAXED_ORDERING=1,
//   NCCL_IGNORE_CPU_AFFINITY=1); the same cluster under NCCL 2.28.9 and
//   those settings held 388-390 GB/s from 2 to 64 nodes (together-nccl-tests,
//   baselines/flapping-airplanes/2026-07-11_nccl_collective_scaling_report.md
//   at 5fa38e7b and 2026-05-12_nccl_collective_scaling_report.md at
//   6fd65d19; tests/validation/b200-qps.yaml);
// - 2 and 8 x 8 H100 with NCCL_MIN_CTAS=24 and 2 queue pairs: 392 GB/s
//   (nccl-tests issue 309); GB200 partitions of 4 and 8 GPUs under NCCL
//   2.27.3, 4 channels per NIC (2.27.3's Blackwell speeds start at 47.9,
//   so 24 GB/s channels win), reach their NICs (NVIDIA/nccl issue 1801).
// EFA (aws-ofi-nccl over libfabric, no verbs queue pairs) has no rate.
double ring_channel_net_GBps(double setting, double qp_rate_GBps, int qps);

// The network messages NCCL's proxy posts for `wire_bytes` of one ring
// channel's step (at least 1): NCCL_STEPS = 8 slots of window / 8 bytes
// (ProtocolCosts::window_bytes). Simple moves a step in chunks of 4 slots
// cut in 2 slices, one message each, a slice at least 1/16 of a slot
// (NCCL 2.29.2 src/device/prims_simple.h, ALLREDUCE/ALLGATHER/
// REDUCESCATTER_CHUNKSTEPS 4 and SLICESTEPS 2 in src/include/collectives.h;
// the proxy sends a slice at once, src/transport/net.cc); LL and LL128 send
// one slot per message. So the default 4 MiB buffer sends 1 MiB messages.
// Broadcast and reduce move a chunk of one slot in one slice
// (BROADCAST_/REDUCE_CHUNKSTEPS and SLICESTEPS 1): `slots_per_message` 1
// (512 KiB messages under Simple's 4 MiB), where the ring steps' is 2.
// REQUIRES: window_bytes > 0.
double ring_step_messages(Protocol protocol, double wire_bytes, double window_bytes, int slots_per_message = 2);

// What one NCCL ring channel's network connection moves when every message
// larger than `ar_threshold_bytes` costs it `msg_cost_s` beyond its bytes:
// `channel_Bps` (the channel's rate, ring_channel_net_GBps, wire bytes/s) x
// D / (D + m x cost x channel_Bps), for D = `wire_bytes` a step in
// ring_step_messages messages, m of them above the threshold
// (ring_step_costly_messages). The threshold is NCCL_IB_AR_THRESHOLD
// (config::NcclSpec::ib_ar_threshold, NCCL's default 8 KiB): NCCL's verbs
// transport sends a larger message as an RDMA write followed by a separate
// zero-byte write with immediate where adaptive routing is on (InfiniBand's
// default), and a smaller one as one write with immediate
// (src/transport/net_ib/p2p.cc). Two measured curves step up exactly where
// a ring step's message crosses 8 KiB: a 4 x 8 H100 LL128 all-gather
// (NCCL 2.24.3, 16 channels) takes 110 and 111 us at 1 and 2 MiB (2.2 and
// 4.4 KB messages) and 193 us at 4 MiB (8.7 KB), and a 2 x 8 H100 LL128
// ring all-reduce (24 channels) 157 us at 1 and 2 MiB (2.9 and 5.8 KB),
// 178 at 4 MiB (11.6 KB) (tests/validation/public-ramps.yaml,
// cases.yaml). ASSUMPTION: RoCE (ethernet), on which NCCL turns adaptive
// routing on only with NCCL_IB_ADAPTIVE_ROUTING=1, follows the same rule
// (link_classes.cc). The cost
// is a queue pair's over the connection's queue pairs
// (NCCL_IB_QPS_PER_CONNECTION; engine/nccl_system.cc placement_params
// divides): they take its messages in turn (NCCL_IB_SPLIT_DATA_ON_QPS=0,
// NCCL's default from 2.20.3: src/transport/net_ib,
// ncclIbCommBaseGetQpForRequest), each handling its own one after another,
// so they pay the cost side by side. Returns channel_Bps when the cost,
// the rate or the bytes are 0.
// A queue pair's cost is the link class's qp_msg_cost (config/link_classes.cc: 7 us on
// InfiniBand, FITTED to one 10-node H100 cluster's all-gather,
// reduce-scatter and ring all-reduce from 32 MiB to 16 GiB, where the
// rings run 16 channels of 1 queue pair: 79 steps of 26 KB to 13 MB per
// channel); it is what bends those curves (all-gather at 256 MiB: 150
// GB/s measured, 2 x 105 KB messages a step) and holds their plateau near
// 2 x 8 x 20 GB/s.
double ring_channel_message_rate_Bps(Protocol protocol, double wire_bytes, double window_bytes, double channel_Bps,
                                     double msg_cost_s, int slots_per_message = 2,
                                     double ar_threshold_bytes = kNcclIbArThresholdBytes);
// Of ring_step_messages' messages, those larger than `threshold_bytes`.
double ring_step_costly_messages(Protocol protocol, double wire_bytes, double window_bytes, int slots_per_message,
                                 double threshold_bytes);
// Whether a ring channel's network messages under `protocol` pay the
// message cost above: Simple's and LL128's, which the sending NIC reads
// from GPU memory (GPUDirect RDMA), do; LL's, which NCCL keeps in host
// memory on the sending side (src/transport/net.cc, sendProxyConnect: every
// protocol's buffer but LL's on the GPU when GDR is on), and the bare
// network's (kNone), do not. The split is an ASSUMPTION read from one
// measured curve: a ring all-gather on 4 x 8 H100 under NCCL 2.24.3 takes
// 50-75 us from 512 B to 512 KiB (LL; 31 ring steps), where a 7 us cost
// per message gives 236 us (tests/validation/public-ramps.yaml
// h100-4node-allgather-small); the 10-node H100 curves' LL128 rows at
// 32-128 MiB need the cost (28-82% fast without it).
inline bool pays_message_cost(Protocol protocol) {
  return protocol == Protocol::kSimple || protocol == Protocol::kLL128;
}
// Whether the protocol forwards data as its lines' flags arrive (LL,
// LL128), not in whole slices (Simple).
inline bool streams_lines(Protocol protocol) { return protocol == Protocol::kLL || protocol == Protocol::kLL128; }
// LL and LL128 forward data as their lines' flags arrive, in these units
// (tree.h and chain.h pipeline in them): a warp's 32 LL lines of 8 data
// bytes (src/device/prims_ll.h), and one LL128 warp's 2 KiB of lines, 1,920
// B of data (ncclProtoGrainSize, src/include/device.h; prims_ll128.h).
inline constexpr double kLlWarpDataBytes = 256;
inline constexpr double kLl128GrainBytes = 1920;
// NCCL_BUFFSIZE's default (src/init.cc DEFAULT_BUFFSIZE), bytes.
inline constexpr double kNcclDefaultBuffsize = 4194304.0;
// The slots a connection's buffer is cut into (src/include/device.h NCCL_STEPS).
inline constexpr int kNcclSteps = 8;

// NCCL's throughput limit of its tree all-reduce, from its tuning model
// (src/graph/tuning.cc): a tree channel carries at most perChMaxTreeBw of
// bus bandwidth (Simple; Ampere 24.0 / 23.6 / 17.8, Hopper 38.7 / 41.4 /
// 36.0 GB/s on 1, 2 and 3+ nodes, the same in every release from 2.18.3 to
// 2.30.7; Blackwell 70.0 / 42.8 / 24.0 from NCCL 2.28.3 on, 2 x 38.7 /
// 2 x 41.4 / 2 x 36.0 in 2.25.1-2.27.7), LL128 also at most
// perChMaxTreeLL128Bw (Ampere 20 / 20 / 20, Hopper 36.7 / 36.7 / 29.0;
// Blackwell 55.6 / 31.67 / 20.0 from 2.28.3, 2 x 36.7 / 2 x 36.7 / 2 x 29.0
// before; nccl_tables.h holds every release's values), LL at most llMaxBw
// in all (as ring_protocol_cap_Bps); NCCL's
// tree moves half its bus bandwidth as algorithm bandwidth. The kernel, not
// the links, sets it: a tree channel's threads both reduce up and broadcast
// down. Measured trees follow each release's table: 8 B200s per node under
// NCCL 2.29.7 stop at 191-193 GB/s on 4 and 8 nodes (8 x 24.0), GB200
// partitions of 4 and 8 GPUs on three racks under NCCL 2.27.3 reach their
// NICs' 234 and 486 GB/s (tests/validation/gb200-partitions.yaml).
// The channels, each run once on each of the two trees
// (src/graph/connect.cc), are across nodes the more of NCCL's tree graph's,
// `graph_channels` (nccl_tuner.h nccl_graphs, as NCCL's model counts them;
// 0: unknown), and the ASSUMPTION min(GPUs per NVLink domain, 32), on one
// node too (there it alone counted until 2026-12-07, and a 2-GPU tree was
// held to 2 channels: 1 GiB in 27.8 ms, 4.3x NCCL's model's 6.5 ms, where
// NCCL's search finds 12). On 8-GPU nodes with 8 NICs of 400G both are 8
// (one 48 GB/s channel a NIC; NCCL's search does not duplicate more than 4
// channels below 50 GB/s on Hopper and later, src/graph/search.cc); with
// 800G NICs the graph has 16 (a NIC carries two 48 GB/s channels), so the
// tree's limit doubles with the NIC as NCCL's model has it (it did not: 4
// GiB on 16 B200 nodes took 46 ms at 400G and at 800G, where NCCL's model
// gives 22.5). On an NVL72 rack collsim's search model finds 16 channels
// and the assumption 32, which the two-rack GB200 curve wants
// (tests/validation/cloud-curves.yaml: 16 leaves its tree rows 17.3% off
// on average, 32 13.7%). Returns the cap
// on the all-reduce's algorithm bandwidth (payload bytes/s of the whole
// collective), 0 when there is none (a GPU model collsim does not place).
double tree_protocol_cap_Bps(Protocol protocol, std::string_view gpu_model, int nodes, int gpus_per_domain,
                             NcclRelease release = kDefaultNcclRelease, std::optional<NcclHost> host = std::nullopt,
                             int graph_channels = 0);

// What one CTA (an NCCL channel's thread block) moves along a chain inside
// an NVLink domain, GB/s of payload: receiving a step from the GPU before
// it and sending it to the next, one step at a time. NCCL's model gives a
// tree graph channel at most perChMaxTreeBw of bus bandwidth on one node
// (LL128 also perChMaxTreeLL128Bw; src/graph/tuning.cc; Ampere 24.0 / 20,
// Hopper 38.7 / 36.7, Blackwell 70.0 / 55.6 from 2.28), run as two CTAs;
// ASSUMPTION nccl_cta_chain_rate: one CTA moves half of it (perCh / 2;
// Hopper 19.35 under Simple, 18.35 under LL128). Chosen for the tree (below); held out on NCCL's ring
// broadcast and reduce, whose channels are one CTA each (ring_chain_channel_Bps).
// `setting_GBps` (config::NcclSpec::tree_chain_channel_GBps) replaces it
// when 0 or more (0: no limit). nullopt for LL (its per-GPU limit holds),
// kNone, or without a setting a GPU model collsim does not place.
std::optional<double> cta_chain_GBps(Protocol protocol, std::string_view gpu_model,
                                     NcclRelease release = kDefaultNcclRelease, double setting_GBps = -1);

// A ring broadcast's or reduce's chain inside an NVLink domain (chain.h),
// standing for `ctas` NCCL ring channels (collective::Schedule::
// chain_nccl_channels): payload bytes/s, ctas x cta_chain_GBps. Each
// channel's slices cross every GPU of the chain at one CTA's rate, so the
// chain's fill is (hops) x NCCL's 512 KiB step / that rate: 28 NVLink hops
// of a 4-node H100 broadcast, about 0.8 ms of its measured 0.85 ms
// intercept (docs/validation-chains.md). nullopt as cta_chain_GBps, or
// ctas <= 0.
std::optional<double> ring_chain_channel_Bps(Protocol protocol, std::string_view gpu_model, double ctas,
                                             NcclRelease release = kDefaultNcclRelease, double setting_GBps = -1);

// What one of a tree's channels moves along its chain inside an NVLink
// domain while `busy` (in (0, 1]; collective::Schedule::pipeline_busy) of
// the chain's connections run at once, payload bytes/s each way per GPU of
// the widest domain (tree.h: collsim runs two channels per GPU, NCCL
// min(GPUs, 32) of them per tree, so it is scaled by NCCL's channels over
// collsim's): the rate of a tree's hops inside a domain (engine/plan.cc),
// where tree_protocol_cap_Bps's limit across nodes is paid on the network
// hops. NCCL's model gives a tree at most its graph's G channels x
// perChMaxTreeBw (LL128 also at most perChMaxTreeLL128Bw) of bus bandwidth
// on one node, half of it algorithm bandwidth (src/graph/tuning.cc), and
// runs each graph channel on two CTAs, one per tree (src/graph/connect.cc):
// perCh / 4 each while all of them run. ASSUMPTION: the busy CTAs of a
// graph channel share its perCh / 2, so while at most half of them run
// (a pipeline of few slices through a deep chain), one moves perCh / 2;
// perCh / (4 busy) above. Chosen on the two-rack GB200 curve
// (tests/validation/cloud-curves.yaml, 64-GPU chains, where a small
// all-reduce keeps few hops busy): its 1-16 MiB rows under LL128 imply
// about 29 GB/s a CTA (Blackwell's perCh / 2: 27.8), its 1 GiB row under
// Simple with NCCL's 2 MiB chunks about 38 (35); perCh / 4 left those rows
// 26-34% slow. `setting_GBps` (config::NcclSpec::tree_chain_channel_GBps)
// replaces perCh / 2 when 0 or more (0: no limit, returned as 0). NCCL's
// channels: the more of `graph_channels` and min(GPUs, 32), as above. LL keeps
// its per-GPU limit across nodes (tree_protocol_cap_Bps): nullopt, as for
// kNone or, without a setting, a GPU model collsim does not place.
std::optional<double> tree_chain_channel_Bps(Protocol protocol, std::string_view gpu_model, int gpus_per_domain,
                                             double busy = 1, NcclRelease release = kDefaultNcclRelease,
                                             double setting_GBps = -1, int graph_channels = 0);

// NCCL's throughput limit of NVLSTree (NCCL 2.28.3 on, src/graph/tuning.cc
// perChMaxNVLSTreeBws, in the release's tables: Hopper 57.7 / 45.5 GB/s of
// bus bandwidth per channel on 2 / 3+ nodes; Blackwell 96.0 / 43.1 from
// 2.28.3, 96.0 / 43.8 from 2.28.9, 96.0 / 80.0 from 2.30.3). Like the tree's
// (above), the kernel sets it: a channel's threads run the tree between
// nodes. Same ASSUMPTION on channels: min(GPUs per NVLink domain, 32).
// Before 2.28.3 NCCL's model had no such table, but the kernel had the
// limit: two 2-node H100 clusters measured before 2.28.3 existed (nccl-tests
// issue 309, 2025-06-18; dstack pull request 2604, 2025-05-07) stop at
// 466.7 and 467.5 GB/s, at 8 x 57.7; so earlier releases take 2.28.3's
// table. Returns the cap on the all-reduce's algorithm bandwidth (payload
// bytes/s; NCCL's bus-to-algorithm ratio ranks / (2 (ranks - 1))), 0 when
// there is none (one node, a GPU model collsim does not place).
// Measured: 8 B200s per node under 2.29.7 stop at 274-291 GB/s on 4 to 32
// nodes (b200-points.yaml), under this cap's 350.
double nvls_tree_protocol_cap_Bps(std::string_view gpu_model, int nodes, int gpus_per_domain, int ranks,
                                  NcclRelease release = kDefaultNcclRelease);

// The per-channel tables behind tree_protocol_cap_Bps, in GB/s of bus
// bandwidth (NCCL's perChMaxTreeBws and perChMaxTreeLL128Bws for the GPU
// model's generation, `nodes` and `release`); zeros for a model collsim does
// not place or nodes < 1.
struct NcclTreeChannelCaps {
  double simple = 0;
  double ll128 = 0;
};
NcclTreeChannelCaps nccl_tree_channel_caps(std::string_view gpu_model, int nodes,
                                           NcclRelease release = kDefaultNcclRelease);

// Costs for `family` x `protocol` on a route of `hop` kind: NCCL 2.30.7's
// values whatever the release modelled. NCCL raised NVLSTree's network
// hwLatency from 14 to 20.9 us in 2.28.9, and the 2-node B200 curve measured
// under NCCL 2.26.2 (tests/validation/more-curves.yaml) fits the newer
// value: with 14 us its 1-2 MiB rows go from +47/+32% to +78/+57%. A
// latency estimate that improved is not a behaviour that changed.
ProtocolCosts protocol_costs(LatencyFamily family, Protocol protocol, HopKind hop);
// PAT (pat.h) as NCCL 2.30.7 models it (src/graph/tuning.cc), Simple only:
// launch baseLat 8 us plus nRanks x 2.8 us (NCCL: "still a linear part");
// per network step hwLat 14 us / 3.5 (its log latency term,
// log2(nNodes) x interLat / 3.5), NVLink and PCIe 4 us / 3.5; and the
// busBw x 0.75 NCCL gives PAT against the ring, as the share of each
// link's rate a PAT transfer gets (payload fraction 0.75). No mechanism is
// modelled behind the 0.75 and the linear term: they are NCCL's own
// figures, named here so `auto` weighs PAT against the ring as NCCL does.
// CollNetDirect (collnet.h), Simple only: NCCL's network latency for it,
// hwLat NET 31 us, once per collective at launch (its formula adds one
// interLat; baseLat is 0), and hwLat NVLINK 3.7 us per NVLink transfer (the
// formula's 2 x intraLat: reduce into the head and broadcast out of it).
// Its 0.4 us per local GPU of "arity serialization" is left out.
// Whether NCCL implements the pair (NVLS, PAT and CollNet run only the
// Simple protocol).
bool protocol_supported(LatencyFamily family, Protocol protocol);

std::optional<Protocol> parse_protocol(std::string_view name);  // "LL", "LL128", "Simple", "none" (any case)
std::string_view protocol_name(Protocol p);
// "auto" -> LL, LL128, Simple (the candidates NCCL's tuner weighs); a name ->
// that protocol; NCCL_PROTO's lists ("LL,LL128"; "^LL128": all but those) ->
// those, in that order; an error naming the valid choices otherwise.
Expected<std::vector<Protocol>> protocol_candidates(const std::string& name);
// Whether `list` is one of NCCL_ALGO's or NCCL_PROTO's list forms ("a,b",
// "^a": all but those), and the names it lists, without the '^' (empty
// names kept: ",," lists one).
bool is_nccl_list(std::string_view list);
std::vector<std::string> nccl_list_names(std::string_view list);

}  // namespace collsim::collective
