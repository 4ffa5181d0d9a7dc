// The device/link graph of a cluster (Boost.Graph), built from a validated
// TopologySpec. Each full-duplex cable becomes two directed edges, one per
// direction, each with its own rate: traffic one way never slows the other.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

struct Device {
  std::string name;
  config::DeviceKind kind = config::DeviceKind::kGpu;
  SourceMark declared_at;
};

// One direction of a link (or bundle of lanes).
struct Link {
  double rate_Bps = 0;      // line rate of the bundle in this direction
  double efficiency = 1.0;  // achievable fraction for collective traffic
  double latency_s = 0;
  std::string link_class;
  double nvls_efficiency = 0;
  int spec_index = -1;  // index into TopologySpec::links
  double length_m = 0;  // of its cable; 0 when it is not a cable
  std::string medium;   // empty when it is not a cable
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Device, Link>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

struct Topology {
  std::string name;
  std::string file;
  Graph graph;
  std::vector<Vertex> gpus;  // in declaration order; rank i runs on gpus[i] by default
};

// Builds the graph and checks it: at least one GPU, and every GPU reaches
// every other through devices that forward traffic (switches, NICs), not
// through other GPUs or CPUs. Errors name the file position of the culprit.
Expected<Topology> build_topology(const config::TopologySpec& spec);

}  // namespace collsim::topology
