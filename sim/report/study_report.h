// A study's results: one row per point (its axes' values, status, metrics,
// labels such as the top bottleneck), written as CSV, JSON lines and one
// self-contained HTML page with a chart per axis.
#pragma once

#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace collsim::report {

struct StudyRow {
  int index = 0;
  std::string hash;
  std::vector<std::string> axis_values;  // in the study's axis_paths() order
  bool ok = false;
  std::vector<double> metrics;      // in StudyTable::metric_names order (NaN: none)
  std::vector<std::string> labels;  // in StudyTable::label_names order
  std::string error;                // when !ok
  // Seconds its worker took to simulate it (wall clock); NaN when not
  // recorded. In the point file and the HTML report only, so that
  // results.csv and results.jsonl stay the same from run to run.
  double wall_s = NAN;
};

struct StudyTable {
  std::string name, kind;  // kind: "run" or "collective"
  std::vector<std::string> axis_paths;
  std::vector<std::string> metric_names, label_names;
  std::string primary;          // the metric the report plots and ranks by
  bool lower_is_better = true;  // step time: lower; busbw: higher
  int expected_points = 0;      // the whole study (rows may be fewer: a shard, an interrupted run)
  std::vector<StudyRow> rows;   // by index
};

// Sets the metric or label `name` of `row`, a row of `t` (its metrics and
// labels sized to t's names): rows are filled by name, never by position.
// REQUIRES: `name` is one of t.metric_names (t.label_names).
void set_metric(const StudyTable& t, StudyRow& row, std::string_view name, double value);
void set_label(const StudyTable& t, StudyRow& row, std::string_view name, std::string value);
// The metric `name` of `row` (NaN: not set). REQUIRES: as set_metric.
double metric_of(const StudyTable& t, const StudyRow& row, std::string_view name);

// The metrics and labels of each study kind, and its primary metric.
StudyTable study_table_for(const std::string& name, const std::string& kind, std::vector<std::string> axis_paths);

// The rows (indices into t.rows, by the x metric) on the Pareto front of two
// lower-is-better metrics (step time and cost per token, say): ok rows with
// both values that no other such row matches or beats on both and beats on
// one. Rows without both values are left out.
std::vector<int> pareto_front(const StudyTable& t, std::string_view x_metric, std::string_view y_metric);

std::string study_csv(const StudyTable& t);
std::string study_jsonl(const StudyTable& t);
std::string study_html(const StudyTable& t);

// One row as a JSON object (also the per-point file's content).
// With `with_wall`, also the row's wall_s (the point files).
std::string study_row_json(const StudyTable& t, const StudyRow& row, bool with_wall = false);

}  // namespace collsim::report
