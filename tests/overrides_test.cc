#include "sim/config/overrides.h"

#include <gtest/gtest.h>

#include "sim/config/topology_file.h"

namespace collsim::config {
namespace {

constexpr const char* kBase = R"(name: base
floor: {rack_pitch: 0.6m}
racks: [{name: r0, row: 0, slot: 0}]
devices:
  - {name: gpu, kind: gpu, count: 2}
  - {name: sw, kind: switch}
links:
  - {from: gpu, to: sw, rate: 400Gb/s, latency: 1us, class: infiniband}
)";

TEST(Overrides, ChangeScalarsInMapsAndLists) {
  auto spec = load_topology_text(kBase, "base.yaml",
                                 {"links[0].rate=800Gb/s", "floor.rack_pitch=0.8m", "name=changed",
                                  "link_classes.infiniband.efficiency=0.5", "racks[0].slot=3"});
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_EQ(spec->name, "changed");
  EXPECT_DOUBLE_EQ(spec->links[0].rate_Bps, 100e9);
  EXPECT_DOUBLE_EQ(spec->links[0].efficiency, 0.5);
  EXPECT_DOUBLE_EQ(spec->floor.rack_pitch_m, 0.8);
  EXPECT_EQ(spec->racks[0].slot, 3);
}

TEST(Overrides, AddNewMapsAndReplaceWholeValues) {
  auto spec = load_topology_text(kBase, "base.yaml", {"floor.slack=2m", "media.dac={reach: 9m}"});
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_DOUBLE_EQ(spec->floor.slack_m, 2.0);
  EXPECT_DOUBLE_EQ(spec->media.at("dac").reach_m, 9.0);
}

TEST(Overrides, MistakesAreReportedAtTheSetValue) {
  auto typo = load_topology_text(kBase, "base.yaml", {"floor.rak_pitch=1m"});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().to_string().find("did you mean 'rack_pitch'?"), std::string::npos) << typo.error().to_string();
  auto bad_unit = load_topology_text(kBase, "base.yaml", {"links[0].rate=800"});
  ASSERT_FALSE(bad_unit.ok());
  EXPECT_NE(bad_unit.error().to_string().find("--set links[0].rate=800: field 'links[0].rate'"), std::string::npos)
      << bad_unit.error().to_string();
  EXPECT_FALSE(load_topology_text(kBase, "base.yaml", {"links[7].rate=1GB/s"}).ok());
  EXPECT_FALSE(load_topology_text(kBase, "base.yaml", {"name.inner=1"}).ok());
  auto no_eq = load_topology_text(kBase, "base.yaml", {"links[0].rate"});
  ASSERT_FALSE(no_eq.ok());
  EXPECT_NE(no_eq.error().to_string().find("--set links[0].rate: expected key.path=value"), std::string::npos)
      << no_eq.error().to_string();
}

}  // namespace
}  // namespace collsim::config
