// NCCL's own choice (collective/nccl_tuner.h): its graph search reduced to
// the node's limits, its cost model term for term, and `auto` running what
// that model picks. Expected values are worked by hand from NCCL 2.30.7's
// rules (src/graph/search.cc, src/graph/tuning.cc), quoted beside each.
#include "sim/collective/nccl_tuner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_support.h"

namespace {

using collsim::collective::nccl_graphs;
using collsim::collective::nccl_predicted_time_us;
using collsim::collective::NcclRelease;
using collsim::collective::NcclSystem;
using collsim::collective::Op;
using collsim::collective::Protocol;

// Nodes of `gpus` GPUs on an NVSwitch, `nics` NICs of `nic_GBps` each.
NcclSystem switched_nodes(std::string model, int nodes, int gpus, double nvlink_GBps, int nics, double nic_GBps) {
  NcclSystem s;
  s.gpu_model = std::move(model);
  s.nodes = nodes;
  s.ranks = gpus * nodes;
  s.nvlink_GBps = nvlink_GBps;
  s.nvswitch = true;
  s.nics = nics;
  s.nic_GBps = nic_GBps;
  return s;
}

NcclSystem dgx_h100(int nodes) {
  NcclSystem s;
  s.gpu_model = "h100";
  s.nodes = nodes;
  s.ranks = 8 * nodes;
  s.nvlink_GBps = 18 * 20.6;  // 370.8
  s.nvswitch = true;
  s.nvls = true;
  s.nics = 8;
  s.nic_GBps = 50;  // 400 Gb/s
  return s;
}

// One H100 node: rings at 60 GB/s fit 6 channels in 370.8 (360), which no
// slower speed beats before falling below 0.49 x 60; doubled at half speed
// (60 >= 50) to 12 x 30. NVLS: 8 heads, each costing every GPU 40 (its
// head 80), 9 x 40 = 360 <= 370.8 (50 would need 450); its network speed
// then rises to the array's top, 60 (below 2 x 40).
TEST(NcclGraphs, OneH100Node) {
  const auto g = nccl_graphs(dgx_h100(1));
  EXPECT_EQ(g.ring.channels, 12);
  EXPECT_DOUBLE_EQ(g.ring.bw_intra, 30);
  EXPECT_EQ(g.tree.channels, 12);
  EXPECT_EQ(g.nvls.channels, 8);
  EXPECT_DOUBLE_EQ(g.nvls.bw_intra, 40);
  EXPECT_DOUBLE_EQ(g.nvls.bw_inter, 60);
  EXPECT_EQ(g.collnet.channels, 0);
}

// A node of 8 H800s (NVLink cut to 8 links: 8 x 20.6 = 164.8 GB/s as NCCL
// counts them): rings at 40 fit 4 channels (160), which 30, 24 and 20
// (8 x 20 = 160) do not beat before 15 falls below 0.49 x 40; 4 channels
// are doubled at half speed: 8 x 20. NCCL's own log of such a node (NVIDIA/
// nccl issue 892, 2023) reads "16 coll channels": its execution channels
// are twice its search channels (NVIDIA/nccl issue 1041). The same under
// the oldest speed array read (2.18.3, without 50) and the newest.
TEST(NcclGraphs, H800NodeMatchesItsLog) {
  NcclSystem s = dgx_h100(1);
  s.nvlink_GBps = 8 * 20.6;
  s.nvls = false;
  for (const NcclRelease release : {NcclRelease{2, 18, 3}, collsim::collective::kDefaultNcclRelease}) {
    const auto g = nccl_graphs(s, release);
    EXPECT_EQ(2 * g.ring.channels, 16) << to_string(release);
    EXPECT_DOUBLE_EQ(g.ring.bw_intra, 20) << to_string(release);
    EXPECT_EQ(g.nvls.channels, 0) << to_string(release);
  }
}

// Across H100 nodes the path to a NIC allows 48 (PCIe Gen5 as NCCL rates
// it): one ring channel per NIC, 8 x 48 = 384 >= 370.8 ends the search, and
// Hopper keeps 8 channels under 50 GB/s undoubled. On two nodes the tree's
// in-node speed cannot rise (48 is the array's top). NVLS heads: one per
// NIC, 9 x 40 <= 370.8, the network speed rising to 48 within the NIC.
TEST(NcclGraphs, H100NodesOnInfiniBand) {
  for (int nodes : {2, 4}) {
    const auto g = nccl_graphs(dgx_h100(nodes));
    EXPECT_EQ(g.ring.channels, 8) << nodes;
    EXPECT_DOUBLE_EQ(g.ring.bw_inter, 48) << nodes;
    EXPECT_DOUBLE_EQ(g.tree.bw_intra, 48) << nodes;
    EXPECT_EQ(g.nvls.channels, 8) << nodes;
    EXPECT_DOUBLE_EQ(g.nvls.bw_intra, 40) << nodes;
    EXPECT_DOUBLE_EQ(g.nvls.bw_inter, 48) << nodes;
  }
}

// NCCL_CROSS_NIC (search.cc: ncclTopoCompute tries a ring that leaves each
// node by the NIC it entered by, then, under 2, one that leaves by another;
// ncclTopoCompareGraphs keeps a graph only if strictly better). On 2 H100
// nodes with 8 NICs of 400 Gb/s, at 48 the same NIC fits floor(370.8 / 48)
// = 7 channels (336: the last GPU reaches the NIC over NVLink, PXN), another
// NIC floor(370.8 x 8/7 / 48) = 8 (384): NCCL's default crosses. With 0,
// 45 fits min(floor(370.8 / 45), 8 NICs) = 8 (360), which 24 (15 x 24) only
// ties: 8 x 45. With 200 Gb/s NICs the first speed is 24, where both fit 8
// (one per NIC), and on B200s (721.8) 48 fits 8 either way: the same NIC.
TEST(NcclGraphs, RingsCrossNicsOnlyWhereThatFindsBandwidth) {
  using collsim::collective::rings_keep_their_nic;
  NcclSystem s = dgx_h100(2);
  auto ring = [&](int cross_nic) {
    s.cross_nic = cross_nic;
    return nccl_graphs(s).ring;
  };
  for (int cross_nic : {1, 2}) {
    const auto r = ring(cross_nic);
    EXPECT_EQ(r.channels, 8) << cross_nic;
    EXPECT_DOUBLE_EQ(r.bw_inter, 48) << cross_nic;
    EXPECT_TRUE(r.cross_nic) << cross_nic;
    EXPECT_FALSE(rings_keep_their_nic(s)) << cross_nic;
  }
  const auto same = ring(0);
  EXPECT_EQ(same.channels, 8);
  EXPECT_DOUBLE_EQ(same.bw_inter, 45);
  EXPECT_FALSE(same.cross_nic);
  EXPECT_TRUE(rings_keep_their_nic(s));

  s.cross_nic = 2;
  s.nic_GBps = 25;
  const auto slow = nccl_graphs(s).ring;
  EXPECT_EQ(slow.channels, 8);
  EXPECT_DOUBLE_EQ(slow.bw_inter, 24);
  EXPECT_TRUE(rings_keep_their_nic(s));

  s.nic_GBps = 50;
  s.gpu_model = "b200";
  s.nvlink_GBps = 18 * 40.1;
  EXPECT_EQ(nccl_graphs(s).ring.channels, 8);
  EXPECT_TRUE(rings_keep_their_nic(s));
  // A GPU NCCL's tables lack: no graph, so the default crosses (as 1).
  s.gpu_model = "unknown-gpu";
  EXPECT_FALSE(rings_keep_their_nic(s));
  s.cross_nic = 0;
  EXPECT_TRUE(rings_keep_their_nic(s));
}

// GB200 partitions of 4 GPUs (NVIDIA/nccl issue 1801's first system, NVLS
// off, so no NVLS graph) under that NCCL 2.27.3, whose sm100
// network array starts at 47.9: 4 NICs of 50 give 4 ring channels at 47.9
// (191.6, short of NVLink's 721.8), then 2 per NIC at 24 give 192 and win;
// 24 < 25 is not duplicated: 8 x 24. (Under 2.30.7 the array's 48 gives
// 4 x 48, which ties 8 x 24, and Blackwell doubles 4 channels: 8 x 24 too.)
TEST(NcclGraphs, Gb200PartitionsOfFour) {
  const NcclSystem s = switched_nodes("gb200", 3, 4, 18 * 40.1, 4, 50);
  const auto g = nccl_graphs(s);
  EXPECT_EQ(g.ring.channels, 8);
  EXPECT_DOUBLE_EQ(g.ring.bw_inter, 24);
  // ncclTopoTuneModel on 3 nodes: ring Simple busBw 8 x 24 = 192, algbw x
  // 12 / 22; tree Simple min(0.92 x 192, 8 x 24) x 0.5. So NCCL runs the
  // ring at 16 GiB though its tree is faster there (issue 1801).
  // Tree: min(0.92 x 192, 8 x 24.0) x 0.5.
  const double bytes = 16.0 * (1 << 30);
  const double ring = nccl_predicted_time_us(Op::kAllReduce, "ring", Protocol::kSimple, bytes, s, g);
  const double tree = nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kSimple, bytes, s, g);
  // 22 steps, 4 across nodes; in-node steps at max(3.4, net overhead 3 x 1);
  // the ring's plateau factor 1.4.
  const double ring_lat = (8.4 + 18 * 3.4 + 4 * 14.0) * 1.4;
  EXPECT_NEAR(ring, ring_lat + bytes / (1000 * 192.0 * 12 / 22), 1e-6 * ring);
  const double tree_lat = 8.4 + 2 * ((4 - 1) * 4.0 + 1 * 14.0);  // log2(3) = 1 level
  EXPECT_NEAR(tree, tree_lat + bytes / (1000 * 0.5 * 0.92 * 192.0), 1e-6 * tree);
  EXPECT_LT(ring, tree);
}

