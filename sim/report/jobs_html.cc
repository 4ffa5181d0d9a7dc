// The HTML report of several jobs at once (html_report.h jobs_html).
#include <fmt/format.h>

#include <algorithm>

#include "sim/report/floor_plan.h"
#include "sim/report/html_report.h"
#include "sim/report/svg.h"
#include "sim/units/units.h"

namespace collsim::report {

namespace {

std::string secs(double s) { return units::format(units::Duration{s}); }

// One timeline row per job: its first worker's operations (its compute
// stream, pipeline and data-parallel traffic in one row), every repeat.
std::string timeline(const JobsHtmlInputs& in) {
  const auto& m = *in.merged;
  const auto& res = *in.together;
  std::vector<svg::GanttRow> rows(in.job_labels.size());
  for (std::size_t j = 0; j < rows.size(); ++j) rows[j].label = fmt::format("job {}", j + 1);
  double end = 0;
  for (std::size_t i = 0; i < m.graph.ops.size(); ++i) {
    const auto& o = m.graph.ops[i];
    const auto j = static_cast<std::size_t>(m.job_of_op[i]);
    end = std::max(end, res.finish_s[i]);
    if (j >= rows.size()) continue;
    const int first = m.first_worker[j];
    if (std::find(o.workers.begin(), o.workers.end(), first) == o.workers.end()) continue;
    rows[j].boxes.push_back({res.start_s[i], res.finish_s[i], timeline_category(o), ""});
  }
  return "<h2>Timeline</h2><p class=\"sub\">One row per job: its first worker (stage 0, replica 0) through every "
         "repeat of its step, together with the others. Each pixel column stacks the share of its time each "
         "activity ran; blank is idle. Every operation is in the Perfetto trace (<code>--trace</code>).</p>" +
         svg::gantt("jobs-timeline", rows, end, timeline_categories());
}

}  // namespace

std::string jobs_html(const JobsHtmlInputs& in) {
  std::string body = "<h1>" + svg::escape(in.title) + "</h1>";
  double worst = 0;
  std::size_t worst_job = 0;
  for (std::size_t j = 0; j < in.alone_s.size(); ++j) {
    const double s = in.alone_s[j] > 0 ? in.together_s[j] / in.alone_s[j] : 1.0;
    if (s > worst) worst = s, worst_job = j;
  }
  body += "<div class=\"cards\">";
  body += html_card("jobs", fmt::format("{}", in.job_labels.size()), "jobs");
  body += html_card(fmt::format("largest slowdown (job {})", worst_job + 1), fmt::format("{:.3f}x", worst),
                    "largest-slowdown");
  body += html_card("links where they met", fmt::format("{}", in.met.size()), "met-links");
  body += "</div>";

  body +=
      "<h2>Step time alone and together</h2><table><tr><th>job</th><th>alone</th><th>together</th>"
      "<th>slowdown</th></tr>";
  for (std::size_t j = 0; j < in.job_labels.size(); ++j) {
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}x</td></tr>", svg::escape(in.job_labels[j]),
                        secs(in.alone_s[j]), secs(in.together_s[j]),
                        in.alone_s[j] > 0 ? in.together_s[j] / in.alone_s[j] : 1.0);
  }
  body += "</table>";
  body += timeline(in);

  body += "<h2>Where they met</h2>";
  if (in.met.empty()) {
    body +=
        "<p class=\"sub\">The jobs share no link and no NVSwitch reduction engines: they do not slow each other.</p>";
  } else {
    body +=
        "<p class=\"sub\">Links several jobs use, busiest first, with each job's utilisation of them alone.</p>"
        "<table><tr><th>link</th>";
    for (std::size_t j = 0; j < in.job_labels.size(); ++j) body += fmt::format("<th>job {}</th>", j + 1);
    body += "</tr>";
    for (const auto& [name, util] : in.met) {
      body += "<tr><td>" + svg::escape(name) + "</td>";
      for (double u : util) body += fmt::format("<td>{:.1f}%</td>", 100 * u);
      body += "</tr>";
    }
    body += "</table>";
  }

  // Whose traffic each cable carries: a job's, or several jobs' (shared).
  const auto& links = in.network->links();
  std::vector<int> user(in.spec->links.size(), -1);  // job index, -2 shared, -1 none
  for (std::size_t j = 0; j < in.alone_link_bytes.size(); ++j) {
    const auto& bytes = *in.alone_link_bytes[j];
    for (std::size_t l = 0; l < links.size() && l < bytes.size(); ++l) {
      if (!(bytes[l] > 0)) continue;
      for (int f : in.network->spec_links(static_cast<int>(l))) {
        int& u = user[static_cast<std::size_t>(f)];
        u = u == -1 || u == static_cast<int>(j) ? static_cast<int>(j) : -2;
      }
    }
  }
  std::vector<std::string> labels(user.size());
  for (std::size_t f = 0; f < user.size(); ++f)
    labels[f] = user[f] == -2 ? "shared" : user[f] >= 0 ? fmt::format("job {}", user[f] + 1) : "";
  body +=
      "<h2>Floor plan: whose traffic each cable carries</h2><p class=\"sub\">Racks where they stand (from "
      "above); cables that carry one job's traffic in its colour, those several jobs use as shared, and a bundle "
      "holding cables of different jobs as mixed. Hover a line for its cables.</p>" +
      floor_plan_svg(*in.spec, *in.topo, {}, labels);
  body +=
      "<h2>Floor plan, per job</h2><p class=\"sub\">Each plan colours the cables by one job's utilisation "
      "alone. Hover a line or rack for its cables, lengths and utilisation.</p>";
  for (std::size_t j = 0; j < in.job_labels.size() && j < in.alone_link_bytes.size(); ++j) {
    const auto util = cable_utilisation(*in.network, *in.alone_link_bytes[j], in.alone_s[j], in.spec->links.size());
    body += "<h3>" + svg::escape(in.job_labels[j]) + "</h3>" + floor_plan_svg(*in.spec, *in.topo, util);
  }
  return html_page(in.title, body);
}

}  // namespace collsim::report
