// A study file, read (the reader takes a path: the input is written to a
// file of this process's own first).
#include <unistd.h>

#include <fstream>

#include "fuzz_support.h"
#include "sim/config/study_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/collsim_fuzz_study_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << collsim::fuzz::text_of(data, size);
  (void)collsim::config::load_study_file(path);
  return 0;
}
