// End-to-end: the collsim binary as a user runs it.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "test_support.h"

namespace collsim {
namespace {

using collsim::testing::run_collsim;

struct BadFile {
  const char* file;
  const char* position;  // file:line:column, from the comment at the top of each file
  const char* field;
  const char* message;
};

void PrintTo(const BadFile& c, std::ostream* os) { *os << c.file; }

class CliBadTopology : public ::testing::TestWithParam<BadFile> {};

TEST_P(CliBadTopology, OneClearMessageAndExitCode2) {
  const BadFile& c = GetParam();
  const auto r = run_collsim(std::string("collective --topology tests/data/bad/") + c.file + " -b 1M -e 1M");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(std::string("tests/data/bad/") + c.position), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.field), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Backtrace"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Files, CliBadTopology,
    ::testing::Values(
        BadFile{"syntax_error.yaml", "syntax_error.yaml:", "", "YAML syntax error"},
        BadFile{"unknown_key.yaml", "unknown_key.yaml:7:25", "field 'links[0].rat'", "did you mean 'rate'?"},
        BadFile{"missing_unit.yaml", "missing_unit.yaml:7:31", "field 'links[0].rate'", "has no unit"},
        BadFile{"dangling_endpoint.yaml", "dangling_endpoint.yaml:7:21", "field 'links[0].to'",
                "'swx' names no device or device group"},
        BadFile{"disconnected_gpu.yaml", "disconnected_gpu.yaml:5:12", "field 'devices'",
                "GPU 'lonely0' is disconnected"},
        BadFile{"negative_rate.yaml", "negative_rate.yaml:7:31", "field 'links[0].rate'",
                "expected a positive rate, found -25 GB/s"},
        BadFile{"nccl_pxn.yaml", "nccl_pxn.yaml:3:13", "field 'nccl.pxn'", "expected true or false, found 'maybe'"},
        BadFile{"nccl_nvls.yaml", "nccl_nvls.yaml:3:14", "field 'nccl.nvls'", "expected true or false, found 'maybe'"},
        BadFile{"sharp_efficiency.yaml", "sharp_efficiency.yaml:3:47",
                "field 'link_classes.infiniband.sharp_efficiency'", "expected a fraction in [0, 1], found 1.5"},
        BadFile{"failure_fraction.yaml", "failure_fraction.yaml:9:40", "field 'failures.fail[0].fraction'",
                "expected a share from 0 to 100% (such as 1% or 0.01), found '150%'"},
        BadFile{"failure_device.yaml", "failure_device.yaml:9:19", "field 'failures.fail[0].device'",
                "no device named 'spine3'"},
        BadFile{"failure_rate.yaml", "failure_rate.yaml:9:40", "field 'failures.degrade[0].rate'",
                "a degraded rate of 50 GB/s is above the rate of a cable from 'gpu0' to 'sw' (25 GB/s)"},
        BadFile{"failure_seed.yaml", "failure_seed.yaml:9:9", "field 'failures.seed'", "expected a whole number"},
        BadFile{"failure_cut.yaml", "failure_cut.yaml:9:10", "field 'failures.fail[0]'",
                "GPUs 'gpu0' and 'gpu1' have no path left between them"},
        BadFile{"catalog_no_price.yaml", "catalog_no_price.yaml:6:7", "field 'catalog.parts[1].price'",
                "part 'my-nic' has no price (every part needs power, price and source)"},
        BadFile{"catalog_negative_price.yaml", "catalog_negative_price.yaml:5:31", "field 'catalog.parts[0].price'",
                "expected a price in US dollars >= 0, found -30000"},
        BadFile{"cable_beyond_reach.yaml", "cable_beyond_reach.yaml:7:75", "field 'links[0].medium'",
                "no dac cable in the catalog carries 100 GB/s from 'gpu0' to 'sw' over 2.5 m (the longest at that "
                "rate reaches 2 m"},
        BadFile{"unknown_part.yaml", "unknown_part.yaml:5:36", "field 'devices[1].part'",
                "no part named 'quantum-2-qm970' in the catalog (did you mean 'quantum-2-qm9700'?)"}),
    [](const ::testing::TestParamInfo<BadFile>& info) {
      std::string name = info.param.file;
      return name.substr(0, name.find('.'));
    });

TEST(Cli, UsageErrorsExitWith2) {
  auto r = run_collsim("collective --topology topologies/hgx-h100.yaml --stepfactr 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean '--stepfactor'?"), std::string::npos) << r.err;
  r = run_collsim("collective --topology topologies/hgx-h100.yaml --op allreduse");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown --op 'allreduse'"), std::string::npos) << r.err;
  // nccl-tests' binary names read as the ops they run.
  const std::string json = " -b 1M -e 1M --backend analytical --json -";
  for (const char* name : {"all_reduce_perf", "all_reduce", "reduce_scatter_perf_mpi", "sendrecv_perf"}) {
    r = run_collsim(std::string("collective --topology topologies/hgx-h100.yaml --op ") + name + json);
    EXPECT_EQ(r.exit_code, 0) << name << " " << r.err;
  }
  EXPECT_NE(run_collsim("collective --topology topologies/hgx-h100.yaml --op all_reduce_perf" + json)
                .out.find("\"op\":\"allreduce\""),
            std::string::npos);
  r = run_collsim("collective --topology topologies/hgx-h100.yaml -b 8G -e 1M");
  EXPECT_EQ(r.exit_code, 2);
  r = run_collsim("collective --topology no/such/file.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no/such/file.yaml: cannot open topology file: No such file or directory"), std::string::npos)
      << r.err;
  r = run_collsim("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  r = run_collsim("");
  EXPECT_EQ(r.exit_code, 2);
}

