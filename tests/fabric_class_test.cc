// Scale-out link classes chosen by a cluster template (fabric.class):
// AWS EFA's efficiency against measurements it was not fitted to, and
// protocol latencies that follow the devices a hop joins, not the class's
// name.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "sim/config/topology_file.h"
#include "sim/topology/network.h"
#include "test_support.h"

namespace collsim {
namespace {

TEST(FabricClass, TemplateCablesTheFabricWithTheClassItNames) {
  auto spec = config::load_topology_text(
      "name: t\ncluster: {node: hgx-h100, nodes: 2, fabric: {kind: rail-optimized, class: efa}}\n", "t.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok()) << topo.error().to_string();
  const topology::Network net(*topo);
  int efa = 0;
  for (const auto& link : net.links()) {
    if (link.link_class != "efa") continue;
    ++efa;
    EXPECT_NEAR(link.rate_Bps, link.line_rate_Bps * 0.89, 1);  // link_classes.cc
  }
  EXPECT_GT(efa, 0);
  auto bad =
      config::load_topology_text("name: t\ncluster: {node: hgx-h100, nodes: 2, fabric: {class: omnipath}}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("t.yaml:2:"), std::string::npos) << bad.error().to_string();
  EXPECT_NE(bad.error().to_string().find("expected infiniband, ethernet or efa, found 'omnipath'"), std::string::npos)
      << bad.error().to_string();
}

// Held out from the efa class's fit (the 8 GiB all-reduce plateaus of 4
// and 8 p5 nodes): nccl-tests alltoall_perf at 2 GiB on 4 and 8 AWS
// p5.48xlarge nodes, 54.07 and 49.63 GB/s busbw out of place
// (crazyguitar/aws-gpu-communication-benchmark data/nccl_alltoall.csv,
// NCCL 2.27.7, 2025-10-14). With InfiniBand's efficiency collsim gave
// +12.2% and +6.5%.
TEST(FabricClass, EfaAllToAllMatchesPublishedP5MeasurementsItWasNotFittedTo) {
  struct Case {
    const char* file;
    double measured_GBps;
  };
  for (const Case& c : {Case{"h100-p5-efa-4node.yaml", 54.07}, Case{"h100-p5-efa-8node.yaml", 49.63}}) {
    const double busbw = collsim::testing::collective_busbw(std::string("-t tests/validation/topologies/") + c.file +
                                                            " --op alltoall -b 2G -e 2G --backend analytical");
    EXPECT_NEAR(busbw / c.measured_GBps, 1.0, 0.10) << c.file << ": " << busbw;
  }
}

// A hop's protocol latency (NCCL's per-hop NET latency) follows what the
// hop joins, and EFA adds its own step latency (55 us, link_classes.cc) on
// every network step: an 8-byte ring all-reduce, which is all latency,
// runs 30 steps on 16 ranks over 2 nodes, and its critical path crosses
// the network 4 times (twice a lap). Before hop kinds followed the
// devices, only links named infiniband or ethernet counted as network
// hops, and an EFA fabric got NVLink's latencies.
TEST(FabricClass, NetworkStepsPayTheFabricsStepLatency) {
  auto time_us = [](const std::string& extra) {
    return collsim::testing::collective_time_us(
        "-t tests/validation/topologies/h100-ib400-2node.yaml -b 8 -e 8 --algo ring --proto LL --backend analytical" +
        extra);
  };
  // InfiniBand's ring step latency (below) and message cost
  // (ring_channels_test.cc) off, so that the two differ by EFA's step
  // latency alone.
  const double ib =
      time_us(" --set link_classes.infiniband.ring_step_latency=0us --set link_classes.infiniband.qp_msg_cost=0us");
  const double efa = time_us(" --set cluster.fabric.class=efa");
  EXPECT_NEAR(efa - ib, 4 * 55.0, 1e-3);
  // The class's value is the file's to set (link_classes:).
  const double halved = time_us(" --set cluster.fabric.class=efa --set link_classes.efa.step_latency=27.5us");
  EXPECT_NEAR(halved - ib, 4 * 27.5, 1e-3);
}

// A ring step under LL or LL128 that crosses InfiniBand or RoCE costs the
// class's ring step latency (InfiniBand 8 us, RoCE 12 us, link_classes.cc)
// beyond NCCL's table: the 8-byte ring all-reduce above crosses the network
// 4 times on its critical path (InfiniBand's message cost off, so that the
// latency shows alone). Simple rings, trees, point-to-point, collsim's rhd
// and hier do not pay it, nor NCCL's broadcast and reduce, whose chains wait
// for their steps instead (engine/plan.h chain_hop_latency_s). Held
// out from its fit (the 2-node H100 ring curve, 1-64 MiB): a ring
// all-reduce of 8 bytes on 2 DGX A100 nodes (16 ranks, 8 x 200G HDR each)
// takes 93.1 us (NVIDIA/nccl issue 812, NCCL 2.16.5, NCCL_ALGO=Ring); 53.6
// us without it.
TEST(FabricClass, RingNetworkStepsPayTheRingStepLatency) {
  auto time_us = [](const std::string& args, const char* backend = "analytical") {
    return collsim::testing::collective_time_us(args + " --backend " + backend);
  };
  const std::string two =
      "-t tests/validation/topologies/h100-ib400-2node.yaml -b 8 -e 8 --set link_classes.infiniband.qp_msg_cost=0us";
  const std::string off = " --set link_classes.infiniband.ring_step_latency=0us";
  for (const char* proto : {"LL", "LL128"}) {
    const std::string ring = two + " --algo ring --proto " + proto;
    EXPECT_NEAR(time_us(ring) - time_us(ring + off), 4 * 8.0, 1e-3) << proto;
  }
  const std::string halved = two + " --algo ring --proto LL --set link_classes.infiniband.ring_step_latency=4us";
  EXPECT_NEAR(time_us(two + " --algo ring --proto LL") - time_us(halved), 4 * 4.0, 1e-3);
  // RoCE's class has it too.
  const std::string roce = two + " --algo ring --proto LL --set cluster.fabric.class=ethernet";
  EXPECT_NEAR(time_us(roce) - time_us(roce + " --set link_classes.ethernet.ring_step_latency=0us"), 4 * 12.0, 1e-3);
  const std::string mib = "-t tests/validation/topologies/h100-ib400-2node.yaml -b 1M -e 1M";
  for (const char* backend : {"analytical", "simgrid"}) {
    for (const std::string& other : std::vector<std::string>{
             two + " --algo ring --proto Simple", two + " --algo tree --proto LL", two + " --algo tree --proto LL128",
             two + " --algo rhd --proto LL", two + " --algo hier --proto LL",
             two + " --op broadcast --algo ring --proto LL", two + " --op reduce --algo ring --proto LL128",
             mib + " --op alltoall --algo direct --proto LL", mib + " --op sendrecv --algo direct --proto LL"}) {
      EXPECT_NEAR(time_us(other, backend), time_us(other + off, backend), 1e-9) << other << " " << backend;
    }
  }
  const double a100 = collsim::testing::collective_time_us(
      "-t topologies/dgx-a100-hdr200-4node.yaml --ranks 16 -b 8 -e 8 --algo ring --proto LL --backend simgrid");
  EXPECT_NEAR(a100 / 93.1, 1.0, 0.10) << a100;
  // Held out too: the ring all-gather on 2 Google Cloud A4 nodes (8 B200,
  // 8 x 400G RoCE each) at 1-8 MiB, LL128 by NCCL's choice: 12.05, 22.78,
  // 41.31, 75.7 GB/s busbw (GoogleCloudPlatform/cluster-toolkit
  // examples/gke-a4-highgpu/README.md at 74f7e3da); 39-50% fast without it.
  // The run's gIB environment sets 4 queue pairs per connection (Google's
  // A4 blueprint, examples/machine-learning/a4-highgpu-8g/a4high-vm.yaml).
  const std::pair<const char*, double> a4[] = {{"1M", 12.05}, {"2M", 22.78}, {"4M", 41.31}, {"8M", 75.7}};
  for (const auto& [size, measured] : a4) {
    const double busbw = collsim::testing::collective_busbw(
        std::string("-t tests/validation/topologies/b200-roce400-2node.yaml --op allgather -b ") + size + " -e " +
        size + " --backend simgrid --set nccl.ib_qps_per_connection=4");
    EXPECT_NEAR(busbw / measured, 1.0, 0.12) << size << ": " << busbw;
  }
}

TEST(FabricClass, StepLatencyIsCheckedWhereItIsRead) {
  for (const std::string key : {"step_latency", "ring_step_latency", "plugin_latency"}) {
    const std::string base =
        "name: t\ncluster: {node: hgx-h100, nodes: 2, fabric: {class: efa}}\nlink_classes:\n  efa: {" + key + ": ";
    const std::string column = fmt::format("t.yaml:4:{}:", 11 + key.size());
    for (auto [value, expected] : {std::pair<std::string, std::string>{"-1us", column},
                                   {"1s", "expected a latency from 0 to 10 ms"},
                                   {"fast", "expected a duration"}}) {
      auto spec = config::load_topology_text(base + value + "}\n", "t.yaml");
      ASSERT_FALSE(spec.ok()) << value;
      EXPECT_NE(spec.error().to_string().find(expected), std::string::npos) << spec.error().to_string();
      EXPECT_NE(spec.error().to_string().find("link_classes.efa." + key), std::string::npos)
          << spec.error().to_string();
    }
  }
}

// AWS's network plugin reports 75 us of latency to NCCL on p5 (link class
// plugin_latency, aws-ofi-nccl src/platform-aws.cpp), which NCCL's model
// pays per network step and twice under Simple, so NCCL keeps the ring
// all-gather under LL128 up to 8 MiB per rank and switches to Simple at 16
// MiB per rank on 4 and 8 p5 nodes: where the measured curves dip, as a
// Simple ring starts slower than LL128 ends (215.4-224.5 GB/s there, after
// 253.36 and 261.26 GB/s at 8 MiB per rank; crazyguitar/aws-gpu-
// communication-benchmark data/nccl_all_gather.csv, NCCL 2.27.7,
// 2025-10-14, AWS's tuner plugin not covering all-gather on p5). Held out:
// the latency is the plugin's, not fitted. Without it NCCL's model (and
// collsim) ran Simple from 4 MiB per rank. The LL128 rows themselves come
// within 10% (EFA's step latency was fitted to these curves).
TEST(FabricClass, EfaAllGatherKeepsLl128WhereNcclOverEfaDoes) {
  struct Row {
    const char* topology;
    const char* size;
    const char* proto;
    double measured;  // busbw, GB/s; 0: not checked
  };
  for (const Row& r :
       {Row{"h100-p5-efa-4node.yaml", "256M", "LL128", 253.36}, Row{"h100-p5-efa-4node.yaml", "512M", "Simple", 0},
        Row{"h100-p5-efa-8node.yaml", "512M", "LL128", 261.26}, Row{"h100-p5-efa-8node.yaml", "1G", "Simple", 0}}) {
    const std::string args = std::string("-t tests/validation/topologies/") + r.topology +
                             " --op allgather --nccl 2.27.7 -b " + r.size + " -e " + r.size + " --backend simgrid";
    EXPECT_EQ(collsim::testing::collective_text(args, "proto"), r.proto) << args;
    if (r.measured == 0) continue;
    EXPECT_NEAR(collsim::testing::collective_busbw(args) / r.measured, 1.0, 0.10) << args;
    const std::string without = args + " --set link_classes.efa.plugin_latency=0us";
    EXPECT_EQ(collsim::testing::collective_text(without, "proto"), "Simple") << without;
  }
}

// The shipped cloud templates (topologies/aws-p5-efa-16node.yaml,
// gcp-a4-roce-16node.yaml) are the validation topologies' configurations:
// at the validation cases' node counts they give the same answers as those
// files with the settings their cases state, so the clouds' measured curves
// (tests/validation/more-curves.yaml) check the templates users pick.
TEST(FabricClass, CloudTemplatesMatchTheirValidationTopologies) {
  const std::string a4_settings =
      " --set nccl.ib_qps_per_connection=4 --set nccl.cross_nic=0 --set nccl.nvls_chunksize=524288"
      " --set nccl.p2p_net_chunksize=131072";
  const std::pair<std::string, std::string> pairs[] = {
      {"-t topologies/aws-p5-efa-16node.yaml --set cluster.nodes=4",
       "-t tests/validation/topologies/h100-p5-efa-4node.yaml"},
      {"-t topologies/gcp-a4-roce-16node.yaml --set cluster.nodes=2",
       "-t tests/validation/topologies/b200-roce400-2node.yaml" + a4_settings},
  };
  for (const auto& [shipped, validated] : pairs) {
    for (const std::string run :
         {" --op allreduce -b 64M -e 64M --backend analytical", " --op allgather -b 1G -e 1G --backend analytical",
          " --op alltoall -b 128M -e 128M --backend analytical", " --op allgather -b 16M -e 16M --backend simgrid"}) {
      const double t = collsim::testing::collective_time_us(shipped + run);
      EXPECT_GT(t, 0.0) << shipped + run;
      EXPECT_NEAR(t, collsim::testing::collective_time_us(validated + run), 1e-9 * t) << shipped + run;
    }
  }
  // Google's 2-node A4 all-gather plateau (366.29 GB/s busbw at 8 GiB,
  // cluster-toolkit examples/gke-a4-highgpu/README.md at 74f7e3da), held
  // out: within 5% on the template (320, -12.7%, without gIB's 4 queue pairs).
  const double a4 = collsim::testing::collective_busbw(
      "-t topologies/gcp-a4-roce-16node.yaml --set cluster.nodes=2 --op allgather -b 8G -e 8G --backend analytical");
  EXPECT_NEAR(a4 / 366.29, 1.0, 0.05) << a4;
}

}  // namespace
}  // namespace collsim
