#include "sim/cli/jobs_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

#include "sim/config/jobs_file.h"
#include "sim/report/html_report.h"
#include "sim/report/json.h"
#include "sim/report/trace.h"
#include "sim/workload/step_merge.h"

namespace collsim::cli {

Expected<JobRequest> parse_job(const std::string& text) {
  const auto bad = [&] {
    return make_error(
        fmt::format("--job: expected WORKLOAD_FILE@PLACEMENT[@START] (such as workloads/llama3-70b.yaml@domains:0-3 "
                    "or ...@domains:4-7@2s), found '{}'",
                    text));
  };
  const auto first = text.find('@');
  if (first == std::string::npos || first == 0) return bad();
  const auto second = text.find('@', first + 1);
  JobRequest job{text.substr(0, first), text.substr(first + 1, second - first - 1), text, 0, std::nullopt,
                 std::nullopt};
  if (job.placement.empty()) return bad();
  if (second != std::string::npos) {
    const auto start = config::parse_job_start(text.substr(second + 1));
    if (!start)
      return make_error(fmt::format("--job {}: the start must be a time from 0 (such as 2s or 500ms), found '{}'", text,
                                    text.substr(second + 1)));
    job.start_s = *start;
  }
  return job;
}

namespace {

// "1 job", "3 jobs".
std::string jobs_count(std::size_t n) { return fmt::format("{} job{}", n, n == 1 ? "" : "s"); }

// The GPUs a job's workers occupy.
std::vector<int> gpus_of(const workload::StepGraph& g) {
  std::vector<int> out;
  for (const auto& w : g.worker_gpus) out.insert(out.end(), w.begin(), w.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Expected<JobsResult> run_jobs(const JobsRequest& request, const std::function<void(const std::string&)>& status) {
  auto say = [&](const std::string& s) {
    if (status) status(s);
  };
  if (request.jobs.empty()) return make_error("--job: give at least one job (WORKLOAD_FILE@PLACEMENT)");
  std::vector<std::unique_ptr<StepRun>> runs;
  std::vector<int> owner;  // per GPU: the job placed on it so far, or -1
  std::vector<char> busy;  // owner >= 0, as topology::place takes it: policies place the next job on the others
  for (std::size_t j = 0; j < request.jobs.size(); ++j) {
    const JobRequest& job = request.jobs[j];
    StepRequest r = request.base;
    r.busy_gpus = busy;
    r.workload_file = job.workload_file;
    if (job.workload_text) r.workload_text = job.workload_text;
    r.placement = job.placement;
    r.what_if = false;
    say(fmt::format("job {} of {}: {}", j + 1, request.jobs.size(), job.spec));
    auto run = run_step(r, [&](const std::string& s) { say(fmt::format("job {}: {}", j + 1, s)); });
    if (!run) {
      Error e = run.error();
      if (job.entry && !e.where) {
        // A jobs file's entry: the placement's field when the placement
        // failed (its errors start with the flag's name), else the workload's.
        const std::string_view flag = "--placement: ";
        const bool placement = e.message.rfind(flag, 0) == 0;
        if (placement) e.message.erase(0, flag.size());
        e.field = job.entry->field + (placement ? ".placement" : ".workload");
        e.where = placement ? job.entry->placement_at : job.entry->workload_at;
        return e;
      }
      // Which job failed: the flag first, or after a file's place (two
      // jobs may read the same file).
      e.message = e.where ? fmt::format("{} ({})", e.message, job.entry ? job.entry->field : "--job " + job.spec)
                          : fmt::format("--job {}: {}", job.spec, e.message);
      return e;
    }
    // Two jobs on one GPU (a list naming another job's): refused, naming
    // the GPU and both jobs, before the next job is costed.
    if (owner.empty()) owner.assign(static_cast<std::size_t>((*run)->network->num_gpus()), -1);
    if (busy.empty()) busy.assign(owner.size(), 0);
    for (int g : gpus_of((*run)->graph)) {
      int& o = owner[static_cast<std::size_t>(g)];
      if (o >= 0) {
        const auto& topo = (*run)->topo;
        const JobRequest& other = request.jobs[static_cast<std::size_t>(o)];
        const std::string gpu = topo.graph[topo.gpus[static_cast<std::size_t>(g)]].name;
        constexpr std::string_view kFix =
            "jobs run on disjoint GPUs: give each a placement of its own (domains:LIST "
            "or gpus:LIST)";
        // From a jobs file: its entry's placement, where it was written.
        if (job.entry) {
          return Error{fmt::format("GPU {} is also job {}'s ({}); {}", gpu, o + 1,
                                   other.entry ? other.entry->field : "--job " + other.spec, kFix),
                       job.entry->field + ".placement", job.entry->placement_at};
        }
        return make_error(
            fmt::format("--job {}: GPU {} is also job {}'s (--job {}); {}", job.spec, gpu, o + 1, other.spec, kFix));
      }
      o = static_cast<int>(j);
      busy[static_cast<std::size_t>(g)] = 1;
    }
    runs.push_back(std::move(*run));
  }
  const topology::Network& network = *runs.front()->network;

  JobsResult out;
  out.topology = runs.front()->spec.name;
  out.backend = request.base.backend;
  out.cluster_gpus = network.num_gpus();
  double longest = 0;
  for (const auto& run : runs) longest = std::max(longest, run->result.step_time_s);
  std::vector<workload::JobStep> steps;
  double ops = 0;
  for (const auto& run : runs) {
    const double alone = run->result.step_time_s;
    // Whole steps until it has run as long as the longest alone; within a
    // thousandth of a step counts as there (two placements of one job on an
    // oversubscribed fabric differ by far less than a step, and ran 3 and 4).
    int repeats = alone > 0 ? static_cast<int>(std::ceil(request.steps * longest / alone - 1e-3)) : request.steps;
    repeats = std::max(1, repeats);
    steps.push_back({&run->graph, &run->costs, repeats, request.jobs[steps.size()].start_s});
    ops += static_cast<double>(repeats) * static_cast<double>(run->graph.ops.size());
  }
  if (ops > kMaxMergedOps) {  // cut every job's repeats by the same factor
    const double f = kMaxMergedOps / ops;
    for (auto& s : steps) s.repeats = std::max(1, static_cast<int>(std::floor(s.repeats * f)));
    // Say which steps were asked for: once cut, a larger
    // --interference-steps may run no more steps than a smaller one.
    out.repeats_note = fmt::format(
        "repeats cut to fit {:.0e} operations in one simulation (--interference-steps {} asked for {:.2g} "
        "operations): fewer phases are averaged, and the steps column, not the option, says how many ran",
        kMaxMergedOps, request.steps, ops);
  }

  // Where they met: links two or more jobs use, by their summed utilisation alone.
  const auto& links = network.links();
  std::vector<std::pair<double, std::pair<int, MetLink>>> met;
  for (std::size_t l = 0; l < links.size(); ++l) {
    MetLink m{network.link_name(static_cast<int>(l)), {}};
    int users = 0;
    double sum = 0;
    for (const auto& run : runs) {
      const auto& bytes = run->result.link_bytes;
      const double b = l < bytes.size() ? bytes[l] : 0;
      const double u = b > 0 && run->result.step_time_s > 0 ? b / (links[l].rate_Bps * run->result.step_time_s) : 0;
      users += b > 0;
      sum += u;
      m.utilisation.push_back(u);
    }
    if (users >= 2) met.push_back({sum, {static_cast<int>(l), std::move(m)}});
  }
  // And an NVSwitch's reduction engines, which every NVLS reduction through
  // it shares, whatever its GPUs (partitions of one rack): -1, no link.
  std::map<int, std::vector<double>> engine_use;  // NVSwitch endpoint -> per job
  for (std::size_t j = 0; j < runs.size(); ++j) {
    const auto& r = runs[j]->result;
    for (const auto& [sw, adds] : r.engine_adds) {
      const double rate = network.nvls_reduction_rate_Bps(sw);
      auto& use = engine_use.try_emplace(sw, runs.size(), 0.0).first->second;
      if (rate > 0 && r.step_time_s > 0) use[j] = adds / (rate * r.step_time_s);
    }
  }
  for (auto& [sw, use] : engine_use) {
    if (std::count_if(use.begin(), use.end(), [](double u) { return u > 0; }) < 2) continue;
    double sum = 0;
    for (double u : use) sum += u;
    met.push_back({sum, {-1, MetLink{network.endpoints()[static_cast<std::size_t>(sw)] + " reduction engines", use}}});
  }
  std::stable_sort(met.begin(), met.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<int> met_links;
  for (std::size_t i = 0; i < met.size() && i < 10; ++i) {
    if (met[i].second.first >= 0) met_links.push_back(met[i].second.first);
    out.met.push_back(std::move(met[i].second.second));
  }

  say("merging the jobs' steps");
  const workload::MergedSteps merged = workload::merge_steps(steps);
  say(fmt::format("simulating {} together ({} operations)", jobs_count(runs.size()), merged.graph.ops.size()));
  workload::StepSimOptions options;
  if (request.trace) {
    options.track_links = met_links;
    if (options.track_links.empty())
      options.track_links = report::busiest_links(merged.graph, merged.costs, network, request.trace_links);
    if (static_cast<int>(options.track_links.size()) > request.trace_links)
      options.track_links.resize(static_cast<std::size_t>(std::max(0, request.trace_links)));
  }
  const workload::StepResult together = workload::simulate_step(merged.graph, merged.costs, network, options);
  if (!together.complete) return make_internal_error("the jobs' operations wait on each other in a cycle");
  const auto finish = workload::repeat_finish_s(merged, together.finish_s, static_cast<int>(runs.size()));

  for (std::size_t j = 0; j < runs.size(); ++j) {
    const StepRun& run = *runs[j];
    JobOutcome o;
    o.spec = request.jobs[j].spec;
    o.workload = run.workload.name;
    o.where = run.report.placement.empty() ? fmt::format("all {} GPUs", network.num_gpus()) : run.report.placement;
    o.gpus = run.graph.gpus;
    o.alone_s = run.result.step_time_s;
    o.tokens_per_step = static_cast<double>(run.workload.batch.global) * run.workload.model.seq_len;
    o.repeats = steps[j].repeats;
    o.start_s = request.jobs[j].start_s;
    o.first_together_s = finish[j].empty() ? 0 : finish[j].front() - o.start_s;
    o.together_s = finish[j].empty() ? 0 : (finish[j].back() - o.start_s) / o.repeats;
    if (!std::isfinite(o.together_s))
      return make_internal_error(fmt::format("job {}'s step time together came out as {}", j + 1, o.together_s));
    out.jobs.push_back(o);
  }

  // A job whose steps overlap no other job's (a start after the others
  // ended, or theirs after it ended) measures nothing together.
  std::vector<std::string> alone_jobs;
  for (std::size_t j = 0; j < out.jobs.size() && out.jobs.size() > 1; ++j) {
    const double begin = out.jobs[j].start_s, end = finish[j].empty() ? begin : finish[j].back();
    bool meets = false;
    for (std::size_t k = 0; k < out.jobs.size() && !meets; ++k)
      meets = k != j && !finish[k].empty() && out.jobs[k].start_s < end && begin < finish[k].back();
    if (!meets) alone_jobs.push_back(fmt::format("job {} from {:g} s for {:.3g} s", j + 1, begin, end - begin));
  }
  if (!alone_jobs.empty()) {
    out.overlap_note = fmt::format(
        "{} overlap{} no other job's steps: together equals alone there (a start set with --job ...@START or a "
        "jobs file's start leaves nothing to share)",
        fmt::join(alone_jobs, "; "), alone_jobs.size() == 1 ? "s" : "");
  }

  std::vector<std::string> names;
  for (std::size_t j = 0; j < runs.size(); ++j)
    names.push_back(fmt::format("job {}: {} on {}", j + 1, runs[j]->workload.name, out.jobs[j].where));
  if (request.trace)
    out.trace = report::jobs_trace_json(merged, together, names, network, options.track_links, request.trace_workers);
  if (request.html) {
    report::JobsHtmlInputs h;
    h.title = fmt::format("{} at once on {}", jobs_count(runs.size()), out.topology);
    h.job_labels = names;
    for (std::size_t j = 0; j < runs.size(); ++j) {
      h.alone_s.push_back(out.jobs[j].alone_s);
      h.together_s.push_back(out.jobs[j].together_s);
      h.alone_link_bytes.push_back(&runs[j]->result.link_bytes);
    }
    h.merged = &merged;
    h.together = &together;
    for (const auto& m : out.met) h.met.emplace_back(m.name, m.utilisation);
    h.spec = &runs.front()->spec;
    h.topo = &runs.front()->topo;
    h.network = &network;
    out.html = report::jobs_html(h);
  }
  return out;
}

std::string jobs_text(const JobsResult& r) {
  std::string s = fmt::format("collsim run: {} at once on {} ({} GPUs), backend {}\n\n", jobs_count(r.jobs.size()),
                              r.topology, r.cluster_gpus, r.backend);
  s += fmt::format("{:>3}  {:<24} {:>6} {:>11} {:>13} {:>9} {:>7}\n", "job", "workload", "GPUs", "alone (s)",
                   "together (s)", "slowdown", "steps");
  for (std::size_t j = 0; j < r.jobs.size(); ++j) {
    const auto& o = r.jobs[j];
    s += fmt::format("{:>3}  {:<24} {:>6} {:>11.4f} {:>13.4f} {:>8.3f}x {:>7}\n", j + 1, o.workload, o.gpus, o.alone_s,
                     o.together_s, o.alone_s > 0 ? o.together_s / o.alone_s : 1.0, o.repeats);
  }
  s += "\nwhere each job landed:\n";
  for (std::size_t j = 0; j < r.jobs.size(); ++j)
    s += fmt::format("  job {} (--job {}): {}{}\n", j + 1, r.jobs[j].spec, r.jobs[j].where,
                     r.jobs[j].start_s > 0 ? fmt::format(", starting at {:g} s", r.jobs[j].start_s) : "");
  s += "\n";
  if (r.met.empty()) {
    s += "the jobs share no link and no NVSwitch's reduction engines: they do not slow each other\n";
  } else {
    s += "where they met (links and NVSwitch reduction engines several jobs use, busiest first; each job's "
         "utilisation alone):\n";
    for (const auto& m : r.met) {
      std::string per;
      for (std::size_t j = 0; j < m.utilisation.size(); ++j)
        per += fmt::format("  job {} {:5.1f}%", j + 1, 100 * m.utilisation[j]);
      s += fmt::format("  {:<40}{}\n", m.name, per);
    }
  }
  s += fmt::format(
      "\ntogether = mean step time over the job's repeats (steps column); the longest job runs {} steps and each "
      "other job repeats until it has run as long alone\n",
      r.jobs.empty() ? 0 : std::max_element(r.jobs.begin(), r.jobs.end(), [](const auto& a, const auto& b) {
                             return a.alone_s < b.alone_s;
                           })->repeats);
  if (!r.repeats_note.empty()) s += "note: " + r.repeats_note + "\n";
  if (!r.overlap_note.empty()) s += "note: " + r.overlap_note + "\n";
  for (std::size_t j = 0; j < r.jobs.size(); ++j) {
    const auto& o = r.jobs[j];
    if (o.together_s < o.alone_s * (1 - 1e-3)) {
      s += fmt::format(
          "note: job {} ran {:.1f}% faster beside the others. Sharing links changed how its own concurrent "
          "collectives divided their links (max-min sharing is not monotone: slowing one collective can speed "
          "another on the critical path); no capacity was gained\n",
          j + 1, 100 * (1 - o.together_s / o.alone_s));
    }
  }
  return s;
}

std::string jobs_json(const JobsResult& r) {
  report::JsonWriter w;
  w.begin_object();
  w.key("topology").value(r.topology).key("backend").value(r.backend);
  w.key("cluster_gpus").value(static_cast<double>(r.cluster_gpus));
  w.key("jobs").begin_array();
  for (const auto& o : r.jobs) {
    w.begin_object();
    w.key("job").value(o.spec).key("workload").value(o.workload).key("placement").value(o.where);
    w.key("gpus").value(static_cast<double>(o.gpus));
    w.key("step_time_alone_s").value(o.alone_s).key("step_time_together_s").value(o.together_s);
    w.key("first_step_together_s").value(o.first_together_s);
    w.key("start_s").value(o.start_s);
    w.key("slowdown").value(o.alone_s > 0 ? o.together_s / o.alone_s : 1.0);
    w.key("repeats").value(static_cast<double>(o.repeats));
    w.end_object();
  }
  w.end_array();
  w.key("met_links").begin_array();
  for (const auto& m : r.met) {
    w.begin_object().key("link").value(m.name).key("utilisation_alone").begin_array();
    for (double u : m.utilisation) w.value(u);
    w.end_array().end_object();
  }
  w.end_array();
  if (!r.repeats_note.empty()) w.key("note").value(r.repeats_note);
  if (!r.overlap_note.empty()) w.key("overlap_note").value(r.overlap_note);
  w.end_object();
  return w.str() + "\n";
}

}  // namespace collsim::cli
