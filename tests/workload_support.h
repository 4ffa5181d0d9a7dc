// Helpers shared by the workload tests (workload_test.cc,
// workload_errors_test.cc, step_compute_test.cc, run_memory_test.cc).
#pragma once

#include <string>
#include <vector>

#include "sim/topology/network.h"
#include "sim/workload/workload_spec.h"
#include "test_support.h"

namespace collsim::workload::testing {

using collsim::testing::topology_from_file;

inline WorkloadSpec load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  auto w = load_workload_text(yaml, "w.yaml", overrides);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  return *w;
}

inline Error load_error(const std::string& yaml) {
  auto w = load_workload_text(yaml, "w.yaml");
  EXPECT_FALSE(w.ok());
  return w.ok() ? Error{} : w.error();
}

// A small dense model with measured per-layer times (1 ms forward, 2 ms
// backward per micro-batch), so the compute schedule is known exactly.
inline const char* kSmall = R"(
name: small
model: {layers: 8, hidden: 1024, ffn_hidden: 4096, heads: 8, vocab: 32000, seq_len: 2048}
parallelism: {tp: 1, pp: 1}
batch: {global: 16, micro: 1}
compute: {layer_forward: 1ms, layer_backward: 2ms}
)";

// `collsim run` of GPT-3 175B on 64 A100 80GB with micro-batch 4 and no
// recomputation: a plan that does not fit (stage 0 needs more than 80 GiB).
inline const char* kGpt175bOutOfMemoryRun =
    "run -t tests/validation/steps/selene.yaml --set cluster.nodes=8 -w tests/validation/steps/gpt-175b.yaml "
    "--set-workload parallelism.tp=8 --set-workload parallelism.pp=8 --set-workload batch.global=64 "
    "--set-workload batch.micro=4 --set-workload compute.attention=unfused --backend analytical --what-if off";

inline topology::Network shipped_network(const std::string& file) {
  return topology::Network(topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/" + file));
}

}  // namespace collsim::workload::testing
