// PAT (collective/pat.h): what it computes (the symbolic checker), the
// bytes and peers of Bruck's algorithm with its dimensions reversed, and its
// time on an idle switch against the closed forms: the binomial trees'
// depth in hops for a tiny buffer (lg p for p a power of two; 3 for p = 12),
// the ring's (p-1)/p n / B for a large one.
#include "sim/collective/pat.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "sim/collective/algorithms.h"
#include "sim/collective/check.h"
#include "sim/engine/backend.h"
#include "sim/engine/tuner.h"
#include "test_support.h"

namespace collsim::collective {
namespace {

int ceil_lg(int p) {
  int d = 0;
  while ((1 << d) < p) ++d;
  return d;
}

// Hops of the deepest binomial tree branch: a block reaches offset s in one
// hop per set bit of s.
int depth(int p) {
  int most = 0;
  for (int s = 1; s < p; ++s) most = std::max(most, __builtin_popcount(static_cast<unsigned>(s)));
  return most;
}

TEST(Pat, ComputesAllGatherAndReduceScatterOnAnyRankCount) {
  for (int p : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 31, 33}) {
    for (double bytes : {1e3 * p, 64.0 * 1048576}) {  // one slice; several
      for (bool pipelined : {true, false}) {
        const PatOptions o{.pipelined = pipelined};
        const std::string what = fmt::format("p={} bytes={} pipelined={}", p, bytes, pipelined);
        const Status ag = check_schedule(Op::kAllGather, pat_allgather(p, bytes, o));
        EXPECT_TRUE(ag.ok()) << what << ": " << ag.error().to_string();
        const Status rs = check_schedule(Op::kReduceScatter, pat_reducescatter(p, bytes, o));
        EXPECT_TRUE(rs.ok()) << what << ": " << rs.error().to_string();
      }
    }
  }
}

TEST(Pat, ForwardingBeforeArrivalIsCaught) {
  Schedule ag = pat_allgather(8, 8e3);
  for (auto& t : ag.transfers) t.deps.clear();
  EXPECT_FALSE(check_schedule(Op::kAllGather, ag).ok());
  Schedule rs = pat_reducescatter(8, 8e3);
  for (auto& t : rs.transfers) t.deps.clear();
  EXPECT_FALSE(check_schedule(Op::kReduceScatter, rs).ok());
}

// Each rank sends p - 1 blocks of n/p (the ring's bytes), to at most lg p
// peers 2^k away; for p a power of two dimension k carries p / 2^(k+1)
// blocks: the farthest peer one, the nearest half of them.
TEST(Pat, SendsTheRingsBytesToLgPPeersWithLittleToTheFarthest) {
  for (int p : {8, 16, 12}) {
    const double n = 96.0 * 1048576;
    for (const Schedule& s : {pat_allgather(p, n), pat_reducescatter(p, n)}) {
      const Schedule e = expand(s);
      std::map<int, double> sent;
      std::map<int, std::set<int>> peers;
      std::map<int, double> at_distance;  // rank 0's bytes by distance
      for (const auto& t : e.transfers) {
        sent[t.src] += t.bytes;
        peers[t.src].insert(t.dst);
        if (t.src == 0) at_distance[std::min((t.dst - t.src + p) % p, (t.src - t.dst + p) % p)] += t.bytes;
      }
      for (int r = 0; r < p; ++r) {
        EXPECT_NEAR(sent[r], (p - 1) * n / p, 1e-9 * n) << s.op << " p=" << p << " rank " << r;
        EXPECT_LE(static_cast<int>(peers[r].size()), ceil_lg(p)) << s.op << " p=" << p;
      }
      if ((p & (p - 1)) == 0) {
        for (int k = 0; (1 << k) < p; ++k) {
          EXPECT_NEAR(at_distance[1 << k], n / p * (p >> (k + 1)), 1e-9 * n) << s.op << " p=" << p << " k=" << k;
        }
      }
    }
  }
}

// Pipelined, PAT is one slice repeated; expanded, it is the schedule
// written out slice by slice.
TEST(Pat, PipelinedFormExpandsToEverySliceWrittenOut) {
  for (int p : {5, 8}) {
    const double n = 40.0 * 1048576 * p;
    for (bool gather : {true, false}) {
      const Schedule a = expand(gather ? pat_allgather(p, n) : pat_reducescatter(p, n));
      const Schedule b =
          gather ? pat_allgather(p, n, {.pipelined = false}) : pat_reducescatter(p, n, {.pipelined = false});
      ASSERT_GT(a.transfers.size(), static_cast<std::size_t>(p * (p - 1))) << "several slices";
      ASSERT_EQ(a.transfers.size(), b.transfers.size());
      for (std::size_t i = 0; i < a.transfers.size(); ++i) {
        const auto &x = a.transfers[i], &y = b.transfers[i];
        ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.chunk == y.chunk && x.deps == y.deps &&
                    x.queue_after == y.queue_after && x.bytes == y.bytes)
            << "transfer " << i;
      }
    }
  }
}

// p GPUs, one per node, each on one 400 Gb/s link (1 us) to one switch.
topology::Network star(int p) {
  return topology::Network(collsim::testing::topology_from_text(
      fmt::format("name: star\ndevices:\n  - {{name: gpu, kind: gpu, count: {}}}\n  - {{name: sw, kind: switch}}\n"
                  "links:\n  - {{from: gpu, to: sw, rate: 400Gb/s, latency: 1us, class: infiniband}}\n",
                  p)));
}

