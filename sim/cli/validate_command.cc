// `collsim validate`: runs every case of the validation table and prints
// measured vs simulated, the error per row, the mean error per case, and
// the mean error pooled by op and by fabric.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include "sim/cli/args.h"
#include "sim/cli/collective_sweep.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/output.h"
#include "sim/cli/validate_log.h"
#include "sim/cli/validate_steps.h"
#include "sim/config/link_classes.h"
#include "sim/config/nccl_tests_log.h"
#include "sim/config/topology_file.h"
#include "sim/config/validation_file.h"
#include "sim/report/json.h"
#include "sim/topology/network.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& validate_options() {
  static const std::vector<OptionSpec> specs{
      {"file", "", true,
       "validation table (default: tests/validation/cases.yaml, or tests/validation/steps.yaml with --steps)", ""},
      {"steps", "", false, "validate training steps (measured step times) instead of collectives", ""},
      {"set-workload", "", true,
       "with --steps: override a field of every row's workload, after the row's own, e.g. "
       "compute.attention_efficiency=0.5",
       "", false, true},
      {"backend", "", true,
       "engine backend: simgrid (flow-level) or analytical (closed form, fast; see docs/architecture.md); default "
       "simgrid, analytical with --steps",
       ""},
      {"json", "", true,
       "also write the rows and summaries as JSON to this file ('-': to standard output, instead of "
       "the table)",
       ""},
      {"nccl-tests", "", true,
       "compare with an nccl-tests run's output log (all_reduce_perf and its siblings) instead of a table: "
       "its sizes, type, reduction, ranks' hosts, NCCL release, -n and -z are read from it, and the NCCL "
       "settings NCCL's INFO lines report ('-': standard input); needs --topology; several logs of the "
       "cluster: a case each, summarized together",
       "", false, true},
      {"topology", "t", true, "with --nccl-tests: the cluster's topology YAML", ""},
      {"set", "", true,
       "with --nccl-tests: override a topology field, e.g. an NCCL setting the log does not print: "
       "nccl.ib_qps_per_connection=2 (it wins over the log's)",
       "", false, true},
      {"op", "", true,
       "with --nccl-tests: the binary that wrote the log: allreduce, allgather, reducescatter, alltoall, "
       "broadcast, reduce, sendrecv (needed where the log does not name it: nccl-tests before 2.16.7)",
       ""},
      {"algo", "", true,
       "with --nccl-tests: the run's NCCL_ALGO, as collsim collective --algo (default: what NCCL's INFO lines in "
       "the log say it was set to, else auto)",
       ""},
      {"proto", "", true, "with --nccl-tests: the run's NCCL_PROTO, as collsim collective --proto (default: as --algo)",
       ""},
      {"nccl", "", true, "with --nccl-tests: the NCCL release to model, where the log names none or another", ""},
      {"placement", "", true,
       "with --nccl-tests: the GPUs the ranks ran on, as collsim collective --placement (default: each host's "
       "ranks on one NVLink domain, in order)",
       ""},
      {"metric", "", true, "with --nccl-tests: compare the out-of-place time or busbw", "time"},
      {"help", "h", false, "show this help", ""},
  };
  return specs;
}

// Above this size a collective is bandwidth-bound; issue 4's target applies there.
constexpr double kLargeBytes = 64.0 * 1048576;

struct Row {
  double bytes, measured, simulated, error_pct;
  std::string algo, proto;
};

struct CaseResult {
  const config::ValidationCase* c;
  std::vector<Row> rows;
  double mean_abs_error_pct = 0, mean_abs_error_pct_large = NAN;
  std::string fabric;  // its topology's scale-out link classes ("infiniband", "efa"...), or "nvlink" (one node)
};

// The rows of every case in a group (an op, a fabric), pooled.
struct GroupSummary {
  std::string name;
  int cases = 0;
  std::vector<Row> rows;
};

double mean_abs(const std::vector<Row>& rows, double min_bytes) {
  double sum = 0;
  int n = 0;
  for (const auto& r : rows)
    if (r.bytes >= min_bytes) sum += std::fabs(r.error_pct), ++n;
  return n ? sum / n : NAN;
}

