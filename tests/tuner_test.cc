// The tuner (engine/tuner.h): NCCL's algorithms under auto, every one under
// fastest, cost guards that fit their backend and name what they skip, and
// one tuner behind `collsim collective` and a training step's collectives.
#include "sim/engine/tuner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "sim/cli/collective_sweep.h"
#include "sim/workload/comm_costs.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collective::Op;

// 8 domains of 8 ranks (eight 8-GPU nodes).
TuneCase allreduce_over_nodes(double bytes) {
  TuneCase c{Op::kAllReduce, 64, bytes, {}};
  for (int r = 0; r < 64; ++r) c.params.domain_of_rank.push_back(r / 8);
  return c;
}

std::set<std::string> algorithms_of(const Candidates& c) {
  std::set<std::string> out;
  for (const auto& s : c.schedules) out.insert(s.algo);
  return out;
}

TEST(Tuner, AutoTriesWhatNcclRunsAndFastestTriesEverything) {
  TunerChoice choice;
  auto nccl = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "analytical");
  ASSERT_TRUE(nccl.ok()) << nccl.error().to_string();
  // NCCL's all-reduce algorithms are Ring, Tree, NVLS and NVLSTree
  // (NCCL_ALGO); NVLS needs one NVSwitch domain and both need switches that
  // reduce, which these ranks lack: ring and tree remain.
  EXPECT_EQ(algorithms_of(*nccl), (std::set<std::string>{"ring", "tree"}));
  ASSERT_EQ(nccl->skipped[0].size(), 2u);
  EXPECT_EQ(nccl->skipped[0][0].rfind("nvls: ", 0), 0u) << nccl->skipped[0][0];
  EXPECT_EQ(nccl->skipped[0][1].rfind("nvlstree: ", 0), 0u) << nccl->skipped[0][1];
  choice.algorithm = "fastest";
  auto every = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "analytical");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(algorithms_of(*every), (std::set<std::string>{"ring", "tree", "rhd", "hier"}));
}

TEST(Tuner, TheSimGridGuardSkipsOnlyOnSimGridAndNamesWhatItSkips) {
  TunerChoice choice;
  choice.simgrid_max_work = 1e3;  // below every candidate of a 64-rank 1 GiB all-reduce
  choice.simgrid_aggregate_above = 1e12;
  choice.protocol = "Simple";
  auto analytical = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "analytical");
  ASSERT_TRUE(analytical.ok()) << analytical.error().to_string();
  EXPECT_EQ(algorithms_of(*analytical), (std::set<std::string>{"ring", "tree"}));
  auto simgrid = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "simgrid");
  ASSERT_FALSE(simgrid.ok());
  const std::string& m = simgrid.error().message;
  EXPECT_NE(m.find("ring: "), std::string::npos) << m;
  EXPECT_NE(m.find("tree: "), std::string::npos) << m;
  EXPECT_NE(m.find("--auto-max-work"), std::string::npos) << m;
  // A named algorithm always runs.
  choice.algorithm = "ring";
  EXPECT_TRUE(build_candidates({allreduce_over_nodes(1 << 30)}, choice, "simgrid").ok());
}

// A ring SimGrid aggregates is simulated one step of every pass at a time
// (engine/simgrid/dag_runner.cc, run_aggregated): its flows start together
// whatever the ranks, so the guard weighs that step's flows (x 30), not
// every transfer (x 20); the same ring simulated in full is still refused.
TEST(Tuner, TheSimGridGuardWeighsAnAggregatedRingByOneStep) {
  collective::AlgoParams params = allreduce_over_nodes(1 << 30).params;
  params.protocol = collective::Protocol::kSimple;
  auto ring = collective::build_schedule(Op::kAllReduce, "ring", 64, 1 << 30, params);
  ASSERT_TRUE(ring.ok());
  ASSERT_TRUE(ring->compact());
  double step_flows = 0;  // the flows run_aggregated starts together
  for (const auto& phase : ring->ring_phases)
    for (const auto& pass : phase) step_flows += static_cast<double>(pass.order.size()) * pass.slices;
  ASSERT_GT(ring->transfer_count() * 20, step_flows * 30 * 10);  // room between the two counts
  TunerChoice choice;
  choice.protocol = "Simple";
  choice.simgrid_max_work = step_flows * 30 * 1.01;
  choice.simgrid_aggregate_above = 0;  // every ring aggregated
  auto aggregated = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "simgrid");
  ASSERT_TRUE(aggregated.ok()) << aggregated.error().to_string();
  EXPECT_TRUE(algorithms_of(*aggregated).count("ring"));
  choice.simgrid_max_work = step_flows * 30 * 0.99;
  auto just_above = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "simgrid");
  const std::string why =
      just_above.ok() ? fmt::format("{}", fmt::join(just_above->skipped[0], "; ")) : just_above.error().message;
  EXPECT_FALSE(just_above.ok() && algorithms_of(*just_above).count("ring")) << why;
  EXPECT_NE(why.find("one step at a time"), std::string::npos) << why;
  choice.simgrid_max_work = step_flows * 30 * 1.01;
  choice.simgrid_aggregate_above = 1e12;  // simulated in full: every transfer x 20
  auto full = build_candidates({allreduce_over_nodes(1 << 30)}, choice, "simgrid");
  const std::string full_why = full.ok() ? fmt::format("{}", fmt::join(full->skipped[0], "; ")) : full.error().message;
  EXPECT_FALSE(full.ok() && algorithms_of(*full).count("ring")) << full_why;
  EXPECT_NE(full_why.find("transfers x 20"), std::string::npos) << full_why;
}

