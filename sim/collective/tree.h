// NCCL's tree all-reduce. Across NVLink domains (nodes) it is a chain inside
// each domain plus a double binary tree between the domains:
//   - each channel's chain runs through every GPU of a domain, starting at
//     its head (local GPU c for channel c, so every NIC carries traffic);
//     the heads are the ranks of the tree between domains;
//   - reduce: partial sums flow up the chain to the head, which adds what
//     its child domains' heads sent and passes the sum to its parent
//     domain's head; broadcast: the result flows back down the same way;
//   - every head GPU runs two channels, one on each of the double binary
//     tree's two trees (NCCL duplicates its tree channels the same way), so
//     a domain that is an inner node of one tree is a leaf of the other and
//     every NIC carries 2n/g each way (n bytes, g GPUs per domain).
// This is NCCL's tree with its plain pattern (parent and children on the
// chain's head, NCCL_TOPO_PATTERN_TREE, src/graph/connect.cc, where
// channel c + nChannels runs tree 1); NCCL's
// balanced pattern moves one child to the chain's second GPU, which spreads
// the same NIC load over the same GPUs. With one GPU per domain the chain
// is one rank and this is the double binary tree over ranks; inside one
// domain it is a chain (NCCL on one node).
//
// Tree shape between domains: domain d's parent is found from its lowest
// set bit, as in NCCL's binary tree (src/graph/trees.cc): domain 0 is the
// root with one child and the height is about lg(D). The second tree is
// the first mirrored (even D) or shifted by one (odd D). A small all-reduce
// costs 2((g-1) + lg D) hops, NCCL's tree latency model
// (src/graph/tuning.cc: 2 ((nRanks/nNodes - 1) intraLat + log2(nNodes) interLat)).
#pragma once

#include <vector>

#include "sim/collective/schedule.h"

