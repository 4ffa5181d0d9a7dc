// Collectives across NVLink domains use every NIC, whatever the op.
// Oracles: an all-reduce is a reduce-scatter followed by an all-gather, so
// with nccl-tests' busbw factors (2(p-1)/p against (p-1)/p) all three reach
// the same busbw on the same channels; a NIC split into planes has the
// NIC's rate (conservation); a pipelined chain is bounded by its slowest
// hop: busbw <= channels x NIC rate, and >= that x m / (m + hops) for m slices.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/collective/algorithms.h"
#include "sim/collective/ops.h"
#include "sim/engine/backend.h"
#include "sim/workload/comm_costs.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::Op;

// busbw (GB/s) of `op` over all GPUs of `net` at `bytes`, ring channels.
double ring_busbw(const topology::Network& net, engine::Backend& backend, Op op, double bytes) {
  collective::AlgoParams params;
  for (int g = 0; g < net.num_gpus(); ++g) params.domain_of_rank.push_back(net.nvlink_domain_of(g));
  params.protocol = collective::Protocol::kSimple;
  auto s = collective::build_schedule(op, "ring", net.num_gpus(), bytes, params);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
  auto r = backend.run(net, {*s}, engine::RunOptions{});
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return bytes / r->front().time_s / 1e9 * collective::busbw_factor(op, net.num_gpus());
}

TEST(MultiNode, RingOpsUseEveryNicOnBothBackends) {
  const topology::Topology topo =
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const topology::Network net(topo);
  // 8 NICs per node x 400 Gb/s x 0.94 (hardware.yaml nics.nccl_achievable_per_400G_nic).
  const double nics_GBps = 8 * 50 * 0.94;
  for (const char* name : {"analytical", "simgrid"}) {
    auto backend = engine::make_backend(name);
    ASSERT_TRUE(backend.ok());
    const double allreduce = ring_busbw(net, **backend, Op::kAllReduce, 1 << 30);
    EXPECT_GT(allreduce, 0.97 * nics_GBps) << name;
    for (Op op : {Op::kReduceScatter, Op::kAllGather}) {
      EXPECT_NEAR(ring_busbw(net, **backend, op, 1 << 30), allreduce, 0.02 * allreduce) << name << " " << op_name(op);
    }
    // Chains: 8 channels of 256 slices over 31 hops.
    for (Op op : {Op::kBroadcast, Op::kReduce}) {
      const double busbw = ring_busbw(net, **backend, op, 1 << 30);
      EXPECT_LE(busbw, nics_GBps * 1.001) << name << " " << op_name(op);
      EXPECT_GE(busbw, nics_GBps * 256 / (256 + 31) * 0.97) << name << " " << op_name(op);
    }
  }
}

TEST(MultiNode, StepGroupsSpanningNodesReduceScatterOnEveryNic) {
  // The same fault in `collsim run`: a ZeRO/FSDP reduce-scatter over 32 GPUs
  // in 4 nodes takes half an all-reduce of the same buffer.
  const topology::Topology topo =
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml");
  const topology::Network net(topo);
  std::vector<int> gpus;
  for (int g = 0; g < 32; ++g) gpus.push_back(g);
  std::vector<workload::CommCall> calls;
  for (Op op : {Op::kAllReduce, Op::kReduceScatter, Op::kAllGather}) calls.push_back({op, gpus, 1 << 30, 0, {}});
  auto backend = engine::make_backend("analytical");
  ASSERT_TRUE(backend.ok());
  workload::CommChoice choice;
  choice.algorithm = "ring";
  choice.protocol = "Simple";
  auto costs = workload::cost_calls(calls, net, **backend, choice);
  ASSERT_TRUE(costs.ok()) << costs.error().to_string();
  EXPECT_NEAR((*costs)[1].time_s, (*costs)[0].time_s / 2, 0.02 * (*costs)[0].time_s);
  EXPECT_NEAR((*costs)[2].time_s, (*costs)[0].time_s / 2, 0.02 * (*costs)[0].time_s);
}

TEST(MultiNode, NicSplitIntoPlanesKeepsItsBandwidth) {
  // Two GB200 NVL72 racks, all-to-all: the same busbw on one plane as on two.
  double busbw[2];
  for (int planes : {1, 2}) {
    busbw[planes - 1] = collsim::testing::collective_busbw(
        "-t topologies/gb200-nvl72-8rack.yaml --set cluster.nodes=2 --set cluster.fabric.planes=" +
        std::to_string(planes) + " --op alltoall -b 1G -e 1G --backend analytical");
  }
  EXPECT_NEAR(busbw[1], busbw[0], 1e-3 * busbw[0]);
  EXPECT_GT(busbw[0], 150);  // 72 x 50 GB/s x 0.94 of NICs for 71 peers off the rack: about 183
}

