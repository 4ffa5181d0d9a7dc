// CollNetDirect with SHARP (collective/collnet.h, engine/sharp.h): the
// aggregation trees taken from the fabric, what the schedule computes (the
// symbolic checker), the bytes every NIC and tree edge carries, and its
// time on an idle fabric against the closed form n max(2 (g-1) / (g B_nvl),
// 1 / (g B_nic)).
#include "sim/collective/collnet.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "sim/collective/algorithms.h"
#include "sim/collective/check.h"
#include "sim/collective/nvls.h"
#include "sim/engine/backend.h"
#include "sim/engine/sharp.h"
#include "sim/engine/tuner.h"
#include "sim/topology/summary.h"
#include "test_support.h"

namespace collsim::collective {
namespace {

// `nodes` hosts of `g` GPUs on one NVSwitch (B_nvl 100 GB/s per GPU), each
// GPU with its own NIC (B_nic 25 GB/s) to a leaf per rail; `leaves_per_rail`
// leaves, joined by one spine. The infiniband class reduces (SHARP) unless
// `sharp` is false.
std::string fabric(int nodes, int g, int leaves_per_rail, bool sharp, bool collnet = false) {
  std::string y = "name: sharp-test\n";
  if (sharp)
    y += "link_classes: {infiniband: {efficiency: 1.0, sharp_efficiency: 1.0}}\n";
  else
    y += "link_classes: {infiniband: {efficiency: 1.0}}\n";
  if (collnet) y += "nccl: {collnet: true}\n";
  y += "devices:\n";
  for (int n = 0; n < nodes; ++n) {
    y += fmt::format("  - {{name: n{}gpu, kind: gpu, count: {}}}\n", n, g);
    y += fmt::format("  - {{name: n{}sw, kind: nvswitch}}\n", n);
    y += fmt::format("  - {{name: n{}nic, kind: nic, count: {}}}\n", n, g);
  }
  y += fmt::format("  - {{name: leaf, kind: switch, count: {}}}\n", g * leaves_per_rail);
  y += "  - {name: spine, kind: switch}\nlinks:\n";
  for (int n = 0; n < nodes; ++n) {
    y += fmt::format(
        "  - {{from: n{0}gpu, to: n{0}sw, rate: 100GB/s, latency: 100ns, class: nvlink4, efficiency: 1.0}}\n", n);
    y += fmt::format("  - {{from: n{0}gpu, to: n{0}nic, pattern: zip, rate: 200GB/s, latency: 100ns, class: pcie}}\n",
                     n);
    const int leaf_group = n * leaves_per_rail / nodes;  // nodes split evenly over each rail's leaves
    for (int c = 0; c < g; ++c) {
      y += fmt::format("  - {{from: n{}nic{}, to: leaf{}, rate: 25GB/s, latency: 500ns, class: infiniband}}\n", n, c,
                       c * leaves_per_rail + leaf_group);
    }
  }
  y += fmt::format("  - {{from: leaf, to: spine, rate: 400GB/s, latency: 500ns, class: infiniband}}\n");
  return y;
}

topology::Network network_of(const std::string& yaml) {
  return topology::Network(collsim::testing::topology_from_text(yaml));
}

std::vector<int> all_gpus(const topology::Network& net) {
  std::vector<int> g(static_cast<std::size_t>(net.num_gpus()));
  for (int i = 0; i < net.num_gpus(); ++i) g[static_cast<std::size_t>(i)] = i;
  return g;
}

TEST(SharpTrees, OneLeafIsTheRootAndLeavesHangOffTheSpine) {
  // One leaf per rail: every rail's tree is that leaf alone.
  const auto one = network_of(fabric(4, 2, 1, true));
  auto p = engine::collnet_params(one, all_gpus(one));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->rails.size(), 2u);
  for (const auto& rail : p->rails) {
    EXPECT_EQ(rail.parent, (std::vector<int>{-1}));
    EXPECT_EQ(rail.entry, (std::vector<int>{0, 0, 0, 0}));
  }
  EXPECT_EQ(p->helper_endpoint.size(), 2u);  // one leaf per rail
  // Two leaves per rail: nodes 2-3 enter the other leaf, which hangs off
  // the spine, which hangs off the anchor's leaf (the root).
  const auto two = network_of(fabric(4, 2, 2, true));
  auto q = engine::collnet_params(two, all_gpus(two));
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  for (const auto& rail : q->rails) {
    ASSERT_EQ(rail.parent.size(), 3u);  // root leaf, other leaf, spine
    const int root = rail.entry[0];
    EXPECT_EQ(rail.parent[static_cast<std::size_t>(root)], -1);
    EXPECT_EQ(rail.entry[1], root);
    EXPECT_EQ(rail.entry[2], rail.entry[3]);
    const int other = rail.entry[2];
    const int spine = rail.parent[static_cast<std::size_t>(other)];
    EXPECT_EQ(rail.parent[static_cast<std::size_t>(spine)], root);
  }
  EXPECT_EQ(q->helper_endpoint.size(), 5u);  // 4 leaves and the spine, shared by both rails
  // `collsim topo` counts them, and says CollNet is off by default.
  const auto topo = collsim::testing::topology_from_text(fabric(4, 2, 2, true));
  const auto summary = topology::summarize(topo, topology::Network(topo));
  EXPECT_EQ(summary.sharp_switches, 5);
  EXPECT_FALSE(summary.collnet);
}

TEST(SharpTrees, RefusedWithoutSwitchesThatReduceOrWithUnequalNodes) {
  const auto plain = network_of(fabric(2, 2, 1, false));
  auto p = engine::collnet_params(plain, all_gpus(plain));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("sharp_efficiency"), std::string::npos) << p.error().message;
  const auto net = network_of(fabric(2, 2, 1, true));
  auto q = engine::collnet_params(net, {0, 1, 2});  // 2 GPUs of node 0, 1 of node 1
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("same number of GPUs"), std::string::npos) << q.error().message;
}

