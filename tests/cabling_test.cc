// Cable lengths from the floor plan, against layouts worked out by hand.
#include "sim/topology/cabling.h"

#include <gtest/gtest.h>

#include <regex>

#include "sim/topology/network.h"
#include "test_support.h"

namespace collsim::topology {
namespace {

// Three racks: r0 (row 0, slot 0), r1 (row 0, slot 3), r2 (row 1, slot 1).
// fix0 at u1 (centre 0.5 x 44.45 mm = 0.022225 m) and fix1 at u21
// (20.5 x 44.45 mm = 0.911225 m) in r0; b at u40 (39.5 x 44.45 mm =
// 1.755775 m) in r1; c in r2 without u (mid-height, 1.0 m).
std::string layout(int r1_slot) {
  return R"(name: floor
floor: {rack_pitch: 0.6m, row_pitch: 2.4m, rack_height: 2m, tray_above_rack: 0.3m, slack: 1m}
racks:
  - {name: r0, row: 0, slot: 0}
  - {name: r1, row: 0, slot: )" +
         std::to_string(r1_slot) + R"(}
  - {name: r2, row: 1, slot: 1}
devices:
  - {name: a, kind: gpu, count: 2, rack: r0}
  - {name: b, kind: gpu, rack: r1, u: 40}
  - {name: c, kind: gpu, rack: r2}
  - {name: fix0, kind: switch, rack: r0, u: 1}
  - {name: fix1, kind: switch, rack: r0, u: 21}
links:
  - {from: fix0, to: fix1, rate: 50GB/s, latency: 100ns, medium: fibre, class: ideal}
  - {from: fix0, to: b, rate: 50GB/s, latency: 100ns, medium: fibre, class: ideal}
  - {from: fix0, to: c, rate: 50GB/s, latency: 100ns, medium: fibre, class: ideal}
  - {from: a, to: fix0, rate: 50GB/s, latency: 100ns, class: ideal}
)";
}

double latency_of(const Topology& t, int spec_index) {
  for (auto [e, end] = boost::edges(t.graph); e != end; ++e)
    if (t.graph[*e].spec_index == spec_index) return t.graph[*e].latency_s;
  return -1;
}

double length_of(const Topology& t, int spec_index) {
  for (auto [e, end] = boost::edges(t.graph); e != end; ++e)
    if (t.graph[*e].spec_index == spec_index) return t.graph[*e].length_m;
  return -1;
}

TEST(Cabling, LengthsMatchTheLayoutWorkedOutByHand) {
  const Topology t = collsim::testing::topology_from_text(layout(3));
  // Same rack: |0.022225 - 0.911225| + 1 m slack.
  EXPECT_NEAR(length_of(t, 0), 0.889 + 1.0, 1e-9);
  // r0 u1 -> r1 u40: up (2 - 0.022225 + 0.3) + (2 - 1.755775 + 0.3), along 3 x 0.6, slack 1.
  EXPECT_NEAR(length_of(t, 1), 2.277775 + 0.544225 + 1.8 + 1.0, 1e-9);
  // r0 u1 -> r2 mid-height: up 2.277775 + 1.3, along 1 x 0.6 + 1 x 2.4, slack 1.
  EXPECT_NEAR(length_of(t, 2), 2.277775 + 1.3 + 3.0 + 1.0, 1e-9);
  // Latency = 100 ns + length x 4.9 ns/m (fibre).
  EXPECT_NEAR(latency_of(t, 1), 100e-9 + (2.277775 + 0.544225 + 2.8) * 4.9e-9, 1e-15);
  // No medium: no cable, no propagation.
  EXPECT_DOUBLE_EQ(latency_of(t, 3), 100e-9);
  EXPECT_DOUBLE_EQ(length_of(t, 3), 0.0);
}

TEST(Cabling, MovingOneRackChangesExactlyTheCablesThatTouchIt) {
  const Topology before = collsim::testing::topology_from_text(layout(3));
  const Topology after = collsim::testing::topology_from_text(layout(7));
  // Only link 1 (fix0 -> b) touches r1; 4 more slots = 2.4 m more fibre.
  for (int link = 0; link < 4 + 1; ++link) {
    if (link == 1) {
      EXPECT_NEAR(length_of(after, 1) - length_of(before, 1), 2.4, 1e-9);
      EXPECT_NEAR(latency_of(after, 1) - latency_of(before, 1), 2.4 * 4.9e-9, 1e-15);
    } else {
      EXPECT_DOUBLE_EQ(latency_of(after, link), latency_of(before, link)) << link;
    }
  }
}

Error build_error(const std::string& yaml) {
  auto spec = config::load_topology_text(yaml, "t.yaml");
  if (!spec) return spec.error();
  auto topo = build_topology(*spec);
  EXPECT_FALSE(topo.ok());
  return topo.ok() ? Error{} : topo.error();
}

TEST(Cabling, BadLayoutsAreClearErrors) {
  // Two racks in one slot: reported on the second rack's line.
  Error e = build_error(R"(name: t
racks:
  - {name: r0, row: 0, slot: 2}
  - {name: r1, row: 0, slot: 2}
devices:
  - {name: g, kind: gpu, count: 2, rack: r0}
links:
  - {from: "g[0]", to: "g[1]", rate: 1GB/s, latency: 0s, class: ideal}
)");
  EXPECT_EQ(e.where->line, 4);
  EXPECT_NE(e.message.find("where rack 'r0' already is"), std::string::npos) << e.to_string();

  // A copper cable (3 m reach) between racks 10 slots apart.
  e = build_error(R"(name: t
racks:
  - {name: r0, row: 0, slot: 0}
  - {name: r1, row: 0, slot: 10}
devices:
  - {name: g, kind: gpu, rack: r0}
  - {name: h, kind: gpu, rack: r1}
links:
  - {from: g, to: h, rate: 1GB/s, latency: 0s, medium: dac, class: ideal}
)");
  EXPECT_EQ(e.where->line, 9);
  EXPECT_NE(e.message.find("no dac cable in the catalog carries 1 GB/s from 'g' to 'h' over 9.6 m (the longest at "
                           "that rate reaches 3 m"),
            std::string::npos)
      << e.to_string();

  // A medium the catalog has no cable of: its own reach still holds.
  e = build_error(R"(name: t
media:
  hollowcore: {delay_per_m: 3.4ns, reach: 1km}
devices:
  - {name: g, kind: gpu, count: 2}
links:
  - {from: "g[0]", to: "g[1]", rate: 1GB/s, latency: 0s, length: 2km, medium: hollowcore, class: ideal}
)");
  EXPECT_EQ(e.where->line, 7);
  EXPECT_NE(e.message.find("beyond the hollowcore reach of 1 km"), std::string::npos) << e.to_string();

  // A cable with neither a length nor placed ends.
  e = build_error(R"(name: t
devices:
  - {name: g, kind: gpu, count: 2}
links:
  - {from: "g[0]", to: "g[1]", rate: 1GB/s, latency: 0s, medium: fibre, class: ideal}
)");
  EXPECT_EQ(e.where->line, 5);
  EXPECT_NE(e.message.find("needs a length"), std::string::npos) << e.to_string();

  // A rack name that does not exist, and a rack unit above the rack.
  e = build_error("name: t\nracks: [{name: r0, row: 0, slot: 0}]\ndevices:\n  - {name: g, kind: gpu, rack: r9}\n");
  EXPECT_NE(e.message.find("no rack named 'r9'"), std::string::npos) << e.to_string();
  e = build_error(
      "name: t\nracks: [{name: r0, row: 0, slot: 0}]\ndevices:\n  - {name: g, kind: gpu, rack: r0, u: 99}\n");
  EXPECT_NE(e.message.find("expected a rack unit from 1 to 44"), std::string::npos) << e.to_string();
}

TEST(Cabling, MediaCanBeOverridden) {
  // A longer copper reach needs a catalog cable that reaches too.
  const Topology t = collsim::testing::topology_from_text(R"(name: t
catalog:
  parts:
    - {name: long-dac, kind: cable, medium: dac, rate: 10Gb/s, reach: 20m, power: 0W, price: 50, source: test}
media:
  dac: {reach: 20m}
  hollowcore: {delay_per_m: 3.4ns, reach: 1km}
racks:
  - {name: r0, row: 0, slot: 0}
  - {name: r1, row: 0, slot: 10}
devices:
  - {name: g, kind: gpu, rack: r0}
  - {name: h, kind: gpu, rack: r1}
links:
  - {from: g, to: h, rate: 1GB/s, latency: 0s, medium: dac, class: ideal}
  - {from: g, to: h, rate: 1GB/s, latency: 0s, length: 100m, medium: hollowcore, class: ideal}
)");
  EXPECT_GT(length_of(t, 0), 6.0);  // 10 slots x 0.6 m, allowed now
  EXPECT_NEAR(latency_of(t, 1), 100 * 3.4e-9, 1e-15);
}

TEST(Cabling, TwinSwitchesWithDifferentCableLengthsStillMergeAtTheSlowestStripe) {
  // Two switch trays at different heights: the GPU's stripes arrive with the longer cable.
  const Topology t = collsim::testing::topology_from_text(R"(name: t
racks: [{name: r0, row: 0, slot: 0}]
devices:
  - {name: g, kind: gpu, count: 2, rack: r0, u: 1}
  - {name: low, kind: nvswitch, rack: r0, u: 2}
  - {name: high, kind: nvswitch, rack: r0, u: 40}
links:
  - {from: g, to: low, rate: 50GB/s, latency: 0s, medium: copper, class: ideal}
  - {from: g, to: high, rate: 50GB/s, latency: 0s, medium: copper, class: ideal}
)");
  const Network net(t);
  EXPECT_EQ(net.num_logical_switches(), 1);
  const auto& route = net.route(0, 1);
  EXPECT_DOUBLE_EQ(net.links()[route[0]].line_rate_Bps, 100e9);
  // The longer cable: 39 U + 1 m slack of copper at 4.4 ns/m.
  EXPECT_NEAR(net.links()[route[0]].latency_s, (39 * 0.04445 + 1.0) * 4.4e-9, 1e-15);
}

}  // namespace
}  // namespace collsim::topology

