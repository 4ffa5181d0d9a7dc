#include "sim/collective/pat.h"

#include <algorithm>
#include <bit>

namespace collsim::collective {

namespace {

int lowest_bit(int s) { return std::countr_zero(static_cast<unsigned>(s)); }

// Dimensions: D = ceil(lg p).
int dimensions(int p) {
  int d = 0;
  while ((1 << d) < p) ++d;
  return d;
}

enum class Kind { kAllGather, kReduceScatter };

Schedule pat(Kind kind, int ranks, double bytes, const PatOptions& options) {
  const bool gather = kind == Kind::kAllGather;
  const int p = std::max(ranks, 1);
  const double block = bytes / p;
  const ChunkPieces pieces = chunk_pieces(block, options.min_slice_bytes, options.max_slices);
  const int slices = pieces.count;  // whole chunks and the remainder
  Schedule s = empty_schedule(gather ? "allgather" : "reducescatter", "pat", ranks, bytes, slices * p);
  s.latency_family = LatencyFamily::kPat;
  if (ranks < 2) return s;
  const int D = dimensions(p);
  const int written = options.pipelined ? 1 : slices;
  if (options.pipelined) {
    s.repeats = slices;
    s.repeat_chunk_step = p;
    s.last_copy_fraction = pieces.last_fraction();
  }
  s.transfers.reserve(static_cast<std::size_t>(written) * static_cast<std::size_t>(p) *
                      static_cast<std::size_t>(p - 1));
  // The offsets each dimension carries, in the order a rank sends them.
  std::vector<std::vector<int>> offsets(static_cast<std::size_t>(D));
  for (int k = 0; k < D; ++k) {
    auto& list = offsets[static_cast<std::size_t>(k)];
    if (gather) {
      // Offsets whose lowest set bit is above k (the owner's own block, 0,
      // first), in the order they arrived: highest lowest bit first.
      for (int s0 = 0; s0 + (1 << k) < p; s0 += 1 << (k + 1)) list.push_back(s0);
      std::stable_sort(list.begin(), list.end(), [](int a, int b) {
        const int la = a == 0 ? 64 : lowest_bit(a), lb = b == 0 ? 64 : lowest_bit(b);
        return la > lb;
      });
    } else {
      for (int s0 = 1 << k; s0 < p; s0 += 1 << (k + 1)) list.push_back(s0);  // lowest set bit exactly k
    }
  }
  // index[r * p + s]: the transfer that delivered (all-gather) or sent
  // (reduce-scatter) the block at offset s of rank r, in this slice.
  std::vector<int> index(static_cast<std::size_t>(p) * static_cast<std::size_t>(p), -1);
  auto at = [&](int r, int off) -> int& {
    return index[static_cast<std::size_t>(r) * static_cast<std::size_t>(p) + static_cast<std::size_t>(off)];
  };
  QueuedAppender queued(s);
  for (int slice = 0; slice < written; ++slice) {
    for (int step = 0; step < D; ++step) {
      const int k = gather ? D - 1 - step : step;  // all-gather: farthest dimension first
      const int distance = 1 << k;
      for (int r = 0; r < p; ++r) {
        for (int off : offsets[static_cast<std::size_t>(k)]) {
          const int owner = ((r - off) % p + p) % p;
          Transfer t;
          t.src = r;
          t.dst = gather ? (r + distance) % p : ((r - distance) % p + p) % p;
          t.bytes = pieces.slice_bytes(slice, options.pipelined);
          t.chunk = slice * p + owner;
          t.action = gather ? Action::kCopy : Action::kReduce;
          if (gather) {
            if (off > 0) t.deps.push_back(at(r, off));  // forwards what it received
            const int dst = t.dst;
            at(dst, off + distance) = queued.add(0, std::move(t));
          } else {
            // Adds what its children sent: ranks r + 2^j at offset s + 2^j.
            for (int j = 0; j < k && off + (1 << j) < p; ++j) t.deps.push_back(at((r + (1 << j)) % p, off + (1 << j)));
            at(r, off) = queued.add(0, std::move(t));
          }
        }
      }
    }
  }
  return s;
}

}  // namespace

Schedule pat_allgather(int ranks, double bytes, const PatOptions& options) {
  return pat(Kind::kAllGather, ranks, bytes, options);
}

Schedule pat_reducescatter(int ranks, double bytes, const PatOptions& options) {
  return pat(Kind::kReduceScatter, ranks, bytes, options);
}

}  // namespace collsim::collective
