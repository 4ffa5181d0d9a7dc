// Built-in link classes and media: the documented defaults a topology file
// may override (`link_classes:` at the top of the file, `efficiency:` on a link).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/config/yaml_fields.h"

namespace collsim::config {

// Efficiency = the fraction of a link's line rate that NCCL-style collective
// traffic achieves (protocol headers, flags, flow control). See
// docs/validation.md for how each value was derived.
const std::vector<LinkClassSpec>& builtin_link_classes();

// The built-in scale-out classes (NIC ports and fabric cables): a template's
// fabric.class takes one of them, their rates are written per port in
// Gb/s, and a hop over one is a network hop (engine::hop_kind).
bool is_scale_out_class(std::string_view name);
inline constexpr const char* kScaleOutClassNames = "infiniband, ethernet or efa";

// Cable media: propagation delay per metre and reach.
const std::vector<MediumSpec>& builtin_media();

// Reads the file's `link_classes:` (if any) over the built-ins in `spec`.
Status read_link_classes(const MapReader& top, TopologySpec& spec);

// Reads the file's `nccl:` settings (if any) over NCCL's defaults (NcclSpec).
Status read_nccl_settings(const MapReader& top, TopologySpec& spec);

}  // namespace collsim::config
