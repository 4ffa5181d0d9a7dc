// Small inline-SVG charts for the HTML reports: no script, no external
// resource, so a report opens anywhere, offline, and prints. Every chart is
// one <svg class="chart" data-chart="NAME"> element with <title> tooltips.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace collsim::report::svg {

std::string escape(std::string_view text);  // for XML text and attribute values

// The opening tag every chart uses: <svg class="chart" data-chart=NAME ...>
// of the reports' width (960) and `height`.
std::string open_chart(const std::string& name, double height);

// 0 -> pale, 0.5 -> amber, 1 -> red: utilisation and other 0..1 scales.
std::string heat_colour(double fraction);
// A colour for category i of a small palette (distinct, colour-blind safe).
std::string category_colour(int i);

// A horizontal stacked bar of parts of a whole, with a legend of values.
struct Part {
  std::string label;
  double value = 0;
  std::string colour;
};
std::string stacked_bar(const std::string& name, const std::vector<Part>& parts,
                        const std::function<std::string(double)>& format_value);

// Horizontal bars of signed values around zero (e.g. step-time change, %).
struct Bar {
  std::string label;
  double value = 0;
  std::string note;  // shown after the value
};
std::string bar_chart(const std::string& name, const std::vector<Bar>& bars, const std::string& unit);

// Lines (or markers only) over x, optionally on a log-2 x axis.
struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
  std::string colour;
  bool markers_only = false;
};
struct Axes {
  std::string x_label, y_label;
  bool log_x = false;
  std::function<std::string(double)> format_x;  // tick labels
  std::vector<double> x_ticks;                  // explicit ticks (e.g. categories at 0, 1, ...); empty: automatic
};
std::string line_chart(const std::string& name, const std::vector<Series>& series, const Axes& axes);

// Rows of 0..1 values over equal time bins from 0 to t_end.
struct HeatRow {
  std::string label;
  std::vector<double> values;
};
std::string heat_map(const std::string& name, const std::vector<HeatRow>& rows, double t_end_s);

// A timeline: rows of boxes in categories (colour + legend).
struct Box {
  double t0 = 0, t1 = 0;
  int category = 0;
  std::string title;
};
struct GanttRow {
  std::string label;
  std::vector<Box> boxes;
};
// Drawn per pixel column: each stacks the share of its time every category
// ran (in twelfths of the row), equal neighbours merged, so a step with
// thousands of operations per GPU stays a light, honest picture; the
// Perfetto trace has every operation.
std::string gantt(const std::string& name, const std::vector<GanttRow>& rows, double t_end_s,
                  const std::vector<std::string>& categories);

// Tick label for seconds: "250 us", "12 ms", "3.5 s".
std::string format_seconds(double s);

}  // namespace collsim::report::svg
