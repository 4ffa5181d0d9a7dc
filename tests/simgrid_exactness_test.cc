// The SimGrid backend against closed forms: the network model must add
// nothing of its own (CM02 with its TCP factors off; architecture.md).
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/collective/algorithms.h"
#include "sim/collective/chain.h"
#include "sim/collective/direct.h"
#include "sim/collective/hier.h"
#include "sim/collective/nvls.h"
#include "sim/collective/rhd.h"
#include "sim/collective/ring.h"
#include "sim/collective/tree.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collective::Schedule;
using collective::Transfer;
using collsim::testing::topology_from_text;

std::vector<ScheduleResult> run(const topology::Network& net, std::vector<Schedule> schedules) {
  auto backend = make_backend("simgrid");
  EXPECT_TRUE(backend.ok());
  RunOptions options;
  options.record_transfers = true;
  auto results = (*backend)->run(net, schedules, options);
  EXPECT_TRUE(results.ok()) << results.error().to_string();
  return *results;
}

// A plain transfer of `bytes` from rank src to rank dst after `deps`.
Transfer copy(int src, int dst, double bytes, std::vector<int> deps) {
  Transfer t;
  t.src = src;
  t.dst = dst;
  t.bytes = bytes;
  t.deps = std::move(deps);
  return t;
}

Schedule transfers(int ranks, std::vector<Transfer> ts) {
  Schedule s;
  s.op = "sendrecv";
  s.ranks = ranks;
  s.chunks = 1;
  s.transfers = std::move(ts);
  return s;
}

TEST(SimGridExact, OneTransferOverThreeHopsIsBytesOverMinRatePlusLatencies) {
  const auto topo = topology_from_text(R"(name: chain
devices:
  - {name: a, kind: gpu}
  - {name: s, kind: switch, count: 2}
  - {name: b, kind: gpu}
links:
  - {from: a, to: s0, rate: 100GB/s, latency: 1us, class: ideal}
  - {from: s0, to: s1, rate: 50GB/s, latency: 2us, class: ideal}
  - {from: s1, to: b, rate: 100GB/s, latency: 3us, class: ideal}
)");
  const topology::Network net(topo);
  const auto r = run(net, {transfers(2, {copy(0, 1, 1e9, {})})});
  EXPECT_NEAR(r[0].time_s, 1e9 / 50e9 + 6e-6, 1e-12);
}

TEST(SimGridExact, LinkEfficiencyScalesTheRate) {
  const auto topo = topology_from_text(R"(name: eff
devices:
  - {name: g, kind: gpu, count: 2}
links:
  - {from: "g[0]", to: "g[1]", rate: 100GB/s, latency: 0s, class: ideal, efficiency: 0.5}
)");
  const topology::Network net(topo);
  const auto r = run(net, {transfers(2, {copy(0, 1, 1e9, {})})});
  EXPECT_NEAR(r[0].time_s, 1e9 / 50e9, 1e-12);
}

constexpr const char* kStar = R"(name: star
devices:
  - {name: g, kind: gpu, count: 3}
  - {name: sw, kind: switch}
links:
  - {from: "g[0]", to: sw, rate: 100GB/s, latency: 1us, class: ideal}
  - {from: "g[1]", to: sw, rate: 100GB/s, latency: 1us, class: ideal}
  - {from: "g[2]", to: sw, rate: 100GB/s, latency: 1us, class: ideal}
)";

TEST(SimGridExact, TwoFlowsIntoOneLinkEachGetHalf) {
  const topology::Network net(topology_from_text(kStar));
  const double bytes = 1e9;
  const auto r = run(net, {transfers(3, {copy(0, 2, bytes, {}), copy(1, 2, bytes, {})})});
  // Both share sw->g2 at 50 GB/s each.
  EXPECT_NEAR(r[0].transfer_finish_s[0], 2e-6 + bytes / 50e9, 1e-12);
  EXPECT_NEAR(r[0].transfer_finish_s[1], 2e-6 + bytes / 50e9, 1e-12);
}

