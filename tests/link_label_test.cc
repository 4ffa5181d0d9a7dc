// LinkLabel (sim/topology/link_label.h) against std::string, the oracle:
// labels compare, order and print as their texts do, and equal texts
// share one copy (what makes a link's class and medium 8 bytes each).
#include "sim/topology/link_label.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace collsim::topology {
namespace {

TEST(LinkLabel, BehavesAsItsTextAndSharesOneCopy) {
  const std::vector<std::string> texts = {"", "nvlink4", "infiniband", "sr4-400g", "nvlink4", "pcie", ""};
  for (const auto& a : texts) {
    for (const auto& b : texts) {
      const LinkLabel la(a), lb(b);
      EXPECT_EQ(la == lb, a == b) << a << " " << b;
      EXPECT_EQ(la < lb, a < b) << a << " " << b;
      EXPECT_EQ(la == b, a == b);
      EXPECT_EQ(la == b.c_str(), a == b);
      EXPECT_EQ(&la.str() == &lb.str(), a == b);  // one copy per text
    }
    const LinkLabel l(a);
    EXPECT_EQ(l.str(), a);
    EXPECT_EQ(std::string_view(l), a);
    EXPECT_EQ(l.empty(), a.empty());
    EXPECT_EQ(fmt::format("[{:>12}]", l), fmt::format("[{:>12}]", a));
  }
  EXPECT_TRUE(LinkLabel().empty());
  EXPECT_EQ(sizeof(LinkLabel), sizeof(void*));
}

// Labels made on several threads at once (study points, jobs) still share
// one copy per text.
TEST(LinkLabel, ThreadsShareOneCopyPerText) {
  std::vector<const std::string*> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] {
      for (int i = 0; i < 1000; ++i) {
        const LinkLabel other(fmt::format("class-{}", i % 7));  // evicts the thread's recent texts
        const LinkLabel mine("ethernet-thread-test");
        seen[t] = &mine.str();
        (void)other;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [&](const std::string* s) { return s == seen.front(); }));
  EXPECT_EQ(*seen.front(), "ethernet-thread-test");
}

}  // namespace
}  // namespace collsim::topology
