// The bill of materials, rack power and a step's energy and cost, as text
// and JSON (`collsim topo`, `collsim run`; docs/power-and-cost.md).
#pragma once

#include <string>

#include "sim/report/json.h"
#include "sim/topology/bill_of_materials.h"

namespace collsim::report {

// One line per part: count, metres (cables), watts and dollars; the totals;
// what is unpriced; every rack over its budget and the busiest rack.
std::string format_bill(const topology::BillOfMaterials& bom);
// "bill": {"parts": [{part, kind, count, metres, watts, usd, copper_cables,
// source}...], "it_watts", "usd", "unpriced": {...}, "racks": [{rack,
// cooling, watts, budget_W, over_budget}...], "unplaced_watts"}
void write_bill_json(JsonWriter& w, const topology::BillOfMaterials& bom);

// Energy in joules as text: kWh, or Wh below one kWh (a small step's is not
// 0.000 kWh).
std::string energy_text(double joules);

// Energy and cost of one step and per million tokens (tokens_per_step 0:
// none), as text lines and JSON fields "energy": {...}.
std::string format_step_energy(const topology::StepEnergy& e, const config::EnergySpec& spec, double tokens_per_step);
void write_step_energy_json(JsonWriter& w, const topology::StepEnergy& e, const config::EnergySpec& spec,
                            double tokens_per_step);

}  // namespace collsim::report
