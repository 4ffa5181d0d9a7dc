// `collsim run`: one training step of a workload on a topology (step_run.h
// does the work), printed, and written as JSON, trace or HTML.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "sim/cli/args.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/exit_owned.h"
#include "sim/cli/jobs_run.h"
#include "sim/cli/output.h"
#include "sim/cli/step_run.h"
#include "sim/config/jobs_file.h"
#include "sim/core/log.h"
#include "sim/engine/nccl_system.h"
#include "sim/engine/tuner_choice.h"
#include "sim/report/html_report.h"
#include "sim/report/step_report.h"
#include "sim/report/trace.h"
#include "sim/units/units.h"
#include "sim/workload/memory.h"
#include "sim/workload/stragglers.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& run_options() {
  static const std::vector<OptionSpec> specs = with_failure_options({
      {"topology", "t", true, "topology YAML file", ""},
      {"workload", "w", true, "workload YAML file (workloads/)", ""},
      {"set", "", true, "override a topology field, e.g. --set cluster.nic=800Gb/s", "", false, true},
      {"set-workload", "", true, "override a workload field, e.g. --set-workload parallelism.pp=4", "", false, true},
      {"algo", "", true,
       "algorithm for every collective that has it (overrides the workload's communication.algorithm): auto "
       "(NCCL's own choice, the default), tuned (the fastest of those NCCL runs), fastest (every algorithm), or a "
       "name (ring, tree, rhd, hier, nvls, nvlstree, collnetdirect, pat, direct), or NCCL_ALGO's lists: ring,tree "
       "(NCCL's model picks among those), ^nvls,nvlstree (among its own but those)",
       ""},
      {"proto", "", true,
       "protocol for every collective (overrides the workload's communication.protocol); NCCL_PROTO's lists "
       "(LL,LL128; ^LL128) too",
       ""},
      {"placement", "", true,
       "which GPUs the job runs on (its parallelism then multiplies to their count): all, packed:N, per-domain:K "
       "(K GPUs of every NVLink domain: per-domain:64 on NVL72 racks), spread:N, random:N[:SEED], topology-aware:N "
       "(under as few leaves and NVLink domains as hold N), domains:LIST (whole NVLink domains), gpus:LIST",
       "all"},
      {"job", "", true,
       "run several jobs at once instead of --workload: WORKLOAD_FILE@PLACEMENT[@START], one per job on GPUs of its "
       "own, START its first step's start time (default 0s); reports each job's step time alone and together and "
       "the links where they met",
       "", false, true},
      {"jobs", "", true,
       "run the jobs a jobs file lists at once (each with workload, placement and start; docs/workload-format.md), "
       "as --job does",
       ""},
      {"interference-steps", "", true,
       "with --job: steps the longest job runs; the others repeat until they have run as long alone", "3"},
      {"what-if", "", true, "bottleneck what-ifs: on (re-simulate with each critical resource upgraded) or off", "on"},
      {"backend", "", true,
       "engine backend: simgrid (flow-level) or analytical (closed form, fast; see docs/architecture.md)", "simgrid"},
      {"auto-max-work", "", true,
       "SimGrid backend, while choosing (auto, tuned, fastest or a list): skip (and name) candidates whose estimated "
       "work exceeds this "
       "(units of about 1 us: explicit transfers x 20, an all-to-all's x 100; one aggregated step's flows x 30)",
       "5e7"},
      // Any of --json, --trace, --html may be '-': that one goes to standard output instead of the report text.
      {"json", "", true, "also write the report as JSON to this file ('-': standard output)", ""},
      {"trace", "", true, "write a Chrome Trace Event file (open it in ui.perfetto.dev or chrome://tracing)", ""},
      {"trace-workers", "", true, "workers (stage x replica) with tracks in the trace (with --job: per job, default 4)",
       "16"},
      {"trace-links", "", true, "busiest links with a utilisation counter in the trace", "8"},
      {"html", "", true,
       "write a self-contained HTML report (charts, timeline, link heat map, floor plan; '-': standard output)", ""},
      {"memory", "", false,
       "print the memory per GPU of every pipeline stage (weights, gradients, optimizer, activations) and stop "
       "without simulating (exit 2 where it does not fit, as a run, unless --memory-check off)",
       ""},
      {"memory-check", "", true,
       "on: a configuration that does not fit in the GPUs' HBM is an error (exit 2); off: simulate it anyway", "on"},
      {"stragglers", "", true,
       "also simulate this many samples of the step with GPUs of uneven speed: step time p50/p90/p99 and where the "
       "tail comes from (0: off)",
       "0"},
      {"jitter", "", true,
       "with --stragglers: standard deviation of each GPU's compute time per sample (1.1%: Meta's 9% spread over "
       "64,000 GPUs, read as a normal's range)",
       "1.1%"},
      {"link-jitter", "", true,
       "with --stragglers: standard deviation of each link's time per sample (a collective runs at its slowest "
       "link's pace; no published default)",
       "0%"},
      {"slow", "", true, "with --stragglers: a persistently slow GPU, NAME=SPEED (e.g. n3gpu5=80%)", "", false, true},
      {"slow-random", "", true, "with --stragglers: this many persistently slow GPUs drawn at random, at --slow-speed",
       "0"},
      {"slow-speed", "", true, "speed of the --slow-random GPUs", "80%"},
      {"seed", "", true, "random seed of --stragglers and --slow-random (a whole number)", "1"},
      {"straggler-model", "", true,
       "frozen: each sample keeps the collectives' durations of the full-speed step (fast); exact: simulates every "
       "sample again with links shared anew",
       "frozen"},
      {"help", "h", false, "show this help", ""},
  });
  return specs;
}