// Two HGX B200 nodes, 8 NICs of 50 GB/s (the 2-node B200 curve of
// tests/validation/more-curves.yaml, NCCL 2.26.2). Both releases find 8 ring
// channels at 48 (PCIe's 48 bounds the path to a NIC; 8 x 48 = 384 and no
// slower speed reaches more before 0.49 x 48; Hopper and later keep 8
// channels under 50 undoubled). The tree's two-node pass 2 raises its
// in-node speed through the network array while below 2 x 48 and 8 x speed
// fits NVLink's 721.8: 2.26.2's array tops at 48, so it stays 48; 2.30.7's
// holds 80 and 86 (688), not 96 (768).
TEST(NcclGraphs, B200TwoNodesFollowTheRelease) {
  NcclSystem s = dgx_h100(2);
  s.gpu_model = "b200";
  s.nvlink_GBps = 18 * 40.1;
  const NcclRelease r2262{2, 26, 2};
  const auto old_graphs = nccl_graphs(s, r2262);
  const auto new_graphs = nccl_graphs(s);
  EXPECT_EQ(old_graphs.ring.channels, 8);
  EXPECT_DOUBLE_EQ(old_graphs.ring.bw_inter, 48);
  EXPECT_EQ(new_graphs.ring.channels, 8);
  EXPECT_DOUBLE_EQ(old_graphs.tree.bw_intra, 48);
  EXPECT_DOUBLE_EQ(new_graphs.tree.bw_intra, 86);

  // NCCL 2.26.2's model at 1 GiB (its tuning.cc): NVLSTree busBw 8 x
  // min(48, 48), algbw x 5/6, latency 25 + 2 x log2(2) x 14 us; tree
  // Simple min(0.92 x 384, 8 x 82.8) x 0.5, latency 8.4 + 2 (7 x 4.0 + 14);
  // ring Simple 384 x 16 / 30. NVLSTree is fastest: what the measured
  // 677 GB/s at 1 GiB needs (a tree at 8 x 48 could not reach it).
  const double b = 1 << 30;
  auto t = [&](const char* algo) {
    return nccl_predicted_time_us(Op::kAllReduce, algo, Protocol::kSimple, b, s, old_graphs, r2262);
  };
  EXPECT_NEAR(t("nvlstree"), 25 + 2 * 14 + b / (1000 * 384.0 * 5 / 6), 1e-6 * b / 320e3);
  EXPECT_NEAR(t("tree"), 8.4 + 2 * (7 * 4.0 + 14) + b / (1000 * 0.92 * 384 * 0.5), 1e-6 * b / 176e3);
  EXPECT_LT(t("nvlstree"), t("tree"));
  EXPECT_LT(t("nvlstree"), t("ring"));
}

