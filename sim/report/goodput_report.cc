#include "sim/report/goodput_report.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/report/html_report.h"
#include "sim/report/json.h"
#include "sim/report/svg.h"
#include "sim/units/units.h"

namespace collsim::report {

namespace {

// Seconds as the unit a person reads them in: s, min, h or d.
std::string human(double s) {
  if (!std::isfinite(s)) return "never";
  if (s < 120) return fmt::format("{:.3g} s", s);
  if (s < 2 * 3600) return fmt::format("{:.3g} min", s / 60);
  if (s < 2 * 86400) return fmt::format("{:.3g} h", s / 3600);
  return fmt::format("{:.4g} d", s / 86400);
}

std::string pct(double x) { return fmt::format("{:.2f}%", 100 * x); }

std::string tokens_text(double t) {
  if (t >= 1e12) return fmt::format("{:.3g} T", t / 1e12);
  if (t >= 1e9) return fmt::format("{:.3g} B", t / 1e9);
  return fmt::format("{:.3g} M", t / 1e6);
}

std::string run_text(const GoodputReport& r) {
  return r.tokens > 0 ? fmt::format("to {} tokens", tokens_text(r.tokens))
                      : fmt::format("of {}", human(r.params.horizon_s));
}

}  // namespace

std::string goodput_text(const GoodputReport& r) {
  const auto& p = r.params;
  const auto& g = r.result;
  const auto& c = r.counts;
  std::string out = fmt::format("# collsim goodput: {} on {} ({} GPUs), {} runs {} (seed {})\n", r.workload, r.topology,
                                c.gpus, p.samples, run_text(r), p.seed);
  out += fmt::format("step          {} ({}), {} tokens per step\n", human(r.step_s), r.step_source,
                     tokens_text(r.tokens_per_step));
  if (!r.failures.empty()) out += fmt::format("failures      {}\n", r.failures);
  out +=
      fmt::format("parts         {} GPUs, {} hosts of {}, {} NICs, NVLink domains of {}; blast radius {} ({} GPUs)\n",
                  c.gpus, c.hosts, c.gpus_per_host, c.nics, c.gpus_per_domain, r.blast_radius, r.unit_gpus);
  double unexpected = 0;
  for (double x : g.interruptions) unexpected += x;
  if (std::isfinite(g.mtbi_s)) {
    out += fmt::format(
        "failures      one unexpected interruption every {} (MTBI); per run {:.1f} unexpected + {:.1f} planned\n",
        human(g.mtbi_s), unexpected, g.planned);
  } else {  // --failure-scale 0
    out += fmt::format("failures      none (failure rates scaled to 0); per run 0 unexpected + {:.1f} planned\n",
                       g.planned);
  }
  const std::string interval_why =
      r.interval_source == "given" ? fmt::format("given; Daly's optimum {}", human(g.daly_s))
      : !std::isfinite(g.mtbi_s)   ? std::string("no failures: none needed")
                                   : fmt::format("Daly's optimum in whole steps; Young's {}", human(g.young_s));
  out +=
      fmt::format("checkpoint    {} ({:.4g} B parameters), save {} at {}, load {} at {}; every {} of training ({})\n",
                  units::format(units::Bytes{r.checkpoint_bytes}), r.parameters / 1e9, human(p.save_s),
                  units::format(units::Rate{r.write_Bps}), human(p.load_s), units::format(units::Rate{r.read_Bps}),
                  human(g.interval_s), interval_why);
  out += fmt::format("restart       {}; spares {}, repair {}\n", human(p.restart_s),
                     p.spares < 0 ? std::string("unlimited") : fmt::format("{} x {} GPUs", p.spares, r.unit_gpus),
                     human(p.repair_s));
  out += "\n";
  out += fmt::format("ETTR          mean {}, p10 {}, p50 {}, p90 {} (effective training time / wall-clock time)\n",
                     pct(g.ettr.mean), pct(g.ettr.p10), pct(g.ettr.p50), pct(g.ettr.p90));
  if (r.tokens > 0) {
    // A run still unfinished at the cap counts as longer than it.
    auto wall = [&](double s) {
      return std::isfinite(s) ? human(s) : "> " + human(goodput::kWallCapFactor * p.target_train_s);
    };
    out += fmt::format("time to train mean {}, p10 {}, p50 {}, p90 {} ({} at 100%)", wall(g.wall_s.mean),
                       wall(g.wall_s.p10), wall(g.wall_s.p50), wall(g.wall_s.p90), human(p.target_train_s));
    out += g.unfinished > 0 ? fmt::format("; {} of {} runs unfinished after {:g}x that\n", g.unfinished, p.samples,
                                          goodput::kWallCapFactor)
                            : "\n";
  }
  const double wall = g.train_s + g.checkpoint_s + g.lost_s + g.restart_s + g.load_s + g.wait_s;
  out += "where the time goes (mean per run; shares of the mean wall-clock time, so training is not the mean ETTR)\n";
  for (auto [name, s] : {std::pair{"training", g.train_s},
                         {"checkpoint saves", g.checkpoint_s},
                         {"lost work", g.lost_s},
                         {"restarts", g.restart_s},
                         {"checkpoint loads", g.load_s},
                         {"waiting for spares", g.wait_s}}) {
    out += fmt::format("  {:<22} {:>10}  {:>7}\n", name, human(s), wall > 0 ? pct(s / wall) : "-");
  }
  out += "interruptions by cause (mean per run; Llama 3's 54 days in brackets)\n";
  for (std::size_t i = 0; i < p.causes.size(); ++i) {
    const auto& cause = p.causes[i];
    out += fmt::format("  {:<34} {:>8.2f}  ({}, {})\n", cause.name, g.interruptions[i], goodput::part_name(cause.part),
                       cause.llama3_count);
  }
  if (!r.what_ifs.empty()) {
    out += "what-ifs (mean ETTR, change in points)\n";
    for (const auto& w : r.what_ifs) {
      out += fmt::format("  {:<40} {}  ({:+.2f})", w.change, pct(w.ettr), 100 * (w.ettr - g.ettr.mean));
      out += r.tokens > 0 ? fmt::format("  time to train p50 {}\n", human(w.wall_p50_s)) : "\n";
    }
  }
  if (r.spares_needed >= 0) {
    out += fmt::format(
        "spares needed {:.0f} x {} GPUs keep the mean ETTR within 0.5 points of unlimited spares ({} repair)\n",
        r.spares_needed, r.unit_gpus, human(p.repair_s));
  }
  return out;
}

std::string goodput_json(const GoodputReport& r) {
  const auto& p = r.params;
  const auto& g = r.result;
  JsonWriter w;
  auto quantiles = [&](const char* k, const goodput::Quantiles& q) {
    w.key(k).begin_object();
    w.key("mean").value(q.mean).key("p10").value(q.p10).key("p50").value(q.p50).key("p90").value(q.p90);
    w.end_object();
  };
  w.begin_object();
  w.key("workload").value(r.workload).key("topology").value(r.topology);
  if (!r.failures.empty()) w.key("failures").value(r.failures);
  w.key("samples").value(static_cast<double>(p.samples)).key("seed").value(static_cast<double>(p.seed));
  w.key("horizon_s").value(p.horizon_s).key("tokens").value(r.tokens);
  w.key("gpus").value(static_cast<double>(r.counts.gpus)).key("hosts").value(static_cast<double>(r.counts.hosts));
  w.key("nics").value(static_cast<double>(r.counts.nics));
  w.key("blast_radius").value(r.blast_radius).key("unit_gpus").value(static_cast<double>(r.unit_gpus));
  w.key("step_s")
      .value(r.step_s)
      .key("step_source")
      .value(r.step_source)
      .key("tokens_per_step")
      .value(r.tokens_per_step);
  w.key("parameters").value(r.parameters).key("checkpoint_bytes").value(r.checkpoint_bytes);
  w.key("storage_write_Bps").value(r.write_Bps).key("storage_read_Bps").value(r.read_Bps);
  w.key("save_s").value(p.save_s).key("load_s").value(p.load_s).key("restart_s").value(p.restart_s);
  w.key("interval_s").value(g.interval_s).key("interval_source").value(r.interval_source);
  w.key("young_s").value(g.young_s).key("daly_s").value(g.daly_s).key("mtbi_s").value(g.mtbi_s);
  w.key("spares").value(static_cast<double>(p.spares)).key("repair_s").value(p.repair_s);
  quantiles("ettr", g.ettr);
  if (r.tokens > 0) {
    quantiles("time_to_train_s", g.wall_s);
    w.key("unfinished").value(static_cast<double>(g.unfinished));
  }
  w.key("time_s").begin_object();
  w.key("training").value(g.train_s).key("checkpoint").value(g.checkpoint_s).key("lost").value(g.lost_s);
  w.key("restart").value(g.restart_s).key("load").value(g.load_s).key("wait_for_spares").value(g.wait_s);
  w.end_object();
  w.key("interruptions").begin_array();
  for (std::size_t i = 0; i < p.causes.size(); ++i) {
    w.begin_object().key("cause").value(p.causes[i].name).key("part").value(goodput::part_name(p.causes[i].part));
    w.key("rate_per_hour").value(p.causes[i].rate_per_hour).key("mean_per_run").value(g.interruptions[i]);
    w.key("llama3_54_days").value(static_cast<double>(p.causes[i].llama3_count)).end_object();
  }
  w.end_array();
  w.key("planned_interruptions").value(g.planned);
  // The ETTR distribution as 20 equal bins between its extremes.
  w.key("ettr_histogram").begin_object();
  const auto& s = g.ettr_samples;
  const double lo = s.empty() ? 0 : s.front(), hi = s.empty() ? 0 : s.back();
  w.key("min").value(lo).key("max").value(hi).key("counts").begin_array();
  constexpr int kBins = 20;
  std::vector<int> bins(kBins, 0);
  for (double x : s) ++bins[hi > lo ? std::min(kBins - 1, static_cast<int>((x - lo) / (hi - lo) * kBins)) : 0];
  for (int b : bins) w.value(static_cast<double>(b));
  w.end_array().end_object();
  w.key("what_ifs").begin_array();
  for (const auto& x : r.what_ifs) {
    w.begin_object().key("change").value(x.change).key("ettr").value(x.ettr);
    if (r.tokens > 0) w.key("time_to_train_p50_s").value(x.wall_p50_s);
    w.end_object();
  }
  w.end_array();
  if (r.spares_needed >= 0) w.key("spares_needed").value(r.spares_needed);
  w.end_object();
  return w.str() + "\n";
}

std::string goodput_html(const GoodputReport& r) {
  const auto& p = r.params;
  const auto& g = r.result;
  std::string body = fmt::format("<h1>Goodput: {} on {}</h1>", svg::escape(r.workload), svg::escape(r.topology));
  body += fmt::format(
      "<p class=\"sub\">{} GPUs; {} simulated runs {}; failures at Llama 3's rates per part, checkpoints every {}, "
      "{} restarts. Simulated by collsim (docs/goodput.md).</p>",
      r.counts.gpus, p.samples, svg::escape(run_text(r)), human(g.interval_s), human(p.restart_s));
  double unexpected = 0;
  for (double x : g.interruptions) unexpected += x;
  body += "<div class=\"cards\">";
  body += html_card("mean ETTR", pct(g.ettr.mean), "ettr");
  body += html_card("ETTR p10 - p90", fmt::format("{} - {}", pct(g.ettr.p10), pct(g.ettr.p90)), "ettr-spread");
  body += html_card("mean time between interruptions", human(g.mtbi_s), "mtbi");
  body += html_card("unexpected interruptions per run", fmt::format("{:.1f}", unexpected), "interruptions");
  if (r.tokens > 0) body += html_card("time to train, median", human(g.wall_s.p50), "time-to-train");
  body += "</div>";

  body += "<h2>Where the time goes</h2>";
  const std::vector<std::pair<const char*, double>> states{
      {"training", g.train_s},   {"checkpoint saves", g.checkpoint_s}, {"lost work", g.lost_s},
      {"restarts", g.restart_s}, {"checkpoint loads", g.load_s},       {"waiting for spares", g.wait_s}};
  std::vector<svg::Part> parts;
  for (std::size_t i = 0; i < states.size(); ++i)
    parts.push_back({states[i].first, states[i].second, svg::category_colour(static_cast<int>(i))});
  body += svg::stacked_bar("time", parts, [](double s) { return human(s); });

  body += "<h2>The effective training time ratio over the runs</h2>";
  svg::Series cdf{"share of runs at or below", {}, svg::category_colour(0), false};
  const auto& e = g.ettr_samples;
  const std::size_t step = std::max<std::size_t>(1, e.size() / 400);
  for (std::size_t i = 0; i < e.size(); i += step)
    cdf.points.emplace_back(100 * e[i], static_cast<double>(i + 1) / static_cast<double>(e.size()));
  if (!e.empty()) cdf.points.emplace_back(100 * e.back(), 1.0);
  svg::Axes axes;
  axes.x_label = "ETTR (%)";
  axes.y_label = "share of runs";
  axes.format_x = [](double x) { return fmt::format("{:.1f}", x); };
  body += svg::line_chart("ettr-cdf", {cdf}, axes);

  body += "<h2>Interruptions by cause (mean per run)</h2>";
  std::vector<svg::Bar> causes;
  for (std::size_t i = 0; i < p.causes.size(); ++i) {
    causes.push_back(
        {p.causes[i].name, g.interruptions[i],
         fmt::format("{}; Llama 3: {} in 54 days", goodput::part_name(p.causes[i].part), p.causes[i].llama3_count)});
  }
  body += svg::bar_chart("causes", causes, "");
  if (!r.what_ifs.empty()) {
    body += "<h2>What would help (change in mean ETTR, points)</h2>";
    std::vector<svg::Bar> bars;
    for (const auto& w : r.what_ifs) bars.push_back({w.change, 100 * (w.ettr - g.ettr.mean), pct(w.ettr)});
    body += svg::bar_chart("what-if", bars, " pts");
  }
  if (!g.timeline.empty()) {
    body += "<h2>One run, as it went</h2>";
    const std::vector<std::string> names{"training", "saves", "lost work", "restarts", "loads", "waiting"};
    svg::GanttRow row{"run 1", {}};
    for (const auto& span : g.timeline) row.boxes.push_back({span.t0, span.t1, static_cast<int>(span.state), ""});
    body += svg::gantt("timeline", {row}, g.timeline.back().t1, names);
  }
  return html_page(fmt::format("collsim goodput: {} on {}", r.workload, r.topology), body);
}

}  // namespace collsim::report
