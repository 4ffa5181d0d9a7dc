// Every quantity parser on the same text.
#include "fuzz_support.h"
#include "sim/units/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = collsim::fuzz::text_of(data, size);
  namespace u = collsim::units;
  (void)u::parse_bytes(text);
  (void)u::parse_rate(text);
  (void)u::parse_duration(text);
  (void)u::parse_length(text);
  (void)u::parse_flop_rate(text);
  (void)u::parse_size_arg(text);
  return 0;
}
