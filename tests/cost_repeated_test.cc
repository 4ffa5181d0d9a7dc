// A pipeline's copies (engine/compact_cost.h cost_repeated) against their
// recurrence written out copy by copy, the rule the header states: copy k's
// transfer i finishes at max(its deps' finish in copy k + its own time,
// the finish of the transfer it queues behind + its period), a transfer
// heading its queue waiting for the previous copy's last transfer of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "sim/collective/schedule.h"
#include "sim/engine/compact_cost.h"

namespace collsim::engine {
namespace {

// A pipeline of random transfers on no links (their times alone are given),
// its deps drawn among the `window` transfers before each.
struct Pipeline {
  std::vector<std::string> hosts{"a"};
  std::vector<topology::NetworkLink> links;
  detail::Plan plan;
  detail::PlannedSchedule s;
  std::vector<double> alone, period;

  Pipeline(std::mt19937& rng, int n, int copies, int window, double dep_chance) {
    std::uniform_real_distribution<double> u(0.1, 2.0), coin(0.0, 1.0);
    plan.host_names = &hosts;
    plan.links = &links;
    plan.routes.push_back({0, 0, {}});
    s.repeats = copies;
    s.launch_latency_s = 0.25;
    auto storage = std::make_shared<std::vector<int>>();
    std::vector<std::size_t> first(static_cast<std::size_t>(n) + 1, 0);
    for (int i = 0; i < n; ++i) {
      first[static_cast<std::size_t>(i)] = storage->size();
      for (int d = std::max(0, i - window); d < i; ++d)
        if (coin(rng) < dep_chance) storage->push_back(d);
    }
    first[static_cast<std::size_t>(n)] = storage->size();
    s.dep_storage = storage;
    for (int i = 0; i < n; ++i) {
      detail::PlannedTransfer t;
      t.bytes = 1;
      t.route_latency_s = u(rng);
      const auto at = static_cast<std::size_t>(i);
      t.deps = std::span<const int>(storage->data() + first[at], first[at + 1] - first[at]);
      s.transfers.push_back(t);
      alone.push_back(u(rng));
      period.push_back(u(rng));
    }
  }

  // The last finish over every copy, by the recurrence.
  double recurrence() const {
    const std::size_t n = s.transfers.size();
    const std::vector<int> tail = collective::queue_tails(s.transfers);
    std::vector<double> finish(n, s.launch_latency_s), previous(n);
    double last = 0;
    for (int k = 0; k < s.repeats; ++k) {
      previous = finish;
      // The last copy is the remainder: its flows and periods scale.
      const double scale = k + 1 == s.repeats ? s.last_copy_fraction : 1.0;
      for (std::size_t i = 0; i < n; ++i) {
        const auto& t = s.transfers[i];
        double ready = s.launch_latency_s;
        for (int d : t.deps) ready = std::max(ready, finish[static_cast<std::size_t>(d)]);
        finish[i] = ready + t.route_latency_s + scale * alone[i];
        if (t.queue_after >= 0)
          finish[i] = std::max(finish[i], finish[static_cast<std::size_t>(t.queue_after)] + scale * period[i]);
        else if (k > 0)
          finish[i] = std::max(finish[i], previous[static_cast<std::size_t>(tail[i])] + scale * period[i]);
        last = std::max(last, finish[i]);
      }
    }
    return last;
  }

  ScheduleResult cost() const {
    ScheduleResult r;
    std::vector<double> link_bytes;
    detail::cost_repeated(plan, s, alone, period, link_bytes, r);
    return r;
  }
};

// Each connection carries one transfer per copy (trees, chains): the closed
// form, on random DAGs whose periods differ from their times alone (as
// SimGrid's measured ones do).
TEST(CostRepeated, OneTransferPerConnectionEqualsTheCopiesRecurrence) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    Pipeline p(rng, 30, 2 + trial % 7, 30, 0.4);
    if (trial % 2) p.s.last_copy_fraction = 0.05 + 0.045 * trial;  // a remainder, 0.10 to 0.90
    const double expected = p.recurrence();
    const ScheduleResult r = p.cost();
    EXPECT_NEAR(r.time_s, expected, 1e-12 * expected) << trial;
    EXPECT_DOUBLE_EQ(r.bytes_sent, 30.0 * (p.s.repeats - 1 + p.s.last_copy_fraction));
  }
}

// Connections that carry several transfers of a copy (NVLSTree's stages):
// the copies run until the pace is set (steady state), from 2 to 200
// copies; a third of the time one slow connection carries the copy's last
// transfer and sets the pace (the steady state is reached), else none.
TEST(CostRepeated, SharedConnectionsEqualTheCopiesRecurrence) {
  std::mt19937 rng(11);
  const int n = 40, connections = 6;
  for (int trial = 0; trial < 60; ++trial) {
    Pipeline p(rng, n, 2 + (trial * 37) % 199, 6, 0.5);
    if (trial % 2) p.s.last_copy_fraction = 0.25;  // a remainder after the whole copies
    const bool paced = trial % 3 == 0;
    std::vector<int> last_on(connections, -1);
    for (int i = 0; i < n; ++i) {
      const auto c = paced && i == n - 1
                         ? std::size_t{0}
                         : static_cast<std::size_t>(std::uniform_int_distribution<int>(0, connections - 1)(rng));
      const auto at = static_cast<std::size_t>(i);
      p.s.transfers[at].queue_after = last_on[c];
      last_on[c] = i;
      p.period[at] = p.alone[at] * (paced && c == 0 ? 20.0 : 1.0);
    }
    const double expected = p.recurrence();
    EXPECT_NEAR(p.cost().time_s, expected, 1e-12 * expected) << trial << " copies " << p.s.repeats;
  }
}

// A remainder after a steady state cut short: t3 finishes last when the
// whole copies are cut but grows more slowly than t0's queue, so shifting
// every finish by the queue's growth ran the remainder too late (21.1475
// against the recurrence's 21.125; found in review).
TEST(CostRepeated, ARemainderAfterACutSteadyStateEqualsTheRecurrence) {
  std::mt19937 rng(1);
  for (int copies : {12, 21, 60}) {
    Pipeline p(rng, 4, copies, 0, 0.0);
    const double latency[4] = {0, 0, 0, 0.97}, flow[4] = {1, 0, 0.9, 0.99};
    auto storage = std::make_shared<std::vector<int>>(std::vector<int>{1});  // t2 after t1
    p.s.dep_storage = storage;
    p.s.launch_latency_s = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      auto& t = p.s.transfers[i];
      t.route_latency_s = latency[i];
      t.deps = i == 2 ? std::span<const int>(storage->data(), 1) : std::span<const int>();
      t.queue_after = i == 1 ? 0 : -1;
      p.alone[i] = p.period[i] = flow[i];
    }
    p.s.last_copy_fraction = 0.25;
    const double expected = p.recurrence();
    EXPECT_NEAR(p.cost().time_s, expected, 1e-12 * expected) << copies << " copies";
  }
}

}  // namespace
}  // namespace collsim::engine
