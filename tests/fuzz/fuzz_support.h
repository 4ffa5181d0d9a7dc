// Shared by the libFuzzer harnesses (issue 21): the input as text. Each
// harness feeds one reader and ignores its answer; the sanitizers and
// libFuzzer's own limits (time, memory) report what goes wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace collsim::fuzz {

// Bigger topologies are read but not built: under the sanitizers a build
// takes about 0.1 ms per device (topologies/gb200-nvl72-128rack.yaml: 25,544
// devices, 202,752 links, 2.9 s and 470 MB), so the reader's own limit
// (2,097,152 devices) would run past libFuzzer's timeout without
// anything being wrong. Their size estimates and limits are checked by
// tests/bad_input_test.cc instead.
constexpr std::size_t kMaxDevicesToBuild = 30000;

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace collsim::fuzz
