// FlatIndex (sim/core/flat_index.h) against std::map, the oracle: the same
// keys map to the same values through growth and colliding homes.
#include "sim/core/flat_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>

namespace collsim {
namespace {

// Every key hashes to one home: each lookup walks the whole probe run.
struct OneHome {
  std::uint64_t operator()(std::uint64_t) const noexcept { return 0; }
};

template <class Hash>
void check_against_map(int keys, std::uint64_t key_range) {
  FlatIndex<std::uint64_t, Hash> index;
  std::map<std::uint64_t, int> oracle;
  std::mt19937_64 rng(7);
  for (int i = 0; i < keys; ++i) {
    const std::uint64_t k = rng() % key_range;
    const auto [value, fresh] = index.try_emplace(k, i);
    const auto [it, inserted] = oracle.try_emplace(k, i);
    ASSERT_EQ(fresh, inserted) << k;
    ASSERT_EQ(*value, it->second) << k;
    if (!fresh) *value = it->second = i;  // the caller may update in place
  }
  EXPECT_EQ(index.size(), oracle.size());
  for (std::uint64_t k = 0; k < key_range; ++k) {
    const auto it = oracle.find(k);
    EXPECT_EQ(index.find(k), it == oracle.end() ? -1 : it->second) << k;
  }
}

TEST(FlatIndex, MapsKeysAsStdMapDoesThroughGrowth) { check_against_map<IdentityHash>(20000, 5000); }

TEST(FlatIndex, KeysSharingOneHomeStayApart) { check_against_map<OneHome>(600, 300); }

TEST(FlatIndex, EmptyFindsNothing) {
  const FlatIndex<std::uint64_t, IdentityHash> index;
  EXPECT_EQ(index.find(42), -1);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace collsim
