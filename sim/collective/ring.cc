#include "sim/collective/ring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace collsim::collective {

namespace {

// A pass of `steps` steps of the ring `order` (ring.h: each slice moves on
// as soon as it arrived from the previous step; no barrier between steps).
// At step k the rank at position i sends chunk (i - k + shift) mod p, offset
// by `first_chunk`, to the next position, reducing for the first
// `reduce_steps` steps and copying after.
RingPass ring_steps(const std::vector<int>& order, double chunk_bytes, int first_chunk, int steps, int reduce_steps,
                    int shift, const RingOptions& options) {
  RingPass pass;
  pass.order = order;
  pass.steps = steps;
  pass.block_bytes = chunk_bytes;
  pass.slices = piece_count(chunk_bytes, options.min_slice_bytes, options.max_slices);
  pass.first_chunk = first_chunk;
  pass.reduce_steps = reduce_steps;
  pass.shift = shift;
  return pass;
}

std::vector<int> identity(int p) {
  std::vector<int> order(p);
  for (int i = 0; i < p; ++i) order[i] = i;
  return order;
}

Schedule empty_ring(const char* op, int ranks, double bytes) { return empty_schedule(op, "ring", ranks, bytes, ranks); }

// Whether a channel may enter the domain of members `m` at position c: its
// GPU on the network, and with `exit_needs_nic` the one before it too
// (ring.h rings_over_domains). REQUIRES: on_network has every rank.
bool can_enter(const std::vector<int>& m, std::size_t c, const std::vector<char>& on_network, bool exit_needs_nic) {
  auto on = [&](std::size_t k) { return on_network[static_cast<std::size_t>(m[k % m.size()])] != 0; };
  return on(c) && (!exit_needs_nic || on(c + m.size() - 1));
}

}  // namespace

Schedule ring_allreduce(int ranks, double bytes, const RingOptions& options) {
  Schedule s = empty_ring("allreduce", ranks, bytes);
  // After p-1 reducing steps rank r holds chunk r+1 complete and forwards it.
  if (ranks > 1)
    s.ring_phases = {{ring_steps(identity(ranks), bytes / ranks, 0, 2 * (ranks - 1), ranks - 1, 0, options)}};
  return s;
}

Schedule ring_reducescatter(int ranks, double bytes, const RingOptions& options) {
  return ring_reducescatter_channels(ranks, bytes, {identity(ranks)}, options);
}

Schedule ring_allgather(int ranks, double bytes, const RingOptions& options) {
  return ring_allgather_channels(ranks, bytes, {identity(ranks)}, options);
}

}  // namespace collsim::collective

namespace collsim::collective {

Schedule ring_allreduce_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                 const RingOptions& options) {
  const int channels = static_cast<int>(orders.size());
  Schedule s = empty_schedule("allreduce", "ring", ranks, bytes, channels * ranks);
  if (ranks < 2) return s;
  std::vector<RingPass> passes;
  for (int c = 0; c < channels; ++c) {
    passes.push_back(
        ring_steps(orders[c], bytes / channels / ranks, c * ranks, 2 * (ranks - 1), ranks - 1, 0, options));
  }
  s.ring_phases = {std::move(passes)};
  return s;
}

namespace {

// Reduce-scatter (reduce_steps = p - 1) or all-gather (0) over the rings
// `orders`, each carrying an equal share of every rank's part; chunk
// c * ranks + r is channel c's piece of rank r's part (check.h).
Schedule half_ring_channels(const char* op, int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                            bool reduce, const RingOptions& options) {
  const int channels = static_cast<int>(orders.size());
  Schedule s = empty_schedule(op, "ring", ranks, bytes, channels * ranks);
  if (ranks < 2) return s;
  std::vector<RingPass> passes;
  for (int c = 0; c < channels; ++c) {
    // Reduce-scatter is shifted by one so that the rank at each position
    // ends with its own part; all-gather's first step sends the rank's own.
    RingPass pass = ring_steps(orders[c], bytes / channels / ranks, c * ranks, ranks - 1, reduce ? ranks - 1 : 0,
                               reduce ? -1 : 0, options);
    pass.blocks_by_rank = true;
    passes.push_back(std::move(pass));
  }
  s.ring_phases = {std::move(passes)};
  return s;
}

}  // namespace

Schedule ring_reducescatter_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                     const RingOptions& options) {
  return half_ring_channels("reducescatter", ranks, bytes, orders, true, options);
}