// A table case's network, read from its topology file and --set list.
Expected<std::unique_ptr<topology::Network>> case_network(const config::ValidationCase& c) {
  // A case's topology path is relative to the current directory (the
  // shipped files': the repository's root), not to the case's file.
  if (std::error_code ec; !std::filesystem::is_regular_file(c.topology, ec)) {
    return Error{fmt::format("case '{}': expected a topology file, found no file '{}' from the current directory "
                             "(paths in a validation file are relative to it: the shipped files run from the "
                             "repository's root)",
                             c.name, c.topology),
                 c.topology_field, c.topology_at};
  }
  auto spec = config::load_topology_file(c.topology, c.topology_set);
  if (!spec) return config::at_set_list(spec.error(), c.topology_set, c.topology_set_at);
  auto topo = topology::build_topology(*spec);
  if (!topo) return topo.error();
  return std::make_unique<topology::Network>(*topo);
}

// `built`: the case's network when the caller has built it already (a
// log's case, placed on it); else it is read from the case's topology.
Expected<CaseResult> run_case(const config::ValidationCase& c, engine::Backend& backend,
                              const topology::Network* built = nullptr) {
  auto op = collective::parse_op(c.op);
  if (!op) return Error{fmt::format("unknown op '{}'", c.op), "op", c.declared_at};
  std::unique_ptr<topology::Network> owned;
  if (!built) {
    auto read = case_network(c);
    if (!read) return read.error();
    owned = std::move(*read);
  }
  const topology::Network& network = built ? *built : *owned;
  SweepRequest request;
  request.op = *op;
  request.algo = c.algo;
  request.proto = c.proto;
  request.nccl = c.nccl;
  request.nccl_tests_iterations = c.iters;
  request.type_name = c.type;
  auto type_size = datatype_size(c.type);
  if (!type_size) return type_size.error();
  request.type_size = *type_size;
  request.redop = c.redop;
  request.root = c.root;
  request.ranks = c.ranks > 0 ? c.ranks : network.num_gpus();
  if (!c.placement.empty()) {
    auto placed = place_ranks(network, c.placement, "", request);
    if (!placed) {
      return Error{fmt::format("case '{}': {}", c.name, placed.error().message), c.placement_field, c.placement_at,
                   placed.error().kind};
    }
  } else if (request.ranks > network.num_gpus()) {
    return Error{
        fmt::format("case '{}': {} ranks, and {} has {} GPUs", c.name, request.ranks, c.topology, network.num_gpus()),
        "ranks", c.declared_at};
  }
  for (const auto& p : c.points) request.sizes.push_back(p.bytes);
  auto rows = run_collective_sweep(request, network, backend);
  if (!rows)
    return Error{fmt::format("case '{}': {}", c.name, rows.error().message), "", c.declared_at, rows.error().kind};
  CaseResult result{&c, {}, 0, NAN, ""};
  std::map<std::string, bool> classes;  // sorted, once each
  for (const auto& link : network.links())
    if (config::is_scale_out_class(link.link_class)) classes[link.link_class] = true;
  for (const auto& [name, used] : classes) result.fabric += (result.fabric.empty() ? "" : "+") + name;
  if (result.fabric.empty()) result.fabric = "nvlink";
  for (std::size_t i = 0; i < c.points.size(); ++i) {
    const auto& r = (*rows)[i];
    const double simulated = c.metric == "time_us" ? r.time_us : r.busbw_GBps;
    const double measured = c.points[i].measured;
    result.rows.push_back(
        Row{c.points[i].bytes, measured, simulated, 100.0 * (simulated - measured) / measured, r.algo, r.proto});
  }
  result.mean_abs_error_pct = mean_abs(result.rows, 0);
  result.mean_abs_error_pct_large = mean_abs(result.rows, kLargeBytes);
  return result;
}

// Groups in order of first appearance, by op and by fabric.
std::vector<GroupSummary> summarize(const std::vector<CaseResult>& results, bool by_op) {
  std::vector<GroupSummary> groups;
  for (const auto& r : results) {
    const std::string& key = by_op ? r.c->op : r.fabric;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupSummary& g) { return g.name == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), GroupSummary{key, 0, {}});
    ++it->cases;
    it->rows.insert(it->rows.end(), r.rows.begin(), r.rows.end());
  }
  return groups;
}

void write_groups(report::JsonWriter& w, const std::vector<GroupSummary>& groups) {
  w.begin_array();
  for (const auto& g : groups) {
    w.begin_object();
    w.key("name").value(g.name);
    w.key("cases").value(static_cast<double>(g.cases));
    w.key("rows").value(static_cast<double>(g.rows.size()));
    w.key("mean_abs_error_pct").value(mean_abs(g.rows, 0));
    w.key("mean_abs_error_pct_ge_64MiB").value(mean_abs(g.rows, kLargeBytes));
    w.end_object();
  }
  w.end_array();
}

