#include "sim/report/bill_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace collsim::report {

namespace {

constexpr const char* kNoHostsNote =
    "no host CPUs in this topology: the hosts' own power and price (CPUs, memory, fans) are not counted";

std::string power(double watts) {
  if (watts >= 1e6) return fmt::format("{:.2f} MW", watts / 1e6);
  if (watts >= 1e3) return fmt::format("{:.1f} kW", watts / 1e3);
  return fmt::format("{:.0f} W", watts);
}

std::string dollars(double usd) {
  if (usd >= 1e9) return fmt::format("${:.2f}B", usd / 1e9);
  if (usd >= 1e6) return fmt::format("${:.2f}M", usd / 1e6);
  if (usd >= 1e3) return fmt::format("${:.1f}k", usd / 1e3);
  // A small step's fraction of a cent, to two significant digits, not $0.00.
  if (usd > 0 && usd < 0.01) return fmt::format("${:.{}f}", usd, 1 - static_cast<int>(std::floor(std::log10(usd))));
  return fmt::format("${:.2f}", usd);
}

}  // namespace

std::string energy_text(double joules) {
  const double kwh = joules / 3.6e6;
  // From 999.5 Wh on in kWh: "{:.3g}" would print 999.6 Wh as "1e+03 Wh".
  return kwh >= 0.9995 || kwh == 0 ? fmt::format("{:.3f} kWh", kwh) : fmt::format("{:.3g} Wh", kwh * 1e3);
}

std::string format_bill(const topology::BillOfMaterials& bom) {
  std::string out = fmt::format(
      "bill         {} of IT power, {} (catalog/parts.yaml prices, with any catalog: overrides; sources: --json)\n",
      power(bom.it_watts), dollars(bom.usd));
  std::size_t name_width = 20;
  for (const auto& l : bom.lines) name_width = std::max(name_width, l.part.size());
  for (const auto& l : bom.lines) {
    std::string what = fmt::format("{} x {}", l.count, config::to_string(l.kind));
    if (l.kind == config::PartKind::kCable) what = fmt::format("{} cables, {:.0f} m", l.count, l.metres);
    if (l.copper_cables > 0) what += fmt::format(" ({} copper cables)", l.copper_cables);
    out += fmt::format("  {:<{}} {:<28} {:>10} {:>10}\n", l.part, name_width, what, power(l.watts), dollars(l.usd));
    if (l.ports > 0) {
      out += fmt::format("    ports {} of {} used ({:.0f}%)", l.ports_used, l.ports, 100.0 * l.ports_used / l.ports);
      if (l.with_spare_ports > 0) {
        out += fmt::format("; {} switch{} with spare ports, the emptiest using {} of {}", l.with_spare_ports,
                           l.with_spare_ports == 1 ? "" : "es", l.fewest_used, l.ports / l.count);
      }
      out += "\n";
    }
  }
  if (!bom.unpriced.empty()) {
    std::string list;
    for (const auto& [k, n] : bom.unpriced) list += fmt::format("{}{} {}", list.empty() ? "" : ", ", n, k);
    out += fmt::format("  unpriced: {} (no catalog part: give them part:, or add one under catalog: parts:)\n", list);
  }
  if (bom.no_hosts) out += fmt::format("  {}\n", kNoHostsNote);
  if (!bom.racks.empty()) {
    const auto busiest = std::max_element(bom.racks.begin(), bom.racks.end(),
                                          [](const auto& a, const auto& b) { return a.watts < b.watts; });
    const auto over = std::count_if(bom.racks.begin(), bom.racks.end(), [](const auto& r) { return r.over_budget(); });
    out += fmt::format(
        "racks        {} rack{}; the busiest, {}, draws {} of its {} ({}-cooled) budget: its parts' power only "
        "(DPUs, drives, fans and power conversion not counted: an NVL72 rack is 14% under NVIDIA's figure)\n",
        bom.racks.size(), bom.racks.size() == 1 ? "" : "s", busiest->rack, power(busiest->watts),
        power(busiest->budget_W), busiest->cooling);
    if (over > 0) {
      out += fmt::format("  OVER BUDGET: {} rack{}:", over, over == 1 ? "" : "s");
      int shown = 0;
      for (const auto& r : bom.racks) {
        if (!r.over_budget()) continue;
        if (shown++ == 8) {
          out += "; ...";
          break;
        }
        out += fmt::format("{} {} {} of {}", shown > 1 ? ";" : "", r.rack, power(r.watts), power(r.budget_W));
      }
      out += "\n";
    }
  }
  if (bom.unplaced_watts > 0) out += fmt::format("  outside any rack: {}\n", power(bom.unplaced_watts));
  return out;
}

