// collsim collective beside nccl-tests: its launch options, its -i size
// steps and its -J JSON schema (NVIDIA/nccl-tests src/common.cu, src/util.cu).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "test_support.h"

namespace collsim {
namespace {

using collsim::testing::run_collsim;

TEST(NcclTestsCompat, LaunchOptionsAreAcceptedAndIgnored) {
  const std::string base = "collective -t topologies/hgx-h100.yaml -b 1M -e 4M --backend analytical";
  const auto plain = run_collsim(base);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  // The options nccl-tests' scripts pass: GPUs per thread, cycles,
  // aggregation, blocking, CUDA graphs, iterations, checking.
  const auto r = run_collsim(base + " -g 1 -N 1 -m 1 -z 0 -G 0 -a 1 -C 0 -n 20 -w 5 -c 1 -I 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, plain.out);
  // Not an nccl-tests option either: still an error.
  EXPECT_EQ(run_collsim(base + " -q 1").exit_code, 2);
}

// nccl-tests' -n: a small broadcast across nodes reports its loop's
// time, far below one collective's 31 hops (the Voltage Park run of
// tests/validation/h100-4node-ramps.yaml: 9-14 us at 8 B-4 KiB, where one
// broadcast is tens of us); -z 1 (a barrier each iteration) and -n 1 time
// one collective; an all-reduce keeps one collective's time.
TEST(NcclTestsCompat, ItersReportNcclTestsLoopForChains) {
  using collsim::testing::collective_field;
  const std::string base = "-t topologies/h100-ib400-4node.yaml -b 8 -e 8 --backend analytical ";
  const double one = collective_field(base + "--op broadcast", "time_us");
  const double loop = collective_field(base + "--op broadcast -n 20", "time_us");
  EXPECT_EQ(collective_field(base + "--op broadcast -n 20", "single_us"), one);
  EXPECT_EQ(collective_field(base + "--op broadcast -n 20", "loop_iterations"), 20);
  EXPECT_GT(one, 40);
  EXPECT_LT(loop, one / 2);
  EXPECT_EQ(collective_field(base + "--op broadcast -n 20 -z 1", "time_us"), one);
  EXPECT_EQ(collective_field(base + "--op allreduce -n 20", "time_us"),
            collective_field(base + "--op allreduce", "time_us"));
  EXPECT_EQ(run_collsim("collective " + base + "--op broadcast -n 0").exit_code, 2);
  EXPECT_EQ(run_collsim("collective " + base + "--op broadcast -z 4").exit_code, 2);
}

TEST(NcclTestsCompat, StepbytesAddsInsteadOfMultiplying) {
  // nccl-tests -b 1M -e 4M -i 1M: 1, 2, 3, 4 MiB.
  const auto r = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 4M -i 1M --backend analytical --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node rows = YAML::Load(r.out)["results"];
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ(rows[k]["bytes"].as<double>(), (k + 1) * 1048576.0);
  EXPECT_EQ(run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 4M -i 0").exit_code, 2);
}

// The redop column as nccl-tests prints it: the op for all-reduce and for
// sendrecv (a sendrecv_perf log of NCCL 2.29.2 reads "double sum -1":
// xxrjun/nccl-tests-cluster, example-cluster01 nccl_N10_G8.log), `none` for
// all-gather and all-to-all.
TEST(NcclTestsCompat, RedopColumnAsNcclTestsPrintsIt) {
  for (const auto& [op, redop] : std::vector<std::pair<std::string, std::string>>{
           {"allreduce", "sum"}, {"sendrecv", "sum"}, {"allgather", "none"}, {"alltoall", "none"}}) {
    const auto r =
        run_collsim("collective -t topologies/hgx-h100.yaml --op " + op + " -b 1M -e 1M --backend analytical --json -");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(YAML::Load(r.out)["results"][0]["redop"].as<std::string>(), redop) << op;
  }
}

TEST(NcclTestsCompat, JsonInNcclTestsSchema) {
  const auto r = run_collsim(
      "collective -t topologies/hgx-h100.yaml --op broadcast -r 3 -b 1M -e 4M -f 2 --backend analytical -J -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const YAML::Node doc = YAML::Load(r.out);  // JSON is YAML
  const YAML::Node results = doc["results"];
  ASSERT_EQ(results.size(), 3u);
  double sum = 0;
  for (const auto& row : results) {
    // nccl-tests' keys: size, count, type, redop, root (a padded string),
    // out_of_place and in_place with time (us), alg_bw, bus_bw (GB/s), nwrong.
    const double size = row["size"].as<double>();
    EXPECT_EQ(row["count"].as<double>(), size / 4);  // float
    EXPECT_EQ(row["type"].as<std::string>(), "float");
    EXPECT_EQ(row["redop"].as<std::string>(), "none");
    EXPECT_EQ(row["root"].as<std::string>(), "     3");
    for (const char* placement : {"out_of_place", "in_place"}) {
      const YAML::Node p = row[placement];
      // algbw = size / time; broadcast busbw = algbw (nccl-tests' PERFORMANCE.md).
      EXPECT_NEAR(p["alg_bw"].as<double>(), size / (p["time"].as<double>() * 1e3), 1e-9 * size);
      EXPECT_DOUBLE_EQ(p["bus_bw"].as<double>(), p["alg_bw"].as<double>());
      EXPECT_TRUE(p["nwrong"].IsNull());
    }
    EXPECT_EQ(row["collsim"]["op"].as<std::string>(), "broadcast");
    sum += row["out_of_place"]["bus_bw"].as<double>();
  }
  EXPECT_NEAR(doc["average_bus_bandwidth"]["bandwidth"].as<double>(), sum / 3, 1e-9 * sum);
}

TEST(NcclTestsCompat, GathersAndScattersCountPerRankAsNcclTests) {
  // nccl-tests' setupArgs and getCollByteCount (src/common.cu,
  // src/all_gather.cu...): the count printed is one rank's, and the size
  // is rounded down to a multiple of the ranks' elements. 8 ranks of
  // floats: 1 MiB is 32,768 each; 1000 B is 250 floats, 31 each, 992 B.
  for (const char* op : {"allgather", "reducescatter", "alltoall"}) {
    const auto r = run_collsim(std::string("collective -t topologies/hgx-h100.yaml --backend analytical -J - --op ") +
                               op + " -b 1000 -e 1048576 -i 1047576");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const YAML::Node rows = YAML::Load(r.out)["results"];
    ASSERT_EQ(rows.size(), 2u) << op;
    EXPECT_EQ(rows[0]["size"].as<double>(), 992) << op;
    EXPECT_EQ(rows[0]["count"].as<double>(), 31) << op;
    EXPECT_EQ(rows[1]["size"].as<double>(), 1048576) << op;
    EXPECT_EQ(rows[1]["count"].as<double>(), 32768) << op;
  }
  // All-reduce passes the whole buffer.
  const auto ar = run_collsim("collective -t topologies/hgx-h100.yaml --backend analytical -J - -b 1000 -e 1000");
  ASSERT_EQ(ar.exit_code, 0) << ar.err;
  EXPECT_EQ(YAML::Load(ar.out)["results"][0]["count"].as<double>(), 250);
}

// nccl-tests -b 1 on floats passes count 0; NCCL discards an empty
// collective (NCCL 2.27.7 src/enqueue.cc, "Empty collectives can be
// discarded"), so it takes no time and runs no algorithm. One element does.
TEST(NcclTestsCompat, EmptyCollectivesCostNothing) {
  for (const char* backend : {"analytical", "simgrid"}) {
    const auto r =
        run_collsim(std::string("collective -t topologies/hgx-h100.yaml -b 1 -e 4 -f 4 -J - --backend ") + backend);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const YAML::Node rows = YAML::Load(r.out)["results"];
    ASSERT_EQ(rows.size(), 2u) << backend;
    EXPECT_EQ(rows[0]["count"].as<double>(), 0) << backend;
    EXPECT_EQ(rows[0]["out_of_place"]["time"].as<double>(), 0) << backend;
    EXPECT_EQ(rows[0]["collsim"]["algo"].as<std::string>(), "none") << backend;
    EXPECT_EQ(rows[1]["count"].as<double>(), 1) << backend;
    EXPECT_GT(rows[1]["out_of_place"]["time"].as<double>(), 1) << backend;  // microseconds
  }
}

// nccl-tests' `all`: -d all runs its 12 types (fp8 from NCCL 2.24 on Hopper
// and later), -o all its 6 reductions (sum, prod, max, min, avg, mulsum)
// for an op that reduces, -r all every root of a
// rooted op, each over the whole size sweep in nccl-tests' order (type,
// then reduction, then root, then size); an op without one keeps one.
TEST(NcclTestsCompat, AllTypesReductionsAndRootsInNcclTestsOrder) {
  auto rows = [](const std::string& out) {
    std::vector<std::string> r;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] == ' ') r.push_back(line);
    return r;
  };
  const auto all = run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 2M -d all -o all --backend analytical");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto a = rows(all.out);
  ASSERT_EQ(a.size(), 12u * 6 * 2);
  EXPECT_TRUE(std::regex_search(a[0], std::regex(R"(^ +1048576 +1048576 +int8 +sum +-1 )"))) << a[0];
  EXPECT_TRUE(std::regex_search(a[1], std::regex(R"(^ +2097152 +2097152 +int8 +sum )"))) << a[1];
  EXPECT_TRUE(std::regex_search(a[2], std::regex(R"(^ +1048576 +1048576 +int8 +prod )"))) << a[2];
  EXPECT_TRUE(std::regex_search(a[12], std::regex(R"(^ +1048576 +1048576 +uint8 +sum )"))) << a[12];
  EXPECT_TRUE(std::regex_search(a.back(), std::regex(R"(^ +2097152 +2097152 +f8e5m2 +mulsum )"))) << a.back();
  // No fp8 on an A100 (NCCL refuses it below sm_90): 10 types.
  const auto ampere = run_collsim("collective -t topologies/dgx-a100.yaml -b 1M -e 1M -d all --backend analytical");
  ASSERT_EQ(ampere.exit_code, 0) << ampere.err;
  EXPECT_EQ(rows(ampere.out).size(), 10u);
  // A bound on the rows: every root of 16,384 x 8 ranks is far too many.
  const auto huge = run_collsim(
      "collective -t topologies/h100-ib400-16384node.yaml --op broadcast -r all -b 1M -e 1M --backend analytical");
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_NE(huge.err.find("131072 roots x 1 sizes is 131072 rows; at most 10000"), std::string::npos) << huge.err;
  const auto roots = run_collsim("collective -t topologies/hgx-h100.yaml --op broadcast -b 1M -e 1M -r all -o all");
  ASSERT_EQ(roots.exit_code, 0) << roots.err;
  const auto b = rows(roots.out);
  ASSERT_EQ(b.size(), 8u);
  for (std::size_t k = 0; k < b.size(); ++k)
    EXPECT_TRUE(std::regex_search(b[k], std::regex(" float +none +" + std::to_string(k) + " "))) << b[k];
  const auto gather = run_collsim("collective -t topologies/hgx-h100.yaml --op allgather -b 1M -e 1M -o all -r all");
  ASSERT_EQ(gather.exit_code, 0) << gather.err;
  EXPECT_EQ(rows(gather.out).size(), 1u) << gather.out;
}

}  // namespace
}  // namespace collsim