TEST(SimGridExact, OppositeDirectionsDoNotInterfere) {
  const topology::Network net(topology_from_text(kStar));
  const double bytes = 1e9;
  const auto r = run(net, {transfers(3, {copy(0, 1, bytes, {}), copy(1, 0, bytes, {})})});
  EXPECT_NEAR(r[0].transfer_finish_s[0], 2e-6 + bytes / 100e9, 1e-12);
  EXPECT_NEAR(r[0].transfer_finish_s[1], 2e-6 + bytes / 100e9, 1e-12);
}

TEST(SimGridExact, SharingIsEqualWhateverTheRouteLatency) {
  // CM02 alone would give the 1 us flow 4x the share of the 4 us flow (A's
  // flow would end at 1.25 S/R). Fluid max-min by hand: both flows start at
  // once and get R/2 each, so both end at 2S/R; each then arrives after its
  // route latency (simgrid_backend.h): A (1 us) at 2S/R + 1 us, B (4 us) at
  // 2S/R + 4 us.
  const topology::Network net(topology_from_text(R"(name: skew
devices:
  - {name: g, kind: gpu, count: 3}
  - {name: sw, kind: switch}
links:
  - {from: "g[0]", to: sw, rate: 100GB/s, latency: 0s, class: ideal}
  - {from: "g[1]", to: sw, rate: 100GB/s, latency: 3us, class: ideal}
  - {from: "g[2]", to: sw, rate: 100GB/s, latency: 1us, class: ideal}
)"));
  const double S = 1e9, R = 100e9;
  const auto r = run(net, {transfers(3, {copy(0, 2, S, {}), copy(1, 2, S, {})})});
  EXPECT_NEAR(r[0].transfer_finish_s[0], 2 * S / R + 1e-6, 1e-12);
  EXPECT_NEAR(r[0].transfer_finish_s[1], 2 * S / R + 4e-6, 1e-12);
}

TEST(SimGridExact, DependentTransferStartsWhenItsInputArrived) {
  const topology::Network net(topology_from_text(kStar));
  const auto r = run(net, {transfers(3, {copy(0, 1, 1e9, {}), copy(1, 2, 1e9, {0})})});
  EXPECT_NEAR(r[0].time_s, 2 * (2e-6 + 1e9 / 100e9), 1e-12);
}

std::string uniform_star(int p) {
  // Each GPU hangs off one switch with 0.5 us per link: alpha = 1 us GPU to GPU.
  return "name: uniform\ndevices:\n  - {name: g, kind: gpu, count: " + std::to_string(p) +
         "}\n  - {name: sw, kind: switch}\nlinks:\n  - {from: g, to: sw, rate: 100GB/s, latency: 500ns, class: "
         "ideal}\n";
}

TEST(SimGridExact, RingAllReduceMatchesTheAlphaBetaClosedForm) {
  // formulas.md allreduce_ring: 2(p-1) a + 2((p-1)/p) n b (no gamma: reductions are fused).
  const double alpha = 1e-6, beta = 1.0 / 100e9;
  for (int p : {2, 3, 4, 8, 16}) {
    const topology::Network net(topology_from_text(uniform_star(p)));
    std::vector<Schedule> schedules;
    const std::vector<double> sizes{1048576.0, 64.0 * 1048576, 1073741824.0};
    for (double n : sizes) schedules.push_back(collective::ring_allreduce(p, n));
    const auto results = run(net, schedules);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const double n = sizes[i];
      const double closed_form = 2 * (p - 1) * alpha + 2.0 * (p - 1) / p * n * beta;
      EXPECT_NEAR(results[i].time_s, closed_form, 1e-3 * closed_form) << "p=" << p << " n=" << n;
      // Conservation: every byte sent is received, and it is what the schedule moves.
      EXPECT_DOUBLE_EQ(results[i].bytes_sent, results[i].bytes_received);
      EXPECT_NEAR(results[i].bytes_sent, schedules[i].total_bytes(), 1e-9 * n);
    }
  }
}

