#include "sim/config/topology_file.h"

#include <gtest/gtest.h>

#include "sim/topology/topology.h"

namespace collsim::config {
namespace {

constexpr const char* kPair = R"(name: pair
devices:
  - {name: gpu, kind: gpu, count: 2}
  - {name: sw, kind: switch}
links:
  - {from: gpu, to: sw, rate: 400Gb/s, lanes: 2, latency: 1us, class: ideal}
)";

TEST(TopologyFile, ExpandsGroupsAndLinks) {
  auto spec = load_topology_text(kPair, "pair.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  ASSERT_EQ(spec->devices.size(), 3u);
  EXPECT_EQ(spec->devices[0].name, "gpu0");
  EXPECT_EQ(spec->devices[1].name, "gpu1");
  EXPECT_EQ(spec->devices[2].name, "sw");  // a group without count is one device named as written
  ASSERT_EQ(spec->links.size(), 2u);
  EXPECT_DOUBLE_EQ(spec->links[0].rate_Bps, 2 * 50e9);  // 2 lanes x 400 Gb/s
  EXPECT_DOUBLE_EQ(spec->links[0].fixed_latency_s, 1e-6);
  EXPECT_EQ(spec->links[0].declared_at.line, 6);
}

TEST(TopologyFile, SelectorsAndZipPattern) {
  auto spec = load_topology_text(R"(name: sel
devices:
  - {name: gpu, kind: gpu, count: 4}
  - {name: nic, kind: nic, count: 4}
  - {name: sw, kind: switch, count: 3}
links:
  - {from: gpu, to: nic, pattern: zip, rate: 64GB/s, latency: 0s, class: pcie}
  - {from: "nic[0-1,3]", to: "sw[*]", rate: 400Gb/s, latency: 0s, class: infiniband}
)",
                                 "sel.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  ASSERT_EQ(spec->links.size(), 4u + 3u * 3u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(spec->devices[spec->links[i].a].name, "gpu" + std::to_string(i));
    EXPECT_EQ(spec->devices[spec->links[i].b].name, "nic" + std::to_string(i));
  }
  EXPECT_EQ(spec->devices[spec->links[4 + 6].a].name, "nic3");
}

TEST(TopologyFile, FibreLengthAddsPropagationDelay) {
  auto spec = load_topology_text(R"(name: cable
devices:
  - {name: gpu, kind: gpu, count: 2}
links:
  - {from: "gpu[0]", to: "gpu[1]", rate: 50GB/s, latency: 100ns, length: 10m, medium: fibre, class: ideal}
)",
                                 "cable.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_DOUBLE_EQ(spec->links[0].length_m, 10.0);
  auto topo = topology::build_topology(*spec);
  ASSERT_TRUE(topo.ok()) << topo.error().to_string();
  // 4.9 ns/m of fibre (hardware.yaml propagation.fibre_ns_per_m) x 10 m + 100 ns fixed.
  for (auto [e, end] = boost::edges(topo->graph); e != end; ++e) EXPECT_NEAR(topo->graph[*e].latency_s, 149e-9, 1e-15);
}

TEST(TopologyFile, LinkClassEfficiencyAndOverrides) {
  auto spec = load_topology_text(R"(name: eff
link_classes:
  fast: {efficiency: 0.5}
devices:
  - {name: gpu, kind: gpu, count: 2}
links:
  - {from: "gpu[0]", to: "gpu[1]", rate: 50GB/s, latency: 0s, class: nvlink4}
  - {from: "gpu[0]", to: "gpu[1]", rate: 50GB/s, latency: 0s, class: fast}
  - {from: "gpu[0]", to: "gpu[1]", rate: 50GB/s, latency: 0s, class: fast, efficiency: 0.25}
)",
                                 "eff.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_DOUBLE_EQ(spec->links[0].efficiency, 0.822);  // 370/450 GB/s, calibration.yaml h100_8gpu_ring
  EXPECT_DOUBLE_EQ(spec->links[1].efficiency, 0.5);
  EXPECT_DOUBLE_EQ(spec->links[2].efficiency, 0.25);
}

struct BadCase {
  const char* what;
  const char* text;
  int line;
  int column;
  const char* field;
  const char* message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.what; }

class BadTopology : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadTopology, NamesFileLineColumnAndField) {
  const BadCase& c = GetParam();
  auto spec = load_topology_text(c.text, "t.yaml");
  ASSERT_FALSE(spec.ok()) << c.what;
  const Error& e = spec.error();
  ASSERT_TRUE(e.where.has_value()) << c.what;
  EXPECT_EQ(e.where->file, "t.yaml");
  EXPECT_EQ(e.where->line, c.line) << e.to_string();
  EXPECT_EQ(e.where->column, c.column) << e.to_string();
  EXPECT_EQ(e.field, c.field) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
}

