// Scale-out link classes chosen by a cluster template (fabric.class):
// AWS EFA's efficiency against measurements it was not fitted to, and
// protocol latencies that follow the devices a hop joins, not the class's
// name.
#include <gtest/gtest.h>

#include <string>

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
    EXPECT_NEAR(link.rate_Bps, link.line_rate_Bps * 0.90, 1);  // link_classes.cc
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
// hop joins: an 8-byte all-reduce, which is all latency, takes as long
// over EFA links as over InfiniBand links of the same devices. Before,
// only links named infiniband or ethernet counted as network hops, and an
// EFA fabric got NVLink's latencies.
TEST(FabricClass, NetworkHopLatencyDoesNotDependOnTheClassName) {
  const std::string args =
      "-t tests/validation/topologies/h100-ib400-2node.yaml -b 8 -e 8 --algo ring --proto LL --backend analytical";
  const double ib = collsim::testing::collective_busbw(args);
  const double efa = collsim::testing::collective_busbw(args + " --set cluster.fabric.class=efa");
  ASSERT_GT(ib, 0);
  EXPECT_NEAR(efa / ib, 1.0, 1e-3);
}

}  // namespace
}  // namespace collsim