TEST(SimGridExact, RingReduceScatterAllGatherAllToAllSendRecvMatchClosedForms) {
  // formulas.md: ring all-gather and reduce-scatter (p-1)a + ((p-1)/p) n b.
  // Direct all-to-all on a non-blocking star (derived): every uplink carries
  // p-1 blocks of n/p at once, so a + ((p-1)/p) n b. Send/recv: a + n b.
  const double alpha = 1e-6, beta = 1.0 / 100e9;
  for (int p : {2, 3, 8}) {
    const topology::Network net(topology_from_text(uniform_star(p)));
    const double n = 64.0 * 1048576;
    const auto results = run(net, {collective::ring_reducescatter(p, n), collective::ring_allgather(p, n),
                                   collective::direct_alltoall(p, n), collective::ring_sendrecv(p, n)});
    const double ring = (p - 1) * alpha + (p - 1.0) / p * n * beta;
    EXPECT_NEAR(results[0].time_s, ring, 1e-3 * ring) << "reducescatter p=" << p;
    EXPECT_NEAR(results[1].time_s, ring, 1e-3 * ring) << "allgather p=" << p;
    const double a2a = alpha + (p - 1.0) / p * n * beta;
    EXPECT_NEAR(results[2].time_s, a2a, 1e-3 * a2a) << "alltoall p=" << p;
    const double sr = alpha + n * beta;
    EXPECT_NEAR(results[3].time_s, sr, 1e-3 * sr) << "sendrecv p=" << p;
  }
}

TEST(SimGridExact, AllToAllOfMoreTransfersThanGuardedStacksAllowMatchesItsClosedForm) {
  // 184 ranks: 33,672 transfers in flight at once, one SimGrid actor each.
  // With a guard page per actor stack this passed Linux's default limit of
  // 65,530 memory maps and SimGrid aborted; a 256-GPU all-to-all crashed so.
  // Closed form as above: a + ((p-1)/p) n b on a non-blocking star.
  const int p = 184;
  const double alpha = 1e-6, beta = 1.0 / 100e9, n = 64.0 * 1048576;
  const topology::Network net(topology_from_text(uniform_star(p)));
  const auto results = run(net, {collective::direct_alltoall(p, n)});
  const double a2a = alpha + (p - 1.0) / p * n * beta;
  EXPECT_NEAR(results[0].time_s, a2a, 1e-6 * a2a);
  EXPECT_DOUBLE_EQ(results[0].bytes_sent, results[0].bytes_received);
}

TEST(SimGridExact, AScheduleThatWouldNotFitInMemoryIsRefusedBeforeItStarts) {
  // 200 ranks: 39,800 transfers at once, about 0.8 GB at 20 KiB each; on a
  // machine said to have 1 GB the guard (half of it) refuses, naming the
  // analytical backend, as bad input rather than an internal failure.
  ::setenv("COLLSIM_SIMGRID_MEMORY_GB", "1", 1);
  const topology::Network net(topology_from_text(uniform_star(200)));
  auto backend = make_backend("simgrid");
  ASSERT_TRUE(backend.ok());
  const auto r = (*backend)->run(net, {collective::direct_alltoall(200, 1e9)}, RunOptions{});
  ::unsetenv("COLLSIM_SIMGRID_MEMORY_GB");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().internal());
  EXPECT_NE(r.error().to_string().find("--backend analytical"), std::string::npos) << r.error().to_string();
}

TEST(SimGridExact, QueuedTransfersWaitForTheOneAheadButOverlapItsLatency) {
  const topology::Network net(topology_from_text(kStar));
  Transfer second = copy(0, 1, 1e9, {});
  second.queue_after = 0;
  const auto r = run(net, {transfers(3, {copy(0, 1, 1e9, {}), second})});
  // One connection, 2 us route latency: a + S b, then the second's bytes right behind.
  EXPECT_NEAR(r[0].transfer_finish_s[0], 2e-6 + 1e9 / 100e9, 1e-12);
  EXPECT_NEAR(r[0].transfer_finish_s[1], 2e-6 + 2e9 / 100e9, 1e-12);
}

