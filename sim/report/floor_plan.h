// Drawings of a topology as inline SVG (used by `collsim topo --svg` and the
// HTML reports):
//   - the floor plan, seen from above: racks at their row and slot, and the
//     cables between racks as one line per pair of racks (width: how many
//     cables; colour: their length, or their utilisation in a simulated step);
//   - the tiers: devices grouped by kind and by hops from the nearest GPU
//     (GPU, then NVSwitch/NIC/PCIe, leaf, spine...), with the links between
//     groups (count x rate, class).
#pragma once

#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/topology/network.h"
#include "sim/topology/topology.h"

namespace collsim::report {

// Per file link (TopologySpec::links) utilisation over a step, 0..1: the
// busier direction of each, from the network links' bytes over `step_s`.
std::vector<double> cable_utilisation(const topology::Network& network, const std::vector<double>& link_bytes,
                                      double step_s, std::size_t spec_links);

// `utilisation` empty: cables coloured by medium (as built, the commonest
// in each bundle between two racks; lengths in each line's title). Otherwise one value per
// file link. `labels` given (one per file link, "" = not drawn): cables
// coloured by label (the commonest in each bundle: "job 1", "shared"),
// with a key. A topology without racks gets a short note instead of a plan.
std::string floor_plan_svg(const config::TopologySpec& spec, const topology::Topology& topo,
                           const std::vector<double>& utilisation = {}, const std::vector<std::string>& labels = {});

std::string tiers_svg(const config::TopologySpec& spec, const topology::Topology& topo);

// A standalone SVG document: the floor plan above the tiers.
std::string topology_svg_document(const config::TopologySpec& spec, const topology::Topology& topo);

}  // namespace collsim::report
