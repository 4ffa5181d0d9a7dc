#include "sim/collective/nvls.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace collsim::collective {

Schedule nvls_allreduce(int ranks, double bytes, double efficiency, const NvlsOptions& options) {
  Schedule s = empty_schedule("allreduce", "nvls", ranks, bytes, ranks);
  s.helper_ranks = 1;
  s.latency_family = LatencyFamily::kNvls;
  if (ranks < 2) return s;
  const int sw = ranks;
  const double portion = bytes / ranks;
  const int slices = piece_count(portion, options.min_slice_bytes, options.max_slices);
  const double wire = portion / slices / efficiency;

  enum Stage { kLoad, kBack, kStore, kMulticast };
  // Each stage's transfers queue in order on their connection, so slice j+1
  // loads while slice j is multicast: up- and downlinks are busy together.
  QueuedAppender queued(s);
  auto add = [&](Stage stage, int src, int dst, int chunk, int slice, Action action, std::vector<int> deps) {
    Transfer t;
    t.src = src;
    t.dst = dst;
    t.chunk = chunk;
    t.slice = slice;
    t.bytes = wire;
    t.action = action;
    t.deps = std::move(deps);
    return queued.add(stage, std::move(t));
  };
  for (int slice = 0; slice < slices; ++slice) {
    // 1. reduce-load of every portion from every GPU.
    std::vector<std::vector<int>> loads(ranks);
    for (int c = 0; c < ranks; ++c)
      for (int g = 0; g < ranks; ++g) loads[c].push_back(add(kLoad, g, sw, c, slice, Action::kReduce, {}));
    for (int c = 0; c < ranks; ++c) {
      // 2. the sum to its owner; 3. the owner's multicast store to all.
      const int back = add(kBack, sw, c, c, slice, Action::kCopy, loads[c]);
      const int store = add(kStore, c, sw, c, slice, Action::kCopy, {back});
      for (int g = 0; g < ranks; ++g) add(kMulticast, sw, g, c, slice, Action::kCopy, {store});
    }
  }
  return s;
}

}  // namespace collsim::collective