AlgoParams params_for(const topology::Network& net) {
  AlgoParams p;
  p.nvls_efficiency = net.nvls_efficiency_near(0);
  for (int g = 0; g < net.num_gpus(); ++g) p.domain_of_rank.push_back(net.nvlink_domain_of(g));
  auto trees = engine::collnet_params(net, all_gpus(net));
  EXPECT_TRUE(trees.ok()) << trees.error().to_string();
  if (trees.ok()) {
    p.collnet = *trees;
    p.collnet_unavailable.clear();
  }
  return p;
}

TEST(CollNetDirect, ComputesAnAllReduce) {
  for (auto [nodes, g, leaves] : std::vector<std::tuple<int, int, int>>{{2, 1, 1}, {2, 4, 1}, {4, 2, 2}, {6, 3, 2}}) {
    const auto net = network_of(fabric(nodes, g, leaves, true));
    AlgoParams p = params_for(net);
    for (double bytes : {1e3 * nodes * g, 64.0 * 1048576}) {
      for (bool pipelined : {true, false}) {
        p.collnet.pipelined = pipelined;
        for (const char* algo : {"collnetdirect", "nvls"}) {
          auto s = build_schedule(Op::kAllReduce, algo, net.num_gpus(), bytes, p);
          if (std::string_view(algo) == "nvls" && g < collsim::collective::nccl_nvls_min_gpus(p.nccl)) {
            // NCCL has no NVLS on one GPU per node (nvls.h).
            EXPECT_FALSE(s.ok()) << nodes << "x" << g;
            continue;
          }
          ASSERT_TRUE(s.ok()) << algo << ": " << s.error().to_string();
          const Status st = check_allreduce(expand(*s));
          EXPECT_TRUE(st.ok()) << algo << " " << nodes << "x" << g << " leaves " << leaves << ": "
                               << st.error().to_string();
        }
      }
    }
  }
}

