// `collsim run`: one training step of a workload on a topology. Wires
// config -> topology -> workload compiler -> collective costs (engine) ->
// step simulation -> what-ifs -> report.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "sim/cli/args.h"
#include "sim/cli/commands.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/report/atomic_file.h"
#include "sim/report/html_report.h"
#include "sim/report/step_report.h"
#include "sim/report/trace.h"
#include "sim/topology/network.h"
#include "sim/workload/comm_costs.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/step_sim.h"
#include "sim/workload/what_if.h"
#include "sim/workload/workload_spec.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& run_options() {
  static const std::vector<OptionSpec> specs{
      {"topology", "t", true, "topology YAML file", ""},
      {"workload", "w", true, "workload YAML file (workloads/)", ""},
      {"set", "", true, "override a topology field, e.g. --set cluster.nic=800Gb/s (repeatable)", ""},
      {"set-workload", "", true, "override a workload field, e.g. --set-workload parallelism.pp=4 (repeatable)", ""},
      {"algo", "", true, "algorithm for every collective (overrides the workload's communication.algorithm)", ""},
      {"proto", "", true, "protocol for every collective (overrides the workload's communication.protocol)", ""},
      {"what-if", "", true, "bottleneck what-ifs: on (re-simulate with each critical resource upgraded) or off", "on"},
      {"backend", "", true, "engine backend: simgrid (flow-level) or analytical (closed form, fast; see docs/architecture.md)", "simgrid"},
      {"auto-max-work", "", true, "with algorithm auto, skip candidates whose transfers x ranks exceed this", "5e7"},
      {"json", "", true, "also write the report as JSON to this file", ""},
      {"trace", "", true, "write a Chrome Trace Event file (open it in ui.perfetto.dev or chrome://tracing)", ""},
      {"trace-workers", "", true, "workers (stage x replica) with tracks in the trace", "16"},
      {"trace-links", "", true, "busiest links with a utilisation counter in the trace", "8"},
      {"html", "", true, "write a self-contained HTML report (charts, timeline, link heat map, floor plan)", ""},
      {"help", "h", false, "show this help", ""},
  };
  return specs;
}

int fail(const std::string& message, int code = kExitBadInput) {
  if (::isatty(STDERR_FILENO) != 0) std::fputs("\r\033[K", stderr);  // clear a progress line
  std::fprintf(stderr, "collsim run: %s\n", message.c_str());
  return code;
}

}  // namespace

int run_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(run_options(), argv);
  if (!parsed) return fail(parsed.error().to_string());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf("usage: collsim run --topology FILE --workload FILE [options]\n\n%s",
                format_options_help(run_options()).c_str());
    return kExitOk;
  }
  if (!args.positional().empty()) return fail(fmt::format("unexpected argument '{}'", args.positional()[0]));
  if (!args.has("topology")) return fail("missing --topology FILE (e.g. topologies/gb200-nvl72-8rack.yaml)");
  if (!args.has("workload")) return fail("missing --workload FILE (e.g. workloads/llama3-405b.yaml)");
  const std::string what_if = args.get("what-if");
  if (what_if != "on" && what_if != "off") return fail(fmt::format("--what-if must be on or off, found '{}'", what_if));
  auto max_work = positive_number_option(args, "auto-max-work");
  if (!max_work) return fail(max_work.error().message);

  report::TraceOptions trace_options;
  for (auto [name, target] : {std::pair{"trace-workers", &trace_options.max_workers},
                              {"trace-links", &trace_options.max_links}}) {
    const std::string text = args.get(name);
    char* e = nullptr;
    const long v = std::strtol(text.c_str(), &e, 10);
    if (e == text.c_str() || *e != '\0' || v < 0 || v > 1000000) {
      return fail(fmt::format("--{} must be a whole number from 0, found '{}'", name, text));
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

  auto spec = config::load_topology_file(args.get("topology"), args.all("set"));
  if (!spec) return fail(spec.error().to_string());
  auto topo = topology::build_topology(*spec);
  if (!topo) return fail(topo.error().to_string());
  const topology::Network network(*topo);
  auto workload = workload::load_workload_file(args.get("workload"), args.all("set-workload"));
  if (!workload) return fail(workload.error().to_string());
  workload::CommChoice choice;
  choice.algorithm = args.has("algo") ? args.get("algo") : workload->comm.algorithm;
  choice.protocol = args.has("proto") ? args.get("proto") : workload->comm.protocol;
  choice.auto_max_work = *max_work;
  if (auto s = workload::check_comm_choice(choice.algorithm, choice.protocol); !s) {
    return fail(fmt::format("--{}: {}", s.error().field == "algorithm" ? "algo" : "proto", s.error().message));
  }

  status("compiling the step");
  auto graph = workload::compile_step(*workload, network);
  if (!graph) return fail(graph.error().to_string());
  auto backend = engine::make_backend(args.get("backend"));
  if (!backend) return fail(backend.error().message);

  status(fmt::format("costing {} collectives on the {} engine", graph->calls.size(), (*backend)->name()));
  workload::CommCostStats stats;
  auto costs = workload::cost_calls(graph->calls, network, **backend, choice, &stats,
                                    [&](std::size_t done, std::size_t total) {
                                      status(fmt::format("costing collectives: {} of {} candidate runs", done, total));
                                    });
  if (!costs) return fail(costs.error().to_string(), kExitFailure);
  status(fmt::format("simulating the step ({} operations)", graph->ops.size()));
  workload::StepSimOptions sim_options;
  if (args.has("trace") || args.has("html")) {
    sim_options.track_links = report::busiest_links(*graph, *costs, network, trace_options.max_links);
  }
  report::LinkGroups link_groups;
  if (args.has("html")) {
    link_groups = report::resource_groups(network);
    sim_options.link_group = link_groups.of_link;
  }
  const auto result = workload::simulate_step(*graph, *costs, network, sim_options);
  if (!result.complete) return fail("internal error: the step's operations wait on each other in a cycle", kExitFailure);

  auto report = report::summarise_step(*workload, spec->name, *graph, *costs, result, network);
  report.cost_stats = stats;
  if (what_if == "on") {
    auto what_ifs = workload::run_what_ifs(*spec, *topo, *graph, *costs, result, choice, **backend, {},
                                           [&](const std::string& r) { status("what if: " + r); });
    if (!what_ifs) return fail(what_ifs.error().to_string(), kExitFailure);
    report.bottlenecks = std::move(*what_ifs);
  }
  if (args.has("trace")) {
    const auto trace =
        report::step_trace_json(*graph, *costs, result, network, sim_options.track_links, trace_options);
    if (auto s = report::write_file_atomically(args.get("trace"), trace); !s) {
      return fail(s.error().to_string(), kExitFailure);
    }
  }
  if (args.has("html")) {
    report::StepHtmlInputs html{&report, &*spec, &*topo, &network, std::move(link_groups), sim_options.track_links};
    if (auto s = report::write_file_atomically(args.get("html"), report::step_html(html)); !s) {
      return fail(s.error().to_string(), kExitFailure);
    }
  }
  if (tty) std::fputs("\r\033[K", stderr);
  std::fputs(report::step_text(report).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = report::write_file_atomically(args.get("json"), report::step_json(report)); !s) {
      return fail(s.error().to_string(), kExitFailure);
    }
  }
  return kExitOk;
}

}  // namespace collsim::cli
