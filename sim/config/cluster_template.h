// Cluster templates: a short `cluster:` section that expands into the
// explicit devices, links and racks of a whole cluster, before the file is
// read (so the expansion is checked like any hand-written file, and
// `collsim topo --expand` can print it).
//
//   cluster:
//     node: hgx-h100        # hgx-h100 | hgx-b200 | dgx-a100 | gb200-nvl72
//     nodes: 128            # nodes (racks, for gb200-nvl72)
//     domain_gpus: 72       # gb200-nvl72 only: GPUs per NVLink domain (72, 36, 8, 4...)
//     nic: 400Gb/s          # one NIC per GPU, behind its PCIe hop
//     fabric:
//       kind: rail-optimized  # rail-optimized (default for 8-GPU nodes) | leaf-spine (default for racks)
//                             # two tiers while the leaves fit one spine's radix, three tiers (pods of
//                             # radix/2 leaves, aggregation and core layers) beyond
//       leaf_radix: 64        # ports per leaf and spine switch
//       oversubscription: 1   # leaf down-ports per up-port
//       planes: 1             # parallel copies of the fabric; each NIC has one port (nic / planes) in each
//       cable: fibre          # medium of every fabric cable
//       class: infiniband     # link class of every fabric cable: infiniband, ethernet (RoCE) or efa
//       latency: 150ns        # fixed latency of each fabric link (half a switch traversal)
//     layout:
//       nodes_per_rack: 4     # compute racks; racks_per_row of them per row
//       node_units: 8         # rack units per node (the DGX's: H100 8, B200 10, A100 6); 40U per rack
//       racks_per_row: 8
//       switches_per_rack: 16 # network racks, in their own row after the compute rows
//
// Building blocks (per node; numbers from NVIDIA's HGX, DGX and GB200 NVL72 datasheets):
//   hgx-h100: 8 GPUs, 4 NVSwitch, 18 NVLink4 x 25 GB/s split 5/4/4/5, PCIe Gen5 x16 to the NIC
//   hgx-b200: 8 GPUs, 2 NVSwitch, 18 NVLink5 x 50 GB/s split 9/9, PCIe Gen5 x16
//   dgx-a100: 8 GPUs, 6 NVSwitch, 12 NVLink3 x 25 GB/s, 2 per chip, PCIe Gen4 x16
//   gb200-nvl72: 72 GPUs per rack, 18 NVSwitch chips, one NVLink5 link of 50 GB/s
//     from each GPU to each chip; 36 Grace CPUs, each on NVLink-C2C (450 GB/s
//     per direction) to 2 GPUs; NIC behind PCIe Gen5 x16, Gen6 above 400 Gb/s
//     (the GPUs' own links too on Blackwell; Hopper and Ampere GPUs keep theirs)
//     (hardware.yaml nics.connectx8: 800G on PCIe Gen6)
// Everything else (switch latency, rack layout, cable medium) is a named,
// documented default above, overridable in the file or with --set.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "sim/core/error.h"

namespace collsim::config {

// If `root` has a `cluster:` section, replaces it with explicit `racks`,
// `devices` and `links` (appended to any the file already has).
Status expand_cluster_template(YAML::Node& root, const std::string& file);

// The same cluster appended straight to `spec` (racks, devices, links), for
// files that are a template alone: no YAML nodes are built for the devices.
// `spec` must already have its link classes, media and floor. Every entry
// is marked at the `cluster:` section. A test checks it equals the
// expansion read back.
struct TopologySpec;
Status build_cluster_spec(const YAML::Node& cluster, const std::string& file, TopologySpec& spec);

}  // namespace collsim::config