// Every NIC carries n/g each way, every GPU 2 (g-1) n / g over NVLink each
// way, and every tree edge n/g each way: what SHARP saves over a ring.
TEST(CollNetDirect, EachNicAndTreeEdgeCarriesAPortionOnce) {
  const int nodes = 4, g = 2;
  const auto net = network_of(fabric(nodes, g, 2, true));
  const double n = 64.0 * 1048576;
  auto s = build_schedule(Op::kAllReduce, "collnetdirect", net.num_gpus(), n, params_for(net));
  ASSERT_TRUE(s.ok());
  std::map<std::pair<int, int>, double> on;
  for (const auto& t : expand(*s).transfers) on[{t.src, t.dst}] += t.bytes;
  const int p = nodes * g;
  for (int r = 0; r < p; ++r) {
    double up = 0, down = 0, nvlink_out = 0;
    for (const auto& [k, b] : on) {
      if (k.first == r && k.second >= p) up += b;
      if (k.second == r && k.first >= p) down += b;
      if (k.first == r && k.second < p) nvlink_out += b;
    }
    EXPECT_NEAR(up, n / g, 1e-9 * n) << "rank " << r;
    EXPECT_NEAR(down, n / g, 1e-9 * n) << "rank " << r;
    EXPECT_NEAR(nvlink_out, 2.0 * (g - 1) / g * n, 1e-9 * n) << "rank " << r;
  }
  for (const auto& [k, b] : on) {
    if (k.first >= p && k.second >= p) {
      EXPECT_NEAR(b, n / g, 1e-9 * n) << k.first << " -> " << k.second;
    }
  }
}

double time_on(const std::string& backend, const topology::Network& net, const Schedule& s) {
  auto b = engine::make_backend(backend);
  auto r = (*b)->run(net, {s}, engine::RunOptions{});
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? (*r)[0].time_s : 0;
}

TEST(CollNetDirect, IdleFabricTimeIsTheBusierOfNvlinkAndTheNic) {
  const double n = 1024.0 * 1048576;
  // g = 4: NVLink 2 (3/4) n / 100 GB/s = 15.7 ms against the NIC n/4 / 25 GB/s
  // = 10.7 ms; g = 1: the NIC alone, n / 25 GB/s.
  for (auto [g, bound] : std::vector<std::pair<int, double>>{{4, 2.0 * 3 / 4 * n / 100e9}, {1, n / 25e9}}) {
    const auto net = network_of(fabric(4, g, 2, true));
    auto s = build_schedule(Op::kAllReduce, "collnetdirect", net.num_gpus(), n, params_for(net));
    ASSERT_TRUE(s.ok());
    for (const char* backend : {"analytical", "simgrid"}) {
      const double t = time_on(backend, net, *s);
      EXPECT_GE(t, bound * (1 - 1e-6)) << backend << " g=" << g;
      EXPECT_LE(t, bound * 1.03) << backend << " g=" << g;  // the pipeline's fill: 64 slices
    }
  }
}

// NVLS with CollNet: NVLS's n (1 + 1/g) over each GPU's NVLink (at the
// class's NVLS efficiency, 0.85 for nvlink4), n/g through each NIC.
TEST(NvlsCollNet, IdleFabricTimeIsNvlsInsideTheNodeWhenTheNicKeepsUp) {
  const double n = 1024.0 * 1048576;
  const auto net = network_of(fabric(4, 4, 2, true));
  auto s = build_schedule(Op::kAllReduce, "nvls", net.num_gpus(), n, params_for(net));
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  const double nvlink = n * (1 + 1.0 / 4) / (100e9 * 0.85), nic = n / 4 / 25e9;
  ASSERT_GT(nvlink, nic);
  for (const char* backend : {"analytical", "simgrid"}) {
    const double t = time_on(backend, net, *s);
    EXPECT_GE(t, nvlink * (1 - 1e-6)) << backend;
    // The pipeline's fill: 64 slices through load, the tree and the store
    // (about 3/64 of the time at most).
    EXPECT_LE(t, nvlink * 1.05) << backend;
  }
  // Without SHARP switches NVLS stays inside one domain, as in NCCL.
  const auto plain = network_of(fabric(4, 4, 2, false));
  AlgoParams p;
  p.nvls_efficiency = plain.nvls_efficiency_near(0);
  for (int g = 0; g < plain.num_gpus(); ++g) p.domain_of_rank.push_back(plain.nvlink_domain_of(g));
  auto refused = build_schedule(Op::kAllReduce, "nvls", plain.num_gpus(), n, p);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("only with CollNet"), std::string::npos) << refused.error().message;
}

// NCCL runs CollNetDirect with at most 8 GPUs per node; NVLS with CollNet
// has no such limit (GB200 NVL72 racks over a SHARP fabric).
TEST(CollNetDirect, AtMostEightGpusPerNodeWhereNvlsWithCollNetHasNoLimit) {
  const auto net = network_of(fabric(2, 16, 1, true));
  const AlgoParams p = params_for(net);
  auto direct = build_schedule(Op::kAllReduce, "collnetdirect", net.num_gpus(), 64e6, p);
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message.find("at most 8 GPUs per node"), std::string::npos) << direct.error().message;
  auto nvls = build_schedule(Op::kAllReduce, "nvls", net.num_gpus(), 64e6, p);
  ASSERT_TRUE(nvls.ok()) << nvls.error().to_string();
  EXPECT_TRUE(check_allreduce(expand(*nvls)).ok());
}

