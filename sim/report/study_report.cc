#include "sim/report/study_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

#include "sim/report/html_report.h"
#include "sim/report/json.h"
#include "sim/report/svg.h"

namespace collsim::report {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out;
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string number(double v) {
  if (!std::isfinite(v)) return "";
  return fmt::format("{}", v);
}

// "12.5m" -> 12.5 and "m"; false when the text does not start with a number.
bool split_number(const std::string& text, double* value, std::string* unit) {
  const char* s = text.c_str();
  char* end = nullptr;
  *value = std::strtod(s, &end);
  if (end == s || !std::isfinite(*value)) return false;
  *unit = std::string(end);
  return true;
}

// The best row by the primary metric (ok rows only), or -1; of rows tied
// on it, the cheaper per million tokens (where priced), as the Pareto
// front keeps.
int best_row(const StudyTable& t) {
  const auto m = std::find(t.metric_names.begin(), t.metric_names.end(), t.primary) - t.metric_names.begin();
  const auto cost = std::find(t.metric_names.begin(), t.metric_names.end(), "usd_per_mtok") - t.metric_names.begin();
  auto price = [&](const StudyRow& r) {
    const auto c = static_cast<std::size_t>(cost);
    return c < r.metrics.size() && std::isfinite(r.metrics[c]) ? r.metrics[c] : HUGE_VAL;
  };
  int best = -1;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    if (!r.ok || !std::isfinite(r.metrics[static_cast<std::size_t>(m)])) continue;
    const double v = r.metrics[static_cast<std::size_t>(m)];
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const auto& br = t.rows[static_cast<std::size_t>(best)];
    const double b = br.metrics[static_cast<std::size_t>(m)];
    if (t.lower_is_better ? v < b : v > b) best = static_cast<int>(i);
    if (v == b && price(r) < price(br)) best = static_cast<int>(i);
  }
  return best;
}

std::string format_metric(const std::string& name, double v) {
  if (!std::isfinite(v)) return "-";
  // A duration in seconds ends in _s; a rate per second (tokens_per_s) is not one.
  const bool rate = name.size() > 6 && name.substr(name.size() - 6) == "_per_s";
  if (!rate && name.size() > 2 && name.substr(name.size() - 2) == "_s") return svg::format_seconds(v);
  if (name.size() > 3 && name.substr(name.size() - 3) == "_us") return svg::format_seconds(v * 1e-6);
  return fmt::format("{:.4g}", v);
}

// One chart: the primary metric against axis path `x`, one series per
// combination of the other axes' values.
std::size_t position_of(const std::vector<std::string>& names, std::string_view name) {
  const auto it = std::find(names.begin(), names.end(), name);
  assert(it != names.end() && "a metric or label the study table does not have");
  return static_cast<std::size_t>(it - names.begin());
}