// NCCL 2.26.2 on: a tree graph of the plain pattern (NCCL_TOPO_PATTERN_TREE,
// which its search takes with one GPU a node) has 0.85 of the bandwidth
// (src/graph/tuning.cc: "maxTreePattern == NCCL_TOPO_PATTERN_TREE) busBw
// *= .85"); 2.25.1 has no such line, and two GPUs a node keep theirs.
TEST(NcclModel, APlainTreeLosesFifteenPercentFrom2_26_2) {
  auto slope = [](const NcclSystem& s, NcclRelease r) {    // us per GiB past 1 GiB (no correction, no latency)
    const auto g = nccl_graphs(s, NcclRelease{2, 26, 2});  // the same graphs: the model's rule alone
    const double b = 1 << 30;
    return nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kSimple, 2 * b, s, g, r) -
           nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kSimple, b, s, g, r);
  };
  const NcclRelease before{2, 25, 1}, from{2, 26, 2};
  NcclSystem one = switched_nodes("h100", 2, 1, 18 * 20.6, 1, 50);
  ASSERT_GT(slope(one, before), 0);
  EXPECT_NEAR(slope(one, from), slope(one, before) / 0.85, 1e-9 * slope(one, before));
  NcclSystem two = switched_nodes("h100", 2, 2, 18 * 20.6, 2, 50);
  EXPECT_NEAR(slope(two, from), slope(two, before), 1e-9 * slope(two, before));
}

