// FlatIndex: a hash map from a small key to a non-negative int (an index
// into the caller's own array), open addressing with linear probing.
//
// Why not std::unordered_map: its buckets and nodes cost three cache misses
// per lookup and an allocation per key, and the simulator's hot tables hold
// millions of keys (a 131,072-GPU ring plans a million connections three
// times, once per protocol; an NVLSTree slice queues 5.2 M transfers on 1 M
// connections). Here a key and its value share a slot: one miss.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace collsim {

// Key: copyable and equality-comparable; Hash: std::uint64_t(const Key&),
// spread further here (Fibonacci hashing), so a plain mix of the key's
// fields is enough. Values are >= 0 (-1 marks an empty slot). The table
// doubles when half full; keys are never erased.
template <class Key, class Hash>
class FlatIndex {
 public:
  // The value at `key`, and whether it was just set to `value` (absent
  // before). REQUIRES: value >= 0. The pointer is valid until the next
  // insertion.
  std::pair<int*, bool> try_emplace(const Key& key, int value) {
    if (2 * (used_ + 1) > slots_.size()) grow();
    Slot& slot = slots_[probe(key)];
    if (slot.value >= 0) return {&slot.value, false};
    slot.key = key;
    slot.value = value;
    ++used_;
    return {&slot.value, true};
  }
  // The value at `key`, or -1.
  int find(const Key& key) const { return slots_.empty() ? -1 : slots_[probe(key)].value; }
  std::size_t size() const { return used_; }

 private:
  struct Slot {
    Key key{};
    int value = -1;
  };
  std::size_t home(const Key& key) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(Hash{}(key)) * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  // The slot holding `key`, or the empty slot where it would go.
  std::size_t probe(const Key& key) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t h = home(key);
    while (slots_[h].value >= 0 && !(slots_[h].key == key)) h = (h + 1) & mask;
    return h;
  }
  void grow() {
    std::vector<Slot> old(std::max<std::size_t>(64, 2 * slots_.size()));
    old.swap(slots_);
    shift_ = 64 - std::countr_zero(slots_.size());
    for (const Slot& o : old)
      if (o.value >= 0) slots_[probe(o.key)] = o;
  }
  std::vector<Slot> slots_;  // size a power of two, at most half full
  std::size_t used_ = 0;
  int shift_ = 64;  // 64 - log2(slots_.size())
};

// For integer keys: FlatIndex's multiply does the spreading.
struct IdentityHash {
  std::uint64_t operator()(std::uint64_t k) const noexcept { return k; }
};

}  // namespace collsim