std::string axis_chart(const StudyTable& t, std::size_t x, int best) {
  const auto m = static_cast<std::size_t>(std::find(t.metric_names.begin(), t.metric_names.end(), t.primary) -
                                          t.metric_names.begin());
  // Numeric when every value is a number with one common unit.
  bool numeric = true;
  std::string unit;
  std::vector<std::string> categories;
  for (const auto& r : t.rows) {
    double v;
    std::string u;
    if (!split_number(r.axis_values[x], &v, &u))
      numeric = false;
    else if (&r == &t.rows.front())
      unit = u;
    else if (u != unit)
      numeric = false;
    if (std::find(categories.begin(), categories.end(), r.axis_values[x]) == categories.end()) {
      categories.push_back(r.axis_values[x]);
    }
  }
  // Values spanning more than a factor of 16 (sizes, say) go on a log axis.
  double lo = INFINITY, hi = 0;
  for (const auto& r : t.rows) {
    double v;
    std::string u;
    if (numeric && split_number(r.axis_values[x], &v, &u)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const bool log_x = numeric && lo > 0 && hi / lo >= 16;
  auto x_of = [&](const StudyRow& r) {
    double v = 0;
    std::string u;
    if (numeric && split_number(r.axis_values[x], &v, &u)) return v;
    return static_cast<double>(std::find(categories.begin(), categories.end(), r.axis_values[x]) - categories.begin());
  };
  // Series: the other paths' values.
  std::map<std::string, std::vector<const StudyRow*>> series_rows;
  std::vector<std::string> order;
  for (const auto& r : t.rows) {
    if (!r.ok) continue;
    std::string key;
    for (std::size_t p = 0; p < t.axis_paths.size(); ++p) {
      if (p == x) continue;
      key += fmt::format("{}{}={}", key.empty() ? "" : ", ", t.axis_paths[p], r.axis_values[p]);
    }
    if (!series_rows.count(key)) order.push_back(key);
    series_rows[key].push_back(&r);
  }
  constexpr std::size_t kMaxSeries = 8;
  std::vector<svg::Series> series;
  std::string slopes;
  for (std::size_t k = 0; k < order.size() && k < kMaxSeries; ++k) {
    svg::Series s{order[k].empty() ? t.primary : order[k], {}, svg::category_colour(static_cast<int>(k)), false};
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const StudyRow* r : series_rows[order[k]]) {
      const double xv = x_of(*r), yv = r->metrics[m];
      if (!std::isfinite(yv)) continue;
      s.points.emplace_back(xv, yv);
      sx += xv, sy += yv, sxx += xv * xv, sxy += xv * yv;
    }
    std::sort(s.points.begin(), s.points.end());
    const double n = static_cast<double>(s.points.size());
    // Least-squares slope: what one unit of this axis costs (e.g. per metre).
    if (numeric && !log_x && n >= 2 && n * sxx - sx * sx > 0) {
      const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
      const std::string per = unit.empty() ? std::string("per unit") : fmt::format("per {}", unit);
      s.name += fmt::format("{}slope {} {}", s.name.empty() ? "" : "; ", format_metric(t.primary, slope), per);
      slopes += fmt::format("<li>{}: {} {}</li>", svg::escape(order[k].empty() ? "all points" : order[k]),
                            svg::escape(format_metric(t.primary, slope)), svg::escape(per));
    }
    series.push_back(std::move(s));
  }
  if (best >= 0) {
    const auto& b = t.rows[static_cast<std::size_t>(best)];
    series.push_back({fmt::format("best point (#{})", b.index), {{x_of(b), b.metrics[m]}}, "#d7301f", true});
  }
  svg::Axes axes;
  axes.x_label = t.axis_paths[x] + (numeric && !unit.empty() ? fmt::format(" ({})", unit) : "");
  axes.y_label = t.primary;
  axes.log_x = log_x;
  if (!numeric) {
    for (std::size_t c = 0; c < categories.size(); ++c) axes.x_ticks.push_back(static_cast<double>(c));
    axes.format_x = [categories](double v) {
      const auto i = static_cast<std::size_t>(std::lround(v));
      return i < categories.size() ? categories[i] : std::string();
    };
  } else {
    axes.format_x = [unit](double v) { return fmt::format("{:g}{}", v, unit); };
  }
  std::string out = fmt::format("<h2>{} against {}</h2>", svg::escape(t.primary), svg::escape(t.axis_paths[x]));
  if (order.size() > kMaxSeries) {
    out += fmt::format("<p class=\"note\">The first {} of {} combinations of the other axes are drawn.</p>", kMaxSeries,
                       order.size());
  }
  if (!slopes.empty()) {
    out += fmt::format("<p class=\"sub\">Least-squares slope of each line:</p><ul class=\"sub\">{}</ul>", slopes);
  }
  out += svg::line_chart(fmt::format("axis-{}", x), series, axes);
  return out;
}

// Cost per million tokens against step time (run studies with prices): the
// Pareto front drawn and listed, the dominated points faded.
std::string pareto_chart(const StudyTable& t) {
  const auto front = pareto_front(t, "step_time_s", "usd_per_mtok");
  if (front.empty()) return "";
  const auto xi = position_of(t.metric_names, "step_time_s"), yi = position_of(t.metric_names, "usd_per_mtok");
  svg::Series faded{"dominated (another point is as fast and cheaper, or cheaper and as fast)", {}, "#c9c9c9", true};
  svg::Series line{"Pareto front", {}, "#1b7837", false};
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    if (!r.ok || !std::isfinite(r.metrics[xi]) || !std::isfinite(r.metrics[yi])) continue;
    const bool on = std::find(front.begin(), front.end(), static_cast<int>(i)) != front.end();
    (on ? line : faded).points.emplace_back(r.metrics[xi], r.metrics[yi]);
  }
  if (faded.points.size() + line.points.size() < 2) return "";
  std::sort(line.points.begin(), line.points.end());
  svg::Axes axes;
  axes.x_label = "step_time_s";
  axes.y_label = "usd_per_mtok (dollars per million tokens)";
  axes.format_x = [](double v) { return svg::format_seconds(v); };
  std::string out =
      "<h2>Cost against step time</h2><p class=\"sub\">Dollars per million tokens (capital over its depreciation "
      "plus energy: docs/power-and-cost.md) against step time. The Pareto front: no other point is both as fast and "
      "as cheap.</p>";
  std::vector<svg::Series> series;
  if (!faded.points.empty()) series.push_back(std::move(faded));
  series.push_back(std::move(line));
  out += svg::line_chart("pareto", series, axes);
  out += "<table class=\"pareto\"><tr><th>#</th>";
  for (const auto& p : t.axis_paths) out += fmt::format("<th>{}</th>", svg::escape(p));
  out += "<th>step time</th><th>$ per million tokens</th><th>IT power (kW)</th></tr>";
  const auto kw = position_of(t.metric_names, "it_power_kw");
  for (int i : front) {
    const auto& r = t.rows[static_cast<std::size_t>(i)];
    out += fmt::format("<tr><td>{}</td>", r.index);
    for (const auto& v : r.axis_values) out += fmt::format("<td>{}</td>", svg::escape(v));
    out += fmt::format("<td>{}</td><td>{:.3f}</td><td>{:.0f}</td></tr>", svg::format_seconds(r.metrics[xi]),
                       r.metrics[yi], r.metrics[kw]);
  }
  return out + "</table>";
}

}  // namespace