TEST(SimGridExact, PipelinedChainBroadcastAndReduceMatchTheirClosedForm) {
  // Derived in chain.h: (p-1)(a + s b) + (m-1) s b for m slices of s bytes.
  const double alpha = 1e-6, beta = 1.0 / 100e9;
  for (int p : {2, 3, 8}) {
    const topology::Network net(topology_from_text(uniform_star(p)));
    for (double n : {1048576.0 / 4, 64.0 * 1048576}) {
      const auto b = collective::chain_broadcast(p, n, p - 1);
      const auto results = run(net, {b, collective::chain_reduce(p, n, 0)});
      const double s = n / b.chunks;
      const double closed = (p - 1) * (alpha + s * beta) + (b.chunks - 1) * s * beta;
      EXPECT_NEAR(results[0].time_s, closed, 1e-3 * closed) << "broadcast p=" << p << " n=" << n;
      EXPECT_NEAR(results[1].time_s, closed, 1e-3 * closed) << "reduce p=" << p << " n=" << n;
    }
  }
}

TEST(SimGridExact, RecursiveHalvingDoublingMatchesRabenseifner) {
  // formulas.md allreduce_rabenseifner_pof2: 2 lg(p) a + 2((p-1)/p) n b; for
  // other p, the fold/unfold form derived in rhd.h with p' = 2^floor(lg p).
  const double alpha = 1e-6, beta = 1.0 / 100e9, n = 64.0 * 1048576;
  for (int p : {2, 4, 8, 16, 3, 6, 12}) {
    const topology::Network net(topology_from_text(uniform_star(p)));
    const auto r = run(net, {collective::rhd_allreduce(p, n)});
    int q = 1, lg = 0;
    while (q * 2 <= p) q *= 2, ++lg;
    const double expected = q == p ? 2 * lg * alpha + 2.0 * (p - 1) / p * n * beta
                                   : (2 * lg + 2) * alpha + (2.0 * (q - 1) / q + 2) * n * beta;
    EXPECT_NEAR(r[0].time_s, expected, 1e-3 * expected) << "p=" << p;
  }
}

TEST(SimGridExact, NvlsApproachesItsBandwidthBoundAndPaysItsLaunchLatency) {
  // Derived in nvls.h: with per-GPU rate B, t -> n (1 + 1/p) / B as the
  // pipeline fill (about 1/32 with 32 slices) vanishes; never below it.
  const double B = 100e9, n = 1073741824.0;
  const auto topo = topology_from_text(R"(name: nvswitch
devices:
  - {name: g, kind: gpu, count: 8}
  - {name: sw, kind: nvswitch}
links:
  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: ideal}
)");
  const topology::Network net(topo);
  ASSERT_EQ(net.num_gpus(), 8);
  ASSERT_EQ(net.nvswitch_endpoint_near(0), 8);
  EXPECT_DOUBLE_EQ(net.nvls_efficiency_near(0), 1.0);  // class ideal
  collective::Schedule s = collective::nvls_allreduce(8, n, 1.0);
  collective::Schedule simple = s;
  simple.protocol = collective::Protocol::kSimple;
  const auto r = run(net, {s, simple});
  const double bound = n * (1 + 1.0 / 8) / B;
  EXPECT_GE(r[0].time_s, bound * (1 - 1e-9));
  EXPECT_LE(r[0].time_s, bound * 1.05);
  // NCCL's NVLS latency on NVLink, Simple: 25 us once (NCCL tuning.cc hwLat NVLINK NVLS).
  EXPECT_NEAR(r[1].time_s - r[0].time_s, 25e-6, 1e-9);
}