TEST(Tuner, ErrorsSuggestOnlyTheOpsOwnAlgorithms) {
  TunerChoice choice;
  choice.algorithm = "rhd";
  TuneCase rs{Op::kReduceScatter, 64, 1 << 20, {}};
  auto r = build_candidates({rs}, choice, "simgrid");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("available: ring, pat, nvls, auto, tuned, fastest"), std::string::npos)
      << r.error().message;
  // A training step names one algorithm for all its collectives: the ops
  // without it keep their NCCL default.
  choice.named_algorithm_for_every_op = true;
  auto step = build_candidates({rs}, choice, "simgrid");
  ASSERT_TRUE(step.ok());
  EXPECT_EQ(algorithms_of(*step), (std::set<std::string>{"ring"}));
}

TEST(Tuner, ProtocolNamesInAnyCaseAndUnknownNamesNamed) {
  TunerChoice choice;
  choice.protocol = "simple";
  EXPECT_TRUE(check_choice(choice).ok());
  choice.protocol = "LL256";
  auto bad = check_choice(choice);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "protocol");
  choice.protocol = "auto";
  choice.algorithm = "rign";
  bad = check_choice(choice);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "algorithm");
}

// The same all-reduce chosen by `collsim collective` and by a training step's
// costing: one tuner, the same algorithm, protocol and time.
TEST(Tuner, CollectiveCommandAndStepCostingChooseAlike) {
  const topology::Topology topo =
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const topology::Network net(topo);
  auto backend = make_backend("analytical");
  ASSERT_TRUE(backend.ok());
  std::vector<int> gpus;
  for (int g = 0; g < 32; ++g) gpus.push_back(g);
  for (double bytes : {65536.0, 16.0 * 1048576, 1073741824.0}) {
    cli::SweepRequest req;
    req.sizes = {bytes};
    req.ranks = 32;
    auto rows = cli::run_collective_sweep(req, net, **backend);
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    workload::CommCall call{Op::kAllReduce, gpus, bytes, 0, {}};
    auto costs = workload::cost_calls({call}, net, **backend, workload::CommChoice{});
    ASSERT_TRUE(costs.ok()) << costs.error().to_string();
    EXPECT_EQ(rows->front().algo, costs->front().algo) << bytes;
    EXPECT_EQ(rows->front().proto, costs->front().proto) << bytes;
    EXPECT_DOUBLE_EQ(rows->front().time_us, costs->front().time_s * 1e6) << bytes;
  }
}