// --stragglers and its options; samples 0 when not asked.
struct StragglerRequest {
  int samples = 0;
  workload::StragglerOptions options;
  std::vector<std::pair<std::string, double>> slow;  // by name
  int slow_random = 0;
  double slow_speed = 0.8;
};

Expected<double> speed(const std::string& flag, const std::string& text) {
  auto v = units::parse_share(text);
  if (!v || *v <= 0)
    return make_error(
        fmt::format("{}: expected a speed above 0% and up to 100% (such as 80%), found '{}'", flag, text));
  return *v;
}

Expected<StragglerRequest> straggler_request(const ParsedArgs& args) {
  StragglerRequest r;
  auto samples = whole_number_option(args, "stragglers", 0, 1'000'000);
  if (!samples) return samples.error();
  r.samples = static_cast<int>(*samples);
  r.options.samples = r.samples;
  if (r.samples == 0) {  // the straggler options mean nothing without samples: say so rather than ignore them
    for (const char* name : {"jitter", "link-jitter", "slow", "slow-random", "slow-speed", "straggler-model", "seed"}) {
      if (args.has(name))
        return make_error(
            fmt::format("--{} applies to --stragglers N (samples of the step), which is not given", name));
    }
  }
  auto jitter = units::parse_share(args.get("jitter"));
  if (!jitter) return make_error("--jitter: " + jitter.error().message);
  r.options.jitter = *jitter;
  auto link_jitter = units::parse_share(args.get("link-jitter"));
  if (!link_jitter) return make_error("--link-jitter: " + link_jitter.error().message);
  r.options.link_jitter = *link_jitter;
  const std::string model = args.get("straggler-model");
  if (model != "frozen" && model != "exact")
    return make_error(fmt::format("--straggler-model must be frozen or exact, found '{}'", model));
  r.options.exact = model == "exact";
  auto seed = whole_number_option(args, "seed", 0, 1L << 62);
  if (!seed) return seed.error();
  r.options.seed = static_cast<std::uint64_t>(*seed);
  auto random = whole_number_option(args, "slow-random", 0, 10'000'000);
  if (!random) return random.error();
  r.slow_random = static_cast<int>(*random);
  auto slow_speed = speed("--slow-speed", args.get("slow-speed"));
  if (!slow_speed) return slow_speed.error();
  r.slow_speed = *slow_speed;
  for (const auto& s : args.all("slow")) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(fmt::format("--slow: expected NAME=SPEED (such as n3gpu5=80%), found '{}'", s));
    auto v = speed("--slow " + s, s.substr(eq + 1));
    if (!v) return v.error();
    for (const auto& [name, speed] : r.slow) {
      if (name == s.substr(0, eq)) return make_error(fmt::format("--slow {}: GPU '{}' is given twice", s, name));
    }
    r.slow.emplace_back(s.substr(0, eq), *v);
  }
  return r;
}