std::vector<int> pareto_front(const StudyTable& t, std::string_view x_metric, std::string_view y_metric) {
  const auto xi = position_of(t.metric_names, x_metric), yi = position_of(t.metric_names, y_metric);
  std::vector<int> candidates;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    if (r.ok && xi < r.metrics.size() && yi < r.metrics.size() && std::isfinite(r.metrics[xi]) &&
        std::isfinite(r.metrics[yi]))
      candidates.push_back(static_cast<int>(i));
  }
  auto x = [&](int i) { return t.rows[static_cast<std::size_t>(i)].metrics[xi]; };
  auto y = [&](int i) { return t.rows[static_cast<std::size_t>(i)].metrics[yi]; };
  // By x, then y: a row is on the front when it is cheaper than every row before it.
  std::sort(candidates.begin(), candidates.end(),
            [&](int a, int b) { return std::pair(x(a), y(a)) < std::pair(x(b), y(b)); });
  std::vector<int> front;
  double best_y = INFINITY;
  for (int i : candidates) {
    if (y(i) < best_y) {
      front.push_back(i);
      best_y = y(i);
    }
  }
  return front;
}

StudyTable study_table_for(const std::string& name, const std::string& kind, std::vector<std::string> axis_paths) {
  StudyTable t;
  t.name = name;
  t.kind = kind;
  t.axis_paths = std::move(axis_paths);
  if (kind == "run") {
    // step_p50_s to effective_tokens_per_s only with run.stragglers and
    // run.goodput (empty otherwise); it_power_kw to usd_per_mtok from the
    // catalog's prices (docs/power-and-cost.md), usd_per_effective_mtok
    // with run.goodput too (usd_per_mtok / ettr); the last three only with
    // run.neighbours (step_time_s is then the job's time with them).
    t.metric_names = {"step_time_s",
                      "tokens_per_s",
                      "compute_s",
                      "exposed_comm_s",
                      "bubble_s",
                      "bottleneck_delta_pct",
                      "mfu",
                      "step_p50_s",
                      "step_p90_s",
                      "step_p99_s",
                      "ettr",
                      "ettr_p10",
                      "effective_tokens_per_s",
                      "it_power_kw",
                      "capex_usd",
                      "kwh_per_step",
                      "usd_per_step",
                      "usd_per_mtok",
                      "usd_per_effective_mtok",
                      "switches",
                      "cables",
                      "cable_m",
                      "longest_cable_m",
                      "step_time_alone_s",
                      "slowdown",
                      "neighbour_slowdown"};
    t.label_names = {"bottleneck", "unpriced"};
    t.primary = "step_time_s";
    t.lower_is_better = true;
  } else {
    t.metric_names = {"time_us",  "algbw_GBps", "busbw_GBps", "it_power_kw",    "capex_usd",
                      "switches", "cables",     "cable_m",    "longest_cable_m"};
    t.label_names = {"algo", "proto", "unpriced"};
    t.primary = "busbw_GBps";
    t.lower_is_better = false;
  }
  return t;
}