TEST(CollNetDirect, AutoRunsItOnlyWhenNcclsCollNetIsEnabled) {
  for (bool enabled : {false, true}) {
    // 16 nodes of one GPU: a ring pays 2 (p-1) = 30 network steps where
    // CollNet pays one network latency (NCCL's 31 us), and each NIC carries
    // n once each way instead of the ring's 2 (p-1)/p n: CollNet wins small
    // and large buffers alike (NCCL's model agrees: 31 us against a ring's
    // 6.6 + 30 x 2.7 us with LL at 64 KiB; n / B against 2 (p-1)/p n / B at 1 GiB).
    const auto net = network_of(fabric(16, 1, 2, true, enabled));
    std::vector<engine::TuneCase> cases;
    for (double bytes : {65536.0, 1024.0 * 1048576}) {
      engine::TuneCase c;
      c.ranks = net.num_gpus();
      c.bytes = bytes;
      c.params = params_for(net);
      c.params.collnet_enabled = net.collnet_enabled();
      cases.push_back(c);
    }
    auto cands = engine::build_candidates(cases, {}, "analytical");
    ASSERT_TRUE(cands.ok());
    bool has = false;
    for (std::size_t i : cands->of_case[0]) has |= cands->schedules[i].algo == "collnetdirect";
    EXPECT_EQ(has, enabled);
    if (!enabled) continue;
    auto backend = engine::make_backend("analytical");
    auto results = engine::run_candidates(*cands, net, **backend, {});
    ASSERT_TRUE(results.ok());
    for (std::size_t k = 0; k < cases.size(); ++k)
      EXPECT_EQ(cands->schedules[engine::fastest(*cands, k, *results)].algo, "collnetdirect") << cases[k].bytes;
  }
}

// In a training step the data-parallel all-reduce runs on the SHARP trees
// when CollNet is on, and keeps the ring otherwise: the same step, the same
// groups, only the choice moves (and the exposed data-parallel time with it).
// `tuned` (the fastest of NCCL's algorithms): for this one-GPU-per-node
// group NCCL's own model prefers the ring to CollNetDirect.
TEST(CollNetInSteps, DataParallelAllReduceUsesSharpWhenEnabled) {
  const std::string step =
      "run --topology topologies/h100-ib400-128node.yaml --set cluster.nodes=16 --workload "
      "workloads/llama3-70b.yaml --set-workload parallelism.zero=0 --memory-check off --what-if off "
      "--backend analytical --set link_classes.infiniband.sharp_efficiency=1 --set-workload "
      "communication.algorithm=tuned";
  const auto off = collsim::testing::run_collsim(step);
  const auto on = collsim::testing::run_collsim(step + " --set nccl.collnet=true");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_EQ(off.out.find("collnetdirect"), std::string::npos) << off.out;
  EXPECT_NE(on.out.find("dp    allreduce           4     204 MiB collnetdirect"), std::string::npos) << on.out;
}

// The step's what-ifs offer SHARP where the fabric is InfiniBand without it
// and the step all-reduces across NVLink domains, and not once it has it.
TEST(CollNetInSteps, WhatIfsOfferInNetworkReductionUntilTheFabricHasIt) {
  const std::string step =
      "run --topology topologies/h100-ib400-128node.yaml --set cluster.nodes=8 --workload "
      "workloads/llama3-70b.yaml --set-workload parallelism.zero=0 --memory-check off --backend analytical";
  const auto without = collsim::testing::run_collsim(step);
  const auto with =
      collsim::testing::run_collsim(step + " --set link_classes.infiniband.sharp_efficiency=1 --set nccl.collnet=true");
  ASSERT_EQ(without.exit_code, 0) << without.err;
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_NE(without.out.find("in-network reduction: InfiniBand switches reduce"), std::string::npos) << without.out;
  EXPECT_EQ(with.out.find("in-network reduction"), std::string::npos) << with.out;
}

}  // namespace
}  // namespace collsim::collective
