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

#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"

namespace collsim::topology {

// REQUIRES: link.medium is set.
Expected<double> cable_length_m(const config::TopologySpec& spec, const config::LinkSpec& link);

// The catalog cable (spec.catalog) each of a link's lanes is, at a length:
//   - medium `auto`: the cheapest cable, of any medium in spec.media, that
//     carries one lane's rate and reaches (its own reach and its medium's);
//   - a named medium: the cheapest cable of that medium that does.
// An error naming the link when the catalog has cables (of that medium) at
// that rate but none reaches; nullptr when it has none at that rate (the
// link is a cable the bill cannot price; an `auto` one is then fibre, and
// link_latency_s still checks its medium's reach).
// Built once per topology: it keeps the catalog's cables with their reach.
// REQUIRES: `spec` outlives it.
// What an `auto` cable is when no catalog cable is that fast.
inline constexpr const char* kUnpricedAutoMedium = "fibre";

class CableChooser {
 public:
  explicit CableChooser(const config::TopologySpec& spec);
  Expected<const config::PartSpec*> choose(const config::LinkSpec& link, double length_m) const;

 private:
  struct Option {
    const config::PartSpec* part;
    double reach_m;  // the part's, within its medium's
  };
  const config::TopologySpec& spec_;
  std::vector<Option> options_;
};

// The link's total latency (fixed + propagation over `medium`, a medium of
// spec.media: the link's, or its chosen cable's for `auto`), checking the
// medium's reach.
Expected<double> link_latency_s(const config::TopologySpec& spec, const config::LinkSpec& link, double length_m,
                                const std::string& medium);

}  // namespace collsim::topology
