#include "sim/workload/step_merge.h"

#include <algorithm>

namespace collsim::workload {

MergedSteps merge_steps(const std::vector<JobStep>& jobs) {
  MergedSteps m;
  StepGraph& out = m.graph;
  if (!jobs.empty() && jobs.front().graph) {  // the shape fields of the first job, for labels only
    const StepGraph& g = *jobs.front().graph;
    out.tp = g.tp, out.cp = g.cp, out.dp = g.dp, out.pp = g.pp, out.ep = g.ep;
    out.virtual_stages = g.virtual_stages, out.micro_batches = g.micro_batches;
  }
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const StepGraph& g = *jobs[j].graph;
    const auto& costs = *jobs[j].costs;
    out.gpus += g.gpus;
    const int worker_base = static_cast<int>(out.worker_gpus.size());
    m.first_worker.push_back(worker_base);
    out.worker_gpus.insert(out.worker_gpus.end(), g.worker_gpus.begin(), g.worker_gpus.end());
    out.worker_stage.insert(out.worker_stage.end(), g.worker_stage.begin(), g.worker_stage.end());
    const int call_base = static_cast<int>(out.calls.size());
    out.calls.insert(out.calls.end(), g.calls.begin(), g.calls.end());
    m.costs.insert(m.costs.end(), costs.begin(), costs.end());

    // The operations nothing in one step depends on: the next repeat waits for them.
    std::vector<char> has_dependent(g.ops.size(), 0);
    for (const auto& op : g.ops)
      for (int d : op.deps) has_dependent[static_cast<std::size_t>(d)] = 1;
    std::vector<int> previous_sinks;
    if (jobs[j].start_s > 0) {  // the start offset: a wait on no worker
      StepOp wait;
      wait.duration_s = jobs[j].start_s;
      wait.what = "start offset";
      previous_sinks.push_back(static_cast<int>(out.ops.size()));
      out.ops.push_back(std::move(wait));
      m.job_of_op.push_back(static_cast<int>(j));
      m.repeat_of_op.push_back(0);
    }
    for (int r = 0; r < std::max(1, jobs[j].repeats); ++r) {
      const int op_base = static_cast<int>(out.ops.size());
      for (const auto& op : g.ops) {
        StepOp o = op;
        for (int& c : o.calls) c += call_base;
        for (int& d : o.deps) d += op_base;
        for (int& w : o.workers) w += worker_base;
        if (op.deps.empty()) o.deps = previous_sinks;
        out.ops.push_back(std::move(o));
        m.job_of_op.push_back(static_cast<int>(j));
        m.repeat_of_op.push_back(r);
      }
      previous_sinks.clear();
      for (std::size_t i = 0; i < g.ops.size(); ++i)
        if (!has_dependent[i]) previous_sinks.push_back(op_base + static_cast<int>(i));
    }
  }
  return m;
}

std::vector<std::vector<double>> repeat_finish_s(const MergedSteps& merged, const std::vector<double>& finish_s,
                                                 int jobs) {
  std::vector<std::vector<double>> out(static_cast<std::size_t>(jobs));
  for (std::size_t i = 0; i < merged.job_of_op.size() && i < finish_s.size(); ++i) {
    auto& of = out[static_cast<std::size_t>(merged.job_of_op[i])];
    const auto r = static_cast<std::size_t>(merged.repeat_of_op[i]);
    if (of.size() <= r) of.resize(r + 1, 0.0);
    of[r] = std::max(of[r], finish_s[i]);
  }
  return out;
}

}  // namespace collsim::workload
