// The bill of materials of a topology as built (failed parts included: they
// are still installed), priced and powered from its catalog
// (config::Catalog, catalog/parts.yaml), the power of each rack against its
// budget, and the energy and cost of a training step on it
// (docs/power-and-cost.md).
//
// Which part a device is: its `part:` when given; else a GPU is the catalog
// GPU of its model, a NIC the cheapest catalog NIC at least as fast as its
// cables together, a switch the cheapest catalog switch of its links' class
// with as many ports as its links' lanes at their rate. Devices no rule
// matches (CPUs, NVSwitches, PCIe switches without `part:`) are counted as
// unpriced, never silently as zero. Cables: each lane of a link with a
// medium is one cable of the part cabling.h CableChooser picks, drawing its
// power at both ends.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

struct BomLine {
  std::string part;
  config::PartKind kind = config::PartKind::kGpu;
  long long count = 0;          // devices, cables (lanes) or rack-level parts
  double metres = 0;            // cables: their total length
  double watts = 0;             // all of them (cables: both ends)
  double usd = 0;               // all of them
  long long copper_cables = 0;  // rack-level parts: the cables they hold
  // Switches: the ports bought (the part's port count each), those their
  // links' lanes take, the switches that leave some unused, and the fewest
  // ports one of them uses (a spine tier sized to divide the leaves'
  // up-ports can leave a third of its ports empty: priced all the same).
  long long ports = 0, ports_used = 0, with_spare_ports = 0, fewest_used = 0;
  std::string source;
};

struct RackPower {
  std::string rack;
  std::string cooling;  // "air" or "liquid"
  double watts = 0;     // its devices, its cables' ends in it, its rack-level parts
  double budget_W = 0;  // its own, else the catalog's for its cooling
  bool over_budget() const { return watts > budget_W; }
};

struct BillOfMaterials {
  std::vector<BomLine> lines;  // by kind (config::PartKind order), then part name
  // Devices and cables no catalog part prices, by "gpu", "cpu", ... or
  // "cable (MEDIUM)": they are left out of every total below.
  std::map<std::string, long long> unpriced;
  double it_watts = 0;  // every priced part at its power
  double usd = 0;       // every priced part
  // The GPUs' share of it_watts (their parts' power) and what they draw
  // while not computing (their idle power); the rest draws it_watts -
  // gpu_watts whether the GPUs compute or not.
  double gpu_watts = 0, gpu_idle_watts = 0;
  long long gpus = 0;  // GPUs with a part
  // GPUs but no CPU device: the hosts' own power and price (CPUs, memory,
  // fans: the host share the templates' CPUs carry) are not in the bill.
  bool no_hosts = false;
  std::vector<RackPower> racks;  // every rack, in file order
  double unplaced_watts = 0;     // devices and cable ends outside any rack
};

// REQUIRES: spec passed the topology reader (links resolve, media exist).
// Errors: a cable no catalog part reaches (CableChooser::choose).
Expected<BillOfMaterials> bill_of_materials(const config::TopologySpec& spec);

// A training step's energy and cost on the whole cluster: every GPU of the
// job draws its part's power x energy.gpu_busy_share while computing
// (busy_s, the mean over the job's GPUs) and its idle power for the rest of
// step_s; the job's share of the GPUs is `job_gpu_share` (a placement,
// topology/placement.h; 1 = every GPU), the others idle throughout;
// everything else draws its power throughout. Facility energy = IT energy x
// PUE. Capital: the whole bill's price spread evenly over the depreciation
// period (the cluster is bought whole, whatever part a job uses).
struct StepEnergy {
  double gpu_J = 0, other_J = 0, it_J = 0, facility_J = 0;
  double mean_it_watts = 0;
  double energy_usd = 0, capital_usd = 0, usd = 0;
  // BillOfMaterials::no_hosts: the hosts' power and price are not in it.
  bool no_hosts = false;
};
StepEnergy step_energy(const BillOfMaterials& bom, const config::EnergySpec& energy, double step_s, double busy_s,
                       double job_gpu_share = 1.0);

}  // namespace collsim::topology
