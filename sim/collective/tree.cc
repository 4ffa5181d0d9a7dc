#include "sim/collective/tree.h"

#include <algorithm>
#include <cmath>
#include <numeric>

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

std::vector<int> mirrored_tree_parents(int ranks) {
  const std::vector<int> base = binary_tree_parents(ranks);
  auto relabel = [&](int r) { return ranks % 2 == 0 ? ranks - 1 - r : (r + 1) % ranks; };
  std::vector<int> out(ranks, -1);
  for (int r = 0; r < ranks; ++r) out[relabel(r)] = base[r] < 0 ? -1 : relabel(base[r]);
  return out;
}

TreeShape tree_shape(const std::vector<int>& parent) {
  const int n = static_cast<int>(parent.size());
  TreeShape t;
  t.parent = parent;
  t.children.resize(n);
  std::vector<int> depth(n, 0);
  for (int d = 0; d < n; ++d) {
    if (parent[d] < 0) {
      t.root = d;
    } else {
      t.children[parent[d]].push_back(d);
    }
    for (int a = parent[d]; a >= 0; a = parent[a]) ++depth[d];
  }
  t.leaves_first.resize(n);
  std::iota(t.leaves_first.begin(), t.leaves_first.end(), 0);
  std::stable_sort(t.leaves_first.begin(), t.leaves_first.end(), [&](int a, int b) { return depth[a] > depth[b]; });
  return t;
}

