// Hierarchical all-reduce over NVLink domains (nodes, racks):
//   1. ring reduce-scatter inside each domain (g GPUs): local GPU i ends
//      with chunk i of the domain's sum;
//   2. ring all-reduce of chunk i across the D domains, among the GPUs with
//      local index i (each over its own NIC: D-1 network hops per step);
//   3. ring all-gather inside each domain.
// Network traffic per GPU is 2 (D-1)/D x n/g, against 2 (p-1)/p x n/g for a
// flat ring with g channels, and the network steps drop from 2(p-1) to
// 2(D-1). Unpipelined (one piece) on an idle fabric the phases add up:
//   t = 2[(g-1) a_in + ((g-1)/g) n b_in] + 2(D-1) a_net + 2((D-1)/D)(n/g) b_net.
#pragma once

#include <vector>

#include "sim/collective/schedule.h"
#include "sim/core/error.h"

namespace collsim::collective {

// Pipelining: the buffer is cut into pieces that go through the three
// phases one after another; each phase's transfers queue per connection, so
// piece q+1 reduces inside the domains while piece q crosses the network.
struct HierOptions {
  // Named defaults: pieces whose per-GPU chunks are at least 512 KiB (NCCL
  // Simple's step), at most 8 pieces, bounding the flow count.
  double min_piece_bytes = 512.0 * 1024;
  int max_pieces = 8;
};

// `domain_of_rank[r]` groups ranks (equal ids = one domain); every domain
// must have the same number of ranks. Ranks keep their order inside a domain.
Expected<Schedule> hier_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                                  const HierOptions& options = {});

}  // namespace collsim::collective
