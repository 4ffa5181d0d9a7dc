#include "sim/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "sim/collective/ops.h"
#include "sim/engine/tuner_choice.h"
#include "sim/report/bill_report.h"
#include "sim/report/floor_plan.h"
#include "sim/report/svg.h"
#include "sim/units/units.h"
#include "sim/workload/what_if.h"

namespace collsim::report {

namespace {

using workload::Group;
using workload::StepOp;

const char* kCss = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #dde1ea;padding-bottom:4px}
p.sub,p.note{color:#5a6275;margin:4px 0 10px;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde1ea;border-radius:8px;padding:8px 14px;min-width:130px}
.card .v{font-size:22px;font-weight:600} .card .k{font-size:12px;color:#5a6275}
svg.chart{display:block;max-width:100%;height:auto;font-size:12px}
svg .onbar{fill:#fff;font-weight:600} svg .small{font-size:10px} svg .axis{stroke:#44475a;stroke-width:1}
svg .grid{stroke:#e3e6ee;stroke-width:1} svg .axis-label{fill:#5a6275}
svg .link{stroke:#8a8fa3;stroke-width:1.5} svg .edge-label{paint-order:stroke;stroke:#fff;stroke-width:3px}
table{border-collapse:collapse;font-size:12px;margin:6px 0} td,th{padding:3px 8px;border-bottom:1px solid #eceff4;text-align:right}
th{background:#f4f6fb} td:first-child,th:first-child{text-align:left}
footer{margin-top:30px;color:#5a6275;font-size:12px}
tr.best td{background:#fff3c4;font-weight:600} td.error{color:#b2182b;text-align:left}
)";

}  // namespace

std::string html_page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      // No script and no resource from anywhere: the report works offline.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src "
      "data:\">"
      "<title>{}</title><style>{}</style></head>\n<body>\n{}\n<footer>Made by collsim. Every number is from the "
      "simulation described in docs/architecture.md; the inputs and named assumptions are in the topology and "
      "workload files.</footer>\n</body></html>\n",
      svg::escape(title), kCss, body);
}

std::string html_card(const std::string& key, const std::string& value, const std::string& id) {
  return fmt::format(R"(<div class="card" id="{}"><div class="v">{}</div><div class="k">{}</div></div>)", id,
                     svg::escape(value), svg::escape(key));
}

namespace {

std::string secs(double s) { return units::format(units::Duration{s}); }

const std::array<Group, 5> kGroups{Group::kTp, Group::kCp, Group::kEp, Group::kPp, Group::kDp};

int category_of(const StepOp& o) { return timeline_category(o); }

// Which row of a worker an operation occupies: 0 compute stream (compute and
// the blocking TP/CP/EP collectives), 1 pipeline, 2 data parallel.
int lane_of(const StepOp& o) {
  if (o.kind == StepOp::Kind::kCompute) return 0;
  if (o.group == Group::kPp) return 1;
  if (o.group == Group::kDp) return 2;
  return 0;
}

// "stage 4" or "stages 15-62".
std::string stage_range(int first, int last) {
  return first == last ? fmt::format("stage {}", first) : fmt::format("stages {}-{}", first, last);
}

std::string gantt_section(const StepReport& r, int max_stages) {
  const auto& g = *r.graph;
  const auto& res = *r.result;
  // Replica 0's stages: all of them when they fit; otherwise the first ones
  // and the last (where the pipeline drains), and a row naming the others.
  std::vector<int> stages;
  std::optional<std::pair<int, int>> omitted;  // first and last stage left out
  const int limit = std::max(1, max_stages);
  if (g.pp <= limit) {
    for (int s = 0; s < g.pp; ++s) stages.push_back(s);
  } else {
    const int head = limit == 1 ? 1 : limit - 1;
    for (int s = 0; s < head; ++s) stages.push_back(s);
    omitted = std::pair{head, limit == 1 ? g.pp - 1 : g.pp - 2};
    if (limit > 1) stages.push_back(g.pp - 1);
  }
  std::map<int, int> row_of_worker;  // worker -> first of its three rows
  std::vector<svg::GanttRow> rows;
  for (int s : stages) {
    if (omitted && s == omitted->second + 1) {
      rows.push_back({fmt::format("{} not shown", stage_range(omitted->first, omitted->second)), {}});
    }
    const int w = s * g.dp;  // stage s, replica 0 (step_graph: worker = stage x dp + replica)
    row_of_worker[w] = static_cast<int>(rows.size());
    const auto& gpus = g.worker_gpus[static_cast<std::size_t>(w)];
    const std::string who =
        fmt::format("stage {} (GPU {}{})", s, gpus.front(), gpus.size() > 1 ? fmt::format("-{}", gpus.back()) : "");
    rows.push_back({who + " compute", {}});
    rows.push_back({"  pipeline in", {}});
    rows.push_back({"  data parallel", {}});
  }
  if (omitted && omitted->second == g.pp - 1) {
    rows.push_back({fmt::format("{} not shown", stage_range(omitted->first, omitted->second)), {}});
  }
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const auto& o = g.ops[i];
    for (int w : o.workers) {
      auto it = row_of_worker.find(w);
      if (it == row_of_worker.end()) continue;
      rows[static_cast<std::size_t>(it->second + lane_of(o))].boxes.push_back(
          {res.start_s[i], res.finish_s[i], category_of(o), ""});
    }
  }
  const std::vector<std::string> categories = timeline_categories();
  std::string out = "<h2>Timeline</h2>";
  const std::string left_out =
      omitted ? fmt::format(" ({} not shown)", stage_range(omitted->first, omitted->second)) : "";
  out += fmt::format(
      "<p class=\"sub\">Replica 0, {} of {} pipeline stages{}. Each pixel column stacks the share of its time "
      "each activity ran; blank is idle (bubble). The compute row also carries the blocking TP/CP/EP collectives. "
      "Every operation is in the Perfetto trace (<code>--trace</code>).</p>",
      stages.size(), g.pp, left_out);
  return out + svg::gantt("timeline", rows, res.step_time_s, categories);
}

std::string heat_section(const StepHtmlInputs& in) {
  const auto& res = *in.report->result;
  const auto& net = *in.network;
  const double T = res.step_time_s;
  const auto util = group_utilisation(res.group_bytes, in.groups, net, T);
  const double bin = res.group_bytes.bin_s;
  const int bins = bin > 0 ? std::max(1, static_cast<int>(std::ceil(T / bin - 1e-9))) : 0;
  std::vector<svg::HeatRow> rows;
  for (std::size_t grp = 0; grp < util.size(); ++grp) {
    double total = 0;
    for (double v : util[grp]) total += v;
    if (total <= 0) continue;
    const auto shown = std::min(util[grp].size(), static_cast<std::size_t>(bins));
    rows.push_back(
        {in.groups.names[grp] + " (mean)", std::vector<double>(util[grp].begin(), util[grp].begin() + shown)});
  }
  // The busiest single links, from their exact utilisation timelines.
  for (std::size_t k = 0; k < res.link_timeline.size() && k < in.tracked_links.size(); ++k) {
    std::vector<double> v(static_cast<std::size_t>(bins), 0.0);
    const auto& tl = res.link_timeline[k];
    for (std::size_t s = 0; s < tl.size(); ++s) {
      const double t0 = tl[s].first, t1 = s + 1 < tl.size() ? tl[s + 1].first : T, u = tl[s].second;
      for (int b = std::max(0, static_cast<int>(t0 / bin)); b < bins && b * bin < t1; ++b) {
        const double overlap = std::min(t1, (b + 1) * bin) - std::max(t0, b * bin);
        if (overlap > 0) v[static_cast<std::size_t>(b)] += u * overlap / bin;
      }
    }
    rows.push_back({net.link_name(in.tracked_links[k]), std::move(v)});
  }
  std::string out = "<h2>Link utilisation over time</h2>";
  out += fmt::format(
      "<p class=\"sub\">Rows marked (mean): all links of a resource class, bytes carried over their capacity in "
      "each {} bin. The other rows are the busiest single links.</p>",
      svg::format_seconds(bin));
  // The last bin may extend past the step: scale the axis to the bins drawn.
  return out + svg::heat_map("link-heat-map", rows, bins * bin);
}

std::string floor_section(const StepHtmlInputs& in) {
  const auto& res = *in.report->result;
  const auto util = cable_utilisation(*in.network, res.link_bytes, res.step_time_s, in.spec->links.size());
  return "<h2>Floor plan</h2><p class=\"sub\">Racks where they stand (from above). Hover a line or rack for its "
         "cables, lengths and utilisation.</p>" +
         floor_plan_svg(*in.spec, *in.topo, util);
}

}  // namespace

int timeline_category(const workload::StepOp& o) {
  if (o.kind == StepOp::Kind::kCompute) return 0;
  for (std::size_t k = 0; k < kGroups.size(); ++k)
    if (kGroups[k] == o.group) return static_cast<int>(k) + 1;
  return 0;
}

std::vector<std::string> timeline_categories() {
  std::vector<std::string> categories{"compute"};
  for (Group gr : kGroups) categories.push_back(fmt::format("{} comm", workload::to_string(gr)));
  return categories;
}

LinkGroups resource_groups(const topology::Network& network) {
  LinkGroups g;
  std::map<std::string, int> index;
  for (const auto& l : network.links()) {
    const std::string res = workload::resource_of(l.link_class, l.from_kind, l.to_kind);
    auto [it, fresh] = index.try_emplace(res, static_cast<int>(g.names.size()));
    if (fresh) g.names.push_back(res);
    g.of_link.push_back(it->second);
  }
  return g;
}

std::vector<std::vector<double>> group_utilisation(const workload::BinnedBytes& binned, const LinkGroups& groups,
                                                   const topology::Network& network, double step_s) {
  std::vector<double> capacity(groups.names.size(), 0.0);
  for (std::size_t l = 0; l < network.links().size(); ++l) {
    capacity[static_cast<std::size_t>(groups.of_link[l])] += network.links()[l].rate_Bps;
  }
  std::vector<std::vector<double>> util(binned.bytes.size());
  for (std::size_t grp = 0; grp < binned.bytes.size() && grp < capacity.size(); ++grp) {
    for (std::size_t b = 0; b < binned.bytes[grp].size(); ++b) {
      // The last bin may reach past the step's end: divide by the part inside.
      const double width = std::min(binned.bin_s, step_s - b * binned.bin_s);
      util[grp].push_back(width > 0 && capacity[grp] > 0 ? binned.bytes[grp][b] / (capacity[grp] * width) : 0.0);
    }
  }
  return util;
}

std::string step_html(const StepHtmlInputs& in) {
  const StepReport& r = *in.report;
  const auto& g = *r.graph;
  const auto& res = *r.result;
  const auto& w = *r.spec;
  const double T = res.step_time_s;
  double exposed = 0;
  for (double e : res.exposed_s) exposed += e;

  std::string body = fmt::format("<h1>{} on {}</h1>", svg::escape(r.workload), svg::escape(r.topology));
  body += fmt::format(
      "<p class=\"sub\">{} GPUs; tp {} x cp {} x pp {} x dp {} (ep {}); {} micro-batches of {} x {} tokens; "
      "{:.1f}B parameters. One training step, simulated by collsim.</p>",
      r.gpus, g.tp, g.cp, g.pp, g.dp, g.ep, g.micro_batches, w.batch.micro, w.model.seq_len,
      g.counts.total_params / 1e9);
  body += "<div class=\"cards\">";
  body += html_card("step time", secs(T), "step-time");
  const double tokens = static_cast<double>(w.batch.global) * w.model.seq_len;
  body += html_card("tokens per second", T > 0 ? fmt::format("{:.3g} M", tokens / T / 1e6) : "-", "tokens-per-s");
  {
    const Throughput tp = throughput(r);
    body += html_card("MFU", std::isnan(tp.mfu) ? "-" : fmt::format("{:.1f}%", tp.mfu * 100), "mfu");
    body += html_card("model TFLOP/s per GPU", fmt::format("{:.0f}", tp.model_tflops_per_gpu), "model-tflops");
  }
  body += html_card("compute (per GPU)", fmt::format("{:.1f}%", T > 0 ? res.compute_s / T * 100 : 0), "compute-share");
  body += html_card("exposed communication", secs(exposed), "exposed-comm");
  body += html_card("bubble / idle", fmt::format("{:.1f}%", T > 0 ? res.bubble_s / T * 100 : 0), "bubble-share");
  if (!r.memory.stages.empty()) {
    const auto& m = r.memory;
    body += html_card("peak memory per GPU",
                      m.capacity > 0 ? fmt::format("{:.0f}% of HBM", 100 * m.peak().total() / m.capacity)
                                     : units::format(units::Bytes{m.peak().total()}),
                      "memory");
  }
  if (!r.bottlenecks.empty()) {
    const auto& b = r.bottlenecks.front();
    body += html_card("best upgrade: " + b.resource, fmt::format("{:+.1f}%", b.delta_pct), "best-what-if");
  }
  if (r.has_energy) {  // docs/power-and-cost.md
    body += html_card(fmt::format("energy per step (facility, PUE {:g})", r.energy_spec.pue),
                      energy_text(r.energy.facility_J), "energy");
    if (tokens > 0) {
      body += html_card("cost per million tokens (capital + energy)",
                        fmt::format("${:.3f}", r.energy.usd / tokens * 1e6), "cost-per-mtok");
    }
  }
  body += "</div>";

  // Where the time goes, per GPU (mean over GPUs).
  std::vector<svg::Part> parts{{"compute", res.compute_s, svg::category_colour(0)}};
  for (std::size_t k = 0; k < kGroups.size(); ++k) {
    const double e = res.exposed_s[static_cast<int>(kGroups[k])];
    if (e > 0)
      parts.push_back({fmt::format("exposed {}", workload::to_string(kGroups[k])), e,
                       svg::category_colour(static_cast<int>(k) + 1)});
  }
  parts.push_back({"bubble / idle", res.bubble_s, "#c9ced8"});
  body +=
      "<h2>Where the step time goes</h2><p class=\"sub\">Per GPU, mean over GPUs: compute, communication "
      "with no compute running (exposed), and waiting. They add up to the step time.</p>";
  body += svg::stacked_bar("breakdown", parts, secs);

  body += gantt_section(r, in.timeline_stages);
  body += heat_section(in);

  if (!r.bottlenecks.empty()) {
    std::vector<svg::Bar> bars;
    for (const auto& b : r.bottlenecks) {
      bars.push_back({b.resource, b.delta_pct, fmt::format("{} (step {})", b.what_if, secs(b.step_time_s))});
    }
    body +=
        "<h2>What would help</h2><p class=\"sub\">Step-time change if one resource were upgraded; each bar is a "
        "full re-simulation (collectives re-costed, the step re-run).</p>";
    body += svg::bar_chart("what-if", bars, "%");
  }
  body += floor_section(in);

  // Tables: the costliest collectives and the busiest links.
  body +=
      "<h2>Collectives per step</h2><table><tr><th>group</th><th>op</th><th>ranks</th><th>size</th><th>algo</th>"
      "<th>proto</th><th>count</th><th>alone</th><th>as run</th></tr>";
  for (std::size_t i = 0; i < r.collectives.size() && i < 12; ++i) {
    const auto& c = r.collectives[i];
    body += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>",
        c.group, c.op, c.ranks, units::format(units::Bytes{c.bytes}), c.algo, c.proto, c.count, secs(c.time_alone_s),
        secs(c.time_mean_s));
  }
  body += "</table><h2>Busiest links</h2><table><tr><th>link</th><th>resource</th><th>utilisation</th></tr>";
  for (const auto& l : r.busiest_links) {
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.1f}%</td></tr>", svg::escape(l.name), svg::escape(l.resource),
                        l.utilisation * 100);
  }
  body += "</table>";
  if (!r.memory.stages.empty()) {  // memory per pipeline stage
    auto b = [](double x) { return units::format(units::Bytes{x}); };
    body += fmt::format(
        "<h2>Memory per GPU, by pipeline stage</h2><p class=\"sub\">HBM {} per GPU; activations of the "
        "micro-batch chunks in flight at the stage's peak</p><table><tr><th>stage</th><th>total</th><th>weights</th>"
        "<th>gradients</th><th>optimizer</th><th>activations</th><th>chunks in flight</th><th>logits</th>"
        "<th>reserve</th></tr>",
        r.memory.capacity > 0 ? b(r.memory.capacity) : std::string("unknown"));
    for (const auto& st : r.memory.stages) {
      body += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></"
          "tr>",
          st.stage, b(st.total()), b(st.weights), b(st.grads), b(st.optimizer), b(st.activations), st.in_flight,
          b(st.logits), b(st.reserve));
    }
    body += "</table>";
  }
  return html_page(fmt::format("collsim: {} on {}", r.workload, r.topology), body);
}

std::string collective_html(const CollectiveHeader& header, const std::vector<CollectiveRow>& rows,
                            const std::vector<config::ValidationCase>& reference, const std::string& reference_file) {
  std::string body = fmt::format("<h1>{} on {}</h1>", svg::escape(header.op), svg::escape(header.topology));
  body += fmt::format(
      "<p class=\"sub\">{} ranks, algorithm {}, {} backend. Bus bandwidth as nccl-tests defines it "
      "(docs/validation.md).</p>",
      header.ranks, svg::escape(header.algo), svg::escape(header.backend));
  double best = 0, best_bytes = 0;
  for (const auto& row : rows)
    if (row.busbw_GBps > best) best = row.busbw_GBps, best_bytes = row.bytes;
  body += "<div class=\"cards\">";
  body += html_card("peak busbw", fmt::format("{:.1f} GB/s", best), "peak-busbw");
  body += html_card("at size", units::format(units::Bytes{best_bytes}), "peak-size");
  if (!rows.empty()) body += html_card("time at the largest size", secs(rows.back().time_us * 1e-6), "largest-time");
  body += "</div>";

  // One curve per element type, reduction and root (nccl-tests' -d all, -o
  // all, -r all run each in turn), named by them when there are several.
  std::vector<svg::Series> series;
  std::vector<std::string> keys;
  auto key_of = [](const CollectiveRow& r) {
    return r.root >= 0 ? fmt::format("{} {} root {}", r.type, r.redop, r.root) : fmt::format("{} {}", r.type, r.redop);
  };
  for (const auto& row : rows)
    if (std::find(keys.begin(), keys.end(), key_of(row)) == keys.end()) keys.push_back(key_of(row));
  for (std::size_t k = 0; k < std::max<std::size_t>(keys.size(), 1); ++k) {
    svg::Series sim{keys.size() > 1 ? fmt::format("collsim ({}, {})", header.algo, keys[k])
                                    : fmt::format("collsim ({})", header.algo),
                    {},
                    svg::category_colour(static_cast<int>(k)),
                    false};
    for (const auto& row : rows)
      if (keys.empty() || key_of(row) == keys[k]) sim.points.emplace_back(row.bytes, row.busbw_GBps);
    series.push_back(std::move(sim));
  }
  int colour = static_cast<int>(series.size());
  for (const auto& c : reference) {
    // A curve of one algorithm is compared with measurements of that
    // algorithm; of an NCCL_ALGO list ("ring,tree", "^nvls"), with those of
    // an algorithm it allows.
    if (header.algo != "auto" && c.algo != "auto" && c.algo != header.algo) {
      if (!engine::is_algorithm_list(header.algo)) continue;
      const auto listed = engine::listed_names(header.algo);
      const bool except = header.algo.front() == '^';
      if ((std::find(listed.begin(), listed.end(), c.algo) != listed.end()) == except) continue;
    }
    svg::Series s{
        fmt::format("measured: {} ({} {})", c.name, c.algo, c.proto), {}, svg::category_colour(colour++), true};
    for (const auto& p : c.points) {
      const double busbw =
          c.metric == "time_us"
              ? p.bytes / (p.measured * 1e-6) / 1e9 *
                    collective::busbw_factor(collective::parse_op(header.op).value_or(collective::Op::kAllReduce),
                                             header.ranks)
              : p.measured;
      s.points.emplace_back(p.bytes, busbw);
    }
    series.push_back(std::move(s));
  }
  body += "<h2>Bus bandwidth against message size</h2>";
  body += series.size() == std::max<std::size_t>(keys.size(), 1)
              ? "<p class=\"sub\">No published measurement of this case is in the validation table.</p>"
              : fmt::format(
                    "<p class=\"sub\">Open circles: published measurements of this case ({}, with "
                    "sources).</p>",
                    svg::escape(reference_file));
  svg::Axes axes{"message size (bytes, log scale)",
                 "busbw (GB/s)",
                 true,
                 [](double b) { return units::format(units::Bytes{b}); },
                 {}};
  body += svg::line_chart("busbw", series, axes);
  body +=
      "<h2>Results</h2><table><tr><th>size</th><th>type</th><th>redop</th><th>algo</th><th>proto</th><th>time</th>"
      "<th>algbw (GB/s)</th><th>busbw (GB/s)</th><th>busiest (share of the time)</th></tr>";
  for (const auto& row : rows) {
    // What binds (CollectiveRow::busiest): the busiest resource of each class.
    std::string busiest = row.busiest_skipped ? "not read (too many connections)" : "";
    for (const auto& b : row.busiest)
      busiest += fmt::format("{}{:.0f}% {} ({})", busiest.empty() ? "" : "<br>", std::min(b.share, 9.99) * 100,
                             svg::escape(b.resource), svg::escape(b.where));
    body += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td>"
        "<td>{:.2f}</td><td>{}</td></tr>",
        units::format(units::Bytes{row.bytes}), svg::escape(row.type), svg::escape(row.redop), row.algo, row.proto,
        secs(row.time_us * 1e-6), row.algbw_GBps, row.busbw_GBps, busiest);
  }
  body += "</table>";
  return html_page(fmt::format("collsim: {} on {}", header.op, header.topology), body);
}

}  // namespace collsim::report
