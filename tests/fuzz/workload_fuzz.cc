// A workload file, read.
#include "fuzz_support.h"
#include "sim/workload/workload_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)collsim::workload::load_workload_text(collsim::fuzz::text_of(data, size), "fuzz.yaml", {});
  return 0;
}