void set_metric(const StudyTable& t, StudyRow& row, std::string_view name, double value) {
  row.metrics[position_of(t.metric_names, name)] = value;
}

double metric_of(const StudyTable& t, const StudyRow& row, std::string_view name) {
  return row.metrics[position_of(t.metric_names, name)];
}

void set_label(const StudyTable& t, StudyRow& row, std::string_view name, std::string value) {
  row.labels[position_of(t.label_names, name)] = std::move(value);
}

std::string study_csv(const StudyTable& t) {
  std::string out = "index";
  for (const auto& p : t.axis_paths) out += fmt::format(",{}", csv_field(p));
  out += ",status";
  for (const auto& m : t.metric_names) out += fmt::format(",{}", m);
  for (const auto& l : t.label_names) out += fmt::format(",{}", l);
  out += ",error\n";
  for (const auto& r : t.rows) {
    out += std::to_string(r.index);
    for (const auto& v : r.axis_values) out += fmt::format(",{}", csv_field(v));
    out += r.ok ? ",ok" : ",error";
    for (double v : r.metrics) out += fmt::format(",{}", number(v));
    for (const auto& l : r.labels) out += fmt::format(",{}", csv_field(l));
    out += fmt::format(",{}\n", csv_field(r.error));
  }
  return out;
}

std::string study_row_json(const StudyTable& t, const StudyRow& r, bool with_wall) {
  JsonWriter j;
  j.begin_object();
  j.key("index").value(static_cast<double>(r.index));
  j.key("hash").value(r.hash);
  j.key("axes").begin_object();
  for (std::size_t p = 0; p < t.axis_paths.size() && p < r.axis_values.size(); ++p) {
    j.key(t.axis_paths[p]).value(r.axis_values[p]);
  }
  j.end_object();
  j.key("status").value(r.ok ? "ok" : "error");
  j.key("metrics").begin_object();
  for (std::size_t k = 0; k < t.metric_names.size() && k < r.metrics.size(); ++k) {
    j.key(t.metric_names[k]).value(r.metrics[k]);
  }
  j.end_object();
  j.key("labels").begin_object();
  for (std::size_t k = 0; k < t.label_names.size() && k < r.labels.size(); ++k)
    j.key(t.label_names[k]).value(r.labels[k]);
  j.end_object();
  j.key("error").value(r.error);
  if (with_wall && std::isfinite(r.wall_s)) j.key("wall_s").value(r.wall_s);
  j.end_object();
  return j.str();
}

std::string study_jsonl(const StudyTable& t) {
  std::string out;
  for (const auto& r : t.rows) out += fmt::format("{}\n", study_row_json(t, r));
  return out;
}

