// The GPUs a step runs on (workload_spec.h resolve_gpu_model): their model
// from the topology, and the peak rate the workload's compute takes from it.
#include "sim/workload/workload_spec.h"

namespace collsim::workload {

Expected<StepGpu> resolve_gpu_model(WorkloadSpec& w, const config::TopologySpec& topology) {
  StepGpu gpu;
  for (const auto& d : topology.devices) {
    if (d.kind != config::DeviceKind::kGpu) continue;
    if (gpu.model.empty()) gpu.model = d.model.empty() ? "-" : d.model;
    if ((d.model.empty() ? "-" : d.model) != gpu.model) {
      gpu.model = "mixed";
      break;
    }
  }
  const bool needs_peak = w.compute.mfu > 0 && w.compute.peak_flop_per_s <= 0;
  if (gpu.model == "-" || gpu.model == "mixed") {
    if (needs_peak) {
      return w.error_at("compute.mfu",
                        gpu.model == "mixed"
                            ? "the topology's GPUs are of different models: give compute.peak"
                            : "no peak rate: the topology's GPUs name no model (model: h100 on the gpu devices, or "
                              "cluster.gpu), so give compute.peak");
    }
    gpu.model.clear();
    gpu.peak_flop_per_s = w.compute.peak_flop_per_s;
    return gpu;
  }
  const auto& model = topology.gpu_models.at(gpu.model);
  if (w.compute.peak_flop_per_s > 0) {  // the workload's own peak: an explicit override, taken as given
    gpu.peak_flop_per_s = w.compute.peak_flop_per_s;
    gpu.peak_from_workload = true;
    return gpu;
  }
  auto peak = model.peak_flop_per_s.find(w.precision.compute);
  if (peak == model.peak_flop_per_s.end()) {
    std::string have;
    for (const auto& [p, r] : model.peak_flop_per_s) have += (have.empty() ? "" : ", ") + p;
    return w.error_at("precision.compute", "the topology's " + gpu.model + " GPUs have no " + w.precision.compute +
                                               " rate; they have " + have);
  }
  gpu.peak_flop_per_s = peak->second;
  if (needs_peak) w.compute.peak_flop_per_s = gpu.peak_flop_per_s;
  return gpu;
}

}  // namespace collsim::workload