std::string to_json(const std::vector<CaseResult>& results) {
  report::JsonWriter w;
  w.begin_object();
  w.key("by_op");
  write_groups(w, summarize(results, true));
  w.key("by_fabric");
  write_groups(w, summarize(results, false));
  w.key("cases").begin_array();
  for (const auto& r : results) {
    w.begin_object();
    w.key("name").value(r.c->name);
    w.key("source").value(r.c->source);
    w.key("topology").value(r.c->topology);
    w.key("metric").value(r.c->metric);
    w.key("op").value(r.c->op);
    // The GPUs it ran on: a placement, or the first `ranks` (0: every GPU).
    if (!r.c->placement.empty()) w.key("placement").value(r.c->placement);
    w.key("ranks").value(static_cast<double>(r.c->ranks));
    w.key("nccl").value(collective::to_string(r.c->nccl));
    w.key("fabric").value(r.fabric);
    w.key("mean_abs_error_pct").value(r.mean_abs_error_pct);
    w.key("mean_abs_error_pct_ge_64MiB").value(r.mean_abs_error_pct_large);
    w.key("rows").begin_array();
    for (const auto& row : r.rows) {
      w.begin_object();
      w.key("bytes").value(row.bytes);
      w.key("algo").value(row.algo);
      w.key("proto").value(row.proto);
      w.key("measured").value(row.measured);
      w.key("simulated").value(row.simulated);
      w.key("error_pct").value(row.error_pct);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return w.str() + "\n";
}

// The table printed for people: per case, measured vs simulated per size.
std::string to_text(const std::vector<CaseResult>& results, const std::string& file) {
  std::string out =
      fmt::format("# collsim validate: {} cases from {} (error = simulated / measured - 1)\n", results.size(), file);
  for (const auto& r : results) {
    out += fmt::format("#\n# {}: {}, {}\n# source: {}\n", r.c->name, r.c->topology, r.c->op, r.c->source);
    out += fmt::format("# {:>12} {:>6} {:>6} {:>12} {:>12} {:>8}   ({})\n", "size (B)", "algo", "proto", "measured",
                       "simulated", "error", r.c->metric);
    for (const auto& row : r.rows) {
      out += fmt::format("  {:12.0f} {:>6} {:>6} {:12.2f} {:12.2f} {:+7.1f}%\n", row.bytes, row.algo, row.proto,
                         row.measured, row.simulated, row.error_pct);
    }
    out += fmt::format("# mean |error|: {:.1f}% over all sizes", r.mean_abs_error_pct);
    if (!std::isnan(r.mean_abs_error_pct_large))
      out += fmt::format(", {:.1f}% from 64 MiB up", r.mean_abs_error_pct_large);
    out += "\n";
  }
  // Pooled over the rows of every case in a group.
  out += "#\n# summary: mean |error| over the rows of every case in the group\n";
  for (bool by_op : {true, false}) {
    out += fmt::format("# {:<22} {:>5} {:>5} {:>10} {:>12}\n", by_op ? "op" : "fabric", "cases", "rows", "all sizes",
                       "from 64 MiB");
    for (const auto& g : summarize(results, by_op)) {
      const double large = mean_abs(g.rows, kLargeBytes);
      out += fmt::format("  {:<22} {:>5} {:>5} {:>9.1f}% {:>11}\n", g.name, g.cases, g.rows.size(), mean_abs(g.rows, 0),
                         std::isnan(large) ? std::string("-") : fmt::format("{:.1f}%", large));
    }
  }
  return out;
}

// The case of one `--nccl-tests FILE` (validate_log.h), and the network
// it was placed on, which it then runs on.
struct LogCase {
  config::ValidationCase c;
  std::unique_ptr<topology::Network> network;
};
Expected<LogCase> case_of_log(const ParsedArgs& args, const std::string& log_path) {
  NcclTestsLogRequest request;
  request.log = log_path;
  // '-': standard input.
  const std::string path = request.log == "-" ? "/dev/stdin" : request.log;
  if (!args.has("topology")) return make_error("--nccl-tests needs --topology: the cluster the log was measured on");
  request.topology = args.get("topology");
  request.sets = args.all("set");
  if (args.has("op")) request.op = args.get("op");
  if (args.has("algo")) request.algo = args.get("algo");
  if (args.has("proto")) request.proto = args.get("proto");
  if (args.has("nccl")) request.nccl = args.get("nccl");
  if (args.has("placement")) request.placement = args.get("placement");
  if (args.has("metric")) request.metric = args.get("metric");
  if (request.log == "-") request.log = "<stdin>";
  auto log = config::load_nccl_tests_log(path, request.log);
  if (!log) return log.error();
  // NCCL's settings the log reports, then the user's --set (which wins).
  auto settings = nccl_sets_of_log(*log, request.sets);
  if (!settings) return settings.error();
  std::vector<std::string> sets = settings->sets;
  sets.insert(sets.end(), request.sets.begin(), request.sets.end());
  auto spec = config::load_topology_file(request.topology, sets);
  if (!spec) return at_log_setting(spec.error(), *settings);
  auto topo = topology::build_topology(*spec);
  if (!topo) return topo.error();
  auto network = std::make_unique<topology::Network>(*topo);
  auto c = case_from_nccl_tests_log(request, *log, *network, *settings);
  if (!c) return c.error();
  return LogCase{std::move(*c), std::move(network)};
}

}  // namespace

int validate_command(const std::vector<std::string>& argv) {
  auto stop = [](const Error& e) { return fail("validate", e); };
  auto parsed = parse_args(validate_options(), argv);
  if (!parsed) return stop(parsed.error());
  if (parsed->has("help")) {
    std::printf("usage: collsim validate [options]\n\n%s", format_options_help(validate_options()).c_str());
    return kExitOk;
  }
  std::vector<std::string> inputs{parsed->has("file") ? parsed->get("file") : ""};
  const std::vector<std::string> logs = parsed->all("nccl-tests");
  for (const auto& log : logs)
    if (log != "-") inputs.push_back(log);
  const auto to_stdout = output_to_stdout(*parsed, {"json"}, inputs);
  if (!to_stdout) return stop(to_stdout.error());
  std::optional<std::string> json_out;
  if (parsed->has("json")) json_out = parsed->get("json");
  if (!parsed->has("steps") && parsed->has("set-workload"))
    return stop(make_error("--set-workload applies to training steps: use it with --steps"));
  if (parsed->has("steps") && parsed->has("nccl-tests"))
    return stop(make_error("--nccl-tests compares collectives: not with --steps"));
  if (parsed->has("steps")) {
    const std::string file = parsed->has("file") ? parsed->get("file") : "tests/validation/steps.yaml";
    return validate_steps(file, parsed->has("backend") ? parsed->get("backend") : "analytical",
                          parsed->all("set-workload"), json_out, *to_stdout);
  }
  static const char* const kLogOnly[] = {"topology", "set", "op", "algo", "proto", "nccl", "placement", "metric"};
  if (!parsed->has("nccl-tests")) {
    for (const char* name : kLogOnly)
      if (parsed->has(name)) return stop(make_error(fmt::format("--{} applies to --nccl-tests FILE", name)));
  }
  if (parsed->has("nccl-tests") && parsed->has("file"))
    return stop(make_error("--nccl-tests and --file: give one (a log to compare with, or a validation table)"));
  if (std::count(logs.begin(), logs.end(), "-") > 1)
    return stop(make_error("--nccl-tests: standard input ('-') can be read once"));
  const std::string file = !logs.empty()         ? fmt::format("{}", fmt::join(logs, ", "))
                           : parsed->has("file") ? parsed->get("file")
                                                 : "tests/validation/cases.yaml";
  std::vector<std::unique_ptr<topology::Network>> log_networks;  // each log's case's, built once
  Expected<std::vector<config::ValidationCase>> cases = std::vector<config::ValidationCase>{};
  if (!logs.empty()) {
    for (const auto& log : logs) {
      auto one = case_of_log(*parsed, log);
      if (!one) return stop(one.error());
      cases->push_back(std::move(one->c));
      log_networks.push_back(std::move(one->network));
    }
  } else {
    cases = config::load_validation_file(file);
  }
  if (!cases) return stop(cases.error());
  auto backend = engine::make_backend(parsed->has("backend") ? parsed->get("backend") : "simgrid");
  if (!backend) return stop(backend.error());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::vector<CaseResult> results;
  for (std::size_t i = 0; i < cases->size(); ++i) {
    if (tty) std::fprintf(stderr, "\rcollsim: validating case %zu of %zu", i + 1, cases->size());
    auto r = run_case((*cases)[i], **backend, i < log_networks.size() ? log_networks[i].get() : nullptr);
    if (!r) return stop(r.error());
    results.push_back(std::move(*r));
  }
  if (tty) std::fputs("\r\033[K", stderr);
  if (!*to_stdout) std::fputs(to_text(results, file).c_str(), stdout);
  if (parsed->has("json")) {
    if (auto s = write_output(parsed->get("json"), to_json(results)); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
