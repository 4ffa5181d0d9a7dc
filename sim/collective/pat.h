// PAT (Parallel Aggregated Trees, NCCL_ALGO PAT, NCCL 2.23 and later):
// all-gather and reduce-scatter as NCCL runs them with one GPU per node
// (Jeaugey, "PAT: a new algorithm for all-gather and reduce-scatter
// operations at scale", arXiv:2506.20252; NCCL src/include/collectives.h,
// PatAGAlgorithm and PatRSAlgorithm).
//
// Every rank's block (n/p bytes of the n-byte buffer) moves along a
// binomial tree whose edges join ranks 2^d apart: dimension d = 0 .. D-1,
// D = ceil(lg p), so each rank talks to at most 2 D peers. With o the
// block's owner and s the offset of a rank from it (rank o + s mod p):
//   all-gather: the farthest dimension first (Bruck's algorithm with its
//     dimensions reversed). Offset s gets the block from s - 2^lowbit(s)
//     and forwards it on every dimension k < lowbit(s) with s + 2^k < p
//     (the owner, s = 0, on every dimension). Dimension k carries the
//     blocks whose offset has its lowest set bit above k: for p a power of
//     two, p / 2^(k+1) of them, so the farthest peer gets one block and the
//     nearest half of them; long-distance links carry little;
//   reduce-scatter: its mirror image, the nearest dimension first. Offset
//     s adds what its children s + 2^k (k < lowbit(s), s + 2^k < p) sent
//     to its own input and sends the partial sum on dimension lowbit(s).
// Each rank sends p - 1 blocks (a ring's bytes) over D hops of latency
// instead of p - 1. NCCL aggregates several blocks per step only while they
// fit in its buffer; at the sizes that matter for bandwidth it moves one
// block's chunk per step, so every block is a transfer of its own, queued
// in order per connection. Blocks are cut into slices that pipeline through
// the dimensions (one slice's transfers repeated, Schedule::repeats).
//
// On an idle fabric where every rank has one link of rate B and every hop
// latency a (Protocol::kNone): t = h a for tiny buffers, h the most set
// bits of an offset below p (lg p for p a power of two; the ring: (p-1) a),
// and t -> (p-1)/p n / B for large ones (the ring's), both tested.
#pragma once

#include "sim/collective/schedule.h"

namespace collsim::collective {

struct PatOptions {
  // Named defaults, as the tree's (tree.h): slices of 512 KiB and the
  // remainder (NCCL Simple's step: a 4 MiB buffer in 8 steps, src/init.cc) and at most
  // 64 per block, bounding the transfers (p (p-1) per slice) while keeping
  // the pipeline fill about 1/slices of the time.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 64;
  // One slice's transfers repeated (Schedule::repeats); false: every slice
  // written out (the same transfers in the same order as expand() gives).
  bool pipelined = true;
};

// Chunks: slice j of rank o's block is chunk j p + o (check.h numbering).
// p (p - 1) transfers per slice. REQUIRES: ranks >= 1, bytes >= 0.
Schedule pat_allgather(int ranks, double bytes, const PatOptions& options = {});
Schedule pat_reducescatter(int ranks, double bytes, const PatOptions& options = {});

}  // namespace collsim::collective
