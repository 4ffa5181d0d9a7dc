#include "sim/collective/tree.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace collsim::collective {

std::vector<int> binary_tree_parents(int ranks) {
  std::vector<int> parent(ranks, -1);
  for (int r = 1; r < ranks; ++r) {
    int bit = 1;
    while (!(r & bit)) bit <<= 1;  // lowest set bit
    int up = (r ^ bit) | (bit << 1);
    if (up >= ranks) up = r ^ bit;
    parent[r] = up;
  }
  return parent;
}

Schedule tree_allreduce(int ranks, double bytes, const TreeOptions& options) {
  const double half = bytes / 2;
  const int slices = piece_count(half, options.min_slice_bytes, options.max_slices);
  Schedule s = empty_schedule("allreduce", "tree", ranks, bytes, 2 * slices);  // tree t, slice j -> chunk t * slices + j
  s.latency_family = LatencyFamily::kTree;
  if (ranks < 2) return s;

  // Tree 1 as built; tree 2 mirrored (even p) or shifted by one (odd p).
  const std::vector<int> base = binary_tree_parents(ranks);
  auto relabel = [&](int r) { return ranks % 2 == 0 ? ranks - 1 - r : (r + 1) % ranks; };
  std::vector<std::vector<int>> parents{base, std::vector<int>(ranks, -1)};
  for (int r = 0; r < ranks; ++r) parents[1][relabel(r)] = base[r] < 0 ? -1 : relabel(base[r]);

  // FIFO per connection of each tree: the two trees are separate channels
  // (their own buffers in NCCL), so one never waits behind the other.
  QueuedAppender queued(s);
  int tree = 0;
  auto add = [&](int src, int dst, int chunk, Action action, std::vector<int> deps) {
    Transfer t;
    t.src = src;
    t.dst = dst;
    t.chunk = chunk;
    t.bytes = half / slices;
    t.action = action;
    t.deps = std::move(deps);
    return queued.add(tree, std::move(t));
  };

  for (int slice = 0; slice < slices; ++slice) {
    for (tree = 0; tree < 2; ++tree) {
      const auto& parent = parents[tree];
      const int chunk = tree * slices + slice;
      std::vector<std::vector<int>> children(ranks);
      int root = -1;
      for (int r = 0; r < ranks; ++r) {
        if (parent[r] < 0) {
          root = r;
        } else {
          children[parent[r]].push_back(r);
        }
      }
      // Reduce up: a rank sends once everything from its children arrived.
      std::vector<int> up(ranks, -1);
      std::vector<int> order;  // leaves first: ranks by decreasing depth
      std::vector<int> depth(ranks, 0);
      for (int r = 0; r < ranks; ++r)
        for (int a = parent[r]; a >= 0; a = parent[a]) ++depth[r];
      for (int r = 0; r < ranks; ++r) order.push_back(r);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return depth[a] > depth[b]; });
      for (int r : order) {
        if (parent[r] < 0) continue;
        std::vector<int> deps;
        for (int c : children[r]) deps.push_back(up[c]);
        up[r] = add(r, parent[r], chunk, Action::kReduce, deps);
      }
      // Broadcast down, from the root once its children's sums arrived.
      std::vector<int> down(ranks, -1);
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const int r = *it;
        for (int c : children[r]) {
          std::vector<int> deps;
          if (r == root) {
            for (int cc : children[r]) deps.push_back(up[cc]);
          } else {
            deps.push_back(down[r]);
          }
          down[c] = add(r, c, chunk, Action::kCopy, deps);
        }
      }
    }
  }
  return s;
}

}  // namespace collsim::collective