// The case: 256 H100s (32 nodes), 8 GiB, analytical backend. tuned
// must equal the best of NCCL's algorithms run by name, not fall back to
// hier because a SimGrid cost proxy dropped the ring.
TEST(Tuner, TunedOnTheAnalyticalBackendIsTheBestOfNcclsAlgorithms) {
  auto busbw = [](const std::string& algo) {
    return collsim::testing::collective_busbw(
        "-t topologies/h100-ib400-128node.yaml --set cluster.nodes=32 --op allreduce -b 8G -e 8G --backend analytical "
        "--algo " +
        algo);
  };
  const double chosen = busbw("tuned");
  EXPECT_DOUBLE_EQ(chosen, std::max({busbw("ring --proto LL128"), busbw("ring"), busbw("tree"), busbw("nvlstree")}));
  // The ring: NCCL's 16 ring channels, 2 per NIC, each moving 2 MiB a
  // step (8 GiB / 256 ranks / 16) through the network at 23.5 GB/s of wire
  // bytes, less 7 us a message (collective/protocol.h
  // ring_channel_message_rate_Bps): Simple in 2 slices, LL128's 2 MiB x
  // 128 / 120 of wire bytes in 4 slots of 614,400 B, of which it carries
  // 120 / 128.
  const double simple = 2097152.0 / (2097152.0 / 23.5e9 + 2 * 7e-6) / 1e9;
  const double wire = 2097152.0 * 128 / 120;
  const double ll128 = wire / (wire / 23.5e9 + 4 * 7e-6) / 1e9 * 120 / 128;
  EXPECT_NEAR(busbw("ring"), 16 * simple, 3);
  EXPECT_NEAR(busbw("ring --proto LL128"), 16 * ll128, 3);
  EXPECT_GE(chosen, busbw("ring"));
  // `auto` runs NCCL's pick instead: NVLSTree, whose model time (NVLS's
  // 45.5 GB/s per channel on 3+ nodes, 8 channels) beats the ring's once the
  // ring's 510 steps of latency (3.4 ms with its plateau factor) count.
  EXPECT_DOUBLE_EQ(busbw("auto"), busbw("nvlstree"));
}

}  // namespace
}  // namespace collsim::engine

