#include "sim/workload/step_account.h"

#include <algorithm>
#include <array>
#include <vector>

namespace collsim::workload {

void account_step(const StepGraph& g, StepResult& r) {
  const int workers = static_cast<int>(g.worker_gpus.size());
  struct Mark {
    double t;
    int delta;  // +1 start, -1 end
    int cls;    // 0 = compute, 1 + group
  };
  std::vector<std::vector<Mark>> marks(workers);
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const StepOp& o = g.ops[i];
    if (r.finish_s[i] <= r.start_s[i]) continue;
    const int cls = o.kind == StepOp::Kind::kCompute ? 0 : 1 + static_cast<int>(o.group);
    for (int w : o.workers) {
      marks[w].push_back({r.start_s[i], +1, cls});
      marks[w].push_back({r.finish_s[i], -1, cls});
    }
  }
  for (auto& m : marks) {
    std::sort(m.begin(), m.end(), [](const Mark& a, const Mark& b) { return a.t < b.t; });
    std::array<int, kGroupCount + 1> active{};
    double prev = 0;
    for (const Mark& k : m) {
      const double dt = k.t - prev;
      if (dt > 0) {
        int groups = 0;
        for (int c = 1; c <= kGroupCount; ++c) groups += active[c] > 0;
        for (int c = 1; c <= kGroupCount; ++c)
          if (active[c] > 0) r.comm_s[c - 1] += dt;
        if (active[0] > 0) {
          r.compute_s += dt;
        } else if (groups > 0) {
          for (int c = 1; c <= kGroupCount; ++c)
            if (active[c] > 0) r.exposed_s[c - 1] += dt / groups;
        } else {
          r.bubble_s += dt;
        }
      }
      active[k.cls] += k.delta;
      prev = k.t;
    }
    r.bubble_s += r.step_time_s - prev;
  }
  const double inv = workers > 0 ? 1.0 / workers : 0;
  r.compute_s *= inv;
  r.bubble_s *= inv;
  for (auto& v : r.exposed_s) v *= inv;
  for (auto& v : r.comm_s) v *= inv;

  // Critical path: back from the last operation to finish along the dependency that finished last.
  int last = -1;
  for (std::size_t i = 0; i < g.ops.size(); ++i)
    if (last < 0 || r.finish_s[i] > r.finish_s[last]) last = static_cast<int>(i);
  for (int op = last; op >= 0; op = r.binding[op]) r.critical_path.push_back(op);
  std::reverse(r.critical_path.begin(), r.critical_path.end());
  for (int op : r.critical_path) {
    const double d = r.finish_s[op] - r.start_s[op];
    if (g.ops[op].kind == StepOp::Kind::kCompute)
      r.critical_compute_s += d;
    else
      r.critical_s[static_cast<int>(g.ops[op].group)] += d;
  }
}

}  // namespace collsim::workload
