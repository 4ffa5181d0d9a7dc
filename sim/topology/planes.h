// Fabric planes: parallel copies of a scale-out fabric that every NIC joins
// with one port each (an 800G NIC run as 2 x 400G ports on two planes, the
// `planes:` of a cluster template). NCCL drives every port of a NIC, so a
// NIC's traffic leaves on all planes at once; routing that picks one plane
// per pair would use half of every such cluster.
//
// plane_representatives() finds the planes and pairs their switches: it
// returns, for every vertex, the vertex that stands for it across planes
// (itself, unless it is a fabric switch of a plane other than the first of
// its kind). Network's twin merging then compares neighbours through this
// map, so a switch and its counterparts in the other planes merge into one
// logical switch carrying their summed rates: striping in proportion to
// rate, exact for max-min fair sharing, as for the NVSwitch chips of a node.
//
// How planes are found (no names involved): the fabric switches
// (DeviceKind::kSwitch) fall apart into connected components once the NICs
// and hosts are set aside; colour refinement (1-dimensional Weisfeiler-
// Leman) labels each switch by what it reaches, every non-switch device
// being its own label and every link carrying its class, efficiency and
// rate. Components with the same multiset of labels are candidate copies;
// their switches are paired label by label, a switch with the one whose
// already-paired neighbours correspond (declaration order does not
// matter), and the pairing is used only if it is a verified isomorphism:
// each switch's links, its neighbours mapped, equal its counterpart's
// (same classes, efficiencies and rates). Anything else (planes of unequal
// rates, differently shaped fabrics) keeps every switch as it is.
//
// Cost: O(rounds x edges x log) when there are at least two components;
// a single-component fabric returns at once.
#pragma once

#include <vector>

#include "sim/topology/topology.h"

namespace collsim::topology {

// REQUIRES: g is a built topology graph. Returns one entry per vertex.
std::vector<Vertex> plane_representatives(const Graph& g);

}  // namespace collsim::topology