constexpr const char* kHead =
    "name: t\ndevices:\n  - {name: gpu, kind: gpu, count: 2}\n  - {name: sw, kind: switch}\nlinks:\n";

std::string with_link(const char* link) { return std::string(kHead) + link; }

const std::string kUnknownKey = with_link("  - {from: gpu, to: sw, rat: 1GB/s, latency: 0s, class: ideal}\n");
const std::string kMissingUnit = with_link("  - {from: gpu, to: sw, rate: 25, latency: 0s, class: ideal}\n");
const std::string kNegative = with_link("  - {from: gpu, to: sw, rate: -25GB/s, latency: 0s, class: ideal}\n");
const std::string kDangling = with_link("  - {from: gpu, to: sww, rate: 1GB/s, latency: 0s, class: ideal}\n");
const std::string kBadClass = with_link("  - {from: gpu, to: sw, rate: 1GB/s, latency: 0s, class: nvlnk4}\n");
const std::string kBadIndex = with_link("  - {from: \"gpu[0-2]\", to: sw, rate: 1GB/s, latency: 0s, class: ideal}\n");
const std::string kNoLatency = with_link("  - {from: gpu, to: sw, rate: 1GB/s, class: ideal}\n");
const std::string kLengthNoMedium =
    with_link("  - {from: gpu, to: sw, rate: 1GB/s, latency: 0s, length: 3m, class: ideal}\n");
const std::string kSelfLoop = with_link("  - {from: sw, to: sw, rate: 1GB/s, latency: 0s, class: ideal}\n");