TEST(SimGridExact, RingSlicingChangesNothingButTheFlowCount) {
  // Uneven ring: two GPUs behind a slow link, so steps are not uniform.
  const topology::Network net(topology_from_text(R"(name: uneven
devices:
  - {name: g, kind: gpu, count: 4}
  - {name: sw, kind: switch}
links:
  - {from: "g[0-1]", to: sw, rate: 100GB/s, latency: 1us, class: ideal}
  - {from: "g[2-3]", to: sw, rate: 25GB/s, latency: 3us, class: ideal}
)"));
  collective::RingOptions sliced;
  sliced.max_slices = 8;
  for (double n : {1048576.0, 256.0 * 1048576}) {
    const auto r = run(net, {collective::ring_allreduce(4, n), collective::ring_allreduce(4, n, sliced)});
    EXPECT_NEAR(r[0].time_s, r[1].time_s, 1e-9 * r[0].time_s) << n;
  }
}

TEST(SimGridExact, SmallTreeAllReduceCostsTwoHopsPerLevel) {
  // Latency-bound: up the tree and back down, one hop (a = 1 us) per level.
  // Tree heights worked out by hand in tree_test.cc: p = 5 and 8: 3; p = 16: 4.
  for (auto [p, height] : {std::pair{5, 3}, {8, 3}, {16, 4}}) {
    const topology::Network net(topology_from_text(uniform_star(p)));
    const auto r = run(net, {collective::tree_allreduce(p, 64)});
    EXPECT_NEAR(r[0].time_s, 2 * height * 1e-6, 0.01 * 2 * height * 1e-6) << "p=" << p;
  }
}

TEST(SimGridExact, LargeTreeAllReduceIsBoundByItsBusiestUplink) {
  // p = 8, trees by hand (tree_test.cc): rank 2 is an inner node of tree 1
  // (n/2 up to 4, n/2 down to each of 1 and 3) and the mirror of leaf 5 in
  // tree 2 (n/2 up): its uplink carries 2n, so t >= 2 n b; pipelining with
  // 64 slices per tree keeps the fill under 5%.
  const int p = 8;
  const topology::Network net(topology_from_text(uniform_star(p)));
  const double n = 1073741824.0, beta = 1.0 / 100e9;
  const auto r = run(net, {collective::tree_allreduce(p, n)});
  EXPECT_GE(r[0].time_s, 2 * n * beta);
  EXPECT_LE(r[0].time_s, 1.05 * 2 * n * beta);
}

// Two levels: D = 2 domains of g = 4 GPUs on their NVSwitch (100 GB/s,
// 0.5 us per link: a_in = 1 us), and one NIC per GPU on a spine (10 GB/s,
// 1 us per NIC link: a_net = 2 us).
const char* const kTwoLevel = R"(name: two-level
devices:
  - {name: a, kind: gpu, count: 4}
  - {name: asw, kind: nvswitch}
  - {name: b, kind: gpu, count: 4}
  - {name: bsw, kind: nvswitch}
  - {name: anic, kind: nic, count: 4}
  - {name: bnic, kind: nic, count: 4}
  - {name: spine, kind: switch}
links:
  - {from: a, to: asw, rate: 100GB/s, latency: 500ns, class: ideal}
  - {from: b, to: bsw, rate: 100GB/s, latency: 500ns, class: ideal}
  - {from: a, to: anic, pattern: zip, rate: 1TB/s, latency: 0s, class: ideal}
  - {from: b, to: bnic, pattern: zip, rate: 1TB/s, latency: 0s, class: ideal}
  - {from: anic, to: spine, rate: 10GB/s, latency: 1us, class: ideal}
  - {from: bnic, to: spine, rate: 10GB/s, latency: 1us, class: ideal}
)";

TEST(SimGridExact, HierarchicalPhasesAddUpAndPipeliningHidesThem) {
  // hier.h's closed form for one piece, on the two-level fabric.
  const auto topo = topology_from_text(kTwoLevel);
  const topology::Network net(topo);
  std::vector<int> domain;
  for (int r = 0; r < 8; ++r) domain.push_back(net.nvlink_domain_of(r));
  const int D = 2, g = 4;
  const double n = 64.0 * 1048576, a_in = 1e-6, b_in = 1 / 100e9, a_net = 2e-6, b_net = 1 / 10e9;
  collective::HierOptions one_piece;
  one_piece.max_pieces = 1;
  auto plain = collective::hier_allreduce(8, n, domain, one_piece);
  auto piped = collective::hier_allreduce(8, n, domain);
  ASSERT_TRUE(plain.ok() && piped.ok());
  const auto r = run(net, {*plain, *piped});
  const double closed =
      2 * ((g - 1) * a_in + (g - 1.0) / g * n * b_in) + 2 * (D - 1) * a_net + 2.0 * (D - 1) / D * (n / g) * b_net;
  EXPECT_NEAR(r[0].time_s, closed, 1e-3 * closed);
  // Pipelined: the network phase (the slowest) hides most of the others.
  const double network_phase = 2 * (D - 1) * a_net + 2.0 * (D - 1) / D * (n / g) * b_net;
  EXPECT_LT(r[1].time_s, r[0].time_s);
  EXPECT_GT(r[1].time_s, network_phase);
}

