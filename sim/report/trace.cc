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

// One operation on one track: a complete event with its collective's facts.
void op_event(JsonWriter& j, const workload::StepGraph& g, const std::vector<workload::CommCost>& costs,
              const workload::StepResult& r, std::size_t i, int pid, int tid) {
  const StepOp& o = g.ops[i];
  const double us = 1e6, start = r.start_s[i], finish = r.finish_s[i];
  j.begin_object();
  const bool comm = o.kind == StepOp::Kind::kComm;
  j.key("name").value(comm ? fmt::format("{} {}", workload::to_string(o.group), o.what) : o.what);
  j.key("cat").value(comm ? workload::to_string(o.group) : "compute");
  j.key("ph").value("X");
  j.key("ts").value(start * us);
  j.key("dur").value((finish - start) * us);
  j.key("pid").value(static_cast<double>(pid));
  j.key("tid").value(static_cast<double>(tid));
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

// Utilisation counters of the tracked links, in process `pid`.
void link_counters(JsonWriter& j, const workload::StepResult& r, const topology::Network& network,
                   const std::vector<int>& links, int pid) {
  if (!r.link_timeline.empty()) metadata(j, "process_name", pid, 0, "busiest links (utilisation)");
  for (std::size_t k = 0; k < r.link_timeline.size() && k < links.size(); ++k) {
    for (auto [t, u] : r.link_timeline[k]) {
      j.begin_object();
      j.key("name").value(network.link_name(links[k]));
      j.key("ph").value("C");
      j.key("ts").value(t * 1e6);
      j.key("pid").value(static_cast<double>(pid));
      j.key("tid").value(0.0);
      j.key("args").begin_object().key("utilisation").value(u).end_object();
      j.end_object();
    }
  }
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
      op_event(j, g, costs, r, i, pid, track_of(o));
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
  link_counters(j, r, network, links, next_pid);
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

std::string jobs_trace_json(const workload::MergedSteps& m, const workload::StepResult& r,
                            const std::vector<std::string>& job_names, const topology::Network& network,
                            const std::vector<int>& links, int max_workers_per_job) {
  const auto& g = m.graph;
  const int jobs = static_cast<int>(m.first_worker.size());
  auto job_of_worker = [&](int w) {
    return static_cast<int>(std::upper_bound(m.first_worker.begin(), m.first_worker.end(), w) -
                            m.first_worker.begin()) -
           1;
  };
  JsonWriter j;
  j.begin_object();
  j.key("displayTimeUnit").value("ms");
  j.key("traceEvents").begin_array();
  for (int job = 0; job < jobs; ++job) {
    metadata(j, "process_name", job + 1, 0,
             job < static_cast<int>(job_names.size()) ? job_names[static_cast<std::size_t>(job)]
                                                      : fmt::format("job {}", job + 1));
    const int end =
        job + 1 < jobs ? m.first_worker[static_cast<std::size_t>(job) + 1] : static_cast<int>(g.worker_gpus.size());
    for (int w = m.first_worker[static_cast<std::size_t>(job)], k = 0; w < end && k < max_workers_per_job; ++w, ++k) {
      const auto& gs = g.worker_gpus[static_cast<std::size_t>(w)];
      const std::string who =
          fmt::format("worker {} (stage {}, GPU {}{})", k, g.worker_stage[static_cast<std::size_t>(w)], gs.front(),
                      gs.size() > 1 ? fmt::format("-{}", gs.back()) : "");
      metadata(j, "thread_name", job + 1, k * 4 + kCompute, who + ": compute stream");
      metadata(j, "thread_name", job + 1, k * 4 + kPipelineForward, who + ": activations in");
      metadata(j, "thread_name", job + 1, k * 4 + kPipelineBackward, who + ": gradients in");
      metadata(j, "thread_name", job + 1, k * 4 + kGradients, who + ": data parallel");
    }
  }
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const StepOp& o = g.ops[i];
    for (int w : o.workers) {
      const int job = job_of_worker(w);
      const int k = w - m.first_worker[static_cast<std::size_t>(job)];
      if (k < max_workers_per_job) op_event(j, g, m.costs, r, i, job + 1, k * 4 + track_of(o));
    }
  }
  link_counters(j, r, network, links, jobs + 1);
  j.end_array();
  j.end_object();
  return j.str() + "\n";
}

}  // namespace collsim::report
