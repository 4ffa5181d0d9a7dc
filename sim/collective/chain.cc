#include "sim/collective/chain.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

namespace {

// hops[h] = (src, dst) rank of the chain's h-th connection.
Schedule make_chain(const char* op, int ranks, double bytes, int root, const std::vector<std::pair<int, int>>& hops,
                    Action action, const ChainOptions& options) {
  const int slices = piece_count(bytes, options.min_slice_bytes, options.max_slices);
  // The checker sees each slice as a chunk of the buffer.
  Schedule s = empty_schedule(op, "ring", ranks, bytes, slices);
  s.root = root;
  const int h_count = static_cast<int>(hops.size());
  auto index = [&](int hop, int slice) { return slice * h_count + hop; };
  // Slice-major order keeps deps and queue_after pointing backwards.
  for (int slice = 0; slice < slices; ++slice) {
    for (int hop = 0; hop < h_count; ++hop) {
      Transfer t;
      t.src = hops[hop].first;
      t.dst = hops[hop].second;
      t.bytes = bytes / slices;
      t.chunk = slice;
      t.action = action;
      if (hop > 0) t.deps.push_back(index(hop - 1, slice));
      if (slice > 0) t.queue_after = index(hop, slice - 1);
      s.transfers.push_back(std::move(t));
    }
  }
  return s;
}

}  // namespace

Schedule chain_broadcast(int ranks, double bytes, int root, const ChainOptions& options) {
  std::vector<std::pair<int, int>> hops;
  for (int k = 0; k + 1 < ranks; ++k) hops.emplace_back((root + k) % ranks, (root + k + 1) % ranks);
  return make_chain("broadcast", ranks, bytes, root, hops, Action::kCopy, options);
}

Schedule chain_reduce(int ranks, double bytes, int root, const ChainOptions& options) {
  std::vector<std::pair<int, int>> hops;
  for (int k = 1; k < ranks; ++k) hops.emplace_back((root + k) % ranks, (root + k + 1) % ranks);
  return make_chain("reduce", ranks, bytes, root, hops, Action::kReduce, options);
}

}  // namespace collsim::collective
