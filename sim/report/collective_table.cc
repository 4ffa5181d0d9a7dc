#include "sim/report/collective_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "sim/report/json.h"

namespace collsim::report {

namespace {

// "1048576, 67108864": the sizes of the rows where `flag` is set.
std::string sizes_where(const std::vector<CollectiveRow>& rows, bool CollectiveRow::*flag) {
  std::string out;
  for (const auto& r : rows)
    if (r.*flag) out += fmt::format("{}{:.0f}", out.empty() ? "" : ", ", r.bytes);
  return out;
}

}  // namespace

std::string format_collective_table(const CollectiveHeader& h, const std::vector<CollectiveRow>& rows) {
  std::string out;
  out += fmt::format("# collsim collective: {} (algorithm {}) on {} ranks of {}, backend {}\n", h.op, h.algo, h.ranks,
                     h.topology, h.backend);
  out += "# algbw = size / time, busbw = algbw x nccl-tests' factor for the op; GB/s = 1e9 bytes/s\n#\n";
  out += fmt::format("# {:>12} {:>12} {:>8} {:>6} {:>6} {:>6} {:>12} {:>8} {:>8}\n", "size", "count", "type", "redop",
                     "algo", "proto", "time", "algbw", "busbw");
  out += fmt::format("# {:>12} {:>12} {:>8} {:>6} {:>6} {:>6} {:>12} {:>8} {:>8}\n", "(B)", "(elements)", "", "", "",
                     "", "(us)", "(GB/s)", "(GB/s)");
  double busbw_sum = 0;
  for (const auto& r : rows) {
    out += fmt::format("  {:>12.0f} {:>12} {:>8} {:>6} {:>6} {:>6} {:>12.2f} {:>8.2f} {:>8.2f}\n", r.bytes, r.count,
                       r.type, r.redop, r.algo, r.proto, r.time_us, r.algbw_GBps, r.busbw_GBps);
    busbw_sum += r.busbw_GBps;
  }
  if (!rows.empty()) {
    out += fmt::format("# Avg bus bandwidth    : {:.3f}\n", busbw_sum / static_cast<double>(rows.size()));
  }
  const std::string contended = sizes_where(rows, &CollectiveRow::contended);
  if (!contended.empty()) {
    out += fmt::format(
        "# contended: at {} bytes the schedule's transfers share links (at once, or the busiest\n"
        "#   link's load set the time): the closed form is least certain there and the\n"
        "#   flow-level SimGrid backend may be slower (docs/architecture.md)\n",
        contended);
  }
  const std::string aggregated = sizes_where(rows, &CollectiveRow::aggregated);
  if (!aggregated.empty()) {
    out += fmt::format(
        "# aggregated: at {} bytes SimGrid simulated one step of the rings with all its flows and\n"
        "#   repeated it (--simgrid-aggregate-above): within 4% of the full simulation on the\n"
        "#   four clusters measured (docs/performance.md)\n",
        aggregated);
  }
  // Candidates the tuner did not simulate: each reason once, with its sizes.
  std::vector<std::pair<std::string, std::string>> skipped;  // reason, sizes
  for (const auto& r : rows) {
    for (const auto& why : r.skipped) {
      auto it = std::find_if(skipped.begin(), skipped.end(), [&](const auto& x) { return x.first == why; });
      if (it == skipped.end()) it = skipped.insert(skipped.end(), {why, ""});
      it->second += fmt::format("{}{:.0f}", it->second.empty() ? "" : ", ", r.bytes);
    }
  }
  for (const auto& [why, sizes] : skipped) {
    const auto count = static_cast<std::size_t>(std::count(sizes.begin(), sizes.end(), ',') + 1);
    out +=
        fmt::format("# not simulated {}: {}\n", count == rows.size() ? "at any size" : "at " + sizes + " bytes", why);
  }
  return out;
}

std::string collective_json(const CollectiveHeader& h, const std::vector<CollectiveRow>& rows) {
  JsonWriter w;
  w.begin_object();
  w.key("topology").value(h.topology);
  w.key("backend").value(h.backend);
  w.key("results").begin_array();
  for (const auto& r : rows) {
    w.begin_object();
    w.key("op").value(r.op);
    w.key("algo").value(r.algo);
    w.key("proto").value(r.proto);
    w.key("bytes").value(r.bytes);
    w.key("count").value(static_cast<double>(r.count));
    w.key("type").value(r.type);
    w.key("redop").value(r.redop);
    w.key("ranks").value(static_cast<double>(r.ranks));
    w.key("time_us").value(r.time_us);
    w.key("algbw_GBps").value(r.algbw_GBps);
    w.key("busbw_GBps").value(r.busbw_GBps);
    w.key("contended").value(r.contended);
    w.key("aggregated").value(r.aggregated);
    w.key("skipped").begin_array();
    for (const auto& why : r.skipped) w.value(why);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace collsim::report
