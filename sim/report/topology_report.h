// `collsim topo` output: a text summary, JSON, and Graphviz DOT.
#pragma once

#include <string>

#include "sim/topology/bill_of_materials.h"
#include "sim/topology/summary.h"
#include "sim/topology/topology.h"

namespace collsim::report {

std::string format_topology_summary(const topology::TopologySummary& s);
// One line per GPU model the topology's GPUs use: count, dense peaks and
// matmul ceilings per precision, HBM ("" when no GPU names a model).
std::string format_gpu_models(const config::TopologySpec& spec);
// {"devices": {...}, "links": {...}, "gpus", "bisection_GBps", "diameter_hops",
//  "cables": {"count", "total_m", "max_m", "by_medium": {...}, "by_length": {...}}, ...,
//  "bill": {...} (bill_report.h)}
std::string topology_json(const topology::TopologySummary& s, const topology::BillOfMaterials& bom);
// One node per device, one undirected edge per cable or bundle (Boost's
// write_graphviz), labelled with class, lanes x rate and length.
std::string topology_dot(const topology::Topology& topo);

}  // namespace collsim::report