TEST(MultiNode, AllToAllAcrossNodesRunsAtTheNicRateTimesNodesOverNodesMinusOne) {
  // NCCL's maintainer (nccl-tests issue 130): the network part of an
  // all-to-all sets its time, so algbw = N/(N-1) x the network bandwidth
  // per GPU on N nodes (1/N of each GPU's data stays in its node). Here one
  // 400G NIC per GPU at 0.94 (hardware.yaml): 47 GB/s. busbw = algbw x
  // (n-1)/n over n ranks (nccl-tests). Bandwidth alone: NCCL's proxy
  // operations (p2p_op_cost, tested in p2p_proxy_test.cc) are left out.
  const double nic_GBps = 50 * 0.94;
  for (int nodes : {2, 4}) {
    const int ranks = 8 * nodes;
    const double busbw =
        collsim::testing::collective_busbw("-t topologies/h100-ib400-4node.yaml --ranks " + std::to_string(ranks) +
                                           " --op alltoall -b 1G -e 1G --proto Simple --backend simgrid"
                                           " --set link_classes.infiniband.p2p_op_cost=0s");
    const double algbw = busbw * ranks / (ranks - 1.0);
    EXPECT_NEAR(algbw, nic_GBps * nodes / (nodes - 1.0), 0.01 * nic_GBps * nodes / (nodes - 1.0)) << nodes;
  }
}

TEST(MultiNode, SendRecvAcrossRailsOfAThreeTierFabricRunsAtTheNicRate) {
  // 32 HGX H100 nodes, rail-optimized, 16-port switches (three tiers at
  // 1:1, non-blocking). nccl-tests' send/recv: rank r sends 1 GiB to r + 1,
  // so each node's GPU 7 sends to the next node's GPU 0, rail 7 to rail 0
  // (without PXN, which would keep it on rail 0), one flow per NIC each
  // way: on a non-blocking fabric it runs at one NIC's rate, 50 GB/s x 0.94
  // (hardware.yaml). D-mod-k by GPU index put every rail-0 destination
  // (indices 0, 8, 16, ...) on an eighth of the paths into its leaf: 5.9 GB/s.
  // The fabric alone: NCCL's channels per peer (14 GB/s each at 256 ranks,
  // p2p_proxy_test.cc) are lifted.
  for (const char* pxn : {"false", "true"}) {
    for (const char* backend : {"analytical", "simgrid"}) {
      const double busbw = collsim::testing::collective_busbw(
          std::string("-t topologies/h100-ib400-512node.yaml --set cluster.nodes=32 --set cluster.fabric.leaf_radix=16 "
                      "--op sendrecv -b 1G -e 1G --proto Simple --set nccl.p2p_per_channel_net_bw=0 --set nccl.pxn=") +
          pxn + " --backend " + backend);
      EXPECT_NEAR(busbw, 50 * 0.94, 0.01 * 50 * 0.94) << backend << " pxn " << pxn;
    }
  }
}

}  // namespace
}  // namespace collsim

TEST(MultiNode, AFasterNodeNeverSlowsTheRing) {
  // NCCL keeps the weakest rank's graphs (src/init.cc), so a faster NVLink
  // on one node changes nothing it decides; that node's own links only get
  // faster. Node 0's GPU<->NVSwitch links at 30 and 50 GB/s a lane (25 as
  // shipped), on both backends: the time never grows. Before NCCL's view
  // took the weakest node, node 0 alone set it: 5,541 -> 5,859 us at 30.
  for (const char* backend : {"analytical", "simgrid"}) {
    auto time_us = [&](const std::string& rate) {
      return collsim::testing::collective_time_us(
          "-t topologies/h100-ib400-4node.yaml --algo ring -b 1G -e 1G --backend " + std::string(backend) +
          (rate.empty() ? "" : " --set links[0].rate=" + rate));
    };
    const double shipped = time_us("");
    for (const char* rate : {"30GB/s", "50GB/s"}) EXPECT_LE(time_us(rate), shipped * (1 + 1e-9)) << backend << rate;
  }
}
