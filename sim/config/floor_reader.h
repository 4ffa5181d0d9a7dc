// Reading the physical layout parts of a topology file: `floor:`, `racks:`
// and `media:`. Internal to sim/config (topology_file.cc calls these).
#pragma once

#include <string>
#include <unordered_map>

#include "sim/config/topology_spec.h"
#include "sim/config/yaml_fields.h"

namespace collsim::config {

constexpr double kRackUnit_m = 0.04445;  // EIA-310: 1U = 1.75 in

// Each reads its key from the top-level map if present, into `spec`.
// read_racks also fills `rack_of_name` (rack name -> index in spec.racks)
// for read_placement: both run in linear time in the racks and devices.
Status read_floor(const MapReader& top, TopologySpec& spec);
Status read_racks(const MapReader& top, TopologySpec& spec, std::unordered_map<std::string, int>& rack_of_name);
Status read_media(const MapReader& top, TopologySpec& spec);

// A link's `medium` (one of spec.media, or `auto`) and `length`: a medium
// makes the link a cable; its length is given or comes from the floor plan
// when both ends stand in racks (sim/topology/cabling.h).
Status read_cable(const MapReader& entry, const TopologySpec& spec, LinkSpec& link);

// Every catalog cable's medium is one of spec.media (run after read_media).
Status check_catalog_media(const TopologySpec& spec);

// A device group's `part:`: a catalog part of the device's kind (empty when
// absent).
Expected<std::string> read_part_name(const MapReader& entry, const TopologySpec& spec, DeviceKind kind);

// A device group's `rack:` and `u:` (rack unit from the bottom, 1-based;
// 1U = 44.45 mm, EIA-310). Without `u` a device sits at the rack's mid-height.
Status read_placement(const MapReader& entry, const TopologySpec& spec,
                      const std::unordered_map<std::string, int>& rack_of_name, int& rack, double& height_m);

}  // namespace collsim::config
