// Plane merging (docs/architecture.md): switches that are twins (same kind,
// same neighbours, the same share of every neighbour's bandwidth; NVSwitch
// chips whatever their shares, failed links counted) merge into one logical
// switch whose links carry the summed rate. Network's constructor uses it.
#pragma once

#include <string>
#include <vector>

#include "sim/topology/failures.h"
#include "sim/topology/topology.h"

namespace collsim::topology {

// "a..b (4 planes)" for several twins, the device's name for one.
std::string merged_name(const Graph& g, const std::vector<Vertex>& twins);

// The merged graph's nodes as lists of original vertices, and each vertex's
// node in `node_of` (resized to the graph's vertices).
std::vector<std::vector<Vertex>> merge_twins(const Graph& g, const FailureSummary& failed, std::vector<int>& node_of);

}  // namespace collsim::topology
