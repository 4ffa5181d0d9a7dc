// A topology file after parsing and validation: plain data, fully expanded
// (every device and every link listed), every entry remembering where in the
// file it came from. Units are SI (bytes/s, seconds, metres).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/config/catalog.h"
#include "sim/core/error.h"

namespace collsim::config {

enum class DeviceKind { kGpu, kCpu, kNic, kNvSwitch, kPcieSwitch, kSwitch };

// Whether traffic between two other devices may pass through this kind.
// GPUs and CPUs are endpoints: NVLink peer traffic never detours via a CPU.
bool forwards_traffic(DeviceKind kind);
const char* to_string(DeviceKind kind);

struct DeviceSpec {
  std::string name;  // unique, e.g. "gpu3"
  DeviceKind kind = DeviceKind::kGpu;
  int ports = 0;         // port budget (lanes of links it may terminate); 0 = unlimited
  int rack = -1;         // index into TopologySpec::racks; -1 = not placed
  double height_m = -1;  // height above the floor in its rack
  SourceMark declared_at;
  std::string model;  // GPUs: a key of TopologySpec::gpu_models; empty = not given
  // The catalog part it is (TopologySpec::catalog, a part of its kind);
  // empty = matched by kind (GPUs by model, NICs and switches by port rate:
  // topology/bill_of_materials.h).
  std::string part;
};

// A GPU model (gpu_models.h): rates in FLOP/s by precision ("bf16", "fp8"...).
struct GpuModelSpec {
  std::string name;
  std::map<std::string, double> peak_flop_per_s;  // dense peak
  std::map<std::string, double> mamf_flop_per_s;  // achievable matmul ceiling (<= peak)
  double hbm_bytes = 0;
  double hbm_Bps = 0;
  int sms = 0;  // streaming multiprocessors (GEMM wave quantisation); 0 = unknown
};

// Where racks stand and how cables run between them (docs/topology-format.md,
// "Floor plan"). Every value is a named default the file may override.
struct FloorSpec {
  double rack_pitch_m = 0.6;       // slot to slot along a row (a 600 mm wide rack)
  double row_pitch_m = 2.4;        // row to row (rack depth + aisle)
  double rack_height_m = 2.0;      // floor to rack top
  double tray_above_rack_m = 0.3;  // rack top to the overhead cable tray
  double slack_m = 1.0;            // per cable: service loops at both ends
};

struct RackSpec {
  std::string name;
  int row = 0;
  int slot = 0;
  SourceMark declared_at;
  std::string cooling = "air";     // "air" or "liquid": picks the catalog's rack budget
  double budget_W = -1;            // power budget of its IT load; -1 = the catalog's for its cooling
  std::vector<std::string> parts;  // rack-level catalog parts (kind rack) it holds
};

// A cable medium: propagation delay per metre and the longest cable it allows.
struct MediumSpec {
  std::string name;
  double delay_s_per_m = 0;
  double reach_m = 0;
};

// Per-link-class physical parameters (see link_classes.h for the defaults).
struct LinkClassSpec {
  std::string name;
  double efficiency = 1.0;  // achievable fraction of line rate for collective traffic
  // For GPU<->NVSwitch links: the further fraction in-switch reduction (NVLS)
  // achieves; 0 = the switch cannot reduce.
  double nvls_efficiency = 0;
  // For GPU<->NVSwitch links: the switch's reduction engines (NVLS) add at
  // most this fraction of the line rate of the GPU links into the switch, in
  // bytes of adds per second (p - 1 per reduced element of p inputs, spread
  // over the inputs: collective::Schedule::switch_inputs); 0 = not limited.
  // See link_classes.cc for the fitted value.
  double nvls_reduction = 0;
  // For scale-out links: what the fabric's transport adds to each step of
  // an NCCL connection over it, beyond NCCL's network step latencies
  // (hwLatencies NET, measured on InfiniBand); 0 = nothing. See
  // link_classes.cc for the fitted value.
  double step_latency_s = 0;
  // For scale-out links: switches joined by links of this class reduce in
  // the network (InfiniBand SHARP, NCCL's CollNet), and a transfer into or
  // out of the aggregation tree moves at this further fraction of its
  // links' rate; 0 = the switches cannot reduce (every built-in class: a
  // fabric has it only where it is declared).
  double sharp_efficiency = 0;
  // For GPU<->NVSwitch links: what each NVLS chunk smaller than NCCL's
  // largest (128 KiB) costs one NVLS channel, in seconds per chunk
  // (collective/nvls.h NvlsChunking); 0 = nothing. See link_classes.cc for
  // the fitted value.
  double nvls_chunk_cost_s = 0;
  // For scale-out links: what one network operation of NCCL's proxy (one
  // part of a point-to-point message, one direction) costs the rank beyond
  // its bytes, paid once per all-to-all or send/recv (collective/direct.h);
  // 0 = nothing. See link_classes.cc for the fitted value.
  double p2p_op_cost_s = 0;
  // For scale-out links: what each step of an NCCL ring under LL or LL128
  // that crosses a link of this class costs, in seconds, beyond NCCL's ring
  // network step latency (hwLatencies NET ring: 2.7 and 4.0 us) and
  // step_latency; 0 = nothing. Not charged to trees, NVLSTree, Simple or
  // point-to-point (see link_classes.cc for the fitted value and why).
  double ring_step_latency_s = 0;
  // For scale-out links of NCCL's InfiniBand verbs transport (InfiniBand,
  // RoCE): what one queue pair of an NCCL ring channel's network connection
  // moves, in GB/s of wire bytes; a channel has NCCL_IB_QPS_PER_CONNECTION
  // of them (NcclSpec::ib_qps_per_connection). 0 = not limited (EFA, whose
  // libfabric transport has no verbs queue pairs). See link_classes.cc for
  // the fitted value.
  double qp_rate_GBps = 0;
  // For the same links: what each network message of an NCCL ring channel
  // (a Simple slice, an LL or LL128 slot) costs the queue pair that carries
  // it, beyond its bytes, in seconds (collective/protocol.h
  // ring_channel_message_rate_Bps). 0 = nothing. See link_classes.cc for the
  // fitted value.
  double qp_msg_cost_s = 0;
  // For scale-out links: the latency the fabric's NCCL network plugin
  // reports to NCCL (ncclNetProperties_t latency, in seconds here), which
  // NCCL's tuning model adds to each network step of every algorithm and,
  // as a flush, once more under Simple (src/graph/tuning.cc); it moves
  // NCCL's algorithm and protocol choice, not any simulated time. 0 = none,
  // as NCCL's own InfiniBand and socket transports report. See
  // link_classes.cc for the sourced values.
  double plugin_latency_s = 0;
};

// One full-duplex cable (or bundle of `lanes` parallel links) between two
// devices. rate_Bps is per direction for the whole bundle, before efficiency.
struct LinkSpec {
  int a = -1;  // index into TopologySpec::devices
  int b = -1;
  double rate_Bps = 0;
  int lanes = 1;
  // The entry of the file's `links:` list it came from (errors name
  // links[entry]); -1: made by a cluster template (its fabric).
  int entry = -1;
  double fixed_latency_s = 0;  // serdes, switch traversal...; propagation comes from the cable
  double length_m = -1;        // given in the file; -1 = from the floor plan (when medium is set)
  // Empty = no cable (on-board or in-package wiring); kAutoMedium = the
  // cheapest catalog cable that reaches (topology::CableChooser).
  std::string medium;
  std::string link_class;
  double efficiency = 1.0;     // resolved: link override, else its class's
  double nvls_efficiency = 0;  // its class's
  double nvls_reduction = 0;   // its class's
  double step_latency_s = 0;   // its class's
  SourceMark declared_at;
  SourceMark medium_at;  // its `medium:` value, where the file gives one (cable errors point there)
};

// Named limit: 2,097,152 devices in a topology (a million GPUs with their
// NICs; the 131,072-GPU example has about 300,000), checked before any is
// made: a file's device counts, a cluster template's nodes. Reading 2.17 M
// devices takes 2.6 s and 900 MB. The environment variable
// COLLSIM_MAX_DEVICES (a count, 1 to 2^26) lowers or raises it: the fuzz
// harnesses lower it so that no input can outgrow libFuzzer's memory limit.
inline constexpr long long kMaxDevices = 1 << 21;
inline constexpr const char* kMaxDevicesEnv = "COLLSIM_MAX_DEVICES";
// Named limit: links per device allowed in a file, 4 (8,388,608 links at the
// default device limit; a 131,072-GPU cluster has about 3 million links for
// 300,000 devices), counted before a full pattern is expanded.
inline constexpr long long kMaxLinksPerDevice = 4;

// The limits in force: kMaxDevices, or COLLSIM_MAX_DEVICES when it holds a
// count in range (anything else is ignored); links: kMaxLinksPerDevice times
// that.
long long max_devices();
inline long long max_links() { return kMaxLinksPerDevice * max_devices(); }

// NCCL settings that change how traffic is routed (`nccl:` in a topology
// file); each default is NCCL's own.
struct NcclSpec {
  // PXN (NCCL_PXN_DISABLE=0, NCCL_P2P_PXN_LEVEL=2, NCCL 2.12+ defaults):
  // point-to-point traffic (all-to-all, send/recv) to a GPU in another
  // NVLink domain crosses NVLink first, to the GPU of the sender's domain at
  // the receiver's position, and leaves through that GPU's NIC: it stays on
  // the receiver's rail (network.h, pxn_relay).
  bool pxn = true;
  // CollNet (NCCL_COLLNET_ENABLE=1; NCCL's default is 0): `auto` may run
  // collnetdirect where the fabric's switches reduce (sharp_efficiency).
  bool collnet = false;
  // NVLS (NCCL_NVLS_ENABLE, default on where NVSwitches reduce): false, as
  // NCCL_NVLS_ENABLE=0, and a choice (`auto`, `tuned`, `fastest`) runs
  // neither nvls nor nvlstree; naming one still runs it.
  bool nvls = true;
  // NCCL's point-to-point split (collective/direct.h NcclP2pSetup):
  // p2p_channels is its p2pnChannels (0: NCCL's, from its ring graph,
  // collective/nccl_tuner.h resolve_p2p_setup);
  // nchannels_per_net_peer is NCCL_NCHANNELS_PER_NET_PEER (0: NCCL's rule,
  // counting one NIC per GPU; a node whose GPUs each have several NICs
  // modelled as one port states NCCL's count here); p2p_net_chunksize is
  // NCCL_P2P_NET_CHUNKSIZE in bytes (NCCL's default 128 KiB);
  // p2p_per_channel_net_bw is NCCL_P2P_PER_CHANNEL_NET_BW in GB/s, what one
  // point-to-point channel carries through the network (NCCL 2.29.2's
  // default 14, src/graph/paths.cc; 0: no limit).
  int p2p_channels = 0;
  int nchannels_per_net_peer = 0;
  // The NICs NCCL counts for each GPU (its closest ones; NCCL's netCount in
  // src/graph/paths.cc ncclTopoGetNchannels): 1, or where a GPU's several
  // NICs are modelled as one port (AWS p5: 4 EFA NICs) their number. NCCL
  // gives a network peer at least that many channels.
  int nics_per_gpu = 1;
  double p2p_per_channel_net_GBps = 14;
  // NCCL_MIN_NCHANNELS: the fewest channels NCCL's communicator keeps, so
  // the fewest its rings run (0, NCCL's default: its own count,
  // collective/nccl_tuner.h nccl_ring_channels).
  int min_channels = 0;
  // NCCL_MIN_CTAS: the same floor for the rings, and for NVLS and NVLSTree
  // too (src/transport/nvls.cc: nvlsChannels = max(minCTAs, min(maxCTAs,
  // NVLS_NCHANNELS))); 0, NCCL's default, sets none.
  int min_ctas = 0;
  // NCCL_MAX_NCHANNELS and NCCL_MAX_CTAS: the most channels the rings run,
  // applied before the floors above (NCCL's src/graph/connect.cc: "max,
  // then min"; collective/nccl_tuner.h nccl_ring_channels); NCCL_MAX_CTAS
  // caps NVLS and NVLSTree's channels too and lowers a larger min_ctas; 0,
  // NCCL's default, sets none. Trees keep their channels (not modelled).
  int max_channels = 0;
  int max_ctas = 0;
  // The host CPU NCCL reads (collective/nccl_tables.h NcclHost): -1, the
  // default, leaves the GPU model's (ASSUMPTION nccl_host); 0 Intel, 1 AMD,
  // 2 Arm.
  int host_cpu = -1;
  // What one NCCL ring channel moves through the network, in GB/s of wire
  // bytes (collective/protocol.h ring_channel_net_GBps); -1: its NIC link
  // class's qp_rate_GBps x ib_qps_per_connection, 0: no limit.
  double ring_channel_net_GBps = -1;
  // What one NCCL tree channel (CTA) moves along its chain inside an NVLink
  // domain while at most half the chain's connections are busy (half that
  // when all are), GB/s of payload each way (collective/protocol.h
  // tree_chain_channel_Bps); -1: half NCCL's one-node per-channel tree bus
  // bandwidth for the GPU generation and protocol, 0: no limit.
  double tree_chain_channel_GBps = -1;
  // NCCL_IB_QPS_PER_CONNECTION: the queue pairs of each network connection
  // of NCCL's InfiniBand verbs transport (NCCL's default 1,
  // src/transport/net_ib). A ring channel's network rate is its link
  // class's qp_rate_GBps times this.
  int ib_qps_per_connection = 1;
  // NCCL_IB_AR_THRESHOLD in bytes (NCCL's default 8192,
  // src/transport/net_ib/p2p.cc): only a network message larger than this
  // pays its NIC link class's qp_msg_cost (collective/protocol.h
  // ring_step_costly_messages).
  double ib_ar_threshold = 8192;
  // NCCL_BUFFSIZE in bytes: each channel connection's Simple buffer, 8
  // steps of an eighth (NCCL's default 4 MiB, src/init.cc). It is the
  // window Simple keeps in flight for collectives (collective/protocol.h).
  double buffsize = 4194304;
  // NCCL_CROSS_NIC for rings across nodes: 0, each channel leaves a node
  // through the NIC it entered by (rail-aligned: the last GPU reaches that
  // NIC over NVLink by PXN, collective::Schedule::pxn_between_domains); 1,
  // through the last GPU's own NIC, on another rail; 2 (NCCL's default),
  // as NCCL's ring search decides: the same NIC unless crossing finds more
  // bandwidth, which it does where the relay's NVLink hop is the limit, as
  // on 8 H100s with 8 NICs of 400 Gb/s (collective/nccl_tuner.h
  // rings_keep_their_nic; NCCL 2.27.7 src/graph/search.cc).
  int cross_nic = 2;
  double p2p_net_chunksize = 131072;
  // NCCL_NVLS_CHUNKSIZE, NVLS's largest chunk in bytes, and
  // NCCL_NVLSTREE_MAX_CHUNKSIZE, NVLSTree's; 0 = NCCL's own (128 KiB, and
  // for NVLSTree 64 KiB from 4 nodes; collective/nvls.h). AWS's network
  // plugin sets both to 512 KiB on p5 nodes (aws-ofi-nccl 1.16.3,
  // src/platform-aws.cpp).
  double nvls_chunksize = 0;
  double nvlstree_max_chunksize = 0;
};

// Failed and degraded parts (`failures:` in a topology file, or --fail and
// --degrade; failure_spec.h): each entry selects links by a device (every
// link it terminates), two devices (the links between them) or a link
// class, optionally a random share of them, and takes them down or lowers
// their rate. Applied when the topology is built (topology::build_topology).
struct FailureSpec {
  bool degrade = false;                      // false: the links are down
  std::string device, from, to, link_class;  // one selector: device, from + to, or class
  std::string tier;                          // "", "fabric" (switch to switch) or "edge" (the others)
  double fraction = 1.0;                     // share of the selected links, 0 to 1, drawn at random
  double rate_share = 0;                     // degrade: each cable's new rate as a share of its own, or
  double rate_Bps = 0;                       //          each cable's new rate (not above its own)
  std::string path;                          // "failures.fail[0]", for errors
  SourceMark at;                             // the entry
  std::map<std::string, SourceMark> marks;   // of each field's value ("device", "from", "rate"...)
  Error error_at(const std::string& key, std::string message) const {
    const auto it = marks.find(key);
    return Error{std::move(message), path + "." + key, it == marks.end() ? at : it->second};
  }
};

struct FailuresSpec {
  std::uint64_t seed = 1;  // for the random shares
  std::vector<FailureSpec> entries;
};

// A link's `medium: auto`: the cheapest catalog cable whose reach covers the
// cable's length at its rate (cabling.h CableChooser).
inline constexpr const char* kAutoMedium = "auto";

struct TopologySpec {
  std::string name;
  std::string file;
  std::vector<DeviceSpec> devices;
  std::vector<LinkSpec> links;
  std::map<std::string, LinkClassSpec> link_classes;  // built-ins merged with the file's
  std::map<std::string, MediumSpec> media;            // built-ins merged with the file's
  std::map<std::string, GpuModelSpec> gpu_models;     // built-ins merged with the file's
  FloorSpec floor;
  std::vector<RackSpec> racks;
  NcclSpec nccl;
  FailuresSpec failures;
  Catalog catalog;  // built-in (catalog/parts.yaml) merged with the file's `catalog:`
};

}  // namespace collsim::config