// The issue's example command, with the JSON checked against nccl-tests' definitions.
TEST(Cli, HgxH100RingSweepPrintsNcclTestsColumnsAndJson) {
  const std::string json = ::testing::TempDir() + "hgx.json";
  const auto r = run_collsim(
      "collective --topology topologies/hgx-h100.yaml --op allreduce --algo ring "
      "--minbytes 1M --maxbytes 8G --stepfactor 2 --json " +
      json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("algbw"), std::string::npos);
  EXPECT_NE(r.out.find("busbw"), std::string::npos);
  // 1 MiB .. 8 GiB by doubling: 14 rows, each starting with the size in bytes.
  // nccl-tests' columns: size count type redop root, then time algbw busbw
  // #wrong out of place and in place, then collsim's algo and proto.
  const std::regex row(
      R"(\n +(\d+) +(\d+) +float +sum +-1 +([\d.]+) +([\d.]+) +([\d.]+) +N/A +\3 +\4 +\5 +N/A +ring +(LL|LL128|Simple)(?=\n))");
  EXPECT_EQ(std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), row), std::sregex_iterator()), 14) << r.out;

  const YAML::Node doc = YAML::LoadFile(json);  // JSON is YAML
  const YAML::Node rows = doc["results"];
  ASSERT_EQ(rows.size(), 14u);
  double size = 1048576;
  for (const auto& row_node : rows) {
    const double bytes = row_node["bytes"].as<double>();
    const int ranks = row_node["ranks"].as<int>();
    const double t_us = row_node["time_us"].as<double>();
    EXPECT_EQ(row_node["op"].as<std::string>(), "allreduce");
    EXPECT_EQ(row_node["algo"].as<std::string>(), "ring");
    // The protocol NCCL's tuner would pick: Simple for large messages.
    if (bytes >= 268435456.0) {
      EXPECT_EQ(row_node["proto"].as<std::string>(), "Simple");
    }
    EXPECT_EQ(ranks, 8);
    EXPECT_DOUBLE_EQ(bytes, size);
    // nccl-tests: algbw = S / t (GB = 1e9); allreduce busbw = algbw x 2(n-1)/n.
    const double algbw = bytes / (t_us * 1e-6) / 1e9;
    EXPECT_NEAR(row_node["algbw_GBps"].as<double>(), algbw, 1e-9 * algbw);
    EXPECT_NEAR(row_node["busbw_GBps"].as<double>(), algbw * 2 * 7 / 8, 1e-9 * algbw);
    // Calibration (calibration.yaml h100_8gpu_ring: ring all-reduce peaks near
    // 370 GB/s busbw on 8x H100): within 10% from 1 GiB up.
    if (bytes >= 1073741824.0) {
      EXPECT_NEAR(row_node["busbw_GBps"].as<double>(), 370.0, 37.0) << "at " << bytes << " B";
    }
    size *= 2;
  }
  // busbw grows with size (latency-bound start, bandwidth-bound end).
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_GT(rows[i]["busbw_GBps"].as<double>(), rows[i - 1]["busbw_GBps"].as<double>());
  }
}

