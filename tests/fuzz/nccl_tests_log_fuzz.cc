// The nccl-tests log reader (`collsim validate --nccl-tests`) on any text.
#include "fuzz_support.h"
#include "sim/config/nccl_tests_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)collsim::config::parse_nccl_tests_log(collsim::fuzz::text_of(data, size), "fuzz.log");
  return 0;
}
