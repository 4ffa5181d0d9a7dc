// `collsim run --memory`: it prints the memory plan of every pipeline stage
// and stops where a run would, with the run's own error (exit 2) where the
// plan does not fit, so a script's `collsim run --memory && ...` reads
// "fits" from the exit status; --memory-check off exits 0.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
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

// Selective recomputation drops the attention scores (Korthikanti et al.
// 2022), which FlashAttention never stores: under it the activations stay
// as they are and the run says why (a new user expected a saving); under
// unfused attention it is what makes the plan fit.
TEST(RunMemory, SelectiveRecomputationUnderFlashAttentionSaysItSavesNothing) {
  const std::string base =
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --backend analytical --what-if off";
  const std::string note = "selective recomputation saves no memory here";
  auto stage0 = [](const std::string& out) { return out.substr(out.find("stage   0"), 120); };
  const auto none = run_collsim(base), selective = run_collsim(base + " --set-workload compute.recompute=selective");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  ASSERT_EQ(selective.exit_code, 0) << selective.err;
  EXPECT_EQ(stage0(selective.out), stage0(none.out));
  EXPECT_NE(selective.out.find(note), std::string::npos) << selective.out;
  EXPECT_EQ(none.out.find(note), std::string::npos) << none.out;
  EXPECT_NE(selective.out.find("(forward + backward; selective recomputation not included)"), std::string::npos);
  const auto unfused = run_collsim(base +
                                   " --set-workload compute.recompute=selective --set-workload "
                                   "compute.attention=unfused");
  ASSERT_EQ(unfused.exit_code, 0) << unfused.err;
  EXPECT_EQ(unfused.out.find(note), std::string::npos) << unfused.out;
  EXPECT_EQ(run_collsim(base + " --set-workload compute.attention=unfused").exit_code, 2) << "scores stored";
}

// The JSON's memory plan is in whole bytes (was 103282005333.33334: an
// optimizer share over dp), and a stage's total is the sum of its terms.
TEST(RunMemory, TheJsonPlanIsInWholeBytesThatAddUp) {
  const std::string json = ::testing::TempDir() + "memory_plan.json";
  ASSERT_EQ(run_collsim("run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --backend analytical "
                        "--what-if off --json " +
                        json)
                .exit_code,
            0);
  const std::string text = testing::read_file(json);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"re("peak_bytes":([0-9.e+]+))re"))) << text.substr(0, 400);
  const double peak = std::stod(m[1]);
  EXPECT_EQ(peak, std::round(peak)) << m[1];
  const std::regex stage(
      R"re("total_bytes":([0-9.e+]+),"weights_bytes":([0-9.e+]+),"grads_bytes":([0-9.e+]+),"optimizer_bytes":([0-9.e+]+),"activations_bytes":([0-9.e+]+),"logits_bytes":([0-9.e+]+),"reserve_bytes":([0-9.e+]+))re");
  int stages = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), stage); it != std::sregex_iterator(); ++it, ++stages) {
    double sum = 0;
    for (int k = 2; k <= 7; ++k) {
      const double b = std::stod((*it)[k]);
      EXPECT_EQ(b, std::round(b)) << (*it)[k];
      sum += b;
    }
    EXPECT_EQ(std::stod((*it)[1]), sum);
  }
  EXPECT_EQ(stages, 4);  // pp 4
}

// The parameter count beside the published one: an edited shape more than
// 10% off says so (a new user's 405B with ffn_hidden 5324 printed -73.1%
// and nothing else); the shipped model is within 0.5%.
TEST(Reports, AShapeFarFromThePublishedModelSaysSo) {
  auto model_line = [](const std::string& edit) {
    const auto r = run_collsim(
        "run -t topologies/gb200-nvl72-8rack.yaml -w workloads/llama3-405b.yaml --backend analytical --what-if off "
        "--memory-check off" +
        edit);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto at = r.out.find("  model  ");
    return at == std::string::npos ? r.out : r.out.substr(at, r.out.find('\n', at) - at);
  };
  EXPECT_NE(model_line("").find("405.8B parameters, published 405.0B (+0.2%);"), std::string::npos);
  EXPECT_NE(model_line(" --set-workload model.ffn_hidden=5320")
                .find("published 405.0B (-73.1%: not the published model's shape)"),
            std::string::npos);
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
