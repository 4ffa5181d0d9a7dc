// Cluster templates' bad parameters: one clear line naming the field (or
// the --set flag that set it), what was expected and what was found, exit 2.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_support.h"

namespace collsim::config {
namespace {

using testing::expect_one_clear_line;
using testing::run_collsim;

// A NIC splits into planes whose ports are a speed switches are sold at:
// 3 planes on a 400G NIC made 133.3G ports, and the bill of materials priced
// them as the next faster switch ports and cables (exit 0).
TEST(ClusterTemplateErrors, PlanesThatSplitANicIntoNoStandardPortAreRefused) {
  const std::string cluster = "topo topologies/h100-ib400-128node.yaml --set ";
  expect_one_clear_line({cluster + "cluster.fabric.planes=3",
                         "field 'cluster.fabric.planes': 3 planes split the 400 Gb/s NIC (cluster.nic) into 133.3 "
                         "Gb/s ports, a speed no switch port is sold at (10, 25, 40, 50, 56, 100, 200, 400, 800, "
                         "1600 Gb/s); expected 1, 2, 4, 8, 10, 16, 40 planes"});
  expect_one_clear_line(
      {cluster + "cluster.nic=800Gb/s --set cluster.fabric.planes=64", "800 Gb/s NIC (cluster.nic) into 12.5 Gb/s"});
  expect_one_clear_line({cluster + "cluster.nic=375Gb/s --set cluster.fabric.planes=3", "into 125 Gb/s ports"});
  const auto two = run_collsim(cluster + "cluster.fabric.planes=2");
  EXPECT_EQ(two.exit_code, 0) << two.err;
}

// Nodes must fit the 40 rack units a template stacks them over, at their
// DGX height unless layout.node_units says otherwise (was: 40 HGX H100
// nodes, 320U, in one rack, exit 0, cables laid as if each took 1U).
TEST(ClusterTemplateErrors, NodesTallerThanTheirRackAreRefused) {
  const std::string h100 = "topo topologies/h100-ib400-128node.yaml --set cluster.layout.";
  expect_one_clear_line(
      {h100 + "nodes_per_rack=40",
       "--set cluster.layout.nodes_per_rack=40: field 'cluster.layout.nodes_per_rack': expected "
       "nodes that fit the 40U a rack stacks them over: at most 5 nodes of 8U (cluster.layout.node_units, "
       "8U by default for hgx-h100), found 40 nodes per rack (320U)"});
  expect_one_clear_line({h100 + "node_units=11",
                         "at most 3 nodes of 11U (cluster.layout.node_units, 8U by default for hgx-h100), "
                         "found 4 nodes per rack (44U)"});
  // DGX B200 is 10U (NVIDIA DGX B200 User Guide): 4 a rack, not 5.
  expect_one_clear_line(
      {"topo topologies/gcp-a4-roce-16node.yaml --set cluster.layout.nodes_per_rack=5", "at most 4 nodes of 10U"});
  // A 6U chassis (layout.node_units) takes 6 H100 nodes a rack.
  const auto six = run_collsim(h100 + "nodes_per_rack=6 --set cluster.layout.node_units=6");
  EXPECT_EQ(six.exit_code, 0) << six.err;
  EXPECT_NE(six.out.find("25 racks"), std::string::npos) << six.out;  // 22 of 6 nodes (128) + 3 network racks
  // A GB200 NVL72 node is a whole rack: neither a height nor two a rack
  // (was: node_units 10 put 4 NVL72 racks, 413 kW, in one).
  const std::string nvl72 = "topo topologies/gb200-nvl72-8rack.yaml --set cluster.layout.";
  expect_one_clear_line({nvl72 + "node_units=10",
                         "field 'cluster.layout.node_units': a gb200-nvl72 node is a whole rack: expected no "
                         "node_units, found 10"});
  expect_one_clear_line({nvl72 + "nodes_per_rack=2", "a gb200-nvl72 node is a whole rack: expected 1, found 2"});
}

// With one plane the NIC's port is a switch port: a typo (400GB/s, a 3.2
// Tb/s NIC) built a fabric the bill left unpriced, and 300Gb/s was priced
// as 400G parts (both exit 0).
TEST(ClusterTemplateErrors, ANicAtASpeedNoPortIsSoldAtIsRefused) {
  const std::string cluster = "topo topologies/h100-ib400-128node.yaml --set ";
  expect_one_clear_line({cluster + "cluster.nic=400GB/s",
                         "--set cluster.nic=400GB/s: field 'cluster.nic': expected a NIC at a speed switch ports are "
                         "sold at (10, 25, 40, 50, 56, 100, 200, 400, 800, 1600 Gb/s), or cluster.fabric.planes "
                         "splitting it into such ports (2, 4, 8, 16, 32, 64 planes); found 400GB/s (3200 Gb/s)"});
  expect_one_clear_line({cluster + "cluster.nic=300Gb/s", "(3, 6, 12, 30 planes); found 300Gb/s (300 Gb/s)"});
  // Split into sold ports, another speed is fine: 1.2 Tb/s as 3 x 400G.
  const auto planes = run_collsim(cluster + "cluster.nic=1200Gb/s --set cluster.fabric.planes=3");
  EXPECT_EQ(planes.exit_code, 0) << planes.err;
}

// A template's fabric cable that no catalog cable makes names where the
// cable was chosen: the file's `cable:` value or the --set flag (was: the
// template's `node:` line, 3:3, for both).
TEST(ClusterTemplateErrors, AFabricCableThatReachesNoRackNamesItsValue) {
  const std::string file = ::testing::TempDir() + "collsim_dac_fabric.yaml";
  std::ofstream(file) << "name: t\ncluster:\n  node: hgx-b200\n  nodes: 64\n"
                         "  fabric: {kind: rail-optimized, leaf_radix: 64, cable: dac}\n";
  expect_one_clear_line({"topo -t " + file, file + ":5:57: field 'cluster.fabric.cable': no dac cable"});
  expect_one_clear_line({"topo -t topologies/h100-ib400-128node.yaml --set cluster.fabric.cable=dac",
                         "--set cluster.fabric.cable=dac: field 'cluster.fabric.cable': no dac cable"});
  expect_one_clear_line({"topo -t topologies/h100-ib400-128node.yaml --set cluster.fabric.cable=dacc",
                         "--set cluster.fabric.cable=dacc: field 'cluster.fabric.cable': unknown medium 'dacc'"});
}

// A leaf that does not split at the asked ratio names what the user
// changed: the --set flag that set either number (was: the file's
// leaf_radix line for both).
TEST(ClusterTemplateErrors, ALeafRatioThatDoesNotSplitNamesTheFlagThatSetIt) {
  const std::string cluster = "topo -t topologies/h100-ib400-128node.yaml --set ";
  expect_one_clear_line({cluster + "cluster.fabric.oversubscription=4",
                         "--set cluster.fabric.oversubscription=4: field 'cluster.fabric.oversubscription': 64 ports "
                         "do not split 4:1 into down- and up-ports"});
  expect_one_clear_line({cluster + "cluster.fabric.leaf_radix=63",
                         "--set cluster.fabric.leaf_radix=63: field 'cluster.fabric.leaf_radix': 63 ports"});
  // And says what would split: 2:1 wants a radix 3 divides (was: no way out).
  expect_one_clear_line({cluster + "cluster.fabric.oversubscription=2",
                         "64 ports do not split 2:1 into down- and up-ports; expected a ratio r with r + 1 dividing "
                         "the radix (1:1, 3:1, 7:1, 15:1, 31:1, 63:1 on 64 ports) or a radix that 2 + 1 divides (63 "
                         "or 66)"});
}

// A cluster's own field written at the top of a template (--set
// fabric.class=ethernet) names where it goes (was: the top's keys only).
TEST(ClusterTemplateErrors, AClusterFieldAtTheTopNamesItsPlace) {
  expect_one_clear_line({"topo -t topologies/h100-ib400-128node.yaml --set fabric.class=ethernet",
                         "--set fabric.class=ethernet: field 'fabric': unknown key 'fabric' (did you mean "
                         "'cluster.fabric'?)"});
  const std::string file = ::testing::TempDir() + "nic_at_top.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 2, nic: 400Gb/s}\nnic: 800Gb/s\n";
  expect_one_clear_line({"topo -t " + file,
                         "nic_at_top.yaml:3:1: field 'nic': unknown key 'nic' (did you mean "
                         "'cluster.nic'?)"});
}

// Two letters swapped ('nodse') is as near 'nodes' as a letter more is
// 'node': the suggestion takes the one of the word's length.
TEST(ClusterTemplateErrors, ASwappedLetterSuggestsTheKeyOfItsLength) {
  expect_one_clear_line({"topo -t topologies/h100-ib400-128node.yaml --set cluster.nodse=4",
                         "unknown key 'nodse' (did you mean 'nodes'?)"});
}

}  // namespace
}  // namespace collsim::config
