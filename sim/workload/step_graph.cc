#include "sim/workload/step_graph.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/workload/step_compiler.h"

namespace collsim::workload {

const char* to_string(Group g) {
  switch (g) {
    case Group::kNone:
      return "none";
    case Group::kTp:
      return "tp";
    case Group::kCp:
      return "cp";
    case Group::kEp:
      return "ep";
    case Group::kPp:
      return "pp";
    case Group::kDp:
      return "dp";
  }
  return "?";
}

const char* to_string(Phase p) {
  switch (p) {
    case Phase::kForward:
      return "fwd";
    case Phase::kBackward:
      return "bwd";
    case Phase::kGradReduce:
      return "grad-reduce";
    case Phase::kOptimizer:
      return "optimizer";
    case Phase::kParamGather:
      return "param-gather";
  }
  return "?";
}

Dependents dependents_of(const StepGraph& g) {
  const std::size_t n = g.ops.size();
  Dependents d;
  d.start.assign(n + 1, 0);
  for (const auto& op : g.ops)
    for (int dep : op.deps) ++d.start[static_cast<std::size_t>(dep) + 1];
  for (std::size_t i = 0; i < n; ++i) d.start[i + 1] += d.start[i];
  d.of.assign(static_cast<std::size_t>(d.start[n]), 0);
  std::vector<int> fill(d.start.begin(), d.start.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    for (int dep : g.ops[i].deps)
      d.of[static_cast<std::size_t>(fill[static_cast<std::size_t>(dep)]++)] = static_cast<int>(i);
  return d;
}

std::string StepGraph::label(int i) const {
  const StepOp& o = ops[i];
  std::string s = fmt::format("stage {} {}", o.stage, to_string(o.phase));
  if (o.layer >= 0) s += fmt::format(" layer {}", o.layer);
  if (o.micro >= 0) s += fmt::format(" mb {}", o.micro);
  if (o.kind == StepOp::Kind::kComm)
    s += fmt::format(" {} {}", to_string(o.group), o.what);
  else
    s += " " + o.what;
  return s;
}

namespace detail {

std::vector<Item> pipeline_order(int s, int pp, int v, int m) {
  std::vector<Item> out;
  if (v == 1) {
    const int warmup = std::min(pp - s - 1, m);
    for (int i = 0; i < warmup; ++i) out.push_back({true, s, i});
    for (int i = 0; i < m - warmup; ++i) {
      out.push_back({true, s, warmup + i});
      out.push_back({false, s, i});
    }
    for (int i = m - warmup; i < m; ++i) out.push_back({false, s, i});
    return out;
  }
  const int total = m * v;
  auto virt = [&](int k, bool fwd) {
    const int in_group = k % (pp * v);
    int j = in_group / pp;
    if (!fwd) j = v - 1 - j;
    return j;
  };
  auto micro = [&](int k) { return (k / (pp * v)) * pp + k % pp; };
  const int warmup = std::min((pp - s - 1) * 2 + (v - 1) * pp, total);
  auto fwd = [&](int k) { return Item{true, s + virt(k, true) * pp, micro(k)}; };
  auto bwd = [&](int k) { return Item{false, s + virt(k, false) * pp, micro(k)}; };
  for (int k = 0; k < warmup; ++k) out.push_back(fwd(k));
  for (int i = 0; i < total - warmup; ++i) {
    out.push_back(fwd(warmup + i));
    out.push_back(bwd(i));
  }
  for (int k = total - warmup; k < total; ++k) out.push_back(bwd(k));
  return out;
}

}  // namespace detail

Expected<StepGraph> compile_step(const WorkloadSpec& w, const topology::Network& network, const StepGpu& gpu,
                                 const std::vector<int>& placement) {
  detail::Compiler c(w, network, gpu, placement);
  return c.run();
}

}  // namespace collsim::workload