TEST(Cli, NcclTestsShortFlagsAndDatatypes) {
  const auto r = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 4M -f 2 -d half -o sum -n 20 -w 5 -c 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n +1048576 +524288 +half +sum +-1 )"))) << r.out;
  EXPECT_NE(r.out.find("4194304"), std::string::npos) << r.out;
  // NCCL_ALGO's names in its own case (Ring, NVLSTree) read as collsim's.
  EXPECT_EQ(collsim::testing::collective_algo("-t topologies/hgx-h100.yaml --algo Ring -b 1M -e 1M"), "ring");
  EXPECT_EQ(collsim::testing::collective_algo("-t topologies/hgx-h100.yaml --algo NVLS -b 1G -e 1G"), "nvls");
}

TEST(Cli, EveryImplementedOpRunsWithNcclTestsBusbwFactors) {
  // nccl-tests: allgather, reducescatter, alltoall busbw = algbw (n-1)/n; sendrecv, broadcast, reduce busbw = algbw.
  const std::vector<std::pair<std::string, double>> ops{{"allgather", 7.0 / 8}, {"reducescatter", 7.0 / 8},
                                                        {"alltoall", 7.0 / 8},  {"sendrecv", 1.0},
                                                        {"broadcast", 1.0},     {"reduce", 1.0}};
  for (const auto& [op, factor] : ops) {
    const std::string json = ::testing::TempDir() + op + ".json";
    const auto r = run_collsim("collective -t topologies/hgx-h100.yaml --op " + op + " -b 64M -e 64M --json " + json);
    ASSERT_EQ(r.exit_code, 0) << op << ": " << r.err;
    const YAML::Node row = YAML::LoadFile(json)["results"][0];
    EXPECT_EQ(row["op"].as<std::string>(), op);
    EXPECT_NEAR(row["busbw_GBps"].as<double>(), row["algbw_GBps"].as<double>() * factor, 1e-9);
  }
  const auto bad = run_collsim("collective -t topologies/hgx-h100.yaml --op alltoall --algo ring");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("no algorithm 'ring' for alltoall"), std::string::npos) << bad.err;
}