Schedule ring_allgather_channels(int ranks, double bytes, const std::vector<std::vector<int>>& orders,
                                 const RingOptions& options) {
  return half_ring_channels("allgather", ranks, bytes, orders, false, options);
}

std::vector<std::size_t> networked_positions(const std::vector<int>& domain_of_rank,
                                             const std::vector<char>& on_network, bool exit_needs_nic) {
  const auto members = group_by_domain(domain_of_rank);
  std::size_t per_domain = members.empty() ? domain_of_rank.size() : members.front().size();
  for (const auto& m : members) per_domain = std::min(per_domain, m.size());
  const bool every = on_network.size() != domain_of_rank.size();
  std::vector<std::size_t> kept;
  for (std::size_t c = 0; c < per_domain && members.size() > 1; ++c) {
    bool keep = true;
    for (const auto& m : members) keep = keep && (every || can_enter(m, c, on_network, exit_needs_nic));
    if (keep) kept.push_back(c);
  }
  return kept;
}

std::vector<std::vector<std::size_t>> network_entries(const std::vector<int>& domain_of_rank,
                                                      const std::vector<char>& on_network, bool exit_needs_nic) {
  const auto members = group_by_domain(domain_of_rank);
  if (members.size() < 2 || on_network.size() != domain_of_rank.size()) return {};
  std::vector<std::vector<std::size_t>> entries(members.size());
  std::size_t channels = members.front().size();
  for (std::size_t d = 0; d < members.size(); ++d) {
    const auto& m = members[d];
    for (std::size_t c = 0; c < m.size(); ++c)
      if (can_enter(m, c, on_network, exit_needs_nic)) entries[d].push_back(c);
    channels = std::min(channels, entries[d].size());
  }
  if (channels == 0) return {};
  for (auto& e : entries) e.resize(channels);
  return entries;
}

std::vector<std::vector<int>> rings_over_domains(const std::vector<int>& domain_of_rank,
                                                 const std::vector<char>& on_network, bool exit_needs_nic,
                                                 bool alternate) {
  const auto members = group_by_domain(domain_of_rank);
  if (members.size() == 1) return {identity(static_cast<int>(domain_of_rank.size()))};
  // Channel c enters domain d at entries[d][c]; with none qualifying, at
  // every position (its routes take stand-ins).
  auto entries = network_entries(domain_of_rank, on_network, exit_needs_nic);
  // NCCL's alternation (ring.h): odd domains run their positions backwards
  // from the one before the entry, so that they enter where the domain
  // before left and leave where the next enters. Every rank on the network
  // only (a lost NIC's entries differ per domain).
  if (alternate && std::all_of(on_network.begin(), on_network.end(), [](char on) { return on != 0; })) {
    std::size_t per_domain = members.front().size();
    for (const auto& m : members) per_domain = std::min(per_domain, m.size());
    std::vector<std::vector<int>> orders;
    for (std::size_t c = 0; c < per_domain; ++c) {
      std::vector<int> order;
      for (std::size_t d = 0; d < members.size(); ++d) {
        const auto& m = members[d];
        const std::size_t n = m.size();
        for (std::size_t k = 0; k < n; ++k)
          order.push_back(d % 2 == 0 ? m[(c + k) % n] : m[(c + n - 1 + n - k % n) % n]);
      }
      orders.push_back(std::move(order));
    }
    return orders;
  }
  if (entries.empty()) {
    std::size_t per_domain = members.front().size();
    for (const auto& m : members) per_domain = std::min(per_domain, m.size());
    entries.assign(members.size(), std::vector<std::size_t>(per_domain));
    for (auto& e : entries) std::iota(e.begin(), e.end(), std::size_t{0});
  }
  std::vector<std::vector<int>> orders;
  for (std::size_t c = 0; c < entries.front().size(); ++c) {
    std::vector<int> order;
    for (std::size_t d = 0; d < members.size(); ++d) {
      const auto& m = members[d];
      for (std::size_t k = 0; k < m.size(); ++k) order.push_back(m[(entries[d][c] + k) % m.size()]);
    }
    orders.push_back(std::move(order));
  }
  return orders;
}

std::vector<int> ring_exit_relays(const std::vector<int>& domain_of_rank) {
  std::vector<int> exit(domain_of_rank.size(), -1);
  for (const auto& m : group_by_domain(domain_of_rank))
    for (std::size_t k = 0; k < m.size(); ++k) exit[static_cast<std::size_t>(m[k])] = m[(k + 1) % m.size()];
  return exit;
}

}  // namespace collsim::collective
