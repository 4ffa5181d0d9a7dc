#include "sim/collective/collnet.h"

#include <algorithm>
#include <numeric>

namespace collsim::collective {

namespace {

// One slice of rail `rail` through its aggregation tree: the sum at
// owner[d] (once after[d] arrived) goes up, every switch adding its inputs
// and passing one sum to its parent, and the root's result comes back down,
// each switch copying it to its children. Returns, per domain, the transfer
// that brings the result to owner[d]. Switch k is rank first_helper +
// rail.helper[k]; add(src, dst, bytes, action, deps) appends a transfer and
// returns its index.
template <class Add>
std::vector<int> up_and_down(const CollNetRail& rail, int first_helper, const std::vector<int>& owner,
                             const std::vector<std::vector<int>>& after, double bytes, Add&& add) {
  const std::size_t sw = rail.parent.size(), nd = owner.size();
  auto helper = [&](std::size_t k) { return first_helper + rail.helper[k]; };
  std::vector<std::vector<int>> into(sw);  // transfers into each switch: it adds them all
  for (std::size_t d = 0; d < nd; ++d) {
    const auto k = static_cast<std::size_t>(rail.entry[d]);
    into[k].push_back(add(owner[d], helper(k), bytes, Action::kReduce, after[d]));
  }
  // Switches deepest first, so that each has all its inputs before it sends.
  std::vector<int> depth(sw, 0);
  for (std::size_t k = 0; k < sw; ++k)
    for (int a = rail.parent[k]; a >= 0; a = rail.parent[static_cast<std::size_t>(a)]) ++depth[k];
  std::vector<std::size_t> order(sw);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
  for (std::size_t k : order) {
    if (rail.parent[k] < 0) continue;
    const auto up = static_cast<std::size_t>(rail.parent[k]);
    into[up].push_back(add(helper(k), helper(up), bytes, Action::kReduce, into[k]));
  }
  std::vector<int> down(sw, -1), ready(nd, -1);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const std::size_t k = *it;
    const std::vector<int> have = rail.parent[k] < 0 ? into[k] : std::vector{down[k]};
    for (std::size_t child = 0; child < sw; ++child)
      if (rail.parent[child] == static_cast<int>(k))
        down[child] = add(helper(k), helper(child), bytes, Action::kCopy, have);
    for (std::size_t d = 0; d < nd; ++d)
      if (static_cast<std::size_t>(rail.entry[d]) == k) ready[d] = add(helper(k), owner[d], bytes, Action::kCopy, have);
  }
  return ready;
}

}  // namespace

Schedule collnet_direct_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                                  const CollNetParams& params) {
  std::vector<std::vector<int>> domains = group_by_domain(domain_of_rank);
  if (domains.empty()) {  // all ranks in one domain
    domains.emplace_back(std::max(ranks, 0));
    std::iota(domains.front().begin(), domains.front().end(), 0);
  }
  const int g = static_cast<int>(domains.front().size());
  const int nd = static_cast<int>(domains.size());
  const int owners = params.positions.empty() ? g : static_cast<int>(params.positions.size());
  const ChunkPieces pieces = chunk_pieces(bytes / std::max(owners, 1), params.min_slice_bytes, params.max_slices);
  const int slices = pieces.count;  // whole chunks and the remainder
  Schedule s = empty_schedule("allreduce", "collnetdirect", ranks, bytes, owners * slices);  // chunk c * slices + slice
  s.latency_family = LatencyFamily::kCollNet;
  if (ranks < 2) return s;
  s.helper_ranks = static_cast<int>(params.helper_endpoint.size());
  s.helper_endpoint = params.helper_endpoint;
  const int written = params.pipelined ? 1 : slices;
  if (params.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
    s.last_copy_fraction = pieces.last_fraction();
  }
  // Each connection carries one transfer per slice and rail: a rail's
  // copies queue behind each other, rails apart.
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    const double piece = pieces.slice_bytes(slice, params.pipelined);
    const double tree_piece = piece / params.efficiency;
    for (int c = 0; c < owners; ++c) {
      const int chunk = c * slices + slice;
      const int at = static_cast<int>(kept_position(params.positions, c));
      auto add = [&](int src, int dst, double b, Action action, DepList deps) {
        return queued.add(c, Transfer{.src = src,
                                      .dst = dst,
                                      .bytes = b,
                                      .chunk = chunk,
                                      .action = action,
                                      .deps = std::move(deps),
                                      .switch_addend = false});
      };
      // 1. Each domain's portion c into its GPU `at`.
      std::vector<std::vector<int>> at_head(static_cast<std::size_t>(nd));
      std::vector<int> owner;
      for (int d = 0; d < nd; ++d) {
        const auto& m = domains[static_cast<std::size_t>(d)];
        owner.push_back(m[static_cast<std::size_t>(at)]);
        for (int j = 0; j < g; ++j)
          if (j != at) at_head[static_cast<std::size_t>(d)].push_back(add(m[j], m[at], piece, Action::kReduce, {}));
      }
      // 2. Up the aggregation tree and back down.
      const std::vector<int> ready =
          nd > 1 ? up_and_down(params.rails[static_cast<std::size_t>(c)], ranks, owner, at_head, tree_piece, add)
                 : std::vector<int>{};
      // 3. The result from each GPU `at` to the rest of its domain.
      for (int d = 0; d < nd; ++d) {
        const auto& m = domains[static_cast<std::size_t>(d)];
        const std::vector<int> have =
            nd > 1 ? std::vector{ready[static_cast<std::size_t>(d)]} : at_head[static_cast<std::size_t>(d)];
        for (int j = 0; j < g; ++j)
          if (j != at) add(m[at], m[j], piece, Action::kCopy, have);
      }
    }
  }
  return s;
}

