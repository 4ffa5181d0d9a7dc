// The all-to-all in all-pairs form (collective::Schedule::all_pairs) on the
// analytical backend (engine/all_pairs_cost.h). Oracles: the same schedule
// expanded into its p (p - 1) transfers and run transfer by transfer
// (record_transfers forces the expansion), and the symbolic checker.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/collective/algorithms.h"
#include "sim/collective/check.h"
#include "sim/collective/direct.h"
#include "sim/config/topology_file.h"
#include "sim/engine/all_pairs_cost.h"
#include "sim/engine/analytical_backend.h"
#include "sim/topology/network.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

topology::Topology load(const std::string& text_or_file, const std::vector<std::string>& sets) {
  const bool inline_yaml = text_or_file.find('\n') != std::string::npos;
  auto spec = inline_yaml ? config::load_topology_text(text_or_file, "t.yaml", sets)
                          : config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/" + text_or_file, sets);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  EXPECT_TRUE(topo.ok()) << topo.error().to_string();
  return std::move(*topo);
}

TEST(AllPairs, ExpandsToEveryBlockOnce) {
  for (int p : {1, 2, 3, 8}) {
    const collective::Schedule s = collective::direct_alltoall(p, 1e6);
    EXPECT_TRUE(s.all_pairs);
    EXPECT_TRUE(s.transfers.empty());
    EXPECT_DOUBLE_EQ(s.transfer_count(), p * (p - 1.0));
    const collective::Schedule e = collective::expand(s);
    EXPECT_EQ(e.transfers.size(), static_cast<std::size_t>(p * (p - 1)));
    const Status ok = collective::check_schedule(collective::Op::kAllToAll, s);
    EXPECT_TRUE(ok.ok()) << ok.error().to_string();
    double sent = 0;
    collective::for_each_connection_bytes(s, [&](int a, int b, double bytes) {
      EXPECT_NE(a, b);
      sent += bytes;
    });
    EXPECT_NEAR(sent, (p - 1) * 1e6, 1e-6);  // each rank sends all but its own block
  }
}

// Time, bound and bytes equal the expanded schedule's: with PXN relays
// (H100 nodes, NVL72 racks), without (PXN off, GPUs without an NVSwitch),
// ranks on a subset of GPUs (relays that are not ranks), a permuted rank
// map, EFA's per-step latency, NVLink so slow that the legs to the relays
// are the busiest links, and the three protocols.
TEST(AllPairs, CostsExactlyAsItsTransfers) {
  const std::string no_nvswitch =
      "name: flat\ndevices:\n  - {name: g, kind: gpu, count: 6}\n  - {name: s, kind: switch}\n"
      "links:\n  - {from: g, to: s, rate: 40GB/s, latency: 300ns, class: ideal}\n"
      "  - {from: s, to: g, rate: 30GB/s, latency: 200ns, class: ideal}\n";
  struct Case {
    std::string topology;
    std::vector<std::string> sets;
    int stride;  // ranks on GPUs 0, stride, 2 stride, ...
    bool reversed;
  };
  const std::vector<Case> cases = {
      {"topologies/h100-ib400-4node.yaml", {}, 1, false},
      {"topologies/h100-ib400-4node.yaml", {"nccl.pxn=false"}, 1, false},
      {"topologies/h100-ib400-4node.yaml", {}, 3, true},
      {"topologies/h100-ib400-4node.yaml", {"link_classes.nvlink4.efficiency=0.01"}, 1, false},  // legs to relays bound
      {"topologies/h100-ib400-128node.yaml", {"cluster.nodes=3", "cluster.fabric.class=efa"}, 1, true},
      {"topologies/dgx-a100-hdr200-4node.yaml", {}, 1, false},
      {"topologies/gb200-nvl72-8rack.yaml", {}, 5, false},
      // Several leaves per rail on two and three tiers: relays grouped by
      // their leaf (topology/exit_routes.h), routes walked through the
      // spines and cores.
      {"topologies/h100-ib400-128node.yaml", {"cluster.nodes=12", "cluster.fabric.leaf_radix=8"}, 1, false},
      {"topologies/h100-ib400-16384node.yaml", {"cluster.nodes=16", "cluster.fabric.leaf_radix=8"}, 1, false},
      {"topologies/h100-ib400-16384node.yaml", {"cluster.nodes=16", "cluster.fabric.leaf_radix=8"}, 3, true},
      {no_nvswitch, {}, 1, true},
  };
  AnalyticalBackend backend;
  for (const Case& c : cases) {
    const topology::Network net(load(c.topology, c.sets));
    std::vector<int> ranks;
    for (int g = 0; g < net.num_gpus(); g += c.stride) ranks.push_back(g);
    if (c.reversed) std::reverse(ranks.begin(), ranks.end());
    const int p = static_cast<int>(ranks.size());
    for (double bytes : {4096.0 * p, 64e6}) {
      for (auto proto : {collective::Protocol::kNone, collective::Protocol::kSimple, collective::Protocol::kLL}) {
        collective::Schedule s = collective::direct_alltoall(p, bytes);
        s.protocol = proto;
        RunOptions all_pairs, expanded;
        all_pairs.rank_to_endpoint = expanded.rank_to_endpoint = ranks;
        expanded.record_transfers = true;
        auto a = backend.run(net, {s}, all_pairs);
        auto b = backend.run(net, {s}, expanded);
        ASSERT_TRUE(a.ok() && b.ok()) << (a.ok() ? b.error().to_string() : a.error().to_string());
        const std::string what = fmt::format("{} {} stride {} {} B {}", c.topology.substr(0, 40),
                                             fmt::join(c.sets, " "), c.stride, bytes, collective::protocol_name(proto));
        EXPECT_NEAR((*a)[0].time_s, (*b)[0].time_s, 1e-12 * (*b)[0].time_s) << what;
        EXPECT_EQ((*a)[0].load_bound, (*b)[0].load_bound) << what;
        EXPECT_NEAR((*a)[0].bytes_sent, (*b)[0].bytes_sent, 1e-12 * (*b)[0].bytes_sent) << what;
        EXPECT_NEAR((*a)[0].bytes_received, (*b)[0].bytes_received, 1e-12 * (*b)[0].bytes_received) << what;
      }
    }
  }
}

