// The catalog of parts (docs/power-and-cost.md): what each device, cable and
// rack-level part draws and costs, the cables' reach by medium and rate, the
// racks' power budgets, and the energy and depreciation figures a step's
// cost is priced with.
//
// The built-in catalog is catalog/parts.yaml (compiled in); a topology
// file's `catalog:` section (same schema) replaces a built-in entry of the
// same name field by field, or adds one. Every entry states its `source`
// (a publication and date, or "ASSUMPTION: why", or "NOT FOUND: what was
// looked for; ASSUMPTION: ..."). Units: watts, US dollars, metres, bytes/s.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace YAML {
class Node;
}

namespace collsim::config {

// What a part is, and so which devices or links it prices.
enum class PartKind { kGpu, kCpu, kNic, kNvSwitch, kPcieSwitch, kSwitch, kCable, kRack };
const char* to_string(PartKind kind);

struct PartSpec {
  std::string name;
  PartKind kind = PartKind::kGpu;
  std::string model;         // kGpu: the GPU model it is (gpu_models.h), matched by devices without `part:`
  std::string medium;        // kCable: a medium of TopologySpec::media (dac, aec, aoc, fibre...)
  std::string fabric_class;  // kSwitch: the link class of its ports ("" = any)
  double rate_Bps = 0;       // kNic, kSwitch: rate of one port; kCable: the rate one cable carries
  int ports = 0;             // kSwitch: ports of that rate
  double reach_m = 0;        // kCable: the longest cable of this kind
  // kCable: per end (a transceiver, or an active cable's end); others: the
  // part's draw while in use (typical where a datasheet gives it, else its
  // maximum: docs/power-and-cost.md says which).
  double watts = 0;
  // kGpu: the draw while not computing (communicating or waiting); -1 = watts.
  double idle_watts = -1;
  double usd = 0;         // per part; kCable: per cable, both ends included
  double usd_per_m = 0;   // kCable: fibre priced per metre on top of the ends (0 for whole assemblies)
  int copper_cables = 0;  // kRack: cables the part holds (the NVL72 NVLink spine's), for the bill
  std::string source;
  SourceMark declared_at;
};

// What a step's energy and cost are priced with.
struct EnergySpec {
  double pue = 1.2;               // facility power / IT power
  double usd_per_kwh = 0.08;      // electricity
  double depreciation_years = 5;  // capital cost spread over
  // A GPU's draw while it computes, as a share of its part's watts.
  double gpu_busy_share = 1.0;
  std::map<std::string, std::string> sources;  // per field
};

struct Catalog {
  std::vector<PartSpec> parts;  // in file order, built-ins first
  std::map<std::string, int> index;
  EnergySpec energy;
  // Rack power budgets by cooling ("air", "liquid"), watts of IT load.
  std::map<std::string, double> rack_budget_W;
  std::map<std::string, std::string> rack_budget_source;
  const PartSpec* find(const std::string& name) const {
    const auto it = index.find(name);
    return it == index.end() ? nullptr : &parts[static_cast<std::size_t>(it->second)];
  }
};

// The built-in catalog (catalog/parts.yaml), read once. Its errors would be
// a build defect: read_builtin_catalog's test reads it.
const Catalog& builtin_catalog();
Expected<Catalog> read_builtin_catalog();

// Merges the catalog map `node` (read from `file`, under the field path
// `path`) into `into`: an entry whose name exists replaces the fields it
// gives; a new entry must give every field its kind needs. Errors name
// file:line:column, the field, what was expected and what was found.
Status read_catalog(const YAML::Node& node, const std::string& file, const std::string& path, Catalog& into);

// The switch the bill buys for ports of `port_Bps` on a fabric of class
// `link_class`, `ports` of them taken: the cheapest switch part of that
// class (or of none) at least that fast with at least that many ports;
// nullptr when none is. Also the templates' default leaf radix
// (cluster_params.h default_leaf_radix).
const PartSpec* cheapest_switch(const Catalog& catalog, double port_Bps, int ports, const std::string& link_class);

// A cable's price at `length_m`: its ends (or whole assembly) and its fibre.
inline double cable_usd(const PartSpec& cable, double length_m) { return cable.usd + cable.usd_per_m * length_m; }

}  // namespace collsim::config