namespace collsim::engine {
namespace {

// `--proto simple` worked in `collsim collective` and failed in `collsim run`.
TEST(Tuner, RunTakesTheProtocolNamesCollectiveTakes) {
  const auto r = collsim::testing::run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w tests/data/workloads/small-4node.yaml --proto simple "
      "--algo fastest --what-if off --backend analytical");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Simple"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(" LL"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace collsim::engine

namespace collsim::engine {
namespace {

// NCCL's LL throughput limit (its tuning model's llMaxBws: 141 GB/s of bus
// bandwidth on one Hopper node; 39 across two nodes of Intel hosts, as a
// DGX H100's): a large LL ring all-reduce reaches it and no more, on both
// backends. NCCL's model caps every ring collective so, broadcast and reduce
// included (they ran at 145 GB/s under LL on 4 nodes, above it); their
// chains fill over every hop, so they come within 10% of it.
TEST(ProtocolCaps, LlRingAllReduceReachesNcclsLlMaxBandwidth) {
  struct Case {
    const char* topology;
    double cap_GBps;
  };
  for (const Case& c :
       {Case{"topologies/hgx-h100.yaml", 141.0}, Case{"tests/validation/topologies/h100-ib400-2node.yaml", 39.0}}) {
    for (const char* op : {"allreduce", "broadcast", "reduce"}) {
      for (const char* backend : {"analytical", "simgrid"}) {
        const auto r =
            collsim::testing::run_collsim(std::string("collective -t ") + c.topology + " --op " + op +
                                          " --algo ring --proto LL -b 1G -e 1G --json - --backend " + backend);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto at = r.out.find("\"busbw_GBps\":");
        ASSERT_NE(at, std::string::npos);
        const double busbw = std::stod(r.out.substr(at + 13));
        EXPECT_LE(busbw, c.cap_GBps * 1.0001) << c.topology << " " << op << " " << backend;
        EXPECT_GT(busbw, c.cap_GBps * (std::string(op) == "allreduce" ? 0.97 : 0.9))
            << c.topology << " " << op << " " << backend;
      }
    }
  }
}

// NCCL's tree throughput limit (its tuning model's perChMaxTreeBws: 24 GB/s
// of bus bandwidth per tree channel on 3+ Blackwell nodes, 42.8 on two; 8
// channels on 8-NIC nodes; half of it algorithm bandwidth): a large tree
// all-reduce reaches 0.5 x 8 x 24 = 96 GB/s of algbw and no more, on both
// backends. Held out: the same cluster measured 190.7 GB/s busbw with
// NCCL_ALGO=Tree on 4 nodes at 16 GiB (together-nccl-tests, baselines/
// use3a-ss/2026-05-02_nccl_collective_scaling_report.md); 96 GB/s of algbw is
// 186 GB/s of busbw on 32 ranks, and collsim is within 6% of the measurement.
TEST(ProtocolCaps, TreeAllReduceReachesNcclsPerChannelTreeBandwidth) {
  struct Case {
    const char* topology;
    int ranks;
    double cap_algbw_GBps, measured_busbw_GBps;
  };
  for (const Case& c : {Case{"tests/validation/topologies/b200-ib400-4node.yaml", 32, 0.5 * 8 * 24.0, 190.7},
                        Case{"tests/validation/topologies/b200-ib400-2node.yaml", 16, 0.5 * 8 * 42.8, 335.2}}) {
    for (const char* backend : {"analytical", "simgrid"}) {
      const auto r =
          collsim::testing::run_collsim(std::string("collective -t ") + c.topology +
                                        " --algo tree --proto Simple -b 16G -e 16G --json - --backend " + backend);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto at = r.out.find("\"busbw_GBps\":");
      ASSERT_NE(at, std::string::npos);
      const double busbw = std::stod(r.out.substr(at + 13));
      const double cap_busbw = c.cap_algbw_GBps * 2.0 * (c.ranks - 1) / c.ranks;
      EXPECT_LE(busbw, cap_busbw * 1.0001) << c.topology << " " << backend;
      EXPECT_GT(busbw, cap_busbw * 0.9) << c.topology << " " << backend;
      EXPECT_NEAR(busbw / c.measured_busbw_GBps, 1.0, 0.07) << c.topology << " " << backend;
    }
  }
}

// NCCL's channels split a link statically (each is one CTA moving its share),
// so a ring step's latency is paid on top of its data rather than hidden by
// other channels' traffic: NCCL's own time model is latency + bytes / bw
// (src/graph/tuning.cc, ncclTopoGetAlgoTime). On the 2-node H100 fabric, a
// 64 MiB Simple all-reduce (30 steps of 16 ranks, at least 2 of them across
// the network) takes at least the launch latency (8.4 us), 28 NVLink and 2
// network step latencies (3.4 and 14 us, NCCL's hwLatencies) and its bytes
// at the large-message rate; both backends agree. (InfiniBand's message
// cost off: it lowers the rate, ring_channels_test.cc. At 16 MiB, where
// Simple's 32 KiB slices hold NCCL's slots to 7 GB/s a channel, engine/plan.h
// simple_ring_slot_rate_Bps, the flow-level backend is 5% slower.)
TEST(ChannelShares, RingStepLatencyAddsToTheDataTime) {
  auto time_us = [](const std::string& backend, const char* size) {
    return collsim::testing::collective_time_us(
        std::string("-t tests/validation/topologies/h100-ib400-2node.yaml --algo ring --proto Simple -b ") + size +
        " -e " + size + " --backend " + backend + " --set link_classes.infiniband.qp_msg_cost=0us");
  };
  const double launch_us = 8.4, nvlink_step_us = 3.4, net_step_us = 14.0, steps = 2 * (16 - 1), net_steps = 2;
  const double per_byte_us = time_us("analytical", "8G") / (8.0 * (1 << 30));
  const double floor_us =
      launch_us + (steps - net_steps) * nvlink_step_us + net_steps * net_step_us + 64.0 * (1 << 20) * per_byte_us;
  const double analytical = time_us("analytical", "64M"), simgrid = time_us("simgrid", "64M");
  EXPECT_GE(analytical, floor_us);
  EXPECT_GE(simgrid, 0.98 * floor_us);
  EXPECT_NEAR(simgrid / analytical, 1.0, 0.03);
}

}  // namespace
}  // namespace collsim::engine

namespace collsim::engine {
namespace {

// Choosing on SimGrid simulates only the candidates whose analytical lower
// bound could still win, and chooses what simulating all of them chooses.
TEST(Tuner, PruningByTheAnalyticalBoundChoosesAsSimulatingEverything) {
  const topology::Topology topo = collsim::testing::topology_from_file(
      std::string(COLLSIM_SOURCE_DIR) + "/tests/validation/topologies/h100-ib400-2node.yaml");
  const topology::Network net(topo);
  std::vector<TuneCase> cases;
  for (double bytes : {65536.0, 16.0 * 1048576, 256.0 * 1048576}) {
    TuneCase c{collective::Op::kAllReduce, 16, bytes, {}};
    c.params.nvls_efficiency = net.nvls_efficiency_near(0);
    for (int r = 0; r < 16; ++r) c.params.domain_of_rank.push_back(net.nvlink_domain_of(r));
    cases.push_back(c);
  }
  auto candidates = build_candidates(cases, TunerChoice{}, "simgrid");
  ASSERT_TRUE(candidates.ok()) << candidates.error().to_string();
  auto simgrid = make_backend("simgrid");
  auto analytical = make_backend("analytical");
  ASSERT_TRUE(simgrid.ok() && analytical.ok());
  auto all = (*simgrid)->run(net, candidates->schedules, {});
  auto bounds = (*analytical)->run(net, candidates->schedules, {});
  auto pruned = run_candidates(*candidates, net, **simgrid, {});
  ASSERT_TRUE(all.ok() && bounds.ok() && pruned.ok());
  int skipped = 0;
  for (std::size_t k = 0; k < all->size(); ++k) {
    // The bound the pruning relies on, to its slack (tuner.cc kBoundSlack:
    // SimGrid settles rates to about 1e-7 of themselves, and where a rate
    // cap binds, as NVLSTree's here, bound and flow time coincide).
    EXPECT_LE((*bounds)[k].time_s, (*all)[k].time_s * (1 + 1e-6)) << candidates->schedules[k].algo;
    skipped += (*pruned)[k].pruned ? 1 : 0;
  }
  EXPECT_GT(skipped, 0);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::size_t a = fastest(*candidates, c, *all), b = fastest(*candidates, c, *pruned);
    EXPECT_EQ(a, b) << cases[c].bytes;
    EXPECT_FALSE((*pruned)[b].pruned);
    EXPECT_NEAR((*all)[a].time_s, (*pruned)[b].time_s, 1e-9 * (*all)[a].time_s) << cases[c].bytes;
  }
}

// The analytical backend prunes its own candidates (RunOptions::choose_among):
// a candidate whose lower bound (its links' loads, or its transfers' chain
// without queueing: a pipeline's fill, copies and drain) exceeds the best
// time found is not costed. Oracle: costing every candidate. The choice and
// its time are the same; a pruned candidate's reported bound lies between
// the best time and its own full time.
TEST(Tuner, AnalyticalPruningByTheLoadBoundChoosesAsCostingEverything) {
  const topology::Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml"));
  std::vector<TuneCase> cases;
  for (auto op : {collective::Op::kAllReduce, collective::Op::kAllGather, collective::Op::kBroadcast}) {
    for (double bytes : {65536.0, 16.0 * 1048576, 1024.0 * 1048576}) {
      TuneCase c{op, 32, bytes, {}};
      c.params.nvls_efficiency = net.nvls_efficiency_near(0);
      for (int r = 0; r < 32; ++r) c.params.domain_of_rank.push_back(net.nvlink_domain_of(r));
      cases.push_back(c);
    }
  }
  auto candidates = build_candidates(cases, TunerChoice{}, "analytical");
  ASSERT_TRUE(candidates.ok()) << candidates.error().to_string();
  auto analytical = make_backend("analytical");
  ASSERT_TRUE(analytical.ok());
  auto all = (*analytical)->run(net, candidates->schedules, {});
  auto pruned = run_candidates(*candidates, net, **analytical, {});
  ASSERT_TRUE(all.ok() && pruned.ok());
  int skipped = 0, rings = 0;
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const std::size_t a = fastest(*candidates, c, *all), b = fastest(*candidates, c, *pruned);
    EXPECT_EQ(a, b) << c;
    EXPECT_FALSE((*pruned)[b].pruned);
    EXPECT_DOUBLE_EQ((*all)[a].time_s, (*pruned)[b].time_s) << c;
    for (std::size_t k : candidates->of_case[c]) {
      if (!(*pruned)[k].pruned) continue;
      ++skipped;
      EXPECT_GT((*pruned)[k].time_s, (*all)[a].time_s) << c;
      EXPECT_LE((*pruned)[k].time_s, (*all)[k].time_s * (1 + 1e-12)) << c << " " << candidates->schedules[k].algo;
      rings += c == 0 && candidates->schedules[k].algo == "ring" ? 1 : 0;
    }
  }
  EXPECT_GT(skipped, 0);
  // At 64 KiB a ring's links carry little: its bound is its chain of 2 x 31
  // steps (pass_chain_bound), which NVLS or the tree beats.
  EXPECT_GT(rings, 0);
}

// An algorithm's protocol candidates share its transfers (built once:
// Schedule::transfers_of): each stands for the schedule build_schedule
// makes with its protocol, transfer for transfer, and costs as that
// schedule alone on both backends; a protocol the algorithm cannot run is
// named among the skipped.
TEST(Tuner, ProtocolCandidatesShareTheirAlgorithmsTransfers) {
  const topology::Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml"));
  TuneCase c{collective::Op::kAllReduce, 32, 4.0 * 1048576, {}};
  c.params.nvls_efficiency = net.nvls_efficiency_near(0);
  for (int r = 0; r < 32; ++r) c.params.domain_of_rank.push_back(net.nvlink_domain_of(r));
  TunerChoice choice;
  choice.algorithm = "fastest";
  auto candidates = build_candidates({c}, choice, "analytical");
  ASSERT_TRUE(candidates.ok()) << candidates.error().to_string();
  const auto& list = candidates->schedules;
  int shared = 0;
  for (std::size_t k = 0; k < list.size(); ++k) {
    if (list[k].transfers_of < 0) continue;
    ++shared;
    const auto& body = list[static_cast<std::size_t>(list[k].transfers_of)];
    EXPECT_TRUE(list[k].transfers.empty() && list[k].ring_phases.empty());
    EXPECT_EQ(body.algo, list[k].algo);
    EXPECT_LT(body.transfers_of, 0);
    collective::AlgoParams params = c.params;
    params.protocol = list[k].protocol;
    auto own = collective::build_schedule(c.op, list[k].algo, c.ranks, c.bytes, params);
    ASSERT_TRUE(own.ok());
    const auto m = collective::materialize(list, k);
    EXPECT_EQ(m.protocol, own->protocol);
    ASSERT_EQ(m.transfers.size(), own->transfers.size()) << list[k].algo;
    ASSERT_EQ(m.ring_phases.size(), own->ring_phases.size()) << list[k].algo;
    for (std::size_t i = 0; i < m.transfers.size(); ++i) {
      const auto &x = m.transfers[i], &y = own->transfers[i];
      ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.bytes == y.bytes && x.deps == y.deps &&
                  x.queue_after == y.queue_after && x.channel == y.channel)
          << list[k].algo << " " << i;
    }
    for (const char* name : {"analytical", "simgrid"}) {
      auto backend = make_backend(name);
      ASSERT_TRUE(backend.ok());
      auto together = (*backend)->run(net, list, {});
      auto alone = (*backend)->run(net, {*own}, {});
      ASSERT_TRUE(together.ok() && alone.ok()) << name;
      // SimGrid's solver rounds differently with other flows in the same run.
      const double slack = std::string(name) == "simgrid" ? 1e-9 : 0;
      EXPECT_NEAR((*together)[k].time_s, (*alone)[0].time_s, slack * (*alone)[0].time_s) << name << " " << list[k].algo;
      EXPECT_DOUBLE_EQ((*together)[k].bytes_sent, (*alone)[0].bytes_sent) << name << " " << list[k].algo;
    }
  }
  EXPECT_GE(shared, 4);  // ring and tree under LL128 and Simple, at least
  bool hier_skipped = false;
  for (const auto& why : candidates->skipped.front()) hier_skipped |= why.rfind("hier: hier runs only", 0) == 0;
  EXPECT_FALSE(hier_skipped);  // hier runs Simple: a candidate, not skipped
}

TEST(Tuner, AnAllToAllSimGridCouldNotHoldIsRefusedBeforeItIsBuilt) {
  // 4,096 ranks: 16.8 M transfers at once (about 340 GB of simulator
  // memory); refused from the rank count alone, before 16.8 M transfers are
  // built, with the same message as the backend's own guard.
  TuneCase c;
  c.op = Op::kAllToAll;
  c.ranks = 4096;
  c.bytes = 1073741824.0;
  TunerChoice choice;
  choice.algorithm = "direct";
  ::setenv("COLLSIM_SIMGRID_MEMORY_GB", "64", 1);
  const auto r = build_candidates({c}, choice, "simgrid");
  ::unsetenv("COLLSIM_SIMGRID_MEMORY_GB");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().internal());
  EXPECT_NE(r.error().to_string().find("16773120 transfers in flight"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().to_string().find("--backend analytical"), std::string::npos);
  // The analytical backend does not hold them: 9,216 ranks (84.9 M
  // transfers) build as one all-pairs schedule of no transfers
  // (all_pairs_cost.h).
  c.ranks = 9216;
  ::setenv("COLLSIM_MEMORY_GB", "64", 1);
  const auto a = build_candidates({c}, choice, "analytical");
  ::unsetenv("COLLSIM_MEMORY_GB");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_FALSE(a->schedules.empty());
  for (const auto& s : a->schedules) {  // one per protocol
    EXPECT_TRUE(s.all_pairs);
    EXPECT_TRUE(s.transfers.empty());
    EXPECT_DOUBLE_EQ(s.transfer_count(), 9216.0 * 9215);
  }
}

}  // namespace
}  // namespace collsim::engine
