#include "sim/topology/link_label.h"

#include <array>
#include <mutex>
#include <unordered_set>

namespace collsim::topology {

const std::string& LinkLabel::intern(std::string_view text) {
  static std::mutex mutex;
  static auto* texts = new std::unordered_set<std::string>();  // never freed: labels live to exit
  // The last few texts asked for: a graph is built in runs of one class
  // and a few media, asked for in turn.
  thread_local std::array<const std::string*, 4> recent{};
  thread_local std::size_t next = 0;
  for (const std::string* r : recent)
    if (r != nullptr && *r == text) return *r;
  const std::lock_guard<std::mutex> lock(mutex);
  const std::string* found = &*texts->emplace(text).first;
  recent[next++ % recent.size()] = found;
  return *found;
}

}  // namespace collsim::topology