// ncclTopoTuneModel and ncclTopoGetAlgoTime on one H100 node, 1 GiB:
//   ring Simple: 8.4 + 14 x 3.4 us; 12 x 30 GB/s x 8 / 14;
//   tree Simple: 8.4 + 2 x 7 x 4.0 us; min(0.92 x 360, 12 x 38.7) x 0.5
//     (no correction factor above 256 MiB);
//   NVLS: 25 us; 8 x min(40 x 0.85 x 7 / 8 x 2, 60) x 8 / 14;
//   ring LL: 6.6 + 14 x 0.6 us; min(141, 0.5 x 360) x 8 / 14.
TEST(NcclModel, TimesOnOneH100NodeAreNcclsFormula) {
  const auto s = dgx_h100(1);
  const auto g = nccl_graphs(s);
  const double b = 1 << 30;
  auto t = [&](const char* algo, Protocol p) { return nccl_predicted_time_us(Op::kAllReduce, algo, p, b, s, g); };
  EXPECT_NEAR(t("ring", Protocol::kSimple), 8.4 + 14 * 3.4 + b / (1000 * 360.0 * 8 / 14), 1e-3);
  EXPECT_NEAR(t("tree", Protocol::kSimple), 8.4 + 2 * 7 * 4.0 + b / (1000 * 0.92 * 360 * 0.5), 1e-3);
  EXPECT_NEAR(t("nvls", Protocol::kSimple), 25 + b / (1000 * 8 * 59.5 * 8 / 14), 1e-3);
  EXPECT_NEAR(t("ring", Protocol::kLL), 6.6 + 14 * 0.6 + b / (1000 * 141.0 * 8 / 14), 1e-3);
  // Pairs NCCL does not run.
  EXPECT_LT(t("nvls", Protocol::kLL128), 0);
  EXPECT_LT(t("nvlstree", Protocol::kSimple), 0);  // one node
  EXPECT_LT(t("collnetdirect", Protocol::kSimple), 0);
  EXPECT_LT(nccl_predicted_time_us(Op::kAllToAll, "direct", Protocol::kSimple, b, s, g), 0);
  // Its tree correction at 1 MiB (log2(2^20 / 64) = 14: Simple 0.5).
  const double mb = 1 << 20;
  EXPECT_NEAR(nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kSimple, mb, s, g),
              8.4 + 2 * 7 * 4.0 + mb / (1000 * 0.92 * 360 * 0.5 * 0.5), 1e-6);
}

std::string algo_at(const std::string& args) { return collsim::testing::collective_algo(args); }