void write_bill_json(JsonWriter& w, const topology::BillOfMaterials& bom) {
  w.key("bill").begin_object();
  w.key("it_watts").value(bom.it_watts).key("usd").value(bom.usd);
  w.key("gpu_watts").value(bom.gpu_watts).key("gpu_idle_watts").value(bom.gpu_idle_watts);
  w.key("parts").begin_array();
  for (const auto& l : bom.lines) {
    w.begin_object().key("part").value(l.part).key("kind").value(config::to_string(l.kind));
    w.key("count").value(static_cast<double>(l.count)).key("metres").value(l.metres);
    w.key("watts").value(l.watts).key("usd").value(l.usd);
    w.key("copper_cables").value(static_cast<double>(l.copper_cables)).key("source").value(l.source);
    if (l.ports > 0) {
      w.key("ports").value(static_cast<double>(l.ports)).key("ports_used").value(static_cast<double>(l.ports_used));
      w.key("with_spare_ports").value(static_cast<double>(l.with_spare_ports));
      if (l.with_spare_ports > 0) w.key("fewest_ports_used").value(static_cast<double>(l.fewest_used));
    }
    w.end_object();
  }
  w.end_array();
  w.key("unpriced").begin_object();
  for (const auto& [k, n] : bom.unpriced) w.key(k).value(static_cast<double>(n));
  w.end_object();
  w.key("racks").begin_array();
  for (const auto& r : bom.racks) {
    w.begin_object().key("rack").value(r.rack).key("cooling").value(r.cooling);
    w.key("watts").value(r.watts).key("budget_W").value(r.budget_W).key("over_budget").value(r.over_budget());
    w.end_object();
  }
  w.end_array();
  w.key("unplaced_watts").value(bom.unplaced_watts).key("no_hosts").value(bom.no_hosts);
  w.end_object();
}

std::string format_step_energy(const topology::StepEnergy& e, const config::EnergySpec& spec, double tokens_per_step) {
  std::string out =
      fmt::format("energy       {} per step at the facility (IT {} x PUE {:g}; mean IT power {}; GPUs {:.0f}%)\n",
                  energy_text(e.facility_J), energy_text(e.it_J), spec.pue, power(e.mean_it_watts),
                  e.it_J > 0 ? 100 * e.gpu_J / e.it_J : 0);
  out += fmt::format("cost         {} per step: energy {} at ${:g}/kWh + capital {} over {:g} years", dollars(e.usd),
                     dollars(e.energy_usd), spec.usd_per_kwh, dollars(e.capital_usd), spec.depreciation_years);
  if (tokens_per_step > 0) {
    out += fmt::format("; {} and {} per million tokens", dollars(e.usd / tokens_per_step * 1e6),
                       energy_text(e.facility_J / tokens_per_step * 1e6));
  }
  out += "\n";
  if (e.no_hosts) out += fmt::format("             {}\n", kNoHostsNote);
  return out;
}

void write_step_energy_json(JsonWriter& w, const topology::StepEnergy& e, const config::EnergySpec& spec,
                            double tokens_per_step) {
  w.key("energy").begin_object();
  w.key("gpu_J").value(e.gpu_J).key("other_J").value(e.other_J).key("it_J").value(e.it_J);
  w.key("facility_J").value(e.facility_J).key("mean_it_watts").value(e.mean_it_watts);
  w.key("pue").value(spec.pue).key("usd_per_kwh").value(spec.usd_per_kwh);
  w.key("depreciation_years").value(spec.depreciation_years);
  w.key("energy_usd").value(e.energy_usd).key("capital_usd").value(e.capital_usd).key("usd").value(e.usd);
  w.key("no_hosts").value(e.no_hosts);
  if (tokens_per_step > 0) {
    w.key("usd_per_million_tokens").value(e.usd / tokens_per_step * 1e6);
    w.key("facility_kwh_per_million_tokens").value(e.facility_J / 3.6e6 / tokens_per_step * 1e6);
  }
  w.end_object();
}

}  // namespace collsim::report
