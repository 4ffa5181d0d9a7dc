// Double binary tree all-reduce (NCCL's "tree" algorithm): two binary trees
// over the ranks, each all-reducing half of the buffer at once: a pipelined
// reduce toward its root, then a pipelined broadcast back down. The second
// tree is the first one mirrored (even p) or shifted by one rank (odd p), so
// that most ranks that are inner nodes in one tree are leaves in the other
// and the two halves load different links.
//
// Tree shape: rank r's parent is found from its lowest set bit, as in NCCL's
// binary tree: rank 0 is the root with one child, and the height is about
// lg(p), so a small all-reduce costs about 2 lg(p) hops instead of the
// ring's 2(p-1).
#pragma once

#include <vector>

#include "sim/collective/schedule.h"

namespace collsim::collective {

struct TreeOptions {
  // Named defaults: slices of at least 512 KiB (NCCL Simple's step,
  // nccl-model.md protocol_structure), at most 64 per tree, bounding the flow
  // count while keeping the pipeline fill small.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 64;
};

// parent[r] (-1 for the root) of the binary tree over ranks 0..p-1.
std::vector<int> binary_tree_parents(int ranks);

// REQUIRES: ranks >= 1, bytes >= 0.
Schedule tree_allreduce(int ranks, double bytes, const TreeOptions& options = {});

}  // namespace collsim::collective
