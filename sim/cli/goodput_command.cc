// `collsim goodput` (issue 17): the effective training time ratio of a whole
// training run of a workload on a topology, Monte-Carlo over runs with the
// cluster's failure clocks (sim/goodput/failure_rates.h), checkpoints and
// restarts (sim/goodput/goodput.h). The step time is simulated (step_run.h)
// or given.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/cli/args.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/exit_owned.h"
#include "sim/cli/goodput_plan.h"
#include "sim/cli/output.h"
#include "sim/cli/step_run.h"
#include "sim/goodput/goodput.h"
#include "sim/report/goodput_report.h"
#include "sim/units/units.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& goodput_options() {
  static const std::vector<OptionSpec> specs = with_failure_options({
      {"topology", "t", true, "topology YAML file (its GPUs are the job's)", ""},
      {"workload", "w", true, "workload YAML file (model size for the checkpoint, tokens per step)", ""},
      {"set", "", true, "override a topology field", "", false, true},
      {"set-workload", "", true, "override a workload field", "", false, true},
      {"step-time", "", true, "a step's time (e.g. 5.2s) instead of simulating it", ""},
      {"backend", "", true, "engine backend for the step: simgrid or analytical", "simgrid"},
      {"days", "", true, "wall-clock length of each simulated run, in days (ignored with --tokens)", "30"},
      {"tokens", "", true, "run until this many tokens are trained (e.g. 15.6e12) and report the time it takes", ""},
      {"checkpoint-interval", "", true, "training time between checkpoints (e.g. 30min); auto: Daly's optimum", "auto"},
      {"checkpoint-size", "", true,
       "checkpoint bytes (e.g. 5TB); default: parameters x (weight bytes + optimizer state bytes)", ""},
      {"storage-write", "", true, "checkpoint write bandwidth (default: 122 MB/s per GPU, Llama 3's 2 TB/s / 16,384)",
       ""},
      {"storage-read", "", true, "checkpoint read bandwidth (default: as --storage-write)", ""},
      {"restart", "", true, "restart time after an interruption, checkpoint load excluded", "10min"},
      {"spares", "", true, "spare units (a blast radius each), or unlimited", "unlimited"},
      {"repair-time", "", true, "a failed unit's time away for repair", "48h"},
      {"blast-radius", "", true,
       "what a failed GPU, NIC or host takes out of service: host, domain (its NVLink domain), or auto (domain when "
       "TP x CP spans hosts of a bigger NVLink domain)",
       "auto"},
      {"gpus-per-host", "", true, "GPUs per server (default by GPU model: GB200/GB300 trays 4, others 8)", ""},
      {"failure-scale", "", true,
       "multiply every failure and planned-interruption rate (1 = Llama 3's fleet; 0 = none)", "1"},
      {"planned", "", true, "planned interruptions (Llama 3's 47 in 54 days): on or off", "on"},
      {"samples", "", true, "simulated runs", "1000"},
      {"seed", "", true, "random seed (a whole number)", "1"},
      {"what-if", "", true, "what-ifs (faster storage and restarts, fewer failures, spares): on or off", "on"},
      {"json", "", true, "also write the report as JSON to this file ('-': standard output)", ""},
      {"html", "", true,
       "write a self-contained HTML report (time shares, ETTR distribution, causes, what-ifs, one run's timeline)", ""},
      {"help", "h", false, "show this help", ""},
  });
  return specs;
}

int stop(const Error& error) { return fail("goodput", error); }
int stop(const std::string& message) { return stop(make_error(message)); }

Expected<double> duration_option(const ParsedArgs& args, const std::string& name, bool allow_zero) {
  auto d = units::parse_duration(args.get(name));
  if (!d) return make_error(fmt::format("--{}: {}", name, d.error().message));
  if (d->seconds < 0 || (!allow_zero && d->seconds == 0))
    return make_error(
        fmt::format("--{} must be a duration {} 0, found '{}'", name, allow_zero ? ">=" : ">", args.get(name)));
  return d->seconds;
}

Expected<double> rate_option(const ParsedArgs& args, const std::string& name) {
  auto r = units::parse_rate(args.get(name));
  if (!r) return make_error(fmt::format("--{}: {}", name, r.error().message));
  if (r->bytes_per_s <= 0) return make_error(fmt::format("--{} must be a rate > 0, found '{}'", name, args.get(name)));
  return r->bytes_per_s;
}

}  // namespace