Schedule nvls_collnet_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank, double nvls_efficiency,
                                const CollNetParams& params) {
  const auto domains = group_by_domain(domain_of_rank);
  const int nd = static_cast<int>(domains.size());
  const int g = static_cast<int>(domains.front().size());
  const int owners = params.positions.empty() ? g : static_cast<int>(params.positions.size());
  const ChunkPieces pieces = chunk_pieces(bytes / owners, params.min_slice_bytes, params.max_slices);
  const int slices = pieces.count;                                                  // whole chunks and the remainder
  Schedule s = empty_schedule("allreduce", "nvls", ranks, bytes, owners * slices);  // chunk c * slices + slice
  s.latency_family = LatencyFamily::kNvls;
  // Helpers: the domains' NVSwitches, then the fabric's switches.
  s.helper_ranks = nd + static_cast<int>(params.helper_endpoint.size());
  if (g > 1) s.switch_inputs = g;  // every load passes the engines (Schedule::switch_inputs)
  s.helper_endpoint = params.domain_nvswitch;
  s.helper_endpoint.insert(s.helper_endpoint.end(), params.helper_endpoint.begin(), params.helper_endpoint.end());
  const int written = params.pipelined ? 1 : slices;
  if (params.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
    s.last_copy_fraction = pieces.last_fraction();
  }
  // Streams: the NVLS stages queue apart, and each rail's tree apart.
  enum Stream { kLoad, kBack, kStore, kMulticast, kRail0 };
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    const double piece = pieces.slice_bytes(slice, params.pipelined);
    const double wire = piece / nvls_efficiency, tree_piece = piece / params.efficiency;
    for (int c = 0; c < owners; ++c) {
      const int chunk = c * slices + slice;
      const std::size_t at = kept_position(params.positions, c);
      auto add = [&](int stream, int src, int dst, double b, Action action, DepList deps, bool addend = false) {
        return queued.add(stream, Transfer{.src = src,
                                           .dst = dst,
                                           .bytes = b,
                                           .chunk = chunk,
                                           .action = action,
                                           .deps = std::move(deps),
                                           .switch_addend = addend});
      };
      auto owner = [&](int d) { return domains[static_cast<std::size_t>(d)][at]; };
      // 1. Each domain's sum of portion c, at its GPU `at`.
      std::vector<int> back(static_cast<std::size_t>(nd));
      for (int d = 0; d < nd; ++d) {
        std::vector<int> loads;
        for (int r : domains[static_cast<std::size_t>(d)])
          loads.push_back(add(kLoad, r, ranks + d, wire, Action::kReduce, {}, g > 1));
        back[static_cast<std::size_t>(d)] = add(kBack, ranks + d, owner(d), wire, Action::kCopy, loads);
      }
      // 2. Up rail c's tree and back down.
      std::vector<int> owners;
      std::vector<std::vector<int>> after;
      for (int d = 0; d < nd; ++d) {
        owners.push_back(owner(d));
        after.push_back({back[static_cast<std::size_t>(d)]});
      }
      const std::vector<int> ready =
          up_and_down(params.rails[static_cast<std::size_t>(c)], ranks + nd, owners, after, tree_piece,
                      [&](int src, int dst, double b, Action action, DepList deps) {
                        return add(kRail0 + c, src, dst, b, action, std::move(deps));
                      });
      // 3. The multicast store of the result to the domain.
      for (int d = 0; d < nd; ++d) {
        const int store = add(kStore, owner(d), ranks + d, wire, Action::kCopy, {ready[static_cast<std::size_t>(d)]});
        for (int r : domains[static_cast<std::size_t>(d)]) add(kMulticast, ranks + d, r, wire, Action::kCopy, {store});
      }
    }
  }
  return s;
}

}  // namespace collsim::collective
