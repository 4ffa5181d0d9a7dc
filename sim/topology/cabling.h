// Cable lengths from the floor plan, and the latency they add.
//
// A link with a `medium` is a cable. Its length is the file's `length:` if
// given; otherwise both ends must stand in racks and the cable is routed:
//   - same rack: straight between the two heights, plus slack;
//   - different racks: up from each device to the overhead tray
//     (rack_height - height + tray_above_rack at each end), along the trays
//     |d slot| x rack_pitch + |d row| x row_pitch (trays run along rows and
//     across aisles, never diagonally), plus slack.
// Its latency is the link's fixed latency + length x the medium's delay per
// metre, and a cable longer than its medium's reach is an error.
#pragma once

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

// REQUIRES: link.medium names a medium of spec.media.
Expected<double> cable_length_m(const config::TopologySpec& spec, const config::LinkSpec& link);

// The link's total latency (fixed + propagation), checking the reach.
Expected<double> link_latency_s(const config::TopologySpec& spec, const config::LinkSpec& link, double length_m);

}  // namespace collsim::topology
