// What `collsim topo` reports about a topology: counts, bandwidths, diameter
// and the cable bill of materials. Computed here, printed by sim/report.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/topology/network.h"
#include "sim/topology/topology.h"

namespace collsim::topology {

struct MediumTotals {
  int count = 0;
  double total_m = 0;
};

struct TopologySummary {
  std::string name;
  std::string file;
  std::map<std::string, int> devices_by_kind;
  std::map<std::string, int> links_by_class;  // cables/bundles (one per link entry expansion)
  std::map<std::string, int> lanes_by_class;
  static constexpr int kDiameterExactGpus = 8192;
  static constexpr int kDiameterSampledGpus = 64;
  int gpus = 0;
  int nvlink_domains = 0;
  double gpu_nvlink_Bps = 0;  // line rate from one GPU into its NVLink domain (GPU 0)
  // Line rate from one GPU (GPU 0) toward the network: over each non-NVLink
  // hop, the narrower of that hop and what the next device sends on.
  double gpu_network_Bps = 0;
  // Max flow at line rate between the first and second half of the GPUs
  // (rank order): the bisection for the rank order collectives use.
  double bisection_Bps = 0;
  // Leaves: switches cabled to NICs. Their NIC links' line rate (down) and
  // their links to the switches above (up), per direction; down / up is
  // the oversubscription the fabric was built with (0 up: one tier).
  int leaves = 0;
  double leaf_down_Bps = 0, leaf_up_Bps = 0;
  int diameter_hops = 0;  // longest GPU-to-GPU route, in links
  // GPUs the diameter was measured from (a BFS each): all of them up to
  // kDiameterExactGpus, else kDiameterSampledGpus spread evenly (then it is
  // a lower bound). Named defaults: exact to 4,096-GPU files in seconds.
  int diameter_sources = 0;
  // Cables (links with a medium): one per lane, as the bill counts them.
  int cables = 0;
  double cable_total_m = 0;
  double cable_max_m = 0;
  std::string longest_cable;
  std::map<std::string, MediumTotals> cables_by_medium;
  std::map<std::string, int> cables_by_length_bin;  // "0-1m", "1-2m", ... "50m+"
  std::map<std::string, double> mean_cable_latency_s_by_class;
  // In-network reduction: logical fabric switches that reduce (SHARP,
  // Network::reduces_in_network) and whether NCCL's CollNet is on.
  int sharp_switches = 0;
  bool collnet = false;
  // Failed and degraded links (config::FailuresSpec); with any, the GPU
  // whose NVLink and network line rates (as gpu_*_Bps) fell lowest, and the
  // healthy topology's figures (filled by the caller that built it).
  FailureSummary failed;
  double lowest_gpu_nvlink_Bps = 0, lowest_gpu_network_Bps = 0;
  std::string lowest_nvlink_gpu, lowest_network_gpu;
  double healthy_bisection_Bps = 0, healthy_gpu_nvlink_Bps = 0, healthy_gpu_network_Bps = 0;
};

TopologySummary summarize(const Topology& topo, const Network& network);

// What a cabling study compares, without summarize's max flow: the fabric
// switches (devices of kind switch), the cables (one per lane of a link with
// a medium, as the bill counts them) and their metres.
struct CableTotals {
  long long switches = 0, cables = 0;
  double metres = 0, longest_m = 0;
};
CableTotals cable_totals(const Topology& topo);

// The length bins of the bill of materials, in order.
const std::vector<std::string>& cable_length_bins();

}  // namespace collsim::topology
