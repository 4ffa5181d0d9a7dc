// GPU models: what a GPU device brings to the simulation besides its links.
// A topology's GPU devices name a model (`model: h100`); the model gives
// the dense peak rate and the achievable matmul ceiling per precision, and
// the HBM capacity and bandwidth. A file's `gpu_models:` section overrides
// any field of a built-in model or defines a new one (docs/topology-format.md).
//
// Built-in values and their sources are in gpu_models.cc: dense peaks from
// NVIDIA's datasheets and reference architectures, MAMF (maximum achievable
// matmul FLOP/s: the best measured GEMM over many shapes) from Stas Bekman's
// "Machine Learning Engineering" accelerator tables, HBM from the datasheets.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/config/yaml_fields.h"

namespace collsim::config {

// Precisions a model may have, as written in files: tf32, fp16, bf16, fp8, fp4.
const std::vector<std::string>& gpu_precisions();

const std::vector<GpuModelSpec>& builtin_gpu_models();

// Reads the file's `gpu_models:` (if any) over the built-ins in `spec`:
//   gpu_models:
//     h100: {hbm_bandwidth: 3.2TB/s}                  # one field of a built-in
//     mygpu: {peak: {bf16: 1PFLOP/s}, mamf: {bf16: 800TFLOP/s},
//             hbm_capacity: 96GiB, hbm_bandwidth: 4TB/s}
// Errors: unknown keys or precisions, non-positive quantities, a ceiling
// above its peak, a new model without a bf16 peak.
Status read_gpu_models(const MapReader& top, TopologySpec& spec);

// The model named `name`, or an error naming the known ones (with a
// did-you-mean) for `field` at `where`.
Expected<const GpuModelSpec*> find_gpu_model(const TopologySpec& spec, const std::string& name);

}  // namespace collsim::config
