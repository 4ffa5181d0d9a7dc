// `collsim run`: one training step of a workload on a topology (step_run.h
// does the work), printed, and written as JSON, trace or HTML.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "sim/cli/args.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/exit_owned.h"
#include "sim/cli/output.h"
#include "sim/cli/step_run.h"
#include "sim/report/html_report.h"
#include "sim/report/step_report.h"
#include "sim/report/trace.h"
#include "sim/workload/memory.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& run_options() {
  static const std::vector<OptionSpec> specs{
      {"topology", "t", true, "topology YAML file", ""},
      {"workload", "w", true, "workload YAML file (workloads/)", ""},
      {"set", "", true, "override a topology field, e.g. --set cluster.nic=800Gb/s (repeatable)", ""},
      {"fail", "", true,
       "take links down: device=NAME, from=A,to=B or class=CLASS, with fraction=1% for a random share (repeatable; "
       "docs/topology-format.md, Failures)",
       ""},
      {"degrade", "", true, "lower links' rate: a selector as for --fail with rate=50% or rate=400Gb/s (repeatable)",
       ""},
      {"set-workload", "", true, "override a workload field, e.g. --set-workload parallelism.pp=4 (repeatable)", ""},
      {"algo", "", true,
       "algorithm for every collective that has it (overrides the workload's communication.algorithm): auto "
       "(those NCCL runs, the default), fastest (every algorithm), or a name (ring, tree, rhd, hier, nvls, nvlstree, "
       "collnetdirect, pat, direct)",
       ""},
      {"proto", "", true, "protocol for every collective (overrides the workload's communication.protocol)", ""},
      {"what-if", "", true, "bottleneck what-ifs: on (re-simulate with each critical resource upgraded) or off", "on"},
      {"backend", "", true,
       "engine backend: simgrid (flow-level) or analytical (closed form, fast; see docs/architecture.md)", "simgrid"},
      {"auto-max-work", "", true,
       "SimGrid backend, with algorithm auto or fastest: skip (and name) candidates whose transfers x ranks exceed "
       "this",
       "5e7"},
      // Any of --json, --trace, --html may be '-': that one goes to standard output instead of the report text.
      {"json", "", true, "also write the report as JSON to this file ('-': standard output)", ""},
      {"trace", "", true, "write a Chrome Trace Event file (open it in ui.perfetto.dev or chrome://tracing)", ""},
      {"trace-workers", "", true, "workers (stage x replica) with tracks in the trace", "16"},
      {"trace-links", "", true, "busiest links with a utilisation counter in the trace", "8"},
      {"html", "", true,
       "write a self-contained HTML report (charts, timeline, link heat map, floor plan; '-': standard output)", ""},
      {"memory", "", false,
       "print the memory per GPU of every pipeline stage (weights, gradients, optimizer, activations) and stop "
       "without simulating",
       ""},
      {"memory-check", "", true,
       "on: a configuration that does not fit in the GPUs' HBM is an error (exit 2); off: simulate it anyway", "on"},
      {"help", "h", false, "show this help", ""},
  };
  return specs;
}

// Prints the error and returns its exit code.
int stop(const Error& error) { return fail("run", error); }
int stop(const std::string& message) { return stop(make_error(message)); }

}  // namespace

int run_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(run_options(), argv);
  if (!parsed) return stop(parsed.error());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf("usage: collsim run --topology FILE --workload FILE [options]\n\n%s",
                format_options_help(run_options()).c_str());
    return kExitOk;
  }
  if (!args.positional().empty()) return stop(fmt::format("unexpected argument '{}'", args.positional()[0]));
  if (!args.has("topology")) return stop("missing --topology FILE (e.g. topologies/gb200-nvl72-8rack.yaml)");
  if (!args.has("workload")) return stop("missing --workload FILE (e.g. workloads/llama3-405b.yaml)");
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

  const auto started = std::chrono::steady_clock::now();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto status = [&](const std::string& s) {
    if (!tty) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "\r\033[Kcollsim run [%.1f s]: %s", t, s.c_str());
    std::fflush(stderr);
  };

  StepRequest request;
  request.topology_file = args.get("topology");
  request.workload_file = args.get("workload");
  request.topology_sets = topology_sets(args);
  request.workload_sets = args.all("set-workload");
  if (args.has("algo")) request.algo = args.get("algo");
  if (args.has("proto")) request.proto = args.get("proto");
  request.backend = args.get("backend");
  request.what_if = what_if == "on";
  request.auto_max_work = *max_work;
  if (args.has("trace") || args.has("html")) request.track_links = trace_options.max_links;
  request.bin_link_groups = args.has("html");
  request.memory_only = args.has("memory");
  if (request.memory_only && (args.has("html") || args.has("trace")))
    return stop(make_error("--memory prints the memory plan without simulating: --html and --trace need a step"));
  request.memory_check = memory_check == "on";
  auto ran = run_step(request, status);
  if (!ran) return stop(ran.error());
  const StepRun* run = &keep_until_exit(std::move(*ran));  // exit_owned.h
  if (!run->simulated) {                                   // --memory
    if (tty) std::fputs("\r\033[K", stderr);
    const auto& plan = run->report.memory;
    if (!*to_stdout) {
      std::fputs(
          fmt::format("collsim run --memory: {} on {} ({} GPUs)\n{}{}", run->workload.name, run->spec.name,
                      run->network->num_gpus(), workload::memory_text(plan), plan.fits() ? "" : "DOES NOT FIT in HBM\n")
              .c_str(),
          stdout);
    }
    if (args.has("json")) {
      if (auto s = write_output(args.get("json"), report::memory_json(plan)); !s) return stop(s.error());
    }
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
  if (tty) std::fputs("\r\033[K", stderr);
  if (!*to_stdout) std::fputs(report::step_text(run->report).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = write_output(args.get("json"), report::step_json(run->report)); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
