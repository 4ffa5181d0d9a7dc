// The GPUs a step runs on (workload_spec.h resolve_gpu_model): their model
// from the topology, and the rates the workload's compute takes from it.
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
    const bool mixed = gpu.model == "mixed";
    if (needs_peak) {
      return w.error_at("compute.mfu",
                        mixed ? "the topology's GPUs are of different models: give compute.peak"
                              : "no peak rate: the topology's GPUs name no model (model: h100 on the gpu devices, or "
                                "cluster.gpu), so give compute.peak");
    }
    if (w.compute.by_kernel()) {
      return w.error_at("compute", std::string(mixed ? "the topology's GPUs are of different models"
                                                     : "the topology's GPUs name no model (model: h100 on the gpu "
                                                       "devices, or cluster.gpu)") +
                                       ": compute is timed per kernel from the GPU model; name one, or give "
                                       "compute.mfu or compute.layer_forward and layer_backward");
    }
    gpu.model.clear();
    gpu.peak_flop_per_s = w.compute.peak_flop_per_s;
    return gpu;
  }
  const auto& model = topology.gpu_models.at(gpu.model);
  gpu.hbm_Bps = model.hbm_Bps;
  gpu.hbm_bytes = model.hbm_bytes;
  gpu.sms = model.sms;
  if (w.compute.peak_flop_per_s > 0 && !w.compute.by_kernel()) {  // the workload's own peak, taken as given
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
  // Ceilings: measured where known, else the bf16 ceiling's fraction of peak.
  auto ceiling = [&](const std::string& precision) {
    auto m = model.mamf_flop_per_s.find(precision);
    if (m != model.mamf_flop_per_s.end()) return m->second;
    const double bf16_peak = model.peak_flop_per_s.at("bf16");
    auto b = model.mamf_flop_per_s.find("bf16");
    const double fraction = b == model.mamf_flop_per_s.end() ? 1.0 : b->second / bf16_peak;
    auto p = model.peak_flop_per_s.find(precision);
    return (p == model.peak_flop_per_s.end() ? bf16_peak : p->second) * fraction;
  };
  gpu.gemm_flop_per_s = ceiling(w.precision.compute);
  gpu.attention_flop_per_s = ceiling("bf16");
  if (w.compute.by_kernel() && !(gpu.hbm_Bps > 0)) {
    return w.error_at("compute", "the " + gpu.model +
                                     " GPU model has no hbm_bandwidth, which per-kernel compute needs; give it "
                                     "under gpu_models:, or give compute.mfu");
  }
  if (w.compute.peak_flop_per_s > 0) {  // only MFU's denominator under per-kernel compute
    gpu.peak_flop_per_s = w.compute.peak_flop_per_s;
    gpu.peak_from_workload = true;
    return gpu;
  }
  gpu.peak_flop_per_s = peak->second;
  if (needs_peak) w.compute.peak_flop_per_s = gpu.peak_flop_per_s;
  return gpu;
}

}  // namespace collsim::workload
