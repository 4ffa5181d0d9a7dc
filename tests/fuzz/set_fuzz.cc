// A --set assignment applied to a small topology, which is then built.
#include "fuzz_support.h"
#include "sim/config/topology_file.h"
#include "sim/topology/topology.h"

namespace {
constexpr const char* kTopology = R"(name: fuzz
cluster: {node: hgx-h100, nodes: 2, nic: 400Gb/s}
)";
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  collsim::fuzz::lower_device_limit();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto spec = collsim::config::load_topology_text(kTopology, "fuzz.yaml", {collsim::fuzz::text_of(data, size)});
  if (spec) (void)collsim::topology::build_topology(*spec);
  return 0;
}
