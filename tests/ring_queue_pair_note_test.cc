// NICs faster than the ones collsim's queue-pair rate was fitted on (400G
// ConnectX-7, config/link_classes.cc qp_bw) get a warning where a ring's
// channels cannot use their speed (engine::ring_queue_pair_note): the
// closed form is channels per NIC x qp_bw x queue pairs against the NIC's
// line rate.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/engine/nccl_system.h"
#include "sim/topology/network.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

std::vector<int> every_gpu(const topology::Network& net) {
  std::vector<int> gpus;
  for (int g = 0; g < net.num_gpus(); ++g) gpus.push_back(g);
  return gpus;
}

std::string note_for(const std::vector<std::string>& sets) {
  const auto topo =
      testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml", sets);
  const topology::Network net(topo);
  return ring_queue_pair_note(net, every_gpu(net), collective::kDefaultNcclRelease);
}

// Every node's NIC cable (links[3], [7], [11], [15] of the file) at `rate`.
std::vector<std::string> nics_at(const std::string& rate) {
  std::vector<std::string> sets;
  for (int entry : {3, 7, 11, 15}) sets.push_back("links[" + std::to_string(entry) + "].rate=" + rate);
  return sets;
}

TEST(RingQueuePairNote, OnlyWhereAFasterNicOutrunsItsRingChannels) {
  // 400G: 2 channels x 23.5 GB/s = 47 GB/s = 0.94 of 50: what was fitted, no note.
  EXPECT_EQ(note_for(nics_at("400Gb/s")), "");
  // 800G: the same 47 GB/s of a 100 GB/s NIC.
  const std::string note = note_for(nics_at("800Gb/s"));
  EXPECT_NE(note.find("at most 47 of each NIC's 100 GB/s"), std::string::npos) << note;
  EXPECT_NE(note.find("16 NCCL ring channels over 8 NICs (2 a NIC), each at most 23.5 GB/s"), std::string::npos)
      << note;
  // Two queue pairs a connection: 94 GB/s, at least 90% of the line rate.
  auto two_qps = nics_at("800Gb/s");
  two_qps.push_back("nccl.ib_qps_per_connection=2");
  EXPECT_EQ(note_for(two_qps), "");
  // A faster queue pair, stated: no note either.
  auto faster = nics_at("800Gb/s");
  faster.push_back("link_classes.infiniband.qp_bw=47");
  EXPECT_EQ(note_for(faster), "");
}

TEST(RingQueuePairNote, NoNoteWhereRingsLeaveTheirNicsIdle) {
  // An NVL72 rack's ring channels are fewer than its 72 NICs: the channel
  // count, not the queue pairs, is what limits them there.
  const auto topo = testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/gb200-nvl72-8rack.yaml");
  const topology::Network net(topo);
  EXPECT_EQ(ring_queue_pair_note(net, every_gpu(net), collective::kDefaultNcclRelease), "");
}

// The command says it where its ranks' rings cross 800G NICs, and only there:
// not for 8 ranks on one node (--ranks, no --placement: GPUs 0-7), not for a
// tree, not for an all-to-all.
TEST(RingQueuePairNote, CollectiveWarnsOnlyForRingsAcrossTheFasterNics) {
  std::string fast = " -t topologies/h100-ib400-4node.yaml -b 1G -e 1G --backend analytical";
  for (const auto& set : nics_at("800Gb/s")) fast += " --set " + set;
  const std::string warning = "rings carry at most 47 of each NIC's 100 GB/s";
  const auto rings = testing::run_collsim("collective" + fast + " --algo ring");
  EXPECT_EQ(rings.exit_code, 0) << rings.err;
  EXPECT_NE(rings.err.find(warning), std::string::npos) << rings.err;
  for (const std::string quiet : {" --algo ring --ranks 8", " --algo tree", " --op alltoall"}) {
    const auto r = testing::run_collsim("collective" + fast + quiet);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("rings carry at most"), std::string::npos) << quiet << r.err;
  }
}

}  // namespace
}  // namespace collsim::engine