// `auto` simulates NCCL's pick; `tuned` the fastest of NCCL's algorithms.
// On the GB200 partitions at 16 GiB under NCCL 2.27.3 they differ as NCCL
// and its tree did (NVIDIA/nccl issue 1801).
TEST(NcclChoice, AutoRunsWhatNcclPicksAndTunedTheFastest) {
  const std::string run =
      "-t tests/validation/topologies/gb200-nvl4x3-ib400.yaml --op allreduce -b 16G -e 16G --backend analytical "
      "--nccl 2.27.3";
  EXPECT_EQ(algo_at(run), "ring");
  EXPECT_EQ(algo_at(run + " --algo tuned"), "tree");
  // One H100 node: NVLS from mid sizes, LL at 64 KiB (6.6 + 8.4 us of
  // latency against NVLS's 25).
  EXPECT_EQ(algo_at("-t topologies/hgx-h100.yaml -b 256M -e 256M"), "nvls");
  EXPECT_EQ(algo_at("-t topologies/hgx-h100.yaml -b 64K -e 64K"), "ring");
}

// One algorithm named and the protocol left to `auto` is NCCL_ALGO set,
// NCCL_PROTO not: NCCL's model picks the protocol among that algorithm's,
// as it would, not the simulation's fastest. Four DGX A100 nodes (32
// ranks), ring, 512 KiB: NCCL's formula puts LL128 first (LL's latency is
// lower, but its bandwidth is LL's per-GPU cap), while collsim's LL ring
// simulates faster (the steps are latency-bound).
TEST(NcclChoice, ANamedAlgorithmTakesTheProtocolNcclsModelPicks) {
  const std::string run =
      "collective -t topologies/dgx-a100-hdr200-4node.yaml --op allreduce --algo ring -b 512K -e 512K "
      "--backend analytical --json -";
  auto field = [](const std::string& out, const std::string& key) {
    const auto at = out.find("\"" + key + "\":");
    EXPECT_NE(at, std::string::npos) << out;
    const auto from = at + key.size() + 3;
    return out.substr(from, out.find_first_of(",}", from) - from);
  };
  const auto chosen = collsim::testing::run_collsim(run);
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  EXPECT_EQ(field(chosen.out, "proto"), "\"LL128\"");
  const NcclSystem s = switched_nodes("a100", 4, 8, 12 * 20.0, 8, 25);  // 8 x 200 Gb/s
  const auto g = nccl_graphs(s);
  const double b = 512 << 10;
  EXPECT_LT(nccl_predicted_time_us(Op::kAllReduce, "ring", Protocol::kLL128, b, s, g),
            nccl_predicted_time_us(Op::kAllReduce, "ring", Protocol::kLL, b, s, g));
  const auto ll = collsim::testing::run_collsim(run + " --proto LL");
  ASSERT_EQ(ll.exit_code, 0) << ll.err;
  EXPECT_LT(std::stod(field(ll.out, "time_us")), std::stod(field(chosen.out, "time_us")));
  // A named algorithm always runs: SimGrid's guard on `auto`'s candidates
  // (--auto-max-work) does not refuse NCCL's protocol for it.
  const auto guarded = collsim::testing::run_collsim(
      "collective -t topologies/hgx-h100.yaml --algo ring -b 1M -e 1M --backend simgrid --auto-max-work 1 --json -");
  ASSERT_EQ(guarded.exit_code, 0) << guarded.err;
  EXPECT_NE(field(guarded.out, "proto"), "\"Simple\"");  // NCCL's pick at 1 MiB in one node: LL or LL128
}