// Runs the Monte-Carlo and hangs its result on the step's report.
Status run_stragglers(StragglerRequest& req, StepRun& run, const std::function<void(const std::string&)>& status) {
  const auto& topo = run.topo;
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < topo.gpus.size(); ++i) index[topo.graph[topo.gpus[i]].name] = static_cast<int>(i);
  std::vector<std::string> names;
  for (const auto& [name, v] : req.slow) {
    const auto it = index.find(name);
    if (it == index.end()) return make_error(fmt::format("--slow {}: no GPU named '{}'", name, name));
    req.options.slow.emplace_back(it->second, v);
    names.push_back(fmt::format("{} at {:.0f}%", name, 100 * v));
  }
  if (req.slow_random > static_cast<int>(topo.gpus.size()))
    return make_error(fmt::format("--slow-random {} is more than the {} GPUs", req.slow_random, topo.gpus.size()));
  std::mt19937_64 rng(req.options.seed ^ 0x5bd1e995ULL);
  std::vector<int> order(topo.gpus.size());
  std::iota(order.begin(), order.end(), 0);
  for (int i = 0; i < req.slow_random; ++i) {
    std::swap(order[static_cast<std::size_t>(i)],
              order[std::uniform_int_distribution<std::size_t>(static_cast<std::size_t>(i), order.size() - 1)(rng)]);
    const int g = order[static_cast<std::size_t>(i)];
    req.options.slow.emplace_back(g, req.slow_speed);
    names.push_back(
        fmt::format("{} at {:.0f}%", topo.graph[topo.gpus[static_cast<std::size_t>(g)]].name, 100 * req.slow_speed));
  }
  static workload::StragglerResult result;  // lives as long as the report that points at it
  result = workload::simulate_stragglers(
      run.graph, run.costs, *run.network, run.sim_options, req.options,
      [&, since = std::chrono::steady_clock::now()](int done, int total) {
        status(fmt::format("stragglers: samples {}", count_and_time_left(static_cast<std::size_t>(done),
                                                                         static_cast<std::size_t>(total), since)));
      });
  run.report.stragglers = &result;
  run.report.straggler_options = req.options;
  run.report.slow_gpus = std::move(names);
  return Ok{};
}

// Prints the error and returns its exit code.
int stop(const Error& error) { return fail("run", error); }
int stop(const std::string& message) { return stop(make_error(message)); }