TEST(SimGridExact, NcclTreeAndNvlsTreeOnTwoDomains) {
  // The two-level fabric above, with NVSwitches that reduce.
  const auto topo = topology_from_text(kTwoLevel);
  const topology::Network net(topo);
  std::vector<int> domain;
  for (int r = 0; r < 8; ++r) domain.push_back(net.nvlink_domain_of(r));
  const int g = 4;
  const double a_in = 1e-6, a_net = 2e-6, b_net = 1 / 10e9;
  // Latency-bound: up a chain of g GPUs and one network hop, then back
  // down: NCCL's 2 ((g - 1) intraLat + log2(2) interLat).
  const auto small = run(net, {collective::tree_allreduce(8, 64, domain)});
  EXPECT_NEAR(small[0].time_s, 2 * ((g - 1) * a_in + a_net), 1e-3 * 2 * ((g - 1) * a_in + a_net));
  // Bandwidth-bound: every NIC carries n/g each way (tree_test.cc,
  // nvls_test.cc), the NVLink side less than that at 10x the rate;
  // pipelining keeps the fill within 10%.
  const double n = 256.0 * 1048576;
  auto nvlstree = collective::nvls_tree_allreduce(8, n, 1.0, domain);
  ASSERT_TRUE(nvlstree.ok());
  const auto big = run(net, {collective::tree_allreduce(8, n, domain), *nvlstree});
  for (const auto& r : big) {
    EXPECT_GE(r.time_s, n / g * b_net);
    EXPECT_LE(r.time_s, 1.1 * n / g * b_net);
  }
}

TEST(ChannelShares, TreeChannelsSplitALinkStatically) {
  // Two GPUs, one 10 GB/s link each to a switch (0.5 us per link). NCCL's
  // tree on two ranks runs two channels: channel 0 reduces 1 -> 0 then
  // broadcasts 0 -> 1, channel 1 the reverse, so each direction of each
  // link carries two channels' connections, one after the other. Under a
  // protocol each connection gets its static half (one CTA's share), so
  // 1 MiB in one 512 KiB slice per channel costs NCCL's launch latency
  // (8.4 us), two steps of route (1 us) and step latency (4 us, NVLink
  // row, Simple), and twice 512 KiB at 5 GB/s: NCCL's own model gives the
  // same 2n/R for a tree over two nodes (algbw = channels x per-channel bw
  // x 0.5, src/graph/tuning.cc). Without the shares it would be n/R.
  const auto topo = topology_from_text(R"(name: two
devices:
  - {name: g, kind: gpu, count: 2}
  - {name: sw, kind: switch}
links:
  - {from: g, to: sw, rate: 10GB/s, latency: 500ns, class: ideal}
)");
  const topology::Network net(topo);
  const double n = 1048576.0, rate = 10e9;
  collective::AlgoParams params;
  params.protocol = collective::Protocol::kSimple;
  params.domain_of_rank = {0, 1};
  auto s = collective::build_schedule(collective::Op::kAllReduce, "tree", 2, n, params);
  ASSERT_TRUE(s.ok());
  const double expected = 8.4e-6 + 2 * (1e-6 + 4.0e-6) + 2 * (n / 2) / (rate / 2);
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {*s}, {});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NEAR((*r)[0].time_s, expected, 1e-6 * expected) << name;
  }
}

TEST(SimGridExact, UnroutableTransferIsAnErrorNotACrash) {
  const topology::Network net(topology_from_text(kStar));
  auto backend = make_backend("simgrid");
  auto r = (*backend)->run(net, {transfers(5, {copy(0, 4, 1e6, {})})}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("needs 5 ranks but the topology has 3 GPUs"), std::string::npos)
      << r.error().message;
}

TEST(SimGridExact, UnknownBackendIsAnError) { EXPECT_FALSE(make_backend("ns3").ok()); }

}  // namespace
}  // namespace collsim::engine