#include <filesystem>

namespace collsim::topology {
namespace {

TEST(ShippedTopologies, EveryOneLoadsAndConnectsEveryGpu) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(COLLSIM_SOURCE_DIR) + "/topologies")) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    auto spec = config::load_topology_file(entry.path().string());
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    auto topo = build_topology(*spec);
    ASSERT_TRUE(topo.ok()) << topo.error().to_string();
    const Network net(*topo);
    EXPECT_GT(net.num_gpus(), 0) << entry.path();
    EXPECT_FALSE(net.route(0, net.num_gpus() - 1).empty()) << entry.path();
  }
  EXPECT_GE(files, 8);
}

TEST(PortBudget, ASwitchOverItsPortsIsAnErrorAtItsDeclaration) {
  auto spec = config::load_topology_text(R"(name: t
devices:
  - {name: g, kind: gpu, count: 4}
  - {name: sw, kind: switch, ports: 6}
links:
  - {from: g, to: sw, lanes: 2, rate: 50GB/s, latency: 0s, class: ideal}
)",
                                         "t.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().where->line, 4);
  EXPECT_EQ(spec.error().where->column, 37);  // the port count itself
  EXPECT_EQ(spec.error().field, "devices[1].ports");
  EXPECT_NE(spec.error().message.find("'sw' has 6 ports but its links use 8"), std::string::npos)
      << spec.error().to_string();
  // Exactly at the budget is fine; so is every generated fabric switch.
  EXPECT_TRUE(config::load_topology_text(R"(name: t
devices:
  - {name: g, kind: gpu, count: 4}
  - {name: sw, kind: switch, ports: 8}
links:
  - {from: g, to: sw, lanes: 2, rate: 50GB/s, latency: 0s, class: ideal}
)",
                                         "t.yaml")
                  .ok());
}

}  // namespace
}  // namespace collsim::topology
