// Routes of many sources at once (topology/exit_routes.h). Oracle:
// Network::route of each (source, destination) pair, itself checked
// against the full single-source search (tests/network_test.cc).
#include "sim/topology/exit_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/config/topology_file.h"
#include "sim/topology/network.h"

namespace collsim::topology {
namespace {

Network network_of(const std::string& file, const std::vector<std::string>& sets) {
  auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/" + file, sets);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = build_topology(*spec);
  EXPECT_TRUE(topo.ok()) << topo.error().to_string();
  return Network(*topo);
}

// As an all-to-all uses it: for each position in the NVLink domains, the
// GPUs there are the sources (PXN's relays), every GPU a destination, and
// the member in the destination's own domain excluded. On fabrics of one
// to three tiers: where tail_into answers, prefix + tail is route() for
// every other member, and it answers for nearly every pair of exit group
// and destination (else the grouping would buy nothing, silently).
TEST(ExitRoutes, PrefixAndTailAreTheRouteOfEveryMember) {
  struct Case {
    std::string file;
    std::vector<std::string> sets;
    int min_groups;  // per position
  };
  const std::vector<Case> cases = {
      {"topologies/h100-ib400-4node.yaml", {}, 1},  // one switch per rail
      {"topologies/h100-ib400-128node.yaml", {"cluster.nodes=12", "cluster.fabric.leaf_radix=8"}, 3},
      {"topologies/h100-ib400-16384node.yaml", {"cluster.nodes=16", "cluster.fabric.leaf_radix=8"}, 4},
      {"topologies/gb200-nvl72-8rack.yaml", {"cluster.nodes=3"}, 1},
  };
  for (const Case& c : cases) {
    const Network net = network_of(c.file, c.sets);
    int positions = 0;
    for (int g = 0; g < net.num_gpus(); ++g) positions = std::max(positions, net.domain_position(g) + 1);
    long answered = 0, pairs = 0;
    std::vector<int> tail, composed;
    for (int j = 0; j < positions; ++j) {
      std::vector<int> sources;
      for (int g = 0; g < net.num_gpus(); ++g)
        if (net.domain_position(g) == j) sources.push_back(g);
      const ExitRoutes exits(net, sources);
      EXPECT_GE(exits.num_groups(), c.min_groups) << c.file;
      for (int g = 0; g < exits.num_groups(); ++g) {
        const auto& members = exits.members(g);
        for (int dst = 0; dst < net.num_gpus(); ++dst) {
          int own = -1;
          for (int i : members)
            if (net.nvlink_domain_of(sources[static_cast<std::size_t>(i)]) == net.nvlink_domain_of(dst)) own = i;
          // Also with nobody excluded: then a destination in a member's own
          // host must not be answered for the group (its route stays there).
          for (int excluded : {own, -1}) {
            if (excluded == own) ++pairs;
            if (!exits.tail_into(g, dst, excluded, &tail)) continue;
            if (excluded == own) ++answered;
            for (int i : members) {
              const int src = sources[static_cast<std::size_t>(i)];
              if (i == excluded || src == dst) continue;
              const auto prefix = exits.prefix(i);
              composed.assign(prefix.begin(), prefix.end());
              composed.insert(composed.end(), tail.begin(), tail.end());
              ASSERT_EQ(composed, net.route(src, dst)) << c.file << ": GPU " << src << " -> " << dst;
            }
          }
        }
      }
    }
    EXPECT_GE(static_cast<double>(answered), 0.99 * static_cast<double>(pairs)) << c.file;
  }
}

// The tail in parts (what the all-to-all loads per part): the group's
// chain, the picked links read backwards, then the path into the host, is
// the route after the prefix; and on a three-tier fat tree the parts are
// shared as they should be: the chains of a group are its search's
// single-path states (its gateway, and every aggregation and core switch
// it reaches), fewer than its destinations, and D-mod-k picks one link per
// destination (at its leaf, among the pod's aggregation switches), never
// more.
TEST(ExitRoutes, TailPartsComposeTheRouteAndAreShared) {
  const Network net =
      network_of("topologies/h100-ib400-16384node.yaml", {"cluster.nodes=16", "cluster.fabric.leaf_radix=8"});
  std::vector<int> sources;
  for (int g = 0; g < net.num_gpus(); ++g)
    if (net.domain_position(g) == 0) sources.push_back(g);
  const ExitRoutes exits(net, sources);
  ASSERT_GE(exits.num_groups(), 4);
  ExitRoutes::TailParts parts;
  std::vector<int> composed;
  for (int g = 0; g < exits.num_groups(); ++g) {
    const int i = exits.members(g).front();
    const int src = sources[static_cast<std::size_t>(i)];
    int answered = 0;
    std::size_t most_chosen = 0;
    for (int dst = 0; dst < net.num_gpus(); ++dst) {
      if (net.nvlink_domain_of(dst) == net.nvlink_domain_of(src)) continue;
      if (!exits.tail_parts(g, dst, -1, &parts)) continue;
      ++answered;
      most_chosen = std::max(most_chosen, parts.chosen.size());
      const auto prefix = exits.prefix(i);
      composed.assign(prefix.begin(), prefix.end());
      if (parts.chain >= 0) {
        const auto chain = exits.chain_links(parts.chain);
        composed.insert(composed.end(), chain.begin(), chain.end());
      }
      composed.insert(composed.end(), parts.chosen.rbegin(), parts.chosen.rend());
      composed.insert(composed.end(), parts.into.begin(), parts.into.end());
      ASSERT_EQ(composed, net.route(src, dst)) << "GPU " << src << " -> " << dst;
    }
    // Here 96 destinations answered and 37 chains: the gateway, the pod's 4
    // aggregation switches, 4 cores and the 28 aggregation switches of the
    // other pods; at 131,072 GPUs about 2,200 for 16,384 destinations.
    EXPECT_GT(answered, 2 * exits.num_chains()) << "group " << g << ": " << answered << " destinations";
    EXPECT_LE(most_chosen, 1u) << "group " << g;
  }
}

}  // namespace
}  // namespace collsim::topology
