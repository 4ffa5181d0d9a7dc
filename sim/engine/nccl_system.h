// What a collective's ranks are on the network, as the tuner and the
// schedule builders need it: their NVLink domains, GPU model, NVLS
// efficiency, and NCCL's view of their nodes (collective/nccl_tuner.h).
#pragma once

#include <string>
#include <vector>

#include "sim/collective/algorithms.h"
#include "sim/collective/nccl_tuner.h"
#include "sim/topology/network.h"

namespace collsim::engine {

// NCCL's view of the nodes of `gpus` (GPU endpoints, one per rank; REQUIRES
// non-empty): the GPU model of the first, the NVLink domains spanned, and,
// as NCCL keeps the weakest rank's graphs, the fewest NICs of any domain's
// ranks, the slowest of those NICs, and the slowest GPU's NVLink rate in
// NCCL's units (links x NCCL's per-link figure, the links counted from the
// line rate at NVLink's per-link rate: 25 GB/s for V100, A100 and H100, 50
// GB/s for Blackwell).
collective::NcclSystem nccl_system(const topology::Network& network, const std::vector<int>& gpus);

// Per GPU of `gpus`: 1 when it is on the network (Network::on_network) and
// the first of `gpus` on its NIC (Network::nic_of_gpu), else 0. NCCL's
// graph holds each NIC once and its ring and tree channels enter a node at
// one GPU per NIC: two GPUs behind one PCIe switch sharing a NIC (by
// design, or because the other's failed) give it one channel, not two.
std::vector<char> nic_owners(const topology::Network& network, const std::vector<int>& gpus);

// The parameters every algorithm takes from where its ranks sit: domains,
// GPU model, NVLS efficiency, NCCL's view (nccl_system) and whether CollNet
// is enabled; root, protocol and CollNet's trees are left to the caller.
collective::AlgoParams placement_params(const topology::Network& network, const std::vector<int>& gpus);

// A warning where a ring's NICs are faster than its channels can use, or "":
// collsim's rate per queue pair (link class qp_bw) was fitted on 400G
// ConnectX-7 NICs (config/link_classes.cc), so on a faster NIC (above 50
// GB/s) whose ring channels' queue pairs carry less than 90% of its line rate,
// a ring gains nothing from the NIC's extra speed: how fast one queue pair of
// a faster NIC is was NOT FOUND. Names what raises the cap. Rings across
// nodes with at least one ring channel per NIC only (8-GPU nodes, not an
// NVL72 rack's 72 NICs), and not where nccl.ring_channel_net_bw sets the
// channels' rate. `gpus`: the ranks' GPU endpoints, in rank order.
std::string ring_queue_pair_note(const topology::Network& network, const std::vector<int>& gpus,
                                 collective::NcclRelease release);

// A note where the ranks' nodes hold different numbers of NICs (a failed
// NIC, an uneven placement) and NCCL's ring channels differ from those of
// nodes that all held the most, or "": NCCL aligns its nodes' graphs to the
// fewest channels and lowest speeds (collective::nccl_graphs), then doubles
// them below 16 on Hopper and later (nccl_ring_channels), so one node's lost
// NIC can raise the channel count (8 H100 nodes' 16 to 28 with 7 NICs on one
// of them) as well as lower it. `gpus` as above.
std::string uneven_nodes_channel_note(const topology::Network& network, const std::vector<int>& gpus,
                                      collective::NcclRelease release);

}  // namespace collsim::engine
