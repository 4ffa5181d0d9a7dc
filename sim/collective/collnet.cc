#include "sim/collective/collnet.h"

#include <algorithm>
#include <numeric>

namespace collsim::collective {

Schedule collnet_direct_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                                  const CollNetParams& params) {
  std::vector<std::vector<int>> domains = group_by_domain(domain_of_rank);
  if (domains.empty()) {  // all ranks in one domain
    domains.emplace_back(std::max(ranks, 0));
    std::iota(domains.front().begin(), domains.front().end(), 0);
  }
  const int g = static_cast<int>(domains.front().size());
  const int nd = static_cast<int>(domains.size());
  const int slices = piece_count(bytes / std::max(g, 1), params.min_slice_bytes, params.max_slices);
  Schedule s = empty_schedule("allreduce", "collnetdirect", ranks, bytes, g * slices);  // chunk c * slices + slice
  s.latency_family = LatencyFamily::kCollNet;
  if (ranks < 2) return s;
  s.helper_ranks = static_cast<int>(params.helper_endpoint.size());
  s.helper_endpoint = params.helper_endpoint;
  const double piece = bytes / g / slices;
  const double tree_piece = piece / params.efficiency;
  const int written = params.pipelined ? 1 : slices;
  if (params.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
  }
  // Each connection carries one transfer per slice and rail: the copies
  // queue behind each other (Schedule::repeats); written out, per stream.
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    for (int c = 0; c < g; ++c) {
      const int chunk = c * slices + slice;
      auto add = [&](int src, int dst, double b, Action action, std::vector<int> deps) {
        Transfer t;
        t.src = src;
        t.dst = dst;
        t.bytes = b;
        t.chunk = chunk;
        t.action = action;
        t.deps = std::move(deps);
        if (!params.pipelined) return queued.add(c, std::move(t));
        s.transfers.push_back(std::move(t));
        return static_cast<int>(s.transfers.size()) - 1;
      };
      // 1. Each domain's portion c into its GPU c.
      std::vector<std::vector<int>> at_head(static_cast<std::size_t>(nd));
      for (int d = 0; d < nd; ++d) {
        const auto& m = domains[static_cast<std::size_t>(d)];
        for (int j = 0; j < g; ++j)
          if (j != c) at_head[static_cast<std::size_t>(d)].push_back(add(m[j], m[c], piece, Action::kReduce, {}));
      }
      // 2. Up the aggregation tree and back down.
      std::vector<int> ready(static_cast<std::size_t>(nd), -1);  // the result's arrival at each head
      if (nd > 1) {
        const CollNetRail& rail = params.rails[static_cast<std::size_t>(c)];
        const std::size_t sw = rail.parent.size();
        auto helper = [&](std::size_t k) { return ranks + rail.helper[k]; };
        std::vector<std::vector<int>> into(sw);  // transfers into each switch
        auto send_up = [&](int src, std::size_t k, std::vector<int> deps) {
          // A switch starts with nothing and adds every input it receives.
          into[k].push_back(add(src, helper(k), tree_piece, Action::kReduce, std::move(deps)));
        };
        for (int d = 0; d < nd; ++d)
          send_up(domains[static_cast<std::size_t>(d)][c], static_cast<std::size_t>(rail.entry[d]),
                  at_head[static_cast<std::size_t>(d)]);
        // Switches deepest first, so that each has all its inputs before it sends.
        std::vector<int> depth(sw, 0);
        for (std::size_t k = 0; k < sw; ++k)
          for (int a = rail.parent[k]; a >= 0; a = rail.parent[static_cast<std::size_t>(a)]) ++depth[k];
        std::vector<std::size_t> order(sw);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
        std::size_t root = 0;
        for (std::size_t k : order) {
          if (rail.parent[k] < 0) {
            root = k;
            continue;
          }
          send_up(helper(k), static_cast<std::size_t>(rail.parent[k]), into[k]);
        }
        // Down: the root's sum, then each switch's copy of it.
        std::vector<int> down(sw, -1);
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
          const std::size_t k = *it;
          const std::vector<int> have = k == root ? into[k] : std::vector{down[k]};
          for (std::size_t child = 0; child < sw; ++child)
            if (rail.parent[child] == static_cast<int>(k))
              down[child] = add(helper(k), helper(child), tree_piece, Action::kCopy, have);
          for (int d = 0; d < nd; ++d)
            if (static_cast<std::size_t>(rail.entry[d]) == k)
              ready[static_cast<std::size_t>(d)] =
                  add(helper(k), domains[static_cast<std::size_t>(d)][c], tree_piece, Action::kCopy, have);
        }
      }
      // 3. The result from each GPU c to the rest of its domain.
      for (int d = 0; d < nd; ++d) {
        const auto& m = domains[static_cast<std::size_t>(d)];
        const std::vector<int> have =
            nd > 1 ? std::vector{ready[static_cast<std::size_t>(d)]} : at_head[static_cast<std::size_t>(d)];
        for (int j = 0; j < g; ++j)
          if (j != c) add(m[c], m[j], piece, Action::kCopy, have);
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
  const int slices = piece_count(bytes / g, params.min_slice_bytes, params.max_slices);
  Schedule s = empty_schedule("allreduce", "nvls", ranks, bytes, g * slices);  // chunk c * slices + slice
  s.latency_family = LatencyFamily::kNvls;
  // Helpers: the domains' NVSwitches, then the fabric's switches.
  s.helper_ranks = nd + static_cast<int>(params.helper_endpoint.size());
  s.helper_endpoint = params.domain_nvswitch;
  s.helper_endpoint.insert(s.helper_endpoint.end(), params.helper_endpoint.begin(), params.helper_endpoint.end());
  const double piece = bytes / g / slices;
  const double wire = piece / nvls_efficiency, tree_piece = piece / params.efficiency;
  const int written = params.pipelined ? 1 : slices;
  if (params.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
  }
  // Streams: the NVLS stages queue apart, and each rail's tree apart.
  enum Stream { kLoad, kBack, kStore, kMulticast, kRail0 };
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    for (int c = 0; c < g; ++c) {
      const int chunk = c * slices + slice;
      auto add = [&](int stream, int src, int dst, double b, Action action, std::vector<int> deps,
                     bool addend = false) {
        Transfer t;
        t.src = src;
        t.dst = dst;
        t.bytes = b;
        t.chunk = chunk;
        t.action = action;
        t.deps = std::move(deps);
        t.switch_addend = addend;
        return queued.add(stream, std::move(t));
      };
      auto owner = [&](int d) { return domains[static_cast<std::size_t>(d)][static_cast<std::size_t>(c)]; };
      // 1. Each domain's sum of portion c, at its GPU c.
      std::vector<int> back(static_cast<std::size_t>(nd));
      for (int d = 0; d < nd; ++d) {
        std::vector<int> loads;
        for (int r : domains[static_cast<std::size_t>(d)])
          loads.push_back(add(kLoad, r, ranks + d, wire, Action::kReduce, {}, r != owner(d)));
        back[static_cast<std::size_t>(d)] = add(kBack, ranks + d, owner(d), wire, Action::kCopy, loads);
      }
      // 2. Up rail c's tree and back down.
      const CollNetRail& rail = params.rails[static_cast<std::size_t>(c)];
      const std::size_t sw = rail.parent.size();
      auto helper = [&](std::size_t k) { return ranks + nd + rail.helper[k]; };
      std::vector<std::vector<int>> into(sw);
      for (int d = 0; d < nd; ++d) {
        const auto k = static_cast<std::size_t>(rail.entry[static_cast<std::size_t>(d)]);
        into[k].push_back(
            add(kRail0 + c, owner(d), helper(k), tree_piece, Action::kReduce, {back[static_cast<std::size_t>(d)]}));
      }
      std::vector<int> depth(sw, 0);
      for (std::size_t k = 0; k < sw; ++k)
        for (int a = rail.parent[k]; a >= 0; a = rail.parent[static_cast<std::size_t>(a)]) ++depth[k];
      std::vector<std::size_t> order(sw);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return depth[a] > depth[b]; });
      for (std::size_t k : order) {
        if (rail.parent[k] < 0) continue;
        const auto up = static_cast<std::size_t>(rail.parent[k]);
        into[up].push_back(add(kRail0 + c, helper(k), helper(up), tree_piece, Action::kReduce, into[k]));
      }
      std::vector<int> down(sw, -1), ready(static_cast<std::size_t>(nd), -1);
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        const std::size_t k = *it;
        const std::vector<int> have = rail.parent[k] < 0 ? into[k] : std::vector{down[k]};
        for (std::size_t child = 0; child < sw; ++child)
          if (rail.parent[child] == static_cast<int>(k))
            down[child] = add(kRail0 + c, helper(k), helper(child), tree_piece, Action::kCopy, have);
        for (int d = 0; d < nd; ++d)
          if (static_cast<std::size_t>(rail.entry[static_cast<std::size_t>(d)]) == k)
            ready[static_cast<std::size_t>(d)] = add(kRail0 + c, helper(k), owner(d), tree_piece, Action::kCopy, have);
      }
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
