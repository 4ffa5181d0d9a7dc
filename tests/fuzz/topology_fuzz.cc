// A topology file: read, then built when it reads (templates expand here).
#include "fuzz_support.h"
#include "sim/config/topology_file.h"
#include "sim/topology/topology.h"

namespace {
// Bigger topologies are read but not built: under the sanitizers a build
// takes about 0.1 ms per device (topologies/gb200-nvl72-128rack.yaml: 25,544
// devices, 202,752 links, 2.9 s and 470 MB), so the reader's own limit
// (4,194,304 devices) would run past
// libFuzzer's 10 s timeout without anything being wrong. Their size
// estimates and limits are checked by tests/bad_input_test.cc instead.
constexpr std::size_t kMaxDevicesToBuild = 30000;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto spec = collsim::config::load_topology_text(collsim::fuzz::text_of(data, size), "fuzz.yaml", {});
  if (spec && spec->devices.size() <= kMaxDevicesToBuild) (void)collsim::topology::build_topology(*spec);
  return 0;
}
