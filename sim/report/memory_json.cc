// The memory plan as JSON (step_report.h write_memory_json, memory_json).
#include <array>
#include <cmath>

#include "sim/report/json.h"
#include "sim/report/step_report.h"

namespace collsim::report {

void write_memory_json(JsonWriter& j, const workload::MemoryPlan& plan) {
  // Whole bytes (a share of the optimizer states over dp is fractional),
  // a stage's total the sum of its rounded terms.
  auto terms = [](const workload::StageMemory& s) {
    return std::array<double, 6>{std::round(s.weights),     std::round(s.grads),  std::round(s.optimizer),
                                 std::round(s.activations), std::round(s.logits), std::round(s.reserve)};
  };
  auto total = [&](const workload::StageMemory& s) {
    double sum = 0;
    for (double b : terms(s)) sum += b;
    return sum;
  };
  j.begin_object();
  j.key("capacity_bytes").value(plan.capacity);  // 0: unknown
  j.key("peak_bytes").value(plan.stages.empty() ? 0.0 : total(plan.peak()));
  j.key("peak_stage").value(static_cast<double>(plan.peak_stage));
  j.key("fits").value(plan.fits());
  j.key("stages").begin_array();
  for (const auto& s : plan.stages) {
    j.begin_object();
    j.key("stage").value(static_cast<double>(s.stage));
    const auto t = terms(s);
    j.key("total_bytes").value(total(s));
    j.key("weights_bytes").value(t[0]);
    j.key("grads_bytes").value(t[1]);
    j.key("optimizer_bytes").value(t[2]);
    j.key("activations_bytes").value(t[3]);
    j.key("logits_bytes").value(t[4]);
    j.key("reserve_bytes").value(t[5]);
    j.key("micro_batch_chunks_in_flight").value(static_cast<double>(s.in_flight));
    j.end_object();
  }
  j.end_array().end_object();
}

std::string memory_json(const workload::MemoryPlan& plan) {
  JsonWriter j;
  write_memory_json(j, plan);
  return j.str() + "\n";
}

}  // namespace collsim::report
