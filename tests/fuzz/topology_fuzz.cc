// A topology file: read, then built when it reads (templates expand here).
#include "fuzz_support.h"
#include "sim/config/topology_file.h"
#include "sim/topology/topology.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  collsim::fuzz::lower_device_limit();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto spec = collsim::config::load_topology_text(collsim::fuzz::text_of(data, size), "fuzz.yaml", {});
  if (spec) (void)collsim::topology::build_topology(*spec);
  return 0;
}
