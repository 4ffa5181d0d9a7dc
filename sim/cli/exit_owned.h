// Objects a command keeps until the process exits. Each cli command runs
// once per process (main.cc). Handing a big cluster's millions of small
// blocks back to malloc one by one is pure cost at that point (about a
// second of a 131,072-GPU collective, docs/performance.md); the process's
// exit returns the memory at once. Not for code that runs several times in
// one process (the sweep's points, the library API).
#pragma once

#include <memory>

namespace collsim::cli {

template <class T>
T& keep_until_exit(std::unique_ptr<T> object) {
  return *object.release();  // never destroyed, on purpose
}

}  // namespace collsim::cli
