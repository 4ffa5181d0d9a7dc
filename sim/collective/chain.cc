#include "sim/collective/chain.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

namespace {

// hops[c][h] = (src, dst) rank of channel c's h-th connection. Each channel
// carries an equal share of the buffer, cut into slices; the checker sees
// slice k of channel c as chunk c * slices + k.
Schedule make_chain(const char* op, int ranks, double bytes, int root,
                    const std::vector<std::vector<std::pair<int, int>>>& hops, Action action,
                    const ChainOptions& options) {
  const int channels = static_cast<int>(hops.size());
  const double channel_bytes = bytes / channels;
  const double hops_total = std::max<double>(1, static_cast<double>(hops.size()) * hops.front().size());
  // Pipelined, Simple's steps and LL128's units are NCCL's own (one copy
  // is costed, so their number costs nothing), LL's lines at most
  // max_ll_slices; written out, at most max_slices, and max_transfers in all.
  const double within = std::clamp(options.max_transfers / hops_total, 1.0, 1e9);
  const int fit = !options.pipelined                  ? std::min(options.max_slices, static_cast<int>(within))
                  : options.protocol == Protocol::kLL ? options.max_ll_slices
                                                      : options.max_pipelined_slices;
  const double unit = (options.protocol == Protocol::kLL      ? options.ll_line_bytes
                       : options.protocol == Protocol::kLL128 ? options.ll128_pass_bytes
                                                              : options.min_slice_bytes) *
                      (options.ctas_per_chain > 0 ? options.ctas_per_chain : 1.0);
  const ChunkPieces pieces = chunk_pieces(channel_bytes, unit, fit);
  const int slices = pieces.count;
  Schedule s = empty_schedule(op, "ring", ranks, bytes, channels * slices);
  s.root = root;
  s.chain_channels = channels;
  s.chain_nccl_channels = options.ctas_per_chain;
  // Slice-major order keeps deps and queue_after pointing backwards; every
  // slice crosses the same connections, so pipelined, one slice is written
  // and repeated (Schedule::repeats).
  const int written = options.pipelined ? 1 : slices;
  if (options.pipelined && slices > 1) {
    s.repeats = slices;
    s.repeat_chunk_step = 1;
    s.last_copy_fraction = pieces.last_fraction();  // whole chunks, then the remainder
  }
  std::size_t per_slice = 0;
  for (const auto& h : hops) per_slice += h.size();
  s.transfers.reserve(per_slice * static_cast<std::size_t>(written));
  for (int slice = 0; slice < written; ++slice) {
    for (int c = 0; c < channels; ++c) {
      const int h_count = static_cast<int>(hops[c].size());
      for (int hop = 0; hop < h_count; ++hop) {
        Transfer t;
        t.src = hops[c][hop].first;
        t.dst = hops[c][hop].second;
        t.bytes = pieces.slice_bytes(slice, options.pipelined);
        t.chunk = c * slices + slice;
        t.action = action;
        const int here = static_cast<int>(s.transfers.size());
        if (hop > 0) t.deps.push_back(here - 1);
        if (slice > 0) t.queue_after = here - static_cast<int>(per_slice);
        s.transfers.push_back(std::move(t));
      }
    }
  }
  return s;
}

// Each ring of `orders` rotated to start at `root` (broadcast: root first)
// or one past it (reduce: root last), as chain hops.
std::vector<std::vector<std::pair<int, int>>> chains(const std::vector<std::vector<int>>& orders, int root,
                                                     bool root_first) {
  std::vector<std::vector<std::pair<int, int>>> out;
  for (const auto& order : orders) {
    const int p = static_cast<int>(order.size());
    const int at = static_cast<int>(std::find(order.begin(), order.end(), root) - order.begin());
    const int start = root_first ? at : at + 1;
    std::vector<std::pair<int, int>> hops;
    for (int k = 0; k + 1 < p; ++k) hops.emplace_back(order[(start + k) % p], order[(start + k + 1) % p]);
    out.push_back(std::move(hops));
  }
  return out;
}

std::vector<std::vector<int>> identity_ring(int ranks) {
  std::vector<int> order(static_cast<std::size_t>(ranks));
  for (int i = 0; i < ranks; ++i) order[static_cast<std::size_t>(i)] = i;
  return {order};
}

}  // namespace

Schedule chain_broadcast(int ranks, double bytes, int root, const ChainOptions& options) {
  return chain_broadcast_channels(ranks, bytes, root, identity_ring(ranks), options);
}

Schedule chain_reduce(int ranks, double bytes, int root, const ChainOptions& options) {
  return chain_reduce_channels(ranks, bytes, root, identity_ring(ranks), options);
}

Schedule chain_broadcast_channels(int ranks, double bytes, int root, const std::vector<std::vector<int>>& orders,
                                  const ChainOptions& options) {
  return make_chain("broadcast", ranks, bytes, root, chains(orders, root, true), Action::kCopy, options);
}

Schedule chain_reduce_channels(int ranks, double bytes, int root, const std::vector<std::vector<int>>& orders,
                               const ChainOptions& options) {
  return make_chain("reduce", ranks, bytes, root, chains(orders, root, false), Action::kReduce, options);
}

}  // namespace collsim::collective
