// Placement (sim/topology/placement.h): which GPUs a job's ranks run on.
// Oracles: counting (GPUs per NVLink domain), the forms' own definitions,
// and the ring all-reduce's closed form on an idle NVLink switch, whose
// busbw does not depend on how many of the rack's GPUs take part.
#include "sim/topology/placement.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "sim/cli/collective_sweep.h"
#include "sim/cli/step_run.h"
#include "sim/config/topology_file.h"
#include "sim/engine/backend.h"
#include "sim/workload/step_graph.h"
#include "sim/workload/workload_spec.h"
#include "sweep_support.h"
#include "test_support.h"

namespace collsim::topology {
namespace {

const Network& eight_racks() {
  static const Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml"));
  return net;
}

TEST(Placement, FormsPickTheGpusTheyName) {
  const Network& net = eight_racks();  // 8 NVL72 racks: GPUs 72 d .. 72 d + 71 in domain d
  auto all = place(net, "all");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->everything);
  EXPECT_EQ(all->gpus.size(), 576u);

  // 64 of each rack's 72 GPUs (16 of 18 compute trays): the first 64 of each.
  auto p64 = place(net, "per-domain:64");
  ASSERT_TRUE(p64.ok());
  EXPECT_FALSE(p64->everything);
  ASSERT_EQ(p64->gpus.size(), 512u);
  std::map<int, int> per_domain;
  for (int g : p64->gpus) {
    ++per_domain[net.nvlink_domain_of(g)];
    EXPECT_LT(g % 72, 64) << g;
  }
  EXPECT_EQ(per_domain.size(), 8u);
  for (const auto& [d, n] : per_domain) EXPECT_EQ(n, 64);
  EXPECT_EQ(p64->where, "512 of 576 GPUs: 64 in each of 8 NVLink domains");

  auto spread = place(net, "spread:10");  // one per rack, then a second in the first two racks
  ASSERT_TRUE(spread.ok());
  EXPECT_EQ(spread->gpus, (std::vector<int>{0, 1, 72, 73, 144, 216, 288, 360, 432, 504}));
  EXPECT_EQ(spread->where, "10 of 576 GPUs: in 8 NVLink domains, 1-2 each");

  auto packed = place(net, "packed:100");
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->gpus.size(), 100u);
  EXPECT_EQ(packed->gpus.back(), 99);

  // Random: distinct, in topology order, the same for the same seed.
  auto r1 = place(net, "random:50:7"), r2 = place(net, "random:50:7"), r3 = place(net, "random:50:8");
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  EXPECT_EQ(r1->gpus, r2->gpus);
  EXPECT_NE(r1->gpus, r3->gpus);
  EXPECT_EQ(std::set<int>(r1->gpus.begin(), r1->gpus.end()).size(), 50u);
  EXPECT_TRUE(std::is_sorted(r1->gpus.begin(), r1->gpus.end()));

  // Whole racks: every GPU of NVLink domains 1 and 3, in that order.
  auto racks = place(net, "domains:3,1");
  ASSERT_TRUE(racks.ok());
  ASSERT_EQ(racks->gpus.size(), 144u);
  EXPECT_EQ(racks->gpus.front(), 216);
  EXPECT_EQ(racks->gpus[72], 72);
  EXPECT_EQ(racks->where, "144 of 576 GPUs: 72 in each of 2 NVLink domains");

  // An explicit list keeps its order: it is the rank order.
  auto list = place(net, "gpus:75-77,3,500");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->gpus, (std::vector<int>{75, 76, 77, 3, 500}));
}

