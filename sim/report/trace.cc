#include "sim/report/trace.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/collective/ops.h"
#include "sim/report/json.h"

namespace collsim::report {

namespace {

using workload::Group;
using workload::StepOp;

// Tracks (thread ids) inside a worker's process.
enum Track { kCompute = 1, kPipelineForward = 2, kPipelineBackward = 3, kGradients = 4 };

int track_of(const StepOp& o) {
  if (o.kind == StepOp::Kind::kCompute) return kCompute;
  if (o.group == Group::kPp) return o.phase == workload::Phase::kForward ? kPipelineForward : kPipelineBackward;
  if (o.group == Group::kDp) return kGradients;
  return kCompute;
}

void metadata(JsonWriter& j, const char* what, int pid, int tid, const std::string& name) {
  j.begin_object();
  j.key("name").value(what);
  j.key("ph").value("M");
  j.key("pid").value(static_cast<double>(pid));
  j.key("tid").value(static_cast<double>(tid));
  j.key("args").begin_object().key("name").value(name).end_object();
  j.end_object();
}

}  // namespace

std::vector<int> busiest_links(const workload::StepGraph& g, const std::vector<workload::CommCost>& costs,
                               const topology::Network& network, int count) {
  // A step's bytes per link do not depend on timing: sum them from the calls.
  std::vector<double> bytes(network.links().size(), 0.0);
  for (const auto& o : g.ops)
    for (int c : o.calls)
      for (auto [l, b] : costs[c].link_bytes) bytes[l] += b;
  std::vector<int> links;
  for (std::size_t l = 0; l < bytes.size(); ++l)
    if (bytes[l] > 0) links.push_back(static_cast<int>(l));
  auto load = [&](int l) { return bytes[l] / network.links()[l].rate_Bps; };
  std::stable_sort(links.begin(), links.end(), [&](int a, int b) { return load(a) > load(b); });
  if (static_cast<int>(links.size()) > count) links.resize(static_cast<std::size_t>(std::max(0, count)));
  return links;
}

std::string step_trace_json(const workload::StepGraph& g, const std::vector<workload::CommCost>& costs,
                            const workload::StepResult& r, const topology::Network& network,
                            const std::vector<int>& links, const TraceOptions& options) {
  // Which workers get tracks: replica 0's stages first, then further replicas.
  const int workers = static_cast<int>(g.worker_gpus.size());
  std::vector<int> shown_pid(workers, 0);
  int next_pid = 1;
  for (int d = 0; d < g.dp && next_pid <= options.max_workers; ++d)
    for (int s = 0; s < g.pp && next_pid <= options.max_workers; ++s) shown_pid[s * g.dp + d] = next_pid++;
  std::vector<int> worker_of_gpu(g.gpus, -1);
  for (int w = 0; w < workers; ++w)
    for (int gpu : g.worker_gpus[w]) worker_of_gpu[gpu] = w;

  JsonWriter j;
  j.begin_object();
  j.key("displayTimeUnit").value("ms");
  j.key("traceEvents").begin_array();
  for (int w = 0; w < workers; ++w) {
    const int pid = shown_pid[w];
    if (pid == 0) continue;
    const auto& gs = g.worker_gpus[w];
    metadata(j, "process_name", pid, 0,
             fmt::format("stage {} replica {} (GPU {}{})", g.worker_stage[w], w % g.dp, gs.front(),
                         gs.size() > 1 ? fmt::format("-{}", gs.back()) : ""));
    metadata(j, "thread_name", pid, kCompute, "compute stream (compute, TP/CP/EP collectives)");
    metadata(j, "thread_name", pid, kPipelineForward, "pipeline: activations in");
    metadata(j, "thread_name", pid, kPipelineBackward, "pipeline: gradients in");
    metadata(j, "thread_name", pid, kGradients, "data parallel: gradients and parameters");
  }
  const double us = 1e6;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const StepOp& o = g.ops[i];
    const double start = r.start_s[i], finish = r.finish_s[i];
    for (int w : o.workers) {
      const int pid = shown_pid[w];
      if (pid == 0) continue;
      j.begin_object();
      const bool comm = o.kind == StepOp::Kind::kComm;
      j.key("name").value(comm ? fmt::format("{} {}", workload::to_string(o.group), o.what) : o.what);
      j.key("cat").value(comm ? workload::to_string(o.group) : "compute");
      j.key("ph").value("X");
      j.key("ts").value(start * us);
      j.key("dur").value((finish - start) * us);
      j.key("pid").value(static_cast<double>(pid));
      j.key("tid").value(static_cast<double>(track_of(o)));
      j.key("args").begin_object();
      j.key("phase").value(workload::to_string(o.phase));
      if (o.layer >= 0) j.key("layer").value(static_cast<double>(o.layer));
      if (o.micro >= 0) j.key("micro_batch").value(static_cast<double>(o.micro));
      if (comm && !o.calls.empty()) {
        const auto& call = g.calls[o.calls.front()];
        const auto& cost = costs[o.calls.front()];
        j.key("bytes").value(call.bytes);
        j.key("ranks").value(static_cast<double>(call.gpus.size()));
        j.key("groups").value(static_cast<double>(o.calls.size()));
        j.key("algo").value(cost.algo);
        j.key("proto").value(cost.proto);
        j.key("alone_us").value(cost.time_s * us);
      }
      j.end_object();
      j.end_object();
    }
    // Flow arrow: pipeline send from the sender's compute stream to the receiver.
    if (o.kind == StepOp::Kind::kComm && o.group == Group::kPp && !o.calls.empty() && !o.workers.empty()) {
      const int from = worker_of_gpu[g.calls[o.calls.front()].gpus.front()];
      const int to = o.workers.front();
      if (from >= 0 && shown_pid[from] != 0 && shown_pid[to] != 0) {
        for (int k = 0; k < 2; ++k) {
          j.begin_object();
          j.key("name").value("pipeline send");
          j.key("cat").value("pp");
          j.key("ph").value(k == 0 ? "s" : "f");
          if (k == 1) j.key("bp").value("e");
          j.key("id").value(static_cast<double>(i));
          j.key("ts").value((k == 0 ? start : finish) * us);
          j.key("pid").value(static_cast<double>(shown_pid[k == 0 ? from : to]));
          j.key("tid").value(static_cast<double>(k == 0 ? kCompute : track_of(o)));
          j.end_object();
        }
      }
    }
  }

  // Link utilisation over time, as the step simulation recorded it.
  const int links_pid = next_pid;
  if (!r.link_timeline.empty()) metadata(j, "process_name", links_pid, 0, "busiest links (utilisation)");
  for (std::size_t k = 0; k < r.link_timeline.size() && k < links.size(); ++k) {
    for (auto [t, u] : r.link_timeline[k]) {
      j.begin_object();
      j.key("name").value(network.links()[links[k]].name);
      j.key("ph").value("C");
      j.key("ts").value(t * us);
      j.key("pid").value(static_cast<double>(links_pid));
      j.key("tid").value(0.0);
      j.key("args").begin_object().key("utilisation").value(u).end_object();
      j.end_object();
    }
  }
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace collsim::report