TEST(Cli, SameInputsGiveByteIdenticalOutput) {
  const auto a = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 64M");
  const auto b = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 64M");
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

using collsim::testing::run_collsim;

TEST(Topo, SummaryOfTheFourNodeClusterMatchesItsHardware) {
  const std::string json = ::testing::TempDir() + "topo.json";
  const std::string dot = ::testing::TempDir() + "topo.dot";
  const auto r = run_collsim("topo topologies/h100-ib400-4node.yaml --json " + json + " --dot " + dot);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node s = YAML::LoadFile(json);
  EXPECT_EQ(s["gpus"].as<int>(), 32);
  EXPECT_EQ(s["devices"]["gpu"].as<int>(), 32);
  EXPECT_EQ(s["devices"]["nic"].as<int>(), 32);
  EXPECT_EQ(s["devices"]["nvswitch"].as<int>(), 16);  // 4 per HGX H100 (hardware.yaml)
  EXPECT_EQ(s["links"]["infiniband"].as<int>(), 32);
  EXPECT_EQ(s["nvlink_domains"].as<int>(), 4);
  EXPECT_DOUBLE_EQ(s["gpu_nvlink_GBps"].as<double>(), 450);  // 18 x 25 GB/s
  EXPECT_DOUBLE_EQ(s["gpu_network_GBps"].as<double>(), 50);  // 400 Gb/s NIC behind a 63 GB/s PCIe hop
  // Half the GPUs (2 nodes) reach the other half through 16 NICs of 50 GB/s.
  EXPECT_DOUBLE_EQ(s["bisection_GBps"].as<double>(), 800);
  EXPECT_EQ(s["diameter_hops"].as<int>(), 4);  // GPU-PCIe-NIC-switch-NIC-PCIe-GPU: 4 links
  EXPECT_EQ(s["cables"]["count"].as<int>(), 32);
  EXPECT_DOUBLE_EQ(s["cables"]["total_m"].as<double>(), 320);  // 10 m each
  EXPECT_EQ(s["cables"]["by_medium"]["fibre"]["count"].as<int>(), 32);
  const std::string graph = collsim::testing::read_file(dot);
  EXPECT_EQ(graph.rfind("graph G {", 0), 0u) << graph.substr(0, 40);
  EXPECT_EQ(std::count(graph.begin(), graph.end(), '\n'), 2 + 81 + 192) << "header, 81 devices, 192 links, }";
}

TEST(Topo, TwoTierFatTreeBisectionFollowsTheTextbook) {
  // 4 leaves x 4 hosts at 100 GB/s, each leaf with one 100 GB/s uplink to
  // each of 2 spines (2:1 oversubscribed). Cutting between leaves {0,1} and
  // {2,3}: min(hosts: 8 x 100, uplinks: 2 leaves x 2 x 100) = 400 GB/s.
  const std::string yaml = ::testing::TempDir() + "fat_tree.yaml";
  std::ofstream(yaml) << R"(name: fat-tree
devices:
  - {name: h, kind: gpu, count: 16}
  - {name: leaf, kind: switch, count: 4}
  - {name: spine, kind: switch, count: 2}
links:
  - {from: "h[0-3]", to: "leaf[0]", rate: 100GB/s, latency: 0s, class: ideal}
  - {from: "h[4-7]", to: "leaf[1]", rate: 100GB/s, latency: 0s, class: ideal}
  - {from: "h[8-11]", to: "leaf[2]", rate: 100GB/s, latency: 0s, class: ideal}
  - {from: "h[12-15]", to: "leaf[3]", rate: 100GB/s, latency: 0s, class: ideal}
  - {from: leaf, to: spine, rate: 100GB/s, latency: 0s, class: ideal}
)";
  const std::string json = ::testing::TempDir() + "fat_tree.json";
  const auto r = run_collsim("topo " + yaml + " --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node s = YAML::LoadFile(json);
  EXPECT_DOUBLE_EQ(s["bisection_GBps"].as<double>(), 400);
  EXPECT_EQ(s["diameter_hops"].as<int>(), 4);  // host-leaf-spine-leaf-host
}

TEST(Topo, BadInputAndUsage) {
  EXPECT_EQ(run_collsim("topo").exit_code, 2);
  const auto r = run_collsim("topo tests/data/bad/negative_rate.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("negative_rate.yaml:7:31"), std::string::npos) << r.err;
}

TEST(Run, TrainingStepReportAndJson) {
  const std::string json = ::testing::TempDir() + "step.json";
  const auto r = run_collsim(
      "run --topology topologies/h100-ib400-4node.yaml --workload "
      "tests/data/workloads/small-4node.yaml --json " +
      json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << "quiet when not on a terminal: " << r.err;
  EXPECT_NE(r.out.find("step time"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("what would help"), std::string::npos) << r.out;
  const YAML::Node s = YAML::LoadFile(json);
  const double step = s["step_time_s"].as<double>();
  EXPECT_GT(step, 0);
  // compute + exposed + bubble = step (per GPU, mean over GPUs).
  double parts = s["compute_s"].as<double>() + s["bubble_s"].as<double>();
  for (const auto& kv : s["exposed_comm_s"]) parts += kv.second.as<double>();
  EXPECT_NEAR(parts / step, 1.0, 1e-9);
  EXPECT_GT(s["exposed_comm_s"]["tp"].as<double>(), 0);
  EXPECT_GT(s["comm_s"]["dp"].as<double>(), 0);
  EXPECT_GT(s["comm_s"]["pp"].as<double>(), 0);
  ASSERT_TRUE(s["bottlenecks"].IsSequence());
  ASSERT_GE(s["bottlenecks"].size(), 2u);
  for (const auto& b : s["bottlenecks"]) {
    EXPECT_TRUE(b["resource"].IsScalar());
    EXPECT_NEAR(b["delta_pct"].as<double>(), (b["step_time_s"].as<double>() / step - 1) * 100, 1e-6);
  }
  EXPECT_TRUE(s["collectives"].IsSequence());
  EXPECT_LE(s["links"].size(), 10u);
}

// The Trace Event format's required fields (the Chrome Trace Event Format
// document): every event has name, ph, pid and tid; timed ones a ts;
// complete events ("X") a non-negative dur; flows ("s"/"f") an id;
// counters ("C") numeric args.
TEST(Run, TraceFileHasTheTraceEventFormatsRequiredFields) {
  const std::string trace = ::testing::TempDir() + "step.trace.json";
  const auto r = run_collsim(
      "run --topology topologies/h100-ib400-4node.yaml --workload "
      "tests/data/workloads/small-4node.yaml --what-if off --trace " +
      trace);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node t = YAML::LoadFile(trace);
  ASSERT_TRUE(t["traceEvents"].IsSequence());
  std::map<std::string, int> phases;
  std::set<std::string> categories;
  for (const auto& e : t["traceEvents"]) {
    const std::string ph = e["ph"].as<std::string>();
    ++phases[ph];
    EXPECT_TRUE(e["name"].IsScalar());
    EXPECT_TRUE(e["pid"].IsScalar());
    EXPECT_TRUE(e["tid"].IsScalar());
    if (ph != "M") {
      EXPECT_GE(e["ts"].as<double>(), 0);
    }
    if (ph == "X") {
      EXPECT_GE(e["dur"].as<double>(), 0);
      categories.insert(e["cat"].as<std::string>());
    }
    if (ph == "s" || ph == "f") {
      EXPECT_TRUE(e["id"].IsScalar());
    }
    if (ph == "C") {  // a link never carries more than its rate
      EXPECT_GE(e["args"]["utilisation"].as<double>(), 0);
      EXPECT_LE(e["args"]["utilisation"].as<double>(), 1 + 1e-6);
    }
  }
  EXPECT_GT(phases["X"], 100);
  EXPECT_GT(phases["M"], 4);
  EXPECT_GT(phases["C"], 2);
  EXPECT_EQ(phases["s"], phases["f"]);
  EXPECT_GT(phases["s"], 0);  // PP 2: pipeline sends between shown workers
  for (const char* c : {"compute", "tp", "pp", "dp"}) EXPECT_TRUE(categories.count(c)) << c;
}

TEST(Run, BadWorkloadsAndUsage) {
  EXPECT_EQ(run_collsim("run --topology topologies/hgx-h100.yaml").exit_code, 2);
  const auto r = run_collsim(
      "run --topology topologies/h100-ib400-4node.yaml --workload "
      "tests/data/bad/workload_tp_across_nodes.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("workload_tp_across_nodes.yaml:3:19: field 'parallelism.tp'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NVLink domain"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  const auto typo = run_collsim(
      "run --topology topologies/hgx-h100.yaml --workload workloads/llama3-70b.yaml "
      "--set-workload parallelism.tpp=2");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean 'tp'"), std::string::npos) << typo.err;
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

// busbw from the last data row of `collsim collective`: nccl-tests' eighth
// column (size count type redop root time algbw busbw ...).
double busbw_of(const std::string& out) {
  std::istringstream in(out);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') last = line;
  std::istringstream fields(last);
  std::string field;
  for (int k = 0; k < 8; ++k) fields >> field;
  return std::stod(field);
}

// The regression NIC affinity fixes: behind PCIe switches shared by two GPUs
// and two NICs, a 4-node ring all-reduce must still give each GPU its own
// NIC (without the rule two GPUs shared one and busbw fell from the 8
// NICs' 2 NCCL ring channels each, 8 x 2 x 20 = 320, to 4 NICs' 188).
TEST(Collective, PcieSwitchesDoNotHalveTheMultiNodeRing) {
  for (const char* fabric : {"rail-optimized", "leaf-spine"}) {
    const std::string file = ::testing::TempDir() + "pcie4node_" + fabric + ".yaml";
    std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 4, fabric: {kind: " << fabric << "}}\n";
    const std::string args = "collective -t " + file + " -b 1G -e 1G --algo ring --proto Simple";
    const auto with = run_collsim(args);
    const auto without = run_collsim(args + " --set cluster.host.pcie_switches=0");
    ASSERT_EQ(with.exit_code, 0) << with.err;
    ASSERT_EQ(without.exit_code, 0) << without.err;
    EXPECT_GT(busbw_of(without.out), 300) << fabric;
    EXPECT_NEAR(busbw_of(with.out) / busbw_of(without.out), 1.0, 0.005) << fabric;
    // Nor double it: on a leaf-spine fabric two NICs of one PCIe switch
    // reach the same leaf, and one GPU's send must still use one NIC.
    const std::string send = "collective -t " + file +
                             " --op sendrecv --ranks 16 -b 512M -e 512M --proto Simple "
                             "--backend analytical --set cluster.nic=200Gb/s";
    const auto send_with = run_collsim(send), send_without = run_collsim(send + " --set cluster.host.pcie_switches=0");
    ASSERT_EQ(send_with.exit_code, 0) << send_with.err;
    EXPECT_NEAR(busbw_of(send_with.out) / busbw_of(send_without.out), 1.0, 0.005) << fabric;
  }
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

// Where the analytical backend's time is its link-load bound (transfers of
// the schedule share links), the table and the JSON say so; the SimGrid
// backend simulates the sharing and never flags it.
TEST(Collective, AnalyticalRowsSetByLinkLoadAreMarkedContended) {
  const std::string json = ::testing::TempDir() + "contended.json";
  const std::string args = "collective -t topologies/h100-ib400-4node.yaml -b 512M -e 512M --algo ring --proto Simple";
  auto r = run_collsim(args + " --backend analytical --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# contended: at 536870912 bytes"), std::string::npos) << r.out;
  EXPECT_TRUE(YAML::LoadFile(json)["results"][0]["contended"].as<bool>());
  r = run_collsim(args + " --backend simgrid --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("contended"), std::string::npos) << r.out;
  EXPECT_FALSE(YAML::LoadFile(json)["results"][0]["contended"].as<bool>());
}

// Where NCCL's buffer holds the transfers (Simple's slots on 2 p5 nodes: 512
// KiB slices at 256 MiB; engine/plan.h simple_ring_slot_rate_Bps) the table
// and the JSON say so, on both backends; at 1 GiB AWS's 8 MiB buffer gives
// 2 MiB slices, enough, and NCCL's own 4 MiB gives 1 MiB ones, not enough.
TEST(Collective, RowsHeldByNcclsBufferAreMarkedBufferBound) {
  const std::string json = ::testing::TempDir() + "buffer_bound.json";
  const std::string args =
      "collective -t tests/validation/topologies/h100-p5-efa-2node.yaml --op allgather "
      "--algo ring --proto Simple -b 256M -e 1G -f 4 --json " +
      json;
  for (const char* backend : {"analytical", "simgrid"}) {
    auto r = run_collsim(args + " --backend " + backend);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("# buffer-bound: at 268435456 bytes NCCL's buffer"), std::string::npos) << r.out;
    const auto results = YAML::LoadFile(json)["results"];
    EXPECT_TRUE(results[0]["buffer_bound"].as<bool>()) << backend;
    EXPECT_FALSE(results[1]["buffer_bound"].as<bool>()) << backend;
    r = run_collsim(args + " --backend " + backend + " --set nccl.buffsize=4M");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("# buffer-bound: at 268435456, 1073741824 bytes"), std::string::npos) << r.out;
  }
}

// A message smaller than one window of NCCL's buffer never waits for a
// credit (it is all in flight at once), so small rows are never called
// buffer-bound, on InfiniBand or EFA, for a chain or a tree (they were, at
// 8 B to 512 KiB, where the window's rate merely sat below the link's).
TEST(Collective, MessagesWithinOneWindowAreNeverBufferBound) {
  for (const char* topo : {"topologies/h100-ib400-4node.yaml", "topologies/aws-p5-efa-16node.yaml"}) {
    for (const char* op : {"broadcast", "allreduce", "allgather"}) {
      const auto r =
          run_collsim(std::string("collective -t ") + topo + " --op " + op + " -b 8 -e 32K -f 64 --backend analytical");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out.find("# buffer-bound"), std::string::npos) << topo << " " << op << "\n" << r.out;
    }
  }
}

// NCCL weighs NVLS only for the reductions its kernels have
// (ncclNvlsSupported, src/include/device.h): a product or an average of
// floats on 8 H100s runs the ring NCCL would, and naming nvls for it is an
// input error; an all-gather reduces nothing and still runs NVLS.
TEST(Collective, NvlsOnlyForTheReductionsNcclRunsOnIt) {
  const std::string base = "collective -t topologies/hgx-h100.yaml -b 1G -e 1G";
  const auto sum = run_collsim(base);
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  EXPECT_NE(sum.out.find(" nvls Simple"), std::string::npos) << sum.out;
  for (const char* other : {" -o prod", " -o avg", " -o max", " -d int8"}) {
    const auto r = run_collsim(base + other);
    ASSERT_EQ(r.exit_code, 0) << other << r.err;
    EXPECT_EQ(r.out.find(" nvls "), std::string::npos) << other << r.out;
    EXPECT_NE(r.out.find(" ring "), std::string::npos) << other << r.out;
  }
  const auto half_max = run_collsim(base + " -d half -o max");
  EXPECT_NE(half_max.out.find(" nvls Simple"), std::string::npos) << half_max.out;
  const auto forced = run_collsim(base + " -o prod --algo nvls");
  EXPECT_EQ(forced.exit_code, 2);
  EXPECT_NE(forced.err.find("--algo: nvls cannot reduce prod on float"), std::string::npos) << forced.err;
  const auto gather = run_collsim(base + " --op allgather -d int8 --algo nvls");
  ASSERT_EQ(gather.exit_code, 0) << gather.err;
  EXPECT_NE(gather.out.find(" nvls Simple"), std::string::npos) << gather.out;
}

// `topo` takes its file as the argument or, like every other command, as -t.
TEST(Topo, TakesTheFileAsTheArgumentOrAsT) {
  const auto arg = run_collsim("topo topologies/hgx-h100.yaml --expand -");
  const auto flag = run_collsim("topo -t topologies/hgx-h100.yaml --expand -");
  ASSERT_EQ(arg.exit_code, 0) << arg.err;
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(arg.out, flag.out);
  EXPECT_EQ(run_collsim("topo topologies/hgx-h100.yaml -t topologies/hgx-h100.yaml").exit_code, 2);
}

}  // namespace
}  // namespace collsim
