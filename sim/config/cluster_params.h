// The parameters of a `cluster:` section (cluster_template.h), read and
// checked: the building block (a node's GPUs, NVSwitches, NVLink lanes and
// GPU model) and every fabric, layout and host choice. Internal to
// sim/config: cluster_template.cc generates the cluster from them.
#pragma once

#include <string>
#include <vector>

#include "sim/config/catalog.h"
#include "sim/config/yaml_fields.h"
#include "sim/core/error.h"

namespace collsim::config::cluster {

// Latencies as the parser reads "250ns" (250 x 1e-9), so generated links
// equal the hand-written files that say the same.
inline constexpr double kNs = 1e-9;

// Where fabric switches stand (`layout.switch_placement`): network-row
// (rows of their own after the compute rows), end-of-row (network racks at
// the end of each compute row), in-row (in the middle of each compute row).
enum class SwitchPlacement { kNetworkRow, kEndOfRow, kInRow };

struct NodeBlock {
  const char* name;
  int gpus;
  int nvswitches;
  std::vector<int> lanes_per_switch;  // NVLink lanes from each GPU to each switch
  double lane_rate_Bps;
  const char* link_class;
  double pcie_Bps;  // per direction, GPU <-> NIC
  int default_nodes_per_rack;
  // Rack units one node takes (layout.node_units' default): NVIDIA's DGX
  // of the board, DGX H100 8U, DGX B200 10U, DGX A100 6U (their NVIDIA
  // user guides' mechanical specifications); a GB200 NVL72 node is its
  // whole rack (Params::kNodeRackUnits).
  int rack_units;
  int gpus_per_grace = 0;      // Grace CPUs on NVLink-C2C: one per this many GPUs; 0 = none modelled
  const char* gpu_model = "";  // gpu_models.h; `cluster.gpu` overrides (an HGX H200 is an hgx-h100 board)
  // Catalog parts (catalog/parts.yaml) of its host CPUs (what the node holds
  // besides GPUs and NICs) and NVSwitches, and of each compute rack as a
  // whole ("" = none); liquid-cooled racks get the catalog's liquid budget.
  const char* cpu_part = "";
  const char* nvswitch_part = "";
  const char* rack_part = "";
  bool liquid = false;
  // Whether the GPUs' own PCIe x16 link reaches Gen6 (121 GB/s per
  // direction): Blackwell's does (two 256 GB/s PCIe Gen6 host links,
  // glennklockwood.com/garden/processors/B200, from NVIDIA's Blackwell
  // material); Hopper's stops at Gen5 (63 GB/s) and Ampere's at Gen4
  // (31 GB/s), whatever the NIC behind them.
  bool gpu_pcie_gen6 = false;
};

// Named default: a fabric's switch ports when the catalog has no switch
// for its class and speed.
inline constexpr int kDefaultLeafRadix = 64;

// The building blocks a template can stack (numbers: cluster_template.h).
const std::vector<NodeBlock>& blocks();

struct Params {
  const NodeBlock* block = nullptr;
  int nodes = 1;
  // GPUs in each node: the block's, or for gb200-nvl72 fewer compute trays
  // (4 GPUs each; NVIDIA's GB200 NVL72 has 18): `cluster.node_gpus: 64` is a
  // rack of 16 trays, the 64-GPU NVLink domain benchmark runs use.
  int node_gpus = 0;
  int domain_gpus = 0;
  std::string nic = "400Gb/s";
  // Named assumption: a template stacks its nodes over the lowest 40 rack
  // units of a rack (a 42U rack less 2U for the top-of-rack gear), each node
  // spaced evenly, so a rack holds at most 40 nodes.
  static constexpr int kNodeRackUnits = 40;
  std::string gpu_model;  // the block's, unless cluster.gpu names another
  double nic_Bps = 50e9;
  std::string fabric_kind;             // default: rail-optimized for 8-GPU nodes, leaf-spine for racks
  int leaf_radix = kDefaultLeafRadix;  // default_leaf_radix when not given
  int oversubscription = 1;
  int planes = 1;
  std::string cable = "auto";               // config::kAutoMedium: the cheapest catalog cable that reaches
  std::string fabric_class = "infiniband";  // link class of every fabric cable (link_classes.cc)
  double fabric_latency_s = 150 * kNs;
  int nodes_per_rack = 0;  // at most kNodeRackUnits / node_units
  int node_units = 0;      // rack units per node (NodeBlock::rack_units unless set)
  int racks_per_row = 8;
  int switches_per_rack = 16;
  // Inside 8-GPU nodes: PCIe switches joining GPUs, NICs and the host CPUs
  // (0 = each GPU wired straight to its NIC), and the host CPUs.
  int pcie_switches = 0;
  int cpus = 0;
  SwitchPlacement switch_placement = SwitchPlacement::kNetworkRow;
};

// `cluster.fabric.leaf_radix` when not given: the ports of the cheapest
// switch in `catalog` of `fabric_class` (or of none) whose ports run at
// `port_Bps` or faster (one plane's port), as the bill prices the fabric's
// switches (topology/bill_of_materials.cc), so a template neither buys
// 144-port switches and uses 64 ports of each (800G InfiniBand) nor builds
// switches no part has; kDefaultLeafRadix without one.
int default_leaf_radix(const Catalog& catalog, const std::string& fabric_class, double port_Bps);

// Reads `cluster:` (c) into Params, the fabric's default radix from
// `catalog`. Errors name the field, with file:line:column.
Expected<Params> read_params(const MapReader& c, const Catalog& catalog);

}  // namespace collsim::config::cluster