std::string study_html(const StudyTable& t) {
  int ok = 0, failed = 0;
  for (const auto& r : t.rows) (r.ok ? ok : failed)++;
  const int missing = t.expected_points - static_cast<int>(t.rows.size());
  const int best = best_row(t);
  const auto m = static_cast<std::size_t>(std::find(t.metric_names.begin(), t.metric_names.end(), t.primary) -
                                          t.metric_names.begin());
  std::string body = fmt::format("<h1>Study: {}</h1>", svg::escape(t.name));
  body += fmt::format("<p class=\"sub\">{} study over {}; {} of {} points done.</p>",
                      t.kind == "run" ? "Training-step" : "Collective", svg::escape([&] {
                        std::string s;
                        for (const auto& p : t.axis_paths) s += fmt::format("{}{}", s.empty() ? "" : ", ", p);
                        return s;
                      }()),
                      t.rows.size(), t.expected_points);
  body += "<div class=\"cards\">";
  body += html_card("points ok", std::to_string(ok), "points-ok");
  body += html_card("points failed", std::to_string(failed), "points-failed");
  if (missing > 0) body += html_card("points not run yet", std::to_string(missing), "points-missing");
  if (best >= 0) {
    const auto& b = t.rows[static_cast<std::size_t>(best)];
    std::string where;
    for (std::size_t p = 0; p < t.axis_paths.size(); ++p) {
      where += fmt::format("{}{}={}", where.empty() ? "" : ", ", t.axis_paths[p], b.axis_values[p]);
    }
    body +=
        html_card(fmt::format("best {} ({} is better): {}", t.primary, t.lower_is_better ? "lower" : "higher", where),
                  format_metric(t.primary, b.metrics[m]), "best-point");
  }
  std::vector<double> walls;
  const StudyRow* slowest = nullptr;
  for (const auto& r : t.rows) {
    if (!std::isfinite(r.wall_s)) continue;
    if (!slowest || r.wall_s > slowest->wall_s) slowest = &r;
    walls.push_back(r.wall_s);
  }
  if (!walls.empty()) {
    std::sort(walls.begin(), walls.end());
    const double total = std::accumulate(walls.begin(), walls.end(), 0.0);
    body +=
        html_card(fmt::format("simulation time per point: median of {} (slowest: point {}, {:.1f} s; {:.0f} s in all)",
                              walls.size(), slowest->index, walls.back(), total),
                  fmt::format("{:.1f} s", walls[walls.size() / 2]), "point-time");
  }
  body += "</div>";
  if (ok > 0) {
    for (std::size_t x = 0; x < t.axis_paths.size(); ++x) body += axis_chart(t, x, best);
    if (t.kind == "run") body += pareto_chart(t);
  }
  body += "<h2>All points</h2><table><tr><th>#</th>";
  for (const auto& p : t.axis_paths) body += fmt::format("<th>{}</th>", svg::escape(p));
  for (const auto& name : t.metric_names) body += fmt::format("<th>{}</th>", svg::escape(name));
  for (const auto& name : t.label_names) body += fmt::format("<th>{}</th>", svg::escape(name));
  body += "<th>simulated in (s)</th></tr>";
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    body += static_cast<int>(i) == best ? "<tr class=\"best\">" : "<tr>";
    body += fmt::format("<td>{}</td>", r.index);
    for (const auto& v : r.axis_values) body += fmt::format("<td>{}</td>", svg::escape(v));
    if (!r.ok) {
      body += fmt::format("<td class=\"error\" colspan=\"{}\">{}</td></tr>",
                          t.metric_names.size() + t.label_names.size() + 1, svg::escape(r.error));
      continue;
    }
    for (std::size_t k = 0; k < r.metrics.size(); ++k) {
      body += fmt::format("<td>{}</td>", svg::escape(format_metric(t.metric_names[k], r.metrics[k])));
    }
    for (const auto& l : r.labels) body += fmt::format("<td>{}</td>", svg::escape(l));
    body += std::isfinite(r.wall_s) ? fmt::format("<td>{:.2f}</td></tr>", r.wall_s) : "<td></td></tr>";
  }
  body += "</table>";
  return html_page(fmt::format("collsim study: {}", t.name), body);
}

}  // namespace collsim::report