namespace collsim::collective {

struct TreeOptions {
  // Named defaults: NCCL Simple's tree chunk, one of the 8 steps of
  // NCCL_BUFFSIZE (512 KiB of the default 4 MiB, src/init.cc; src/enqueue.cc
  // keeps one step per chunk for the tree; build_schedule sets it from
  // AlgoParams::nccl_buffsize), so that the pipeline fills as NCCL's does. NCCL runs at most
  // nccl_tree_channels channels per tree (protocol.h
  // tree_protocol_cap_Bps's ASSUMPTION); collsim runs one per GPU of the
  // widest domain, so above that its slices shrink by nccl_tree_channels /
  // GPUs: the bytes in flight per pipeline stage, and with them the fill,
  // stay NCCL's (a 72-GPU NVL72 chain: 228 KiB slices). At most max_slices
  // per channel. Written out (not pipelined), also fewer, down to
  // min_slices, while the slices' transfers would exceed
  // max_slice_transfers (memory); coarser slices make the fill a share of
  // the time once each channel's rate is capped (64 slices cost 22% at
  // 8 GiB on 4 B200 nodes).
  double min_slice_bytes = 512.0 * 1024;
  // The protocol the schedule is built for: LL and LL128 pipeline finer than
  // Simple's chunk. LL: a receiver forwards each 8-byte line as soon as
  // its flag arrives (src/device/prims_ll.h LLGenericOp: every thread reads
  // one line, reduces it and stores it to the next peer), so the pipeline's
  // unit is a warp's 32 lines, 256 B of data (ll_line_bytes), not its
  // 32 KiB chunk: a hop adds its latency and one unit, and LL's throughput
  // limit (protocol.h, llMaxBw) sets the pace, as in NCCL's model.
  // APPROXIMATION: across the network NCCL's proxy sends a whole step once
  // the GPU has written it, which this makes cut-through too (at most one
  // chunk's transfer per network hop optimistic). In whole chunks, a small
  // LL tree crossed every hop store-and-forward at LL's per-channel rate:
  // 128 KiB on four H100 nodes took 279 us where 256 KiB (LL128) took 119
  // (NCCL's model: 61 us).
  // LL128: its step's data, 576,000 B, halved
  // while a channel's bytes hold fewer than 64 (then 16) x (1 + log2(nodes)
  // + 0.1 x GPUs per node) / (GPUs per node) chunks, down to 128 KiB (then
  // 32 KiB) (src/enqueue.cc calcCollChunking), a channel's bytes counted
  // over NCCL's channels (2 x min(GPUs per domain, nccl_tree_channels)).
  // On two H100 nodes at 1-2 MiB, rows NCCL's model runs as tree LL128,
  // this takes collsim from -46/-67% to +1/-5% (docs/validation.md).
  // NCCL then rounds the chunk down to whole grains of 1,920 B
  // (ncclProtoGrainSize, src/include/device.h; calcCollChunking).
  // A hop moves a chunk in passes, not whole: each of LL128's warps reads,
  // reduces and forwards its own 2 KiB of lines (1,920 B of data) as soon
  // as their flags arrive (src/device/prims_ll128.h, WireWordPerSlice), so
  // a chunk larger than one pass of the warps flows on after its first
  // pass. The tree gives 70% of its 640 threads to the reduce (14 warps,
  // 26,880 B a pass: ll128_pass_warps x ll128_grain_bytes) and 30% to the
  // broadcast (6 warps, 11,520 B; src/device/all_reduce.h runTreeSplit). APPROXIMATION: one
  // unit for both directions, the reduce's. The unit is min(chunk, pass),
  // scaled like Simple's by NCCL's channels over collsim's. Same
  // APPROXIMATION across the network as LL's (above): NCCL's proxy sends a
  // whole chunk. On a 128-GPU tree over two NVL72 racks (64-GPU chains)
  // whole chunks made collsim 55-86% slow at 1-256 MiB
  // (docs/validation-cloud.md).
  Protocol protocol = Protocol::kNone;
  double ll_line_bytes = kLlWarpDataBytes;
  double ll128_chunk_bytes = 576000;
  double ll128_grain_bytes = kLl128GrainBytes;
  int ll128_pass_warps = 14;
  int nccl_tree_channels = 32;
  int max_slices = 1024;
  int min_slices = 64;
  double max_slice_transfers = 4e6;
  // One slice's transfers repeated (Schedule::repeats), which backends cost
  // without holding slices x transfers; false: every slice written out (the
  // same transfers in the same order as expand() gives).
  bool pipelined = true;
  // Per domain, the positions whose GPU heads a pair of channels (the GPU
  // that crosses the network for them), [d][c] for channel pair c, the same
  // count in every domain; empty: every position of the widest domain.
  // Failed NICs leave out the positions without one (ring.h
  // network_entries), as NCCL's trees take each node's graph and with it
  // the NICs it sees: a tree edge between two domains' c-th heads changes
  // rails where their NICs sit at different positions.
  std::vector<std::vector<std::size_t>> head_positions;
};

// parent[r] (-1 for the root) of the binary tree over ranks 0..p-1.
std::vector<int> binary_tree_parents(int ranks);
// The double binary tree's second tree: the first mirrored (even p) or
// shifted by one rank (odd p).
std::vector<int> mirrored_tree_parents(int ranks);

// A tree given by its parents, with each node's children, the root, and
// the nodes leaves first (by decreasing depth), the order a reduction up the
// tree can run in. REQUIRES: exactly one parent is -1 and there is no cycle.
struct TreeShape {
  std::vector<int> parent;
  std::vector<std::vector<int>> children;
  int root = 0;
  std::vector<int> leaves_first;
};
TreeShape tree_shape(const std::vector<int>& parent);

// NCCL's tree over the domains of `domain_of_rank` (equal ids = one NVLink
// domain; empty = all ranks in one). Domains may differ in size: channel c
// starts domain d's chain at its local GPU c mod g_d.
// REQUIRES: ranks >= 1, bytes >= 0, domain_of_rank empty or of size ranks.
Schedule tree_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                        const TreeOptions& options = {});
// The double binary tree over ranks (one rank per domain).
Schedule tree_allreduce(int ranks, double bytes, const TreeOptions& options = {});

}  // namespace collsim::collective