TEST(Placement, BadFormsNameWhatWasExpected) {
  const Network& net = eight_racks();
  const std::pair<const char*, const char*> cases[] = {
      {"per-domain:73", "per-domain:K needs K a whole number from 1 to 72"},
      {"packed:577", "packed:N needs N a whole number from 1 to 576"},
      {"spread:0", "spread:N needs N a whole number from 1 to 576"},
      {"random:5:x", "random:N:SEED needs SEED a whole number >= 0"},
      {"gpus:0-3,2", "GPU 2 is listed twice"},
      {"gpus:5-2", "gpus:LIST needs GPU numbers or ranges A-B (A <= B) from 0 to 575"},
      {"gpus:", "gpus:LIST needs"},
      {"domains:8", "domains:LIST needs NVLink domain numbers or ranges A-B (A <= B) from 0 to 7"},
      {"domains:1,1", "NVLink domain 1 is listed twice"},
      {"first:4",
       "expected all, packed:N, per-domain:K, spread:N, random:N[:SEED], topology-aware:N, domains:LIST or gpus:LIST, "
       "found "
       "'first:4'"},
  };
  for (const auto& [spec, message] : cases) {
    auto p = place(net, spec);
    ASSERT_FALSE(p.ok()) << spec;
    EXPECT_FALSE(p.error().internal());
    EXPECT_NE(p.error().message.find(message), std::string::npos) << p.error().message;
  }
}

// A ring all-reduce inside one NVL72 rack on 64 of its 72 GPUs: on an idle
// switch each GPU's link carries 2 (p - 1) / p x S, so busbw is the link's
// effective rate whatever p is, less the ring's 2 (p - 1) steps of route
// latency: t = 2 (p - 1) (S / p / B + a), busbw = 2 (p - 1) / p x S / t.
// B = 18 NVLink 5 links x 50 GB/s x 0.76 (the nvlink5 class efficiency).
TEST(Placement, SixtyFourOfSeventyTwoKeepThePerGpuBandwidth) {
  const Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72.yaml"));
  auto backend = engine::make_backend("analytical");
  ASSERT_TRUE(backend.ok());
  const double S = 1073741824.0, B = 18 * 50e9 * 0.76;
  for (const char* spec : {"per-domain:64", "all"}) {
    auto p = place(net, spec);
    ASSERT_TRUE(p.ok());
    cli::SweepRequest req;
    req.algo = "ring";
    req.proto = "none";
    req.sizes = {S};
    req.ranks = static_cast<int>(p->gpus.size());
    req.gpus = p->gpus;
    auto rows = cli::run_collective_sweep(req, net, **backend);
    ASSERT_TRUE(rows.ok()) << rows.error().to_string();
    const double n = req.ranks, a = net.route_latency_s(net.route(p->gpus[0], p->gpus[1]));
    const double t = 2 * (n - 1) * (S / n / B + a);
    EXPECT_NEAR(rows->front().busbw_GBps, 2 * (n - 1) / n * S / t / 1e9, 0.005 * B / 1e9) << spec;
  }
}

// A training step on a placement: its ranks are the placed GPUs, in order,
// and its parallelism must multiply to their count (the message says so).
TEST(Placement, AStepRunsOnThePlacedGpus) {
  const Network& net = eight_racks();
  auto p = place(net, "per-domain:64");
  ASSERT_TRUE(p.ok());
  const std::string file = std::string(COLLSIM_SOURCE_DIR) + "/workloads/llama3-405b.yaml";
  auto w = workload::load_workload_file(file, {"parallelism.pp=2", "parallelism.dp=32"});
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml");
  ASSERT_TRUE(spec.ok());
  auto gpu = workload::resolve_gpu_model(*w, *spec);
  ASSERT_TRUE(gpu.ok()) << gpu.error().to_string();
  auto g = workload::compile_step(*w, net, *gpu, p->gpus);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ(g->gpus, 512);
  std::set<int> used;
  for (const auto& gs : g->worker_gpus) used.insert(gs.begin(), gs.end());
  EXPECT_EQ(used, std::set<int>(p->gpus.begin(), p->gpus.end()));
  // The full layout does not fit 512 GPUs.
  auto full = workload::load_workload_file(file);
  ASSERT_TRUE(full.ok());
  auto refused = workload::compile_step(*full, net, *gpu, p->gpus);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("= 576, but the placement has 512 GPUs"), std::string::npos)
      << refused.error().message;
}

