#include "sim/config/jobs_file.h"

#include <fmt/format.h>

#include <cmath>

#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::config {

std::optional<double> parse_job_start(const std::string& text) {
  auto d = units::parse_duration(text);
  if (!d || !std::isfinite(d->seconds) || d->seconds < 0 || d->seconds > 1e9) return std::nullopt;
  return d->seconds;
}

Expected<std::vector<JobEntry>> load_jobs_file(const std::string& path) {
  auto text = read_text_file(path, "jobs file");
  if (!text) return text.error();
  auto loaded = load_yaml(*text, path);
  if (!loaded) return loaded.error();
  MapReader top(*loaded, path, "");
  if (auto s = top.check({"jobs"}); !s) return s.error();
  const YAML::Node list = top.child("jobs");
  if (!list || !list.IsSequence() || list.size() == 0)
    return top.error_at("jobs", "expected a list of jobs, each {workload: FILE, placement: SPEC, start: TIME}");
  std::vector<JobEntry> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    MapReader m(list[i], path, fmt::format("jobs[{}]", i));
    if (auto s = m.check({"workload", "placement", "start"}); !s) return s.error();
    JobEntry e;
    e.at = mark_of(list[i], path);
    e.workload_at = m.mark_of("workload");
    e.placement_at = m.mark_of("placement");
    e.field = fmt::format("jobs[{}]", i);
    auto w = m.scalar("workload");
    if (!w) return w.error();
    e.workload = *w;
    auto p = m.scalar("placement");
    if (!p) return p.error();
    e.placement = *p;
    auto start = m.optional_scalar("start");
    if (!start) return start.error();
    if (*start) {
      const auto seconds = parse_job_start(**start);
      if (!seconds)
        return m.error_at("start", fmt::format("expected a time from 0 (such as 2s or 500ms), found '{}'", **start));
      e.start_s = *seconds;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace collsim::config
