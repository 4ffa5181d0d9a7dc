// `collsim validate --steps`: simulates every published training step of
// the step validation table (tests/validation/steps.yaml) and prints
// measured vs simulated step time per row, with the mean |error| over the
// rows a parameter was fitted to and over the held-out ones.
#include "sim/cli/validate_steps.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "sim/cli/exit_code.h"
#include "sim/cli/output.h"
#include "sim/cli/step_run.h"
#include "sim/config/validation_file.h"
#include "sim/report/json.h"

namespace collsim::cli {

namespace {

struct StepRow {
  const config::StepValidationCase* c;
  int gpus = 0;
  double measured_s = 0, simulated_s = 0, error_pct = 0, mfu = 0;
  double memory_peak = 0, memory_capacity = 0;  // bytes per GPU
};

double mean_abs(const std::vector<StepRow>& rows, int fitted) {  // fitted: 1, 0, or -1 for all
  double sum = 0;
  int n = 0;
  for (const auto& r : rows)
    if (fitted < 0 || r.c->fitted == (fitted == 1)) sum += std::fabs(r.error_pct), ++n;
  return n ? sum / n : NAN;
}

std::string text(const std::vector<StepRow>& rows, const std::string& file) {
  std::string out = fmt::format(
      "# collsim validate --steps: {} training steps from {} (error = simulated / measured - 1)\n", rows.size(), file);
  out += fmt::format("# {:<36} {:>6} {:>11} {:>11} {:>8} {:>6} {:>8}  {}\n", "step", "GPUs", "measured", "simulated",
                     "error", "MFU", "memory", "fitted");
  double worst = 0;
  for (const auto& r : rows) {
    const std::string memory = r.memory_capacity > 0 ? fmt::format("{:.0f}%{}", 100 * r.memory_peak / r.memory_capacity,
                                                                   r.memory_peak > r.memory_capacity ? "!" : "")
                                                     : std::string("-");
    out += fmt::format("  {:<36} {:>6} {:>10.3f}s {:>10.3f}s {:>+7.1f}% {:>5.1f}% {:>8}  {}\n", r.c->name, r.gpus,
                       r.measured_s, r.simulated_s, r.error_pct, r.mfu * 100, memory, r.c->fitted ? "yes" : "no");
    worst = std::max(worst, std::fabs(r.error_pct));
  }
  const double fitted = mean_abs(rows, 1);
  out += fmt::format(
      "# mean |error|: {:.1f}% over all rows, {}, ", mean_abs(rows, -1),
      std::isnan(fitted) ? std::string("no fitted rows") : fmt::format("{:.1f}% over the fitted ones", fitted));
  const double held = mean_abs(rows, 0);
  out += std::isnan(held) ? std::string("no held-out rows") : fmt::format("{:.1f}% held out", held);
  out += fmt::format("; worst {:.1f}%\n", worst);
  out += "# memory: the peak stage's HBM per GPU as collsim plans it ('!': more than the GPU has; simulated anyway)\n";
  return out;
}

std::string json(const std::vector<StepRow>& rows) {
  report::JsonWriter w;
  w.begin_object();
  w.key("mean_abs_error_pct").value(mean_abs(rows, -1));
  w.key("mean_abs_error_pct_fitted").value(mean_abs(rows, 1));
  w.key("mean_abs_error_pct_held_out").value(mean_abs(rows, 0));
  w.key("steps").begin_array();
  for (const auto& r : rows) {
    w.begin_object();
    w.key("name").value(r.c->name);
    w.key("source").value(r.c->source);
    w.key("gpus").value(static_cast<double>(r.gpus));
    w.key("fitted").value(r.c->fitted);
    w.key("measured_step_s").value(r.measured_s);
    w.key("simulated_step_s").value(r.simulated_s);
    w.key("error_pct").value(r.error_pct);
    w.key("mfu").value(r.mfu);
    w.key("memory_peak_bytes").value(r.memory_peak);
    w.key("memory_capacity_bytes").value(r.memory_capacity);
    w.end_object();
  }
  w.end_array().end_object();
  return w.str() + "\n";
}

}  // namespace

int validate_steps(const std::string& file, const std::string& backend, const std::vector<std::string>& workload_sets,
                   const std::optional<std::string>& json_out, bool to_stdout) {
  auto stop = [](const Error& e) { return fail("validate", e); };
  auto cases = config::load_step_validation_file(file);
  if (!cases) return stop(cases.error());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::vector<StepRow> rows;
  for (std::size_t i = 0; i < cases->size(); ++i) {
    const auto& c = (*cases)[i];
    if (tty)
      std::fprintf(stderr, "\rcollsim: validating step %zu of %zu (%s)\033[K", i + 1, cases->size(), c.name.c_str());
    StepRequest req;
    req.topology_file = c.topology;
    req.workload_file = c.workload;
    req.topology_sets = c.topology_set;
    req.workload_sets = c.workload_set;
    req.workload_sets.insert(req.workload_sets.end(), workload_sets.begin(), workload_sets.end());
    req.backend = backend;
    req.what_if = false;
    req.memory_check = false;  // a published run did fit: report collsim's plan, do not refuse it
    auto run = run_step(req);
    if (!run) {
      Error e = config::at_set_list(config::at_set_list(run.error(), c.topology_set, c.topology_set_at), c.workload_set,
                                    c.workload_set_at);
      e.message = fmt::format("step '{}': {}", c.name, e.message);
      return stop(e);
    }
    const auto& r = **run;
    const auto tp = report::throughput(r.report);
    StepRow row{&c,
                r.report.gpus,
                c.step_s,
                r.result.step_time_s,
                0,
                tp.mfu,
                r.report.memory.peak().total(),
                r.report.memory.capacity};
    // From a published throughput: the step's tokens (or model FLOPs) over it.
    const double tokens = 1.0 * r.workload.batch.global * r.workload.model.seq_len;
    if (c.tokens_per_gpu_s > 0) row.measured_s = tokens / (c.tokens_per_gpu_s * r.report.gpus);
    if (c.model_tflops_per_gpu > 0) {
      row.measured_s =
          tokens * workload::model_flops_per_token(r.workload.model) / (c.model_tflops_per_gpu * 1e12 * r.report.gpus);
    }
    row.error_pct = 100.0 * (row.simulated_s / row.measured_s - 1);
    rows.push_back(row);
  }
  if (tty) std::fputs("\r\033[K", stderr);
  if (!to_stdout) std::fputs(text(rows, file).c_str(), stdout);
  if (json_out) {
    if (auto s = write_output(*json_out, json(rows)); !s) return stop(s.error());
  }
  return kExitOk;
}

}  // namespace collsim::cli