int goodput_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(goodput_options(), argv);
  if (!parsed) return stop(parsed.error());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf("usage: collsim goodput --topology FILE --workload FILE [options]\n\n%s",
                format_options_help(goodput_options()).c_str());
    return kExitOk;
  }
  if (auto s = need_topology_and_workload(args); !s) return stop(s.error());
  for (const char* onoff : {"planned", "what-if"}) {
    if (args.get(onoff) != "on" && args.get(onoff) != "off")
      return stop(fmt::format("--{} must be on or off, found '{}'", onoff, args.get(onoff)));
  }
  GoodputInputs in;
  auto samples = whole_number_option(args, "samples", 1, 10'000'000);
  if (!samples) return stop(samples.error());
  in.samples = static_cast<int>(*samples);
  auto seed = whole_number_option(args, "seed", 0, 1L << 62);
  if (!seed) return stop(seed.error());
  in.seed = static_cast<std::uint64_t>(*seed);
  auto restart = duration_option(args, "restart", true);
  if (!restart) return stop(restart.error());
  in.restart_s = *restart;
  auto repair = duration_option(args, "repair-time", true);
  if (!repair) return stop(repair.error());
  in.repair_s = *repair;
  if (args.get("spares") != "unlimited") {
    auto spares = whole_number_option(args, "spares", 0, 1'000'000);
    if (!spares)
      return stop(fmt::format("--spares must be a whole number from 0 to 1000000 or unlimited, found '{}'",
                              args.get("spares")));
    in.spares = static_cast<int>(*spares);
  }
  // 0 is a failure-free baseline: no interruptions, no checkpoint needed.
  auto scale = nonnegative_number_option(args, "failure-scale");
  if (!scale) return stop(scale.error());
  in.failure_scale = *scale;
  in.blast_radius = args.get("blast-radius");
  if (in.blast_radius != "auto" && in.blast_radius != "host" && in.blast_radius != "domain")
    return stop(fmt::format("--blast-radius must be auto, host or domain, found '{}'", in.blast_radius));
  if (args.has("tokens")) {
    auto t = positive_number_option(args, "tokens");
    if (!t) return stop(t.error());
    in.tokens = *t;
  }
  auto days = positive_number_option(args, "days");
  if (!days) return stop(days.error());
  if (*days > 36500) return stop(fmt::format("--days must be at most 36500, found '{}'", args.get("days")));
  in.days = *days;
  if (args.has("step-time")) {
    auto step = duration_option(args, "step-time", false);
    if (!step) return stop(step.error());
    in.step_s = *step;
    in.step_source = "given";
  } else {
    in.step_source = fmt::format("simulated, {}", args.get("backend"));
  }
  if (args.has("gpus-per-host")) {
    auto g = whole_number_option(args, "gpus-per-host", 1, 1'000'000);
    if (!g) return stop(g.error());
    in.gpus_per_host = static_cast<int>(*g);
  }
  if (args.has("checkpoint-size")) {
    auto b = units::parse_bytes(args.get("checkpoint-size"));
    if (!b) return stop(make_error("--checkpoint-size: " + b.error().message));
    if (b->count <= 0)
      return stop(fmt::format("--checkpoint-size must be > 0, found '{}'", args.get("checkpoint-size")));
    in.checkpoint_bytes = b->count;
  }
  for (auto [name, target] : {std::pair{"storage-write", &in.write_Bps}, {"storage-read", &in.read_Bps}}) {
    if (!args.has(name)) continue;
    auto b = rate_option(args, name);
    if (!b) return stop(b.error());
    *target = *b;
  }
  if (args.get("checkpoint-interval") != "auto") {
    auto i = duration_option(args, "checkpoint-interval", false);
    if (!i) return stop(i.error());
    in.interval_s = *i;
  }
  in.planned = args.get("planned") == "on";

  const auto to_stdout = output_to_stdout(args, {"json", "html"}, {args.get("topology"), args.get("workload")});
  if (!to_stdout) return stop(to_stdout.error());

  const ProgressLine status("goodput");
  StepRequest request = step_request_from(args);
  request.what_if = false;
  request.memory_only = in.step_s.has_value();
  auto ran = run_step(request, status);
  if (!ran) return stop(ran.error());
  const StepRun* run = &keep_until_exit(std::move(*ran));  // exit_owned.h

  auto planned = plan_goodput(*run, in);
  if (!planned) return stop(planned.error());
  report::GoodputReport& r = *planned;
  r.result = goodput::simulate_goodput(r.params, [&, since = std::chrono::steady_clock::now()](int done, int total) {
    status("runs " + count_and_time_left(static_cast<std::size_t>(done), static_cast<std::size_t>(total), since));
  });
  if (args.get("what-if") == "on") {
    status("what-ifs");
    add_goodput_what_ifs(r, 400);
  }
  status.clear();
  if (!*to_stdout) std::fputs(report::goodput_text(r).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = write_output(args.get("json"), report::goodput_json(r)); !s) return stop(s.error());
  }
  if (args.has("html")) {
    if (auto s = write_output(args.get("html"), report::goodput_html(r)); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