// NCCL turns NVLS off with 2 GPUs or fewer in a node before 2.28.7
// (src/transport/nvls.cc, ncclNvlsInit: "gpuCount <= 2"), and only with
// fewer than 2 from 2.28.7 ("gpuCount < 2"). Measured under NCCL 2.23.4
// with NCCL_ALGO=NVLS on 2 of 8 H100s: 365-370 GB/s busbw (NVIDIA/nccl issue
// 1455), the ring's; NVLS moving n (1 + 1/p) per GPU could not exceed 2/3 of
// the links' rate there. So the search finds no NVLS graph, `auto` runs
// what remains, and a forced nvls or nvlstree is refused, naming why.
TEST(NcclGraphs, NvlsNeedsThreeGpusPerNodeBefore2_28_7) {
  const NcclRelease older{2, 23, 4};
  const NcclRelease newer{2, 28, 7};
  NcclSystem s = dgx_h100(1);
  s.ranks = 2;
  EXPECT_EQ(nccl_graphs(s, older).nvls.channels, 0);
  EXPECT_GT(nccl_graphs(s, newer).nvls.channels, 0);
  s.ranks = 3;
  EXPECT_GT(nccl_graphs(s, older).nvls.channels, 0);
  s = dgx_h100(2);
  s.ranks = 4;  // 2 per node
  EXPECT_EQ(nccl_graphs(s, older).nvls.channels, 0);

  const std::string two = "-t topologies/hgx-h100.yaml --ranks 2 -b 2G -e 2G --nccl 2.23.4";
  EXPECT_NE(collsim::testing::collective_algo(two), "nvls");
  EXPECT_NEAR(collsim::testing::collective_busbw(two), 367.5, 0.03 * 367.5);
  const auto forced = collsim::testing::run_collsim("collective " + two + " --algo nvls");
  EXPECT_EQ(forced.exit_code, 2);
  EXPECT_NE(forced.err.find("these have 2 (NCCL before 2.28.7 turns off NVLS"), std::string::npos) << forced.err;
  const auto tree = collsim::testing::run_collsim(
      "collective -t tests/validation/topologies/h100-ib400-2node.yaml --placement per-domain:2 --algo nvlstree "
      "-b 64M -e 64M --nccl 2.27");
  EXPECT_EQ(tree.exit_code, 2);
  EXPECT_NE(tree.err.find("these have 2"), std::string::npos) << tree.err;
  // Domains of different sizes keep the builder's own reason.
  const auto uneven = collsim::testing::run_collsim(
      "collective -t tests/validation/topologies/h100-ib400-2node.yaml --placement gpus:0-5,8-9 --algo nvlstree "
      "-b 64M -e 64M --nccl 2.23.4");
  EXPECT_EQ(uneven.exit_code, 2);
  EXPECT_NE(uneven.err.find("same number of ranks in every NVLink domain"), std::string::npos) << uneven.err;
  const auto newer_nvls = collsim::testing::run_collsim(
      "collective -t topologies/hgx-h100.yaml --ranks 2 -b 2G -e "
      "2G --nccl 2.28.7 --algo nvls --json -");
  EXPECT_EQ(newer_nvls.exit_code, 0) << newer_nvls.err;
}

}  // namespace

// The network plugin's own latency (NCCL's graph latencyInter, from
// ncclNetProperties_t latency; AWS's plugin reports 75 us on p5): NCCL's
// model adds it to every network step, and once more under Simple for the
// flush (src/graph/tuning.cc: interLat += latencyInter; if Simple, again).
// A ring all-gather on 4 nodes has nodes - 1 = 3 network steps, so the
// plugin's 75 us adds 3 x 75 = 225 us to LL128 and 3 x 150 = 450 us to
// Simple; the bandwidth terms do not move.
// NCCL's model time of a ring all-gather of `bytes` on `s`, in us.
double ring_allgather_us(const NcclSystem& s, Protocol p, double bytes) {
  return nccl_predicted_time_us(Op::kAllGather, "ring", p, bytes, s, nccl_graphs(s));
}

TEST(NcclModel, PluginLatencyIsPaidPerNetworkStepAndTwiceUnderSimple) {
  NcclSystem s = dgx_h100(4);
  const auto g = nccl_graphs(s);
  const double bytes = 512.0 * (1 << 20);
  auto t = [&](Protocol p) { return ring_allgather_us(s, p, bytes); };
  const double ll128 = t(Protocol::kLL128), simple = t(Protocol::kSimple);
  s.net_latency_us = 75;
  EXPECT_NEAR(t(Protocol::kLL128) - ll128, 225, 1e-6);
  EXPECT_NEAR(t(Protocol::kSimple) - simple, 450, 1e-6);
  // Tree all-reduce: 2 x log2(4) = 4 network steps.
  s.net_latency_us = 0;
  const double tree = nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kLL128, bytes, s, g);
  s.net_latency_us = 75;
  EXPECT_NEAR(nccl_predicted_time_us(Op::kAllReduce, "tree", Protocol::kLL128, bytes, s, g) - tree, 4 * 75, 1e-6);
}