Schedule tree_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank, const TreeOptions& options) {
  std::vector<std::vector<int>> domains = group_by_domain(domain_of_rank);
  if (domains.empty()) {  // all ranks in one domain
    domains.emplace_back(ranks);
    std::iota(domains.front().begin(), domains.front().end(), 0);
  }
  const int nd = static_cast<int>(domains.size());
  std::size_t widest = 0;
  for (const auto& d : domains) widest = std::max(widest, d.size());
  const int heads = options.head_positions.empty() ? static_cast<int>(widest)
                                                   : static_cast<int>(options.head_positions.front().size());
  const int channels = 2 * heads;  // (head c, tree t) -> channel 2 c + t
  // Each slice of each channel goes up and down ranks - 1 edges.
  const double per_slice = 2.0 * channels * std::max(1, ranks - 1);
  const int most = options.pipelined
                       ? options.max_slices
                       : std::clamp(static_cast<int>(std::min(1e9, options.max_slice_transfers / per_slice)),
                                    std::min(options.min_slices, options.max_slices), options.max_slices);
  const double share = std::min(1.0, static_cast<double>(std::max(1, options.nccl_tree_channels)) / heads);
  // The pipeline unit: NCCL's chunk for the protocol (tree.h).
  double slice_bytes = options.min_slice_bytes * share;
  // LL's unit shrinks with collsim's channels beyond NCCL's, as Simple's
  // slices do: a channel's share of LL's throughput limit shrinks with them,
  // and a hop's unit should take the time NCCL's takes. APPROXIMATION: it
  // counts collsim's channels of both trees against NCCL's 32, where NCCL
  // has 32 per tree (src/graph/connect.cc connectTrees), so above 16 GPUs
  // per domain the unit is half the time-equivalent one. Kept: on 576
  // GB200s the equivalent unit (114 B, not 57) takes 16-64 KiB from 323-328
  // to 441-446 us, further from NCCL's own model (124-133 us), and no
  // measurement decides.
  if (options.protocol == Protocol::kLL)
    slice_bytes =
        options.ll_line_bytes * std::min(1.0, static_cast<double>(std::max(1, options.nccl_tree_channels)) / channels);
  if (options.protocol == Protocol::kLL128) {
    double chunk = options.ll128_chunk_bytes;
    const double ppn = static_cast<double>(ranks) / nd;
    const double steps = 1 + std::floor(std::log2(nd)) + 0.1 * ppn;
    const double per_channel = bytes / (channels * share);  // over NCCL's channels
    while (std::floor(per_channel / chunk) < steps * 64 / ppn && chunk > 131072) chunk /= 2;
    while (std::floor(per_channel / chunk) < steps * 16 / ppn && chunk > 32768) chunk /= 2;
    if (options.ll128_grain_bytes > 0)
      chunk = std::max(1.0, std::floor(chunk / options.ll128_grain_bytes)) * options.ll128_grain_bytes;
    slice_bytes = std::min(chunk, options.ll128_pass_warps * options.ll128_grain_bytes) * share;
  }
  // Whole chunks and the remainder (schedule.h chunk_pieces): a size just
  // above a whole number of chunks adds a small piece, not a pipeline of
  // finer ones.
  const ChunkPieces pieces = chunk_pieces(bytes / channels, slice_bytes, most);
  const int slices = pieces.count;
  Schedule s =
      empty_schedule("allreduce", "tree", ranks, bytes, channels * slices);  // chunk = channel * slices + slice
  s.latency_family = LatencyFamily::kTree;
  if (ranks < 2) return s;
  const TreeShape trees[2] = {tree_shape(binary_tree_parents(nd)), tree_shape(mirrored_tree_parents(nd))};
  // Up the deepest chain and tree edge, then down again.
  int height = 0;
  for (const TreeShape& tree : trees) {
    int h = 0;
    for (int a = tree.leaves_first.front(); tree.parent[a] >= 0; a = tree.parent[a]) ++h;
    height = std::max(height, h);
  }
  s.pipeline_depth = 2 * (static_cast<int>(widest) - 1 + height);
  s.pipeline_slices = pieces.count - 1 + pieces.last_fraction();
  // Every slice of every channel goes up and down all ranks - 1 edges, the
  // same edges in the same order: pipelined, one slice is written and
  // repeated (its chunk is channel * slices + slice).
  const int written = options.pipelined ? 1 : slices;
  if (options.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
    s.last_copy_fraction = pieces.last_fraction();
  }
  s.transfers.reserve(static_cast<std::size_t>(channels) * static_cast<std::size_t>(written) * 2 *
                      static_cast<std::size_t>(ranks - 1));

  // Connections are FIFO per channel (a channel has its own buffers in NCCL,
  // so one never waits behind another); within one slice no channel uses a
  // connection twice.
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    for (int head = 0; head < heads; ++head) {
      for (int t = 0; t < 2; ++t) {
        const int channel = 2 * head + t;
        const int chunk = channel * slices + slice;
        const TreeShape& tree = trees[t];
        auto add = [&](int src, int dst, Action action, DepList deps) {
          Transfer t{.src = src,
                     .dst = dst,
                     .bytes = pieces.slice_bytes(slice, options.pipelined),
                     .chunk = chunk,
                     .action = action,
                     .deps = std::move(deps),
                     .channel = channel};
          if (!options.pipelined) return queued.add(channel, std::move(t));
          // One slice uses each of a channel's connections once: nothing to queue behind.
          s.transfers.push_back(std::move(t));
          return static_cast<int>(s.transfers.size()) - 1;
        };
        // Domain d's chain for this channel: position i holds rank chain(d, i).
        auto chain = [&](int d, int i) {
          const auto& m = domains[static_cast<std::size_t>(d)];
          const std::size_t g = m.size();
          return m[(kept_position(options.head_positions, d, head) + static_cast<std::size_t>(i)) % g];
        };
        auto size = [&](int d) { return static_cast<int>(domains[static_cast<std::size_t>(d)].size()); };

        // Reduce: up each chain to its head, then from the head to the
        // parent domain's head once every child domain's sum arrived.
        std::vector<int> up(nd, -1);                // head of d -> parent's head
        std::vector<std::vector<int>> at_head(nd);  // arrivals the head's sum waits for
        for (int d : tree.leaves_first) {
          int prev = -1;
          for (int i = size(d) - 1; i >= 1; --i)
            prev = add(chain(d, i), chain(d, i - 1), Action::kReduce, prev < 0 ? DepList{} : DepList{prev});
          if (prev >= 0) at_head[d].push_back(prev);
          for (int c : tree.children[d]) at_head[d].push_back(up[c]);
          if (d != tree.root) up[d] = add(chain(d, 0), chain(tree.parent[d], 0), Action::kReduce, at_head[d]);
        }
        // Broadcast: from the root's head (once its sum is complete) down
        // to the child domains' heads and down every chain.
        std::vector<int> down(nd, -1);  // parent's head -> head of d
        for (auto it = tree.leaves_first.rbegin(); it != tree.leaves_first.rend(); ++it) {
          const int d = *it;
          const DepList ready = d == tree.root ? DepList(at_head[d]) : DepList{down[d]};
          for (int c : tree.children[d]) down[c] = add(chain(d, 0), chain(c, 0), Action::kCopy, ready);
          int prev = -1;
          for (int i = 1; i < size(d); ++i)
            prev = add(chain(d, i - 1), chain(d, i), Action::kCopy, prev < 0 ? ready : DepList{prev});
        }
      }
    }
  }
  return s;
}

Schedule tree_allreduce(int ranks, double bytes, const TreeOptions& options) {
  std::vector<int> own(static_cast<std::size_t>(std::max(ranks, 0)));
  std::iota(own.begin(), own.end(), 0);
  return tree_allreduce(ranks, bytes, own, options);
}

}  // namespace collsim::collective
