// Shared by the libFuzzer harnesses (issue 21): the input as text. Each
// harness feeds one reader and ignores its answer; the sanitizers and
// libFuzzer's own limits (time, memory) report what goes wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace collsim::fuzz {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace collsim::fuzz
