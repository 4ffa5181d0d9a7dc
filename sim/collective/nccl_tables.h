// NCCL's tuning tables, by GPU generation and NCCL release (issue 16): the
// constants NCCL's cost model (src/graph/tuning.cc) and its topology search
// (src/graph/search.cc) read, as each public release tagged them. nccl-tests
// run under one release measure that release's choices: two B200 nodes under
// NCCL 2.26.2 search their graphs with a network speed array that stops at
// 48 GB/s, so NCCL's model there prefers NVLSTree; under 2.30.7 the array
// reaches 96 GB/s, the tree's in-node speed rises to 86 GB/s and its model
// prefers the tree. One place maps a GPU model to NCCL's generation and to
// the host CPU NCCL sees, for every table here and in protocol.h.
//
// Releases read (NVIDIA/nccl tags, every tag from v2.18.1-1 to v2.30.7-1):
//   - search.cc speed arrays: sm90 from 2.18, sm100 from 2.25 (Blackwell
//     searched with sm90's arrays before);
//   - tuning.cc: per-channel caps, the NVLS bandwidth model (rewritten in
//     2.28.3), NVLSTree's network latency and its size correction.
// A release between two tags takes the older tag's tables; releases before
// 2.19 take 2.19's NVLS model (2.18's differs: NVLSTree's bandwidth ratio
// 0.70 nNodes / (2 (nNodes - 1)), not modelled) and Hopper's LL cap before
// 2.21 (87.7 GB/s in one node, not 141) is not modelled.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "sim/collective/protocol.h"

namespace collsim::collective {

enum class NcclArch { kUnknown, kVolta, kAmpere, kHopper, kBlackwell };
// By the GPU model's generation (gpu_models.h names): v100 Volta; a100
// Ampere; h100, h200 Hopper; b200, b300, gb200, gb300 Blackwell; anything
// else kUnknown (no tables).
NcclArch nccl_arch(std::string_view gpu_model);

// The host CPU NCCL reads (its LL caps across nodes, its ring's network
// overhead and its NVLSTree size correction depend on it). ASSUMPTION (named
// nccl_host): the CPU of NVIDIA's DGX system for the GPU model: AMD EPYC under
// A100 (DGX A100), Arm Grace under GB200 and GB300, Intel Xeon otherwise
// (DGX H100, H200, B200, B300). A topology sets another with `nccl:
// {host_cpu}` (AWS p5: AMD EPYC), which `host` carries where given.
enum class NcclHost { kIntel, kAmd, kArm };
NcclHost nccl_host(std::string_view gpu_model);
NcclHost nccl_host(std::string_view gpu_model, std::optional<NcclHost> host);
// Network::nccl_host_cpu's number (-1 none, else NcclHost's order) as a host.
std::optional<NcclHost> nccl_host_setting(int host_cpu);

// One generation's tables under one release. Per-channel caps are in GB/s of
// bus bandwidth, columns 1 node, 2 nodes, 3 or more (NCCL's N1/N2/N4).
struct NcclTables {
  // search.cc: the per-channel speeds (GB/s) its search tries, inside one
  // node and across nodes, fastest first.
  std::span<const double> speeds_intra;
  std::span<const double> speeds_inter;
  // tuning.cc perChMaxTreeBws, perChMaxTreeLL128Bws, perChMaxRingLL128Bws,
  // perChMaxNVLSTreeBws.
  std::array<double, 3> tree{};
  std::array<double, 3> tree_ll128{};
  std::array<double, 3> ring_ll128{};
  std::array<double, 3> nvls_tree{};
  // llMaxBws: the LL protocol's whole-GPU cap in one node (across nodes the
  // host's row applies: ll_max_GBps).
  double ll_max_one_node = 0;
  // From 2.28.3: NVLS and NVLSTree bandwidth = min(NVLS in-node bandwidth x
  // nvlsEfficiency x (channels - 1) / channels, network, nvls_tree cap);
  // before: min(in-node, network) (NVLSTree on 3+ nodes: network / 2), and
  // algorithm bandwidth 5/6 of that.
  bool nvls_efficiency_model = true;
  double nvls_efficiency = 0;
  // hwLatencies NET, NVLSTree (us): 14 until 2.28.7, 20.9 from 2.28.9 (19
  // in 2.18).
  double nvls_tree_net_latency_us = 20.9;
  // From 2.29.2: NVLSTree all-reduce takes the tree's size correction on
  // Blackwell with an x86 host.
  bool nvls_tree_correction = true;
};
// All zeros (and empty speed arrays) for kUnknown.
NcclTables nccl_tables(NcclArch arch, NcclRelease release = kDefaultNcclRelease);

// NCCL's bandwidth of one NVLink, GB/s (src/graph/topo.h: SM70 and SM80
// 20.0, SM90 20.6, SM100 40.1); 0 for kUnknown.
double nccl_nvlink_GBps_per_link(NcclArch arch);

// The column of a per-channel table for `nodes` (1, 2, 3+).
inline std::size_t nccl_node_column(int nodes) { return nodes <= 1 ? 0 : nodes == 2 ? 1 : 2; }

// llMaxBws for `nodes` (GB/s, whole GPU): the generation's value in one node,
// across nodes the host's (Intel or Arm: 39.0 on 2 nodes, 20.4 on more; AMD:
// 22.5, 19.0). 0 for an unknown model.
double ll_max_GBps(std::string_view gpu_model, int nodes, NcclRelease release = kDefaultNcclRelease,
                   std::optional<NcclHost> host = std::nullopt);

}  // namespace collsim::collective
