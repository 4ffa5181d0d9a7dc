// `collsim run --memory`: it prints the memory plan of every pipeline stage
// and stops where a run would, with the run's own error (exit 2) where the
// plan does not fit, so a script's `collsim run --memory && ...` reads
// "fits" from the exit status; --memory-check off exits 0.
#include <gtest/gtest.h>

#include <string>

#include "test_support.h"
#include "workload_support.h"

namespace collsim {
namespace {

using testing::run_collsim;

TEST(RunMemory, StopsAsTheRunWhereThePlanDoesNotFit) {
  const std::string base = workload::testing::kGpt175bOutOfMemoryRun;
  const auto oom = run_collsim(base);
  ASSERT_EQ(oom.exit_code, 2) << oom.err;
  const auto memory = run_collsim(base + " --memory");
  EXPECT_EQ(memory.exit_code, 2) << memory.err;
  EXPECT_NE(memory.out.find("DOES NOT FIT"), std::string::npos) << memory.out;
  EXPECT_NE(memory.out.find("stage   0"), std::string::npos) << memory.out;
  EXPECT_EQ(memory.err, oom.err);
  EXPECT_EQ(run_collsim(base + " --memory --memory-check off").exit_code, 0);
  // A plan that fits exits 0.
  EXPECT_EQ(run_collsim("run --memory -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml").exit_code, 0);
}

TEST(RunMemory, AnErrorInTheFileNamesTheSetWorkloadChangesToo) {
  const std::string pp1 =
      "run -t topologies/hgx-h100.yaml -w workloads/llama3-70b.yaml --set-workload parallelism.pp=1 --backend "
      "analytical --what-if off";
  const auto run = run_collsim(pp1), memory = run_collsim(pp1 + " --memory");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("(the file as changed by --set-workload parallelism.pp=1)"), std::string::npos) << run.err;
  // Micro-batches of 1 and dp 1 (8 GPUs, tp 8) leave recompute and ZeRO to try, and the error names only those.
  EXPECT_NE(run.err.find("no combination of recompute and a higher ZeRO stage makes it fit"), std::string::npos)
      << run.err;
  EXPECT_EQ(memory.exit_code, 2) << memory.err;
  EXPECT_EQ(memory.err, run.err);
}

// Where no one change fits, the error names changes that fit together,
// and following its advice fits: Llama 3 405B on 16 H100 nodes with 2
// pipeline stages needs full recompute and ZeRO-3 both.
TEST(RunMemory, ChangesThatFitOnlyTogetherAreNamed) {
  const std::string base =
      "run -t topologies/h100-ib400-128node.yaml --set cluster.nodes=16 -w workloads/llama3-405b.yaml "
      "--backend analytical --what-if off --memory --set-workload parallelism.pp=2";
  const auto oom = run_collsim(base);
  ASSERT_EQ(oom.exit_code, 2) << oom.err;
  const std::string advice = "it fits with compute.recompute=full and parallelism.zero=3 (";
  ASSERT_NE(oom.err.find(advice), std::string::npos) << oom.err;
  // The peak it names is the one the plan with both changes reaches.
  const std::size_t at = oom.err.find(advice) + advice.size();
  const std::string peak = oom.err.substr(at, oom.err.find(')', at) - at);
  for (const char* one : {"compute.recompute=full", "parallelism.zero=3"})
    EXPECT_EQ(run_collsim(base + " --set-workload " + one).exit_code, 2) << one << " alone does not fit";
  const auto both = run_collsim(base + " --set-workload compute.recompute=full --set-workload parallelism.zero=3");
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("peak " + peak), std::string::npos) << both.out;
}

}  // namespace
}  // namespace collsim
