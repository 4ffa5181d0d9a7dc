// Ring collectives around 0 -> 1 -> ... -> p-1 -> 0 (Thakur, Rabenseifner &
// Gropp; formulas.md allreduce_ring, allgather_ring):
//   all-reduce      2(p-1) steps: a reduce-scatter then an all-gather
//   reduce-scatter  p-1 steps, leaving chunk r fully reduced on rank r
//   all-gather      p-1 steps, each rank forwarding what it just received
// Each step moves one chunk of S/p bytes per rank (S as nccl-tests prints it).
//
// Chunking and pipelining: each chunk is cut into slices, and a slice moves
// on as soon as that same slice arrived from the previous step; there is no
// barrier between steps. Slices of one step share their link max-min fairly
// (they do not queue behind each other), so on an idle uniform ring the time
// is exactly the closed form (p-1 or 2(p-1)) x a + (bytes per rank) x b, with
// the step latency paid once per step, as in NCCL's own cost model.
#pragma once

#include <vector>

#include "sim/collective/schedule.h"

namespace collsim::collective {

struct RingOptions {
  // Slices of at least min_slice_bytes (NCCL Simple's 512 KiB step,
  // NCCL src/init.cc), at most max_slices per chunk.
  // Default 1: the slices of one step start together on one connection and
  // share it equally, so under this model they always finish together and
  // slicing changes no result, only the simulation's cost (a test checks
  // this). Raise it when a model makes slices diverge.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 1;
};

// REQUIRES: ranks >= 1, bytes >= 0.
Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options = {});

// NCCL-style channels: one ring per entry of `orders` (each a permutation of
// 0..ranks-1), each all-reducing an equal share of the buffer at once.
// Chunk c * ranks + i is chunk i of channel c.
Schedule ring_allreduce_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                 const RingOptions& options = {});

// The rings NCCL builds across NVLink domains (nodes, racks): one channel per
// GPU of a domain; channel c visits each domain's GPUs starting from its c-th,
// so the hops between domains leave from a different GPU (and its NIC) in
// every channel and all NICs carry traffic. A single domain gives the one
// identity ring. `domain_of_rank[r]` is any id shared by ranks of a domain.
// `on_network[r]` (empty: every rank) says whether rank r's GPU has a NIC
// with a live port and is the first rank on it (engine/nccl_system.h
// nic_owners). A channel enters a domain at such a GPU and leaves it
// through that GPU's NIC (PXN: Schedule::pxn_between_domains and
// exit_relay); with `exit_needs_nic` (no PXN back to the entry's NIC) the
// GPU before the entry must be on the network too. As NCCL's ring graph,
// searched per node through the NICs it sees: channel c enters each domain
// at that domain's c-th qualifying position, and there are as many
// channels as the domain with the fewest has. Where two domains lost NICs at
// different positions, a channel's hop between them leaves by one rail and
// arrives by another (across the fabric's spines), as NCCL's does (NCCL
// 2.30.7 src/init.cc takes the fewest channels of any node; each rank's
// channel c uses its own node's graph, src/graph/search.cc). When a domain
// has no qualifying position, every channel is kept at every position (its
// routes take stand-ins: topology::Network::stand_in_route).
// `alternate` (every rank on the network; where, by release, nccl_tuner.h
// rings_alternate): NCCL's rings that leave a node by another NIC than they
// entered by come in pairs of channels that odd nodes swap "to avoid
// crossing rails" (NCCL src/graph/connect.cc): channel c
// runs an even domain from position c to c - 1 and an odd one from c - 1
// back to c, so every hop between domains stays on one rail (the last one,
// back to domain 0, crosses where the domains are odd in number).
std::vector<std::vector<int>> rings_over_domains(const std::vector<int>& domain_of_rank,
                                                 const std::vector<char>& on_network = {}, bool exit_needs_nic = false,
                                                 bool alternate = false);
// Per domain (group_by_domain's order), the positions on the network, in
// order (as rings_over_domains' test, with `exit_needs_nic`), each list cut
// to the shortest one's length: channel c enters domain d at [d][c], and
// trees and NVLSTree put their c-th head there (NCCL's graphs take each
// node's own NICs). Empty when every rank is on the network
// (`on_network` empty), when there is one domain, or when some domain has
// no such position (callers use every position then, or refuse).
std::vector<std::vector<std::size_t>> network_entries(const std::vector<int>& domain_of_rank,
                                                      const std::vector<char>& on_network, bool exit_needs_nic);
// For rings_over_domains' rings under PXN: per rank, the rank whose NIC its
// sends to the next domain leave by, the channel's entry into its own
// domain: the next of its domain's members (ranks in order, cyclically).
// Every channel rotates the same members, so it is the same in all.
std::vector<int> ring_exit_relays(const std::vector<int>& domain_of_rank);
// The positions on the network in every domain, in order: 0 to the
// smallest domain's size - 1 but those off the network in some domain (as
// rings_over_domains' test, with `exit_needs_nic`); none when none
// qualifies or there is one domain (callers keep every position then, or
// refuse). CollNet keeps its rails there.
std::vector<std::size_t> networked_positions(const std::vector<int>& domain_of_rank,
                                             const std::vector<char>& on_network, bool exit_needs_nic);
Schedule ring_reducescatter(int ranks, double bytes, const RingOptions& options = {});
Schedule ring_allgather(int ranks, double bytes, const RingOptions& options = {});

// The same over NCCL-style channels (one ring per entry of `orders`, as
// rings_over_domains builds them), each moving an equal share of every
// rank's part at once. An all-reduce is a reduce-scatter then an
// all-gather, so all three use the same channels and, on an idle network,
// reach the same busbw. Chunk c * ranks + r is channel c's piece of rank r's
// part (check.h).
Schedule ring_reducescatter_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                     const RingOptions& options = {});
Schedule ring_allgather_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                 const RingOptions& options = {});

}  // namespace collsim::collective