double run_time(const std::string& backend, const topology::Network& net, const Schedule& s) {
  auto b = engine::make_backend(backend);
  EXPECT_TRUE(b.ok());
  auto r = (*b)->run(net, {s}, engine::RunOptions{});
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? (*r)[0].time_s : 0;
}

TEST(PatOnASwitch, TinyBuffersTakeLgPHopsAndLargeOnesTheRingsBandwidth) {
  for (int p : {16, 12}) {
    const topology::Network net = star(p);
    const double hop = 2e-6;                      // GPU -> switch -> GPU
    const double rate = net.links()[0].rate_Bps;  // 50 GB/s x the class's efficiency
    for (const char* backend : {"analytical", "simgrid"}) {
      for (bool gather : {true, false}) {
        const auto tiny = gather ? pat_allgather(p, p) : pat_reducescatter(p, p);
        EXPECT_NEAR(run_time(backend, net, tiny), depth(p) * hop, 0.01 * depth(p) * hop)
            << backend << " p=" << p << " tiny";
        const double n = 1024.0 * 1048576;
        const double bound = (p - 1.0) / p * n / rate;
        const double t = run_time(backend, net, gather ? pat_allgather(p, n) : pat_reducescatter(p, n));
        EXPECT_GE(t, bound * (1 - 1e-6)) << backend << " p=" << p;
        EXPECT_LE(t, bound * 1.01) << backend << " p=" << p;
      }
    }
  }
}

// With NCCL's costs, PAT's latency grows with lg p and its per-rank term
// where the ring's grows with p hops: on 64 nodes `auto` runs PAT at 4 MiB
// and the ring at 1 GiB, where PAT's bandwidth (NCCL's 0.75) loses. NCCL's
// own model (src/graph/tuning.cc, protocol.h) gives the same choices here:
// at 4 MiB PAT 8 + 64 x 2.8 + 6 x 4 = 211 us + 4 MiB / 38 GB/s = 321 us
// against the ring's best (LL128, 266 + 89 = 355 us); at 1 GiB the ring
// (Simple) 22.0 ms against PAT's 28.4 ms.
TEST(PatTuner, AutoRunsPatWhereNcclWouldAndOnlyAtOneGpuPerNode) {
  const topology::Network net = star(64);
  std::vector<engine::TuneCase> cases;
  for (double bytes : {4.0 * 1048576, 1024.0 * 1048576}) {
    engine::TuneCase c;
    c.op = Op::kAllGather;
    c.ranks = 64;
    c.bytes = bytes;
    for (int g = 0; g < 64; ++g) c.params.domain_of_rank.push_back(net.nvlink_domain_of(g));
    cases.push_back(c);
  }
  auto candidates = engine::build_candidates(cases, {}, "analytical");
  ASSERT_TRUE(candidates.ok()) << candidates.error().to_string();
  auto backend = engine::make_backend("analytical");
  auto results = engine::run_candidates(*candidates, net, **backend, {});
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(candidates->schedules[engine::fastest(*candidates, 0, *results)].algo, "pat");
  EXPECT_EQ(candidates->schedules[engine::fastest(*candidates, 1, *results)].algo, "ring");

  // Eight GPUs in one NVLink domain: PAT is neither a candidate nor listed as skipped.
  engine::TuneCase shared = cases.front();
  shared.ranks = 8;
  shared.params.domain_of_rank.assign(8, 0);
  auto one_node = engine::build_candidates({shared}, {}, "analytical");
  ASSERT_TRUE(one_node.ok());
  for (std::size_t i : one_node->of_case[0]) EXPECT_NE(one_node->schedules[i].algo, "pat");
  for (const auto& why : one_node->skipped[0]) EXPECT_NE(why.rfind("pat", 0), 0u) << why;
  // Named, it says why it cannot run.
  auto named = engine::build_candidates({shared}, {.algorithm = "pat"}, "analytical");
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.error().message.find("one GPU per node"), std::string::npos) << named.error().message;
  // On SimGrid too, where 1,024 ranks' PAT slice (a million flows) would be
  // refused for its size: the reason PAT cannot run at all comes first.
  engine::TuneCase big = shared;
  big.ranks = 1024;
  big.params.domain_of_rank.resize(1024);
  for (int r = 0; r < 1024; ++r) big.params.domain_of_rank[static_cast<std::size_t>(r)] = r / 8;
  auto refused = engine::build_candidates({big}, {.algorithm = "pat"}, "simgrid");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("one GPU per node"), std::string::npos) << refused.error().message;
  // And at one GPU per node under a release without PAT: that, not the size.
  for (int r = 0; r < 1024; ++r) big.params.domain_of_rank[static_cast<std::size_t>(r)] = r;
  engine::TunerChoice before_pat{.algorithm = "pat"};
  before_pat.nccl = NcclRelease{2, 22, 3};
  auto too_old = engine::build_candidates({big}, before_pat, "simgrid");
  ASSERT_FALSE(too_old.ok());
  EXPECT_NE(too_old.error().message.find("pat needs NCCL 2.23.4"), std::string::npos) << too_old.error().message;
  // PAT runs only the Simple protocol, as NCCL's.
  AlgoParams ll;
  ll.protocol = Protocol::kLL;
  EXPECT_FALSE(build_schedule(Op::kAllGather, "pat", 4, 1e6, ll).ok());
}

}  // namespace
}  // namespace collsim::collective
