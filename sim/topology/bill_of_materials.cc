#include "sim/topology/bill_of_materials.h"

#include <algorithm>
#include <limits>

#include "sim/topology/cabling.h"

namespace collsim::topology {

namespace {

using config::DeviceKind;
using config::PartKind;
using config::PartSpec;

// What a device's links ask of its part.
struct Demand {
  int lanes = 0;           // ports taken
  double lane_Bps = 0;     // the fastest lane
  double cable_Bps = 0;    // its cables together (a NIC's ports)
  std::string link_class;  // of its first cable
};

// The cheapest part of `kind` that `accepts`.
template <typename Accepts>
const PartSpec* cheapest(const config::Catalog& catalog, PartKind kind, Accepts&& accepts) {
  const PartSpec* best = nullptr;
  for (const PartSpec& p : catalog.parts) {
    if (p.kind == kind && accepts(p) && (best == nullptr || p.usd < best->usd)) best = &p;
  }
  return best;
}

const PartSpec* part_of(const config::TopologySpec& spec, const config::DeviceSpec& d, const Demand& need) {
  const auto& catalog = spec.catalog;
  if (!d.part.empty()) return catalog.find(d.part);
  constexpr double kSlack = 1 - 1e-9;  // rates written alike on both sides
  switch (d.kind) {
    case DeviceKind::kGpu:
      for (const PartSpec& p : catalog.parts)
        if (p.kind == PartKind::kGpu && !d.model.empty() && p.model == d.model) return &p;
      return nullptr;
    case DeviceKind::kNic:
      if (need.cable_Bps <= 0) return nullptr;
      return cheapest(catalog, PartKind::kNic,
                      [&](const PartSpec& p) { return p.rate_Bps >= need.cable_Bps * kSlack; });
    case DeviceKind::kSwitch:
      return config::cheapest_switch(catalog, need.lane_Bps, need.lanes, need.link_class);
    default:
      return nullptr;
  }
}

}  // namespace

Expected<BillOfMaterials> bill_of_materials(const config::TopologySpec& spec) {
  BillOfMaterials bom;
  std::map<std::string, BomLine> lines;
  auto line = [&](const PartSpec& p) -> BomLine& {
    BomLine& l = lines[p.name];
    l.part = p.name;
    l.kind = p.kind;
    l.source = p.source;
    return l;
  };
  bom.racks.resize(spec.racks.size());
  for (std::size_t r = 0; r < spec.racks.size(); ++r) {
    const auto& rs = spec.racks[r];
    RackPower& rp = bom.racks[r];
    rp.rack = rs.name;
    rp.cooling = rs.cooling;
    const auto b = spec.catalog.rack_budget_W.find(rs.cooling);
    rp.budget_W = rs.budget_W >= 0                        ? rs.budget_W
                  : b != spec.catalog.rack_budget_W.end() ? b->second
                                                          : std::numeric_limits<double>::infinity();
  }
  auto add_power = [&](int rack, double watts) {
    if (rack >= 0) {
      bom.racks[static_cast<std::size_t>(rack)].watts += watts;
    } else {
      bom.unplaced_watts += watts;
    }
  };
  // Devices: what their links ask, then their parts.
  std::vector<Demand> need(spec.devices.size());
  for (const auto& l : spec.links) {
    const double lane = l.rate_Bps / l.lanes;
    for (int d : {l.a, l.b}) {
      Demand& n = need[static_cast<std::size_t>(d)];
      n.lanes += l.lanes;
      n.lane_Bps = std::max(n.lane_Bps, lane);
      if (!l.medium.empty()) {
        n.cable_Bps += l.rate_Bps;
        if (n.link_class.empty()) n.link_class = l.link_class;
      }
    }
  }
  bool any_gpu = false, any_cpu = false;
  for (std::size_t i = 0; i < spec.devices.size(); ++i) {
    const auto& d = spec.devices[i];
    any_gpu |= d.kind == DeviceKind::kGpu;
    any_cpu |= d.kind == DeviceKind::kCpu;
    const PartSpec* p = part_of(spec, d, need[i]);
    if (p == nullptr) {
      ++bom.unpriced[config::to_string(d.kind)];
      continue;
    }
    BomLine& l = line(*p);
    ++l.count;
    l.watts += p->watts;
    l.usd += p->usd;
    add_power(d.rack, p->watts);
    if (d.kind == DeviceKind::kSwitch && p->ports > 0) {
      const long long used = need[i].lanes;
      l.ports += p->ports;
      l.ports_used += used;
      if (used < p->ports) {
        l.fewest_used = l.with_spare_ports == 0 ? used : std::min(l.fewest_used, used);
        ++l.with_spare_ports;
      }
    }
    if (d.kind == DeviceKind::kGpu) {
      ++bom.gpus;
      bom.gpu_watts += p->watts;
      bom.gpu_idle_watts += p->idle_watts >= 0 ? p->idle_watts : p->watts;
    }
  }
  bom.no_hosts = any_gpu && !any_cpu;
  // Cables: one per lane, powered at both ends.
  const CableChooser cables(spec);
  for (const auto& l : spec.links) {
    if (l.medium.empty()) continue;
    auto length = cable_length_m(spec, l);
    if (!length) return length.error();
    auto cable = cables.choose(l, *length);
    if (!cable) return cable.error();
    if (*cable == nullptr) {
      bom.unpriced["cable (" + (l.medium == config::kAutoMedium ? std::string(kUnpricedAutoMedium) : l.medium) + ")"] +=
          l.lanes;
      continue;
    }
    const PartSpec& p = **cable;
    BomLine& bl = line(p);
    bl.count += l.lanes;
    bl.metres += l.lanes * *length;
    bl.watts += l.lanes * 2 * p.watts;
    bl.usd += l.lanes * config::cable_usd(p, *length);
    add_power(spec.devices[static_cast<std::size_t>(l.a)].rack, l.lanes * p.watts);
    add_power(spec.devices[static_cast<std::size_t>(l.b)].rack, l.lanes * p.watts);
  }
  // Rack-level parts.
  for (std::size_t r = 0; r < spec.racks.size(); ++r) {
    for (const auto& name : spec.racks[r].parts) {
      const PartSpec* p = spec.catalog.find(name);
      if (p == nullptr) continue;  // the reader checked every name
      BomLine& l = line(*p);
      ++l.count;
      l.watts += p->watts;
      l.usd += p->usd;
      l.copper_cables += p->copper_cables;
      bom.racks[r].watts += p->watts;
    }
  }
  for (auto& [name, l] : lines) {
    bom.it_watts += l.watts;
    bom.usd += l.usd;
    bom.lines.push_back(std::move(l));
  }
  std::stable_sort(bom.lines.begin(), bom.lines.end(),
                   [](const BomLine& a, const BomLine& b) { return a.kind < b.kind; });
  return bom;
}

StepEnergy step_energy(const BillOfMaterials& bom, const config::EnergySpec& energy, double step_s, double busy_s,
                       double job_gpu_share) {
  StepEnergy e;
  const double busy = std::clamp(busy_s, 0.0, step_s), share = std::clamp(job_gpu_share, 0.0, 1.0);
  e.gpu_J = share * (bom.gpu_watts * energy.gpu_busy_share * busy + bom.gpu_idle_watts * (step_s - busy)) +
            (1 - share) * bom.gpu_idle_watts * step_s;
  e.other_J = (bom.it_watts - bom.gpu_watts) * step_s;
  e.it_J = e.gpu_J + e.other_J;
  e.facility_J = e.it_J * energy.pue;
  e.mean_it_watts = step_s > 0 ? e.it_J / step_s : 0;
  constexpr double kJoulesPerKwh = 3.6e6;
  constexpr double kSecondsPerYear = 365.25 * 86400;
  e.energy_usd = e.facility_J / kJoulesPerKwh * energy.usd_per_kwh;
  e.capital_usd = bom.usd / (energy.depreciation_years * kSecondsPerYear) * step_s;
  e.usd = e.energy_usd + e.capital_usd;
  e.no_hosts = bom.no_hosts;
  return e;
}

}  // namespace collsim::topology
