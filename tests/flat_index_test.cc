// FlatIndex (sim/core/flat_index.h) against std::map, the oracle: the same
// keys map to the same values through growth and colliding homes.
#include "sim/core/flat_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "sim/core/dep_list.h"

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

// DepList (sim/core/dep_list.h) against std::vector<int>, the oracle:
// random pushes, clears, copies and moves across the in-place / heap
// boundary (3 elements) keep the same elements in the same order.
namespace collsim {
namespace {

void expect_same(const DepList& d, const std::vector<int>& v) {
  ASSERT_EQ(d.size(), v.size());
  ASSERT_EQ(d.empty(), v.empty());
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(d[i], v[i]) << i;
  ASSERT_TRUE(std::equal(d.begin(), d.end(), v.begin(), v.end()));
  if (!v.empty()) {
    ASSERT_EQ(d.front(), v.front());
  }
  ASSERT_EQ(DepList(v), d);
}

TEST(DepList, MatchesAVectorThroughRandomEdits) {
  std::mt19937 rng(11);
  DepList d;
  std::vector<int> v;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 6) {
      const int x = static_cast<int>(rng());
      d.push_back(x);
      v.push_back(x);
    } else if (op == 6) {
      d.clear();
      v.clear();
    } else if (op == 7) {
      DepList copy(d);  // copy, then move back through assignment
      d = DepList{};
      d = std::move(copy);
      EXPECT_TRUE(copy.empty());  // DepList's move leaves the source empty
    } else if (op == 8) {
      DepList other{1, 2, 3, 4, 5};
      other = d;  // copy assignment over a heap list
      ASSERT_EQ(other, d);
    } else {
      for (int& x : d) x += 1;  // in-place edits through iteration
      for (int& x : v) x += 1;
    }
    expect_same(d, v);
  }
  EXPECT_EQ(sizeof(DepList), 16u);
  EXPECT_NE(DepList({1, 2}), DepList({1, 2, 3}));
  EXPECT_NE(DepList({1, 2, 3, 4}), DepList({1, 2, 3, 5}));
}

}  // namespace
}  // namespace collsim