// The host CPU NCCL reads (nccl: {host_cpu}; AWS p5 hosts are AMD EPYC)
// replaces the GPU model's (ASSUMPTION nccl_host: Intel under H100). NCCL's
// ring pays max(NVLink's step latency, its network overhead) on each step
// that stays in a node, the overhead 1 us on Intel and 2 us on AMD, times
// 3 under Simple (src/graph/tuning.cc getNetOverhead). A ring all-gather on
// 4 nodes x 8 H100 has 31 steps, 3 across the network: 28 in-node steps
// of max(3.4, 6) instead of max(3.4, 3) under Simple (+72.8 us) and of
// max(1.9, 2) instead of max(1.9, 1) under LL128 (+2.8 us).
TEST(NcclModel, AHostCpuSettingReplacesTheGpuModelsHost) {
  NcclSystem s = dgx_h100(4);
  auto t = [&](Protocol p) { return ring_allgather_us(s, p, 64.0 * (1 << 20)); };
  const double simple = t(Protocol::kSimple), ll128 = t(Protocol::kLL128);
  s.host_cpu = collsim::collective::NcclHost::kIntel;
  EXPECT_DOUBLE_EQ(t(Protocol::kSimple), simple);
  s.host_cpu = collsim::collective::NcclHost::kAmd;
  EXPECT_NEAR(t(Protocol::kSimple) - simple, 28 * 2.6, 1e-6);
  EXPECT_NEAR(t(Protocol::kLL128) - ll128, 28 * 0.1, 1e-6);
  // From a topology: accepted by name, anything else refused with the field.
  const std::string run = "collective -t topologies/h100-ib400-4node.yaml -b 1M -e 1M --backend analytical";
  EXPECT_EQ(collsim::testing::run_collsim(run + " --set nccl.host_cpu=amd").exit_code, 0);
  const auto bad = collsim::testing::run_collsim(run + " --set nccl.host_cpu=sparc");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("nccl.host_cpu"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("expected intel, amd or arm, found 'sparc'"), std::string::npos) << bad.err;
}

// A NIC down (tests/nic_failover_test.cc): NCCL's ring search finds one
// channel per NIC it sees (7 at 48 GB/s: search.cc), the communicator keeps
// the fewest over the nodes (init.cc), doubles them, and on Hopper across
// nodes doubles again below 16 (src/graph/connect.cc): 7 -> 14 -> 28
// channels, 4 per NIC, where 8 NICs give 16, 2 per NIC.
TEST(NcclGraphs, SevenNicsRunTwiceTheChannelsPerNic) {
  NcclSystem s = dgx_h100(4);
  EXPECT_EQ(collsim::collective::nccl_ring_channels(s), 16);
  s.nics = 7;
  EXPECT_EQ(nccl_graphs(s).ring.channels, 7);
  EXPECT_EQ(collsim::collective::nccl_ring_channels(s), 28);
}

// NCCL's own log of what it ran (NCCL_DEBUG=INFO), 64 nodes of 8 H200 on
// an Ethernet fabric (NVIDIA/nccl issue 1752, 2025-06-25): "AllReduce:
// 16777216 Bytes -> Algo TREE proto LL128", "33554432 Bytes -> Algo
// NVLS_TREE proto SIMPLE", 16 channels each. The issue prints no release;
// those out by then (2.26.2 here) pick alike in collsim, and its model
// puts the tree only 1.2% ahead at 16 MiB (294.2 against 297.9 us), so the
// log checks its terms, not just its order. From 2.28 the switch moves
// past 32 MiB. NICs not given: 8 x 400G RoCE assumed.
TEST(NcclChoice, AutoPicksWhatNcclLoggedOn64H200Nodes) {
  const std::string run =
      "-t tests/validation/topologies/h200-roce400-2node.yaml --set cluster.nodes=64 "
      "--set cluster.fabric.leaf_radix=128 --backend analytical --nccl 2.26.2";
  for (const char* size : {"-b 16M -e 16M", "-b 32M -e 32M"}) {
    const std::string args = run + " " + size;
    const bool small = std::string(size).find("16M") != std::string::npos;
    EXPECT_EQ(algo_at(args), small ? "tree" : "nvlstree") << size;
    EXPECT_EQ(collsim::testing::collective_text(args, "proto"), small ? "LL128" : "Simple") << size;
  }
}