INSTANTIATE_TEST_SUITE_P(
    Cases, BadTopology,
    ::testing::Values(
        BadCase{"unknown key", kUnknownKey.c_str(), 6, 25, "links[0].rat", "did you mean 'rate'?"},
        BadCase{"missing unit", kMissingUnit.c_str(), 6, 31, "links[0].rate", "has no unit"},
        BadCase{"negative rate", kNegative.c_str(), 6, 31, "links[0].rate", "expected a positive rate"},
        BadCase{"dangling endpoint", kDangling.c_str(), 6, 21, "links[0].to",
                "'sww' names no device or device group (did you mean 'sw'?)"},
        BadCase{"unknown class", kBadClass.c_str(), 6, 58, "links[0].class", "did you mean 'nvlink4'?"},
        BadCase{"index out of range", kBadIndex.c_str(), 6, 12, "links[0].from", "outside group 'gpu'"},
        BadCase{"missing latency", kNoLatency.c_str(), 6, 5, "links[0].latency", "missing required key"},
        BadCase{"length without medium", kLengthNoMedium.c_str(), 6, 59, "links[0].medium", "needs 'medium'"},
        BadCase{"self loop", kSelfLoop.c_str(), 6, 20, "links[0].to", "to itself"},
        BadCase{"unknown kind", "name: t\ndevices:\n  - {name: gpu, kind: gpux}\nlinks: []\n", 3, 23, "devices[0].kind",
                "did you mean 'gpu'?"},
        BadCase{"zero count", "name: t\ndevices:\n  - {name: gpu, kind: gpu, count: 0}\n", 3, 35, "devices[0].count",
                "from 1 to 2097152, found 0"},
        BadCase{"negative nvls reduction", "name: t\nlink_classes: {ideal: {nvls_reduction: -1}}\ndevices: []\n", 2, 40,
                "link_classes.ideal.nvls_reduction", "expected a fraction of the line rate"},
        BadCase{"unknown top-level key", "name: t\ndevice:\n  - {name: gpu, kind: gpu}\n", 2, 1, "device",
                "did you mean 'devices'?"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name = info.param.what;
      for (char& c : name)
        if (c == ' ' || c == '-') c = '_';
      return name;
    });

TEST(TopologyFile, SyntaxErrorHasAPosition) {
  auto spec = load_topology_text("name: t\ndevices:\n  - {name: gpu, kind: gpu, count: 2\nlinks:\n", "t.yaml");
  ASSERT_FALSE(spec.ok());
  ASSERT_TRUE(spec.error().where.has_value());
  EXPECT_GE(spec.error().where->line, 3);
  EXPECT_NE(spec.error().message.find("YAML syntax error"), std::string::npos);
}

// A selector unquoted in a { } map (gpu[0]) is a YAML list there: the
// error says to quote it and points at the name (line 6, column 12).
TEST(TopologyFile, AnUnquotedSelectorInAFlowMapSaysToQuoteIt) {
  auto spec = load_topology_text(
      "name: b\ndevices:\n  - {name: gpu, kind: gpu, count: 2}\n  - {name: sw, kind: switch}\nlinks:\n"
      "  - {from: gpu[0], to: sw, rate: 400Gb/s, latency: 2us, class: ideal}\n",
      "b.yaml");
  ASSERT_FALSE(spec.ok());
  ASSERT_TRUE(spec.error().where.has_value());
  EXPECT_EQ(spec.error().where->line, 6);
  EXPECT_EQ(spec.error().where->column, 12);
  EXPECT_NE(spec.error().message.find("must be quoted: \"gpu[0]\""), std::string::npos) << spec.error().message;
  // Quoted, it reads.
  EXPECT_TRUE(
      load_topology_text("name: b\ndevices:\n  - {name: gpu, kind: gpu, count: 2}\n  - {name: sw, kind: "
                         "switch}\nlinks:\n  - {from: \"gpu[0]\", to: sw, rate: 400Gb/s, latency: 2us, class: ideal}\n",
                         "b.yaml")
          .ok());
}

TEST(TopologyFile, MissingFileIsAnError) {
  auto spec = load_topology_file("/nonexistent/topology.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().to_string().find("cannot open"), std::string::npos);
}

TEST(Topology, DisconnectedGpuIsReportedWhereItWasDeclared) {
  auto spec = load_topology_text(R"(name: t
devices:
  - {name: gpu, kind: gpu, count: 2}
  - {name: lonely, kind: gpu}
  - {name: sw, kind: switch}
links:
  - {from: gpu, to: sw, rate: 1GB/s, latency: 0s, class: ideal}
)",
                                 "t.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.error().where->line, 4);
  EXPECT_EQ(topo.error().where->column, 12);
  EXPECT_NE(topo.error().message.find("GPU 'lonely' is disconnected"), std::string::npos) << topo.error().to_string();
}

TEST(Topology, GpusDoNotForwardTraffic) {
  // gpu0 - gpu1 - gpu2 in a chain: gpu0 cannot reach gpu2 through gpu1.
  auto spec = load_topology_text(R"(name: chain
devices:
  - {name: gpu, kind: gpu, count: 3}
links:
  - {from: "gpu[0]", to: "gpu[1]", rate: 1GB/s, latency: 0s, class: ideal}
  - {from: "gpu[1]", to: "gpu[2]", rate: 1GB/s, latency: 0s, class: ideal}
)",
                                 "chain.yaml");
  ASSERT_TRUE(spec.ok());
  auto topo = topology::build_topology(*spec);
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.error().message.find("'gpu2' is disconnected"), std::string::npos) << topo.error().to_string();
}

}  // namespace
}  // namespace collsim::config
