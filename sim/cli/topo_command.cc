// `collsim topo FILE`: inspect a topology: counts, bandwidths, diameter,
// checks, the cable bill and the priced bill of materials with rack power
// (docs/power-and-cost.md); --json, --dot, --expand and --svg
// write files (or standard output for "-").
#include <fmt/format.h>

#include <cstdio>

#include "sim/cli/args.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/output.h"
#include "sim/config/topology_file.h"
#include "sim/report/bill_report.h"
#include "sim/report/floor_plan.h"
#include "sim/report/topology_report.h"
#include "sim/topology/bill_of_materials.h"
#include "sim/topology/network.h"
#include "sim/topology/summary.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& topo_options() {
  static const std::vector<OptionSpec> specs = with_failure_options({
      {"topology", "t", true, "the topology YAML file, as every other command takes it (or as the one argument)", ""},
      {"set", "", true, "override a topology field, e.g. --set floor.rack_pitch=0.8m", "", false, true},
      // Any of these may be '-': that one goes to standard output instead of the summary.
      {"json", "", true, "also write the summary as JSON to this file ('-': standard output)", ""},
      {"dot", "", true, "write the device/link graph as Graphviz DOT to this file ('-': standard output)", ""},
      {"expand", "", true, "write the fully expanded, explicit topology YAML to this file ('-': standard output)", ""},
      {"svg", "", true,
       "draw the floor plan (cables by medium) and the device tiers as SVG to this file ('-': "
       "standard output)",
       ""},
      {"help", "h", false, "show this help", ""},
  });
  return specs;
}

}  // namespace

int topo_command(const std::vector<std::string>& argv) {
  auto stop = [](const Error& e) { return fail("topo", e); };
  auto parsed = parse_args(topo_options(), argv);
  if (!parsed) return stop(parsed.error());
  if (parsed->has("help")) {
    std::printf("usage: collsim topo FILE [options]\n       collsim topo -t FILE [options]\n\n%s",
                format_options_help(topo_options()).c_str());
    return kExitOk;
  }
  // The file as the argument or as -t (both: one of them).
  const std::size_t given = parsed->positional().size() + (parsed->has("topology") ? 1 : 0);
  if (given != 1) {
    return stop(make_error("expected one topology file, e.g. collsim topo topologies/hgx-h100.yaml"));
  }
  const std::string file = parsed->has("topology") ? parsed->get("topology") : parsed->positional().front();
  const auto to_stdout = output_to_stdout(*parsed, {"json", "dot", "expand", "svg"}, {file});
  if (!to_stdout) return stop(to_stdout.error());
  auto spec = config::load_topology_file(file, topology_sets(*parsed));
  if (!spec) return stop(spec.error());
  auto topo = topology::build_topology(*spec);
  if (!topo) return stop(topo.error());
  const topology::Network network(*topo);
  auto summary = topology::summarize(*topo, network);
  if (topo->failed.any()) {  // what the failures cost: the same topology without them
    auto healthy_spec = *spec;
    healthy_spec.failures.entries.clear();
    auto healthy = topology::build_topology(healthy_spec);
    if (!healthy) return stop(healthy.error());
    const topology::Network healthy_network(*healthy);
    const auto h = topology::summarize(*healthy, healthy_network);
    summary.healthy_bisection_Bps = h.bisection_Bps;
    // The inventory is the cluster's as built: failed cables are still cables.
    summary.devices_by_kind = h.devices_by_kind;
    summary.links_by_class = h.links_by_class;
    summary.lanes_by_class = h.lanes_by_class;
    summary.cables = h.cables;
    summary.cable_total_m = h.cable_total_m;
    summary.cable_max_m = h.cable_max_m;
    summary.longest_cable = h.longest_cable;
    summary.cables_by_medium = h.cables_by_medium;
    summary.cables_by_length_bin = h.cables_by_length_bin;
    summary.mean_cable_latency_s_by_class = h.mean_cable_latency_s_by_class;
    summary.healthy_gpu_network_Bps = h.gpu_network_Bps;
    summary.healthy_gpu_nvlink_Bps = h.gpu_nvlink_Bps;
  }
  // The bill is the cluster's as built: failed parts are still installed.
  auto bill = topology::bill_of_materials(*spec);
  if (!bill) return stop(bill.error());
  if (!*to_stdout) {
    std::fputs(report::format_topology_summary(summary).c_str(), stdout);
    std::fputs(report::format_bill(*bill).c_str(), stdout);
    std::fputs(report::format_gpu_models(*spec).c_str(), stdout);
  }
  std::string expanded;
  if (parsed->has("expand")) {
    auto text = config::expanded_topology_yaml(file, topology_sets(*parsed));
    if (!text) return stop(text.error());
    expanded = *text;
  }
  for (auto [option, content] : {std::pair{"json", report::topology_json(summary, *bill)},
                                 {"dot", parsed->has("dot") ? report::topology_dot(*topo) : ""},
                                 {"expand", expanded},
                                 {"svg", parsed->has("svg") ? report::topology_svg_document(*spec, *topo) : ""}}) {
    if (!parsed->has(option)) continue;
    if (auto s = write_output(parsed->get(option), content); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
