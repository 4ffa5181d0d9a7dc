// Shared by the libFuzzer harnesses (issue 21): the input as text. Each
// harness feeds one reader and ignores its answer; the sanitizers and
// libFuzzer's own limits (time, memory) report what goes wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace collsim::fuzz {

// The topology harnesses lower the reader's device limit to this
// (COLLSIM_MAX_DEVICES, sim/config/topology_spec.h; links follow at 4 per
// device): under the sanitizers a build takes about 0.1 ms and 20 KB per
// device (topologies/gb200-nvl72-128rack.yaml: 25,544 devices, 202,752
// links, 2.9 s and 470 MB), so at the reader's own limit (2,097,152 devices)
// a valid input runs past libFuzzer's time and memory limits (a 100,000-node
// template: 15 s and 1.5 GB just to read) without anything being wrong. The
// limits themselves are checked by tests/bad_input_test.cc.
constexpr std::size_t kMaxDevicesToBuild = 30000;

// For LLVMFuzzerInitialize: every read in this process uses the lower limit.
inline void lower_device_limit() { ::setenv("COLLSIM_MAX_DEVICES", std::to_string(kMaxDevicesToBuild).c_str(), 1); }

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace collsim::fuzz