// `collsim run --job A@P --job B@Q`: several jobs at once (jobs_run.h).
int run_jobs_command(const ParsedArgs& args) {
  if (!args.positional().empty()) return stop(fmt::format("unexpected argument '{}'", args.positional()[0]));
  if (!args.has("topology")) return stop("missing --topology FILE (e.g. topologies/gb200-nvl72-8rack.yaml)");
  for (const char* name : {"workload", "placement", "stragglers", "memory"}) {
    if (args.has(name))
      return stop(
          fmt::format("--{} applies to one job; with --job each job names its workload and placement "
                      "(WORKLOAD_FILE@PLACEMENT), and the report is text, --json, --trace or --html",
                      name));
  }
  JobsRequest request;
  request.base = step_request_from(args);
  if (args.has("algo")) request.base.algo = args.get("algo");
  if (args.has("proto")) request.base.proto = args.get("proto");
  auto max_work = positive_number_option(args, "auto-max-work");
  if (!max_work) return stop(max_work.error());
  request.base.auto_max_work = *max_work;
  request.base.memory_check = args.get("memory-check") != "off";
  auto steps = whole_number_option(args, "interference-steps", 1, 1000);
  if (!steps) return stop(steps.error());
  request.steps = static_cast<int>(*steps);
  request.trace = args.has("trace");
  request.html = args.has("html");
  for (auto [name, target] :
       {std::pair{"trace-workers", &request.trace_workers}, {"trace-links", &request.trace_links}}) {
    if (!args.has(name)) continue;  // the jobs' own defaults (jobs_run.h): fewer workers per job
    auto v = whole_number_option(args, name, 0, 1'000'000);
    if (!v) return stop(v.error());
    *target = static_cast<int>(*v);
  }
  for (const auto& text : args.all("job")) {
    auto job = parse_job(text);
    if (!job) return stop(job.error());
    request.jobs.push_back(std::move(*job));
  }
  if (args.has("jobs")) {
    auto listed = config::load_jobs_file(args.get("jobs"));
    if (!listed) return stop(listed.error());
    for (const auto& e : *listed) {
      request.jobs.push_back(JobRequest{
          e.workload, e.placement,
          fmt::format("{}@{}{}", e.workload, e.placement, e.start_s > 0 ? fmt::format("@{:g}s", e.start_s) : ""),
          e.start_s, std::nullopt, e});
    }
  }
  const auto to_stdout = output_to_stdout(args, {"json", "trace", "html"}, {args.get("topology")});
  if (!to_stdout) return stop(to_stdout.error());
  const ProgressLine status("run");
  auto result = run_jobs(request, status);
  if (!result) return stop(result.error());
  status.clear();
  if (!*to_stdout) std::fputs(jobs_text(*result).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = write_output(args.get("json"), jobs_json(*result)); !s) return stop(s.error());
  }
  if (args.has("trace")) {
    if (auto s = write_output(args.get("trace"), result->trace); !s) return stop(s.error());
  }
  if (args.has("html")) {
    if (auto s = write_output(args.get("html"), result->html); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace

int run_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(run_options(), argv);
  if (!parsed) return stop(parsed.error());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf(
        "usage: collsim run --topology FILE --workload FILE [options]\n       collsim run --topology FILE --job "
        "WORKLOAD_FILE@PLACEMENT --job ... [options]\n\n%s",
        format_options_help(run_options(), {{"jobs", "FILE"}}).c_str());
    return kExitOk;
  }
  if (args.has("job") || args.has("jobs") || args.has("interference-steps")) {
    if (!args.has("job") && !args.has("jobs"))
      return stop("--interference-steps applies to several jobs at once (--job or --jobs)");
    return run_jobs_command(args);
  }
  if (auto s = need_topology_and_workload(args); !s) return stop(s.error());
  const std::string what_if = args.get("what-if");
  if (what_if != "on" && what_if != "off") return stop(fmt::format("--what-if must be on or off, found '{}'", what_if));
  const std::string memory_check = args.get("memory-check");
  if (memory_check != "on" && memory_check != "off")
    return stop(fmt::format("--memory-check must be on or off, found '{}'", memory_check));
  auto max_work = positive_number_option(args, "auto-max-work");
  if (!max_work) return stop(max_work.error());
  const auto to_stdout =
      output_to_stdout(args, {"json", "trace", "html"}, {args.get("topology"), args.get("workload")});
  if (!to_stdout) return stop(to_stdout.error());

  report::TraceOptions trace_options;
  for (auto [name, target] :
       {std::pair{"trace-workers", &trace_options.max_workers}, {"trace-links", &trace_options.max_links}}) {
    const std::string text = args.get(name);
    char* e = nullptr;
    const long v = std::strtol(text.c_str(), &e, 10);
    if (e == text.c_str() || *e != '\0' || v < 0 || v > 1000000) {
      return stop(fmt::format("--{} must be a whole number from 0, found '{}'", name, text));
    }
    *target = static_cast<int>(v);
  }

  const ProgressLine status("run");

  StepRequest request = step_request_from(args);
  if (args.has("algo")) request.algo = args.get("algo");
  request.placement = args.get("placement");
  if (args.has("proto")) request.proto = args.get("proto");
  request.what_if = what_if == "on";
  request.auto_max_work = *max_work;
  if (args.has("trace") || args.has("html")) request.track_links = trace_options.max_links;
  request.bin_link_groups = args.has("html");
  request.memory_only = args.has("memory");
  if (request.memory_only && (args.has("html") || args.has("trace")))
    return stop(make_error("--memory prints the memory plan without simulating: --html and --trace need a step"));
  request.memory_check = memory_check == "on";
  auto stragglers = straggler_request(args);
  if (!stragglers) return stop(stragglers.error());
  auto ran = run_step(request, status);
  if (!ran) return stop(ran.error());
  StepRun* run = &keep_until_exit(std::move(*ran));  // exit_owned.h
  // A named algorithm runs where an op has it; the others keep NCCL's
  // default. Say so when it ran nowhere.
  if (const std::string algo = engine::algorithm_name(request.algo.value_or("auto"));
      run->simulated && algo != "auto" && algo != "tuned" && algo != "fastest" && !engine::is_algorithm_list(algo)) {
    const auto& calls = run->report.collectives;
    if (!calls.empty() && std::none_of(calls.begin(), calls.end(), [&](const auto& c) { return c.algo == algo; })) {
      std::set<std::string> ops;
      for (const auto& c : calls) ops.insert(c.op);
      log::warn("--algo {}: no collective of this step runs it (its ops: {}); each ran NCCL's default for its op", algo,
                fmt::join(ops, ", "));
    }
  }
  // What-if NICs faster than the queue pairs' fit (engine::ring_queue_pair_note):
  // the first ring of each group across nodes.
  std::set<workload::Group> seen;
  for (std::size_t i = 0; run->simulated && i < run->graph.calls.size() && i < run->costs.size(); ++i) {
    const auto& call = run->graph.calls[i];
    if (run->costs[i].algo != "ring" || !seen.insert(call.group).second) continue;
    if (auto note = engine::ring_queue_pair_note(*run->network, call.gpus, run->workload.comm.nccl); !note.empty()) {
      log::warn("{}", note);
      break;
    }
  }
  if (stragglers->samples > 0 && run->simulated) {
    if (auto s = run_stragglers(*stragglers, *run, status); !s) return stop(s.error());
  }
  if (!run->simulated) {  // --memory
    status.clear();
    const auto& plan = run->report.memory;
    if (!*to_stdout) {
      std::fputs(fmt::format("collsim run --memory: {} on {} ({} GPUs)\n{}{}", run->workload.name, run->spec.name,
                             run->network->num_gpus(), workload::memory_text(plan, true),
                             plan.fits() ? "" : "DOES NOT FIT in HBM\n")
                     .c_str(),
                 stdout);
    }
    if (args.has("json")) {
      if (auto s = write_output(args.get("json"), report::memory_json(plan)); !s) return stop(s.error());
    }
    // A plan that does not fit stops a run (--memory-check on): so does this, after printing it.
    if (run->memory_error) return stop(*run->memory_error);
    return kExitOk;
  }
  const auto& graph = run->graph;
  const auto& network = *run->network;
  if (args.has("trace")) {
    const auto trace =
        report::step_trace_json(graph, run->costs, run->result, network, run->sim_options.track_links, trace_options);
    if (auto s = write_output(args.get("trace"), trace); !s) return stop(s.error());
  }
  if (args.has("html")) {
    report::StepHtmlInputs html{&run->report, &run->spec,       &run->topo,
                                &network,     run->link_groups, run->sim_options.track_links};
    if (auto s = write_output(args.get("html"), report::step_html(html)); !s) return stop(s.error());
  }
  status.clear();
  if (!*to_stdout) std::fputs(report::step_text(run->report).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = write_output(args.get("json"), report::step_json(run->report)); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
