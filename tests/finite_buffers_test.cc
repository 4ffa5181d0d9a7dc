// Finite buffers (issue 16 item 5): a connection keeps NCCL's buffer in
// flight, so over a long link it moves at most window / round trip, round
// trip = 2 x the route's latency + the protocol's step latencies
// (engine/plan.h). Both backends, against the closed form.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sim/collective/protocol.h"
#include "sim/collective/schedule.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collective::Protocol;

// Two GPUs, each behind a NIC of 50 GB/s on one switch; the second NIC's
// cable has `latency` (500 us: 100 km of fibre).
topology::Network far_pair(const std::string& latency) {
  return topology::Network(collsim::testing::topology_from_text(std::string(R"(name: far
devices:
  - {name: g, kind: gpu, count: 2}
  - {name: n, kind: nic, count: 2}
  - {name: s, kind: switch}
links:
  - {from: g, to: n, pattern: zip, rate: 64GB/s, latency: 0s, class: pcie, efficiency: 1}
  - {from: "n[0]", to: s, rate: 50GB/s, latency: 0s, class: infiniband, efficiency: 1}
  - {from: "n[1]", to: s, rate: 50GB/s, class: infiniband, efficiency: 1, latency: )") +
                                                                latency + "}\n"));
}

// One transfer of 1 GB from rank 0 to rank 1 under `protocol`, as `algo`.
collective::Schedule one_transfer(Protocol protocol, const char* algo) {
  collective::Schedule s;
  s.op = "sendrecv";
  s.algo = algo;
  s.ranks = 2;
  s.chunks = 1;
  s.protocol = protocol;
  collective::Transfer t;
  t.src = 0;
  t.dst = 1;
  t.bytes = 1e9;
  s.transfers = {t};
  return s;
}

void expect_time(const topology::Network& net, const collective::Schedule& s, double expected) {
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {s}, RunOptions{});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NEAR((*r)[0].time_s, expected, 1e-9 * expected) << name << " " << s.algo;
  }
}

// Simple's window is 4 MiB; a short link is not capped.
TEST(FiniteBuffers, ALongLinkMovesAtMostTheWindowPerRoundTrip) {
  for (const char* latency : {"500us", "1us"}) {
    const auto costs =
        collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kSimple, collective::HopKind::kNet);
    const double one_way = std::string(latency) == "500us" ? 500e-6 : 1e-6;
    const double rtt = 2 * one_way + costs.step_latency_s;
    const double rate = std::min(50e9, 4194304.0 / rtt);
    expect_time(far_pair(latency), one_transfer(Protocol::kSimple, "direct"),
                costs.launch_latency_s + one_way + costs.step_latency_s + 1e9 / rate);
    if (std::string(latency) == "1us")
      EXPECT_DOUBLE_EQ(rate, 50e9);  // the cluster's own cable: not capped
    else
      EXPECT_LT(rate, 5e9);  // 100 km: about 4 GB/s per connection
  }
}

// An NCCL ring's step under LL128 over InfiniBand also pays the class's
// ring step latency (8 us, link_classes.cc), in its latency and in its
// round trip; LL128's window is 4,915,200 wire bytes, 120 of 128 payload.
TEST(FiniteBuffers, ARingStepUnderLl128PaysItsRingStepLatencyInTheRoundTrip) {
  const auto costs =
      collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kLL128, collective::HopKind::kNet);
  const double step = costs.step_latency_s + 8e-6;
  const double rate = std::min(50e9, 4915200.0 / (2 * 500e-6 + step));
  expect_time(far_pair("500us"), one_transfer(Protocol::kLL128, "ring"),
              costs.launch_latency_s + 500e-6 + step + 1e9 * 128 / 120 / rate);
}

}  // namespace
}  // namespace collsim::engine