// On the command line: one line naming the flag, exit 2; the report says
// where the job landed.
TEST(Placement, CommandsNameThePlacementAndRefuseBadOnes) {
  const auto bad = collsim::testing::run_collsim(
      "collective -t topologies/gb200-nvl72-8rack.yaml --placement per-domain:80 -b 1M -e 1M --backend analytical");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "collsim collective: error: --placement: per-domain:K needs K a whole number from 1 to 72 (the GPUs of the "
            "smallest of the 8 NVLink domains), found 'per-domain:80'\n");
  // A collective's count starts at 2, as --ranks's does: one line, not a
  // range of 1 to 576 and then a refusal of 1.
  for (const char* n : {"0", "1"}) {
    const auto one = collsim::testing::run_collsim(
        std::string("collective -t topologies/gb200-nvl72-8rack.yaml --backend analytical --placement packed:") + n);
    EXPECT_EQ(one.exit_code, 2);
    EXPECT_EQ(one.err,
              std::string("collsim collective: error: --placement: packed:N needs N a whole number from 2 to 576 (the "
                          "topology's GPUs), found 'packed:") +
                  n + "'\n");
  }
  const auto both = collsim::testing::run_collsim(
      "collective -t topologies/gb200-nvl72-8rack.yaml --placement spread:8 --ranks 8 -b 1M -e 1M");
  EXPECT_EQ(both.exit_code, 2);
  const auto ok = collsim::testing::run_collsim(
      "collective -t topologies/gb200-nvl72-8rack.yaml --placement per-domain:64 -b 1M -e 1M --backend analytical");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("on 512 ranks"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("# placement: per-domain:64 (512 of 576 GPUs: 64 in each of 8 NVLink domains)"),
            std::string::npos)
      << ok.out;
  const auto run = collsim::testing::run_collsim(
      "run -t topologies/gb200-nvl72-8rack.yaml -w workloads/llama3-405b.yaml --placement random:3 --backend "
      "analytical --what-if off");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("but the placement has 3 GPUs"), std::string::npos) << run.err;
}

// The what-ifs re-run the placed step: the HBM one recompiles it on the
// same 512 GPUs (it recompiled on all 576, a data-parallel degree of 18 the
// batch does not split into, and the run was lost with exit 2; on H100 it
// was an internal error).
TEST(Placement, WhatIfsKeepThePlacement) {
  const auto run = collsim::testing::run_collsim(
      "run -t topologies/gb200-nvl72-8rack.yaml -w workloads/llama3-70b.yaml --placement per-domain:64 --backend "
      "analytical");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("512 of 576 GPUs"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("GPU HBM: 8 TB/s -> 16 TB/s"), std::string::npos) << run.out;
}

// A placement is a study axis (run.placement, collective.placement): each
// point runs where its value says; a form that does not exist is refused
// before anything runs, with the file's position.
TEST(Placement, IsAStudyAxis) {
  const std::string dir = ::testing::TempDir() + "placement_study/";
  std::filesystem::create_directories(dir);
  const std::string study = R"(name: placement-nvl72
collective:
  topology: topologies/gb200-nvl72.yaml
  op: allreduce
  algo: ring
  proto: none
  bytes: 1G
  backend: analytical
axes:
  collective.placement: [all, per-domain:64, packed:8]
)";
  collsim::testing::write_study_and_broken(dir, study, "packed:8", "first:8");
  const auto r = collsim::testing::run_collsim("sweep " + dir + "s.yaml --out " + dir + "out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = collsim::testing::read_file(dir + "out/results.csv");
  EXPECT_NE(csv.find("\n0,all,ok,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,per-domain:64,ok,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n2,packed:8,ok,"), std::string::npos) << csv;
  const auto bad = collsim::testing::run_collsim("sweep " + dir + "bad.yaml --out " + dir + "out-bad");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.yaml:10:3: field 'collective.placement': expected all, packed:N"), std::string::npos)
      << bad.err;
}