// A tuner's protocol candidates are costed together (one walk of the
// routes, all_pairs_cost.h): each result equals the schedule's own run,
// and a schedule of other bytes in the same call is costed apart.
TEST(AllPairs, ProtocolCandidatesCostedTogetherEqualEachAlone) {
  const topology::Network net(
      load("topologies/h100-ib400-16384node.yaml", {"cluster.nodes=16", "cluster.fabric.leaf_radix=8"}));
  AnalyticalBackend backend;
  for (double bytes : {4096.0 * 128, 64e6}) {
    std::vector<collective::Schedule> batch;
    for (auto proto : {collective::Protocol::kLL, collective::Protocol::kLL128, collective::Protocol::kSimple}) {
      batch.push_back(collective::direct_alltoall(128, bytes));
      batch.back().protocol = proto;
    }
    batch.push_back(collective::direct_alltoall(128, 2 * bytes));
    auto together = backend.run(net, batch, {});
    ASSERT_TRUE(together.ok()) << together.error().to_string();
    for (std::size_t k = 0; k < batch.size(); ++k) {
      auto alone = backend.run(net, {batch[k]}, {});
      ASSERT_TRUE(alone.ok());
      EXPECT_NEAR((*together)[k].time_s, (*alone)[0].time_s, 1e-12 * (*alone)[0].time_s) << bytes << " " << k;
      EXPECT_EQ((*together)[k].load_bound, (*alone)[0].load_bound) << bytes << " " << k;
      EXPECT_NEAR((*together)[k].bytes_sent, (*alone)[0].bytes_sent, 1e-12 * (*alone)[0].bytes_sent);
    }
    if (bytes > 1e6) {
      EXPECT_GT((*together)[0].time_s, (*together)[2].time_s);  // LL: twice the wire bytes
    }
  }
}

// Closed form on an idle rail-optimised fabric with PXN: every cross-node
// block leaves through the NIC on the receiver's rail, so each NIC carries
// its node's blocks for that rail: (nodes - 1) x 8 blocks of S / p. With
// p = 32 (4 nodes of 8): 24 blocks of S / 32 per NIC at 50 GB/s x 0.94
// (ConnectX-7's 400 Gb/s and the infiniband class's efficiency).
TEST(AllPairs, NicLoadIsTheClosedForm) {
  const topology::Network net(load("topologies/h100-ib400-4node.yaml", {}));
  AnalyticalBackend backend;
  const double S = 1024.0 * 1048576;
  auto r = backend.run(net, {collective::direct_alltoall(32, S)}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)[0].load_bound);
  EXPECT_NEAR((*r)[0].time_s, 24 * S / 32 / (50e9 * 0.94), 1e-3 * (*r)[0].time_s);
}

// The work is counted before any route is searched: with PXN each
// sender's leg to its relay, the pairs inside domains, and one walk per
// destination and exit group (the relays at its position that leave
// through one switch); one search per pair without PXN. Over the limit,
// one clear error (bad input: exit 2 from the CLI).
TEST(AllPairs, TooManyRouteSearchesAreRefusedBeforeAnyIsMade) {
  // 4 nodes of 8 on one leaf per rail: inside nodes 4 x 8 x 7 = 224; per
  // (node, position) 8 legs to the relay: 4 x 8 x 8 = 256; per position
  // one exit group (the rail's leaf) and 4 destinations: 8 x 4 = 32. In
  // all 512.
  const topology::Network pxn(load("topologies/h100-ib400-4node.yaml", {}));
  const collective::Schedule s = collective::direct_alltoall(32, 1e6);
  EXPECT_TRUE(detail::cost_all_pairs(pxn, s, {}, false, 512).ok());
  const auto refused = detail::cost_all_pairs(pxn, s, {}, false, 511);
  ASSERT_FALSE(refused.ok());
  EXPECT_FALSE(refused.error().internal());
  EXPECT_NE(refused.error().message.find("an all-to-all over 32 ranks in 4 NVLink domains needs about 5.1e+02 route "
                                         "searches"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("use fewer ranks (--ranks)"), std::string::npos);
  // Without PXN each of the 32 x 24 cross-node pairs is searched: 224 + 768.
  const topology::Network straight(load("topologies/h100-ib400-4node.yaml", {"nccl.pxn=false"}));
  EXPECT_TRUE(detail::cost_all_pairs(straight, s, {}, false, 992).ok());
  EXPECT_FALSE(detail::cost_all_pairs(straight, s, {}, false, 991).ok());
}

}  // namespace
}  // namespace collsim::engine