// 64 of each NVL72 rack's 72 GPUs (per-domain:64) against racks built with
// 64 GPUs (cluster.node_gpus: 64, 16 of 18 compute trays): every placed GPU
// keeps its 18 NVLinks and its own NIC, so the ring's busbw (bound by the
// NIC: no other GPU's traffic shares it) and a training step's time are
// those of the smaller racks. The fabric differs only in which leaf a NIC
// lands on (72 NICs per leaf), which moves the step by its latencies.
TEST(Placement, SixtyFourOfSeventyTwoIsARackOfSixteenTrays) {
  const std::string file = std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml";
  auto busbw = [&](const std::vector<std::string>& sets, const std::string& placement, const char* algo) {
    auto spec = config::load_topology_file(file, sets);
    EXPECT_TRUE(spec.ok()) << spec.error().to_string();
    auto topo = build_topology(*spec);
    EXPECT_TRUE(topo.ok());
    const Network net(*topo);
    cli::SweepRequest req;
    req.algo = algo;
    req.sizes = {1024.0 * 1024 * 1024};
    req.ranks = net.num_gpus();
    if (auto placed = cli::place_ranks(net, placement, "--placement", req); !placed)
      ADD_FAILURE() << placed.error().message;
    auto backend = engine::make_backend("analytical");
    auto rows = cli::run_collective_sweep(req, net, **backend);
    EXPECT_TRUE(rows.ok()) << rows.error().to_string();
    EXPECT_EQ(req.ranks, 512);
    return rows.ok() ? rows->front().busbw_GBps : 0.0;
  };
  // The ring only: NVLS across the racks differs (902.5 against 848.6 GB/s
  // at 1 GiB) because the switch's reduction engines are modelled in
  // proportion to the GPU links attached to it (nvls_reduction), so 16
  // trays get 64/72 of the engines that 64 of 72 GPUs share (docs/validation-nvls.md).
  const double placed = busbw({}, "per-domain:64", "ring"), built = busbw({"cluster.node_gpus=64"}, "all", "ring");
  EXPECT_GT(placed, 0);
  EXPECT_NEAR(placed / built, 1.0, 1e-3) << placed << " vs " << built;
  auto step = [&](const std::vector<std::string>& sets, const std::string& placement) {
    cli::StepRequest req;
    req.topology_file = file;
    req.topology_sets = sets;
    req.workload_file = std::string(COLLSIM_SOURCE_DIR) + "/workloads/llama3-70b.yaml";
    req.backend = "analytical";
    req.what_if = false;
    req.placement = placement;
    auto run = cli::run_step(req);
    EXPECT_TRUE(run.ok()) << run.error().to_string();
    return run.ok() ? (*run)->result.step_time_s : 0.0;
  };
  const double placed_s = step({}, "per-domain:64"), built_s = step({"cluster.node_gpus=64"}, "all");
  EXPECT_GT(placed_s, 0);
  EXPECT_NEAR(placed_s / built_s, 1.0, 2e-3) << placed_s << " vs " << built_s;
}

// topology-aware:N on 128 HGX nodes whose rails each have 4 leaves of 32
// nodes (the file's own description): a job of 32 nodes lands under one
// leaf group; with nodes 0-2 taken, 32 nodes go to the next whole group
// (the first group no longer holds them) and 3 nodes to the group with
// the fewest free GPUs that still holds them.
TEST(Placement, TopologyAwareFillsLeavesAndSkipsBusyGpus) {
  const Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-128node.yaml"));
  auto range = [](int first, int count) {
    std::vector<int> v(static_cast<std::size_t>(count));
    for (int k = 0; k < count; ++k) v[static_cast<std::size_t>(k)] = first + k;
    return v;
  };
  auto fresh = place(net, "topology-aware:256");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->gpus, range(0, 256));
  std::vector<char> busy(static_cast<std::size_t>(net.num_gpus()), 0);
  for (int g = 0; g < 24; ++g) busy[static_cast<std::size_t>(g)] = 1;
  auto next = place(net, "topology-aware:256", busy);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->gpus, range(256, 256));
  auto small = place(net, "topology-aware:24", busy);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->gpus, range(24, 24));
  // The policies take free GPUs only; a count above them says how many are free.
  auto packed = place(net, "packed:8", busy);
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->gpus, range(24, 8));
  auto spread = place(net, "spread:2", busy);
  ASSERT_TRUE(spread.ok());
  EXPECT_EQ(spread->gpus, (std::vector<int>{24, 32}));
  auto too_many = place(net, "topology-aware:1024", busy);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("from 1 to 1000 (the GPUs other jobs leave free, of 1024)"),
            std::string::npos)
      << too_many.error().message;
}

}  // namespace
}  // namespace collsim::topology
