// GPU models (config/gpu_models.h) and the throughput a step reports.
// Oracles: NVIDIA's datasheet peaks and the measured MAMF ceilings quoted in
// gpu_models.cc; NVIDIA NeMo 24.07's performance summary (DGX H100, FP8),
// which reports tokens/s per GPU and model TFLOP/s per GPU for the same runs:
// our model FLOPs per token times their tokens/s must give their TFLOP/s.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "sim/config/gpu_models.h"
#include "sim/config/topology_file.h"
#include "sim/workload/workload_spec.h"
#include "test_support.h"

namespace collsim {
namespace {

TEST(GpuModels, BuiltInsCarryTheirSourcesNumbersAndCeilingsBelowPeaks) {
  std::map<std::string, config::GpuModelSpec> by_name;
  for (const auto& m : config::builtin_gpu_models()) by_name[m.name] = m;
  for (const char* name : {"a100", "h100", "h200", "b200", "gb200", "b300", "gb300"}) {
    ASSERT_TRUE(by_name.count(name)) << name;
    const auto& m = by_name[name];
    EXPECT_TRUE(m.peak_flop_per_s.count("bf16")) << name;
    for (const auto& [p, ceiling] : m.mamf_flop_per_s) EXPECT_LE(ceiling, m.peak_flop_per_s.at(p)) << name << " " << p;
    EXPECT_GT(m.hbm_bytes, 0) << name;
    EXPECT_GT(m.hbm_Bps, 0) << name;
  }
  // NVIDIA H100 SXM datasheet: 989 TFLOP/s dense BF16, 1,979 FP8, 80 GB at
  // 3.35 TB/s; MAMF 794.5 TFLOP/s BF16 (measured ceiling).
  EXPECT_DOUBLE_EQ(by_name["h100"].peak_flop_per_s.at("bf16"), 989e12);
  EXPECT_DOUBLE_EQ(by_name["h100"].peak_flop_per_s.at("fp8"), 1979e12);
  EXPECT_DOUBLE_EQ(by_name["h100"].mamf_flop_per_s.at("bf16"), 794.5e12);
  EXPECT_DOUBLE_EQ(by_name["h100"].hbm_Bps, 3.35e12);
  EXPECT_FALSE(by_name["h100"].peak_flop_per_s.count("fp4"));  // Hopper has no FP4
  EXPECT_DOUBLE_EQ(by_name["a100"].peak_flop_per_s.at("bf16"), 312e12);
  EXPECT_DOUBLE_EQ(by_name["gb200"].peak_flop_per_s.at("fp4"), 10000e12);
}

TEST(GpuModels, TopologiesAndTemplatesNameTheirGpus) {
  const std::map<std::string, std::string> expected{
      {"hgx-h100.yaml", "h100"},           {"h100-ib400-4node.yaml", "h100"},
      {"dgx-a100.yaml", "a100"},           {"dgx-a100-hdr200-4node.yaml", "a100"},
      {"hgx-b200.yaml", "b200"},           {"gb200-nvl72.yaml", "gb200"},
      {"gb200-nvl72-8rack.yaml", "gb200"}, {"h100-ib400-128node.yaml", "h100"}};
  for (const auto& [file, model] : expected) {
    auto spec = config::load_topology_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/" + file);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    int gpus = 0;
    for (const auto& d : spec->devices) {
      if (d.kind != config::DeviceKind::kGpu) continue;
      ++gpus;
      EXPECT_EQ(d.model, model) << file << " " << d.name;
    }
    EXPECT_GT(gpus, 0) << file;
  }
  // An HGX H200 is an hgx-h100 board with other GPUs: cluster.gpu.
  auto h200 = config::load_topology_text("name: t\ncluster: {node: hgx-h100, nodes: 2, gpu: h200}\n", "t.yaml");
  ASSERT_TRUE(h200.ok()) << h200.error().to_string();
  EXPECT_EQ(h200->devices.front().model, "h200");
}

TEST(GpuModels, FilesOverrideAFieldOrDefineAModel) {
  auto spec = config::load_topology_text(R"(name: t
gpu_models:
  h100: {hbm_bandwidth: 3.2TB/s}
  mygpu: {peak: {bf16: 1PFLOP/s}, mamf: {bf16: 800TFLOP/s}, hbm_capacity: 96GiB, hbm_bandwidth: 4TB/s}
devices:
  - {name: a, kind: gpu, model: h100}
  - {name: b, kind: gpu, model: mygpu}
  - {name: sw, kind: switch}
links:
  - {from: a, to: sw, rate: 10GB/s, latency: 0s, class: ideal}
  - {from: b, to: sw, rate: 10GB/s, latency: 0s, class: ideal}
)",
                                         "t.yaml");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_DOUBLE_EQ(spec->gpu_models.at("h100").hbm_Bps, 3.2e12);
  EXPECT_DOUBLE_EQ(spec->gpu_models.at("h100").peak_flop_per_s.at("bf16"), 989e12);  // the rest kept
  EXPECT_DOUBLE_EQ(spec->gpu_models.at("mygpu").mamf_flop_per_s.at("bf16"), 800e12);
}

TEST(GpuModels, BadModelsAreOneClearLineAndExit2) {
  const std::string dir = ::testing::TempDir();
  const std::vector<std::pair<std::string, std::string>> cases{
      // (file text, expected piece of the message)
      {"name: t\ndevices:\n  - {name: a, kind: gpu, model: h10}\n  - {name: b, kind: gpu}\nlinks:\n  - {from: a, to: "
       "b, "
       "rate: 1GB/s, latency: 0s, class: ideal}\n",
       "t.yaml:3:33: field 'devices[0].model': unknown GPU model 'h10' (did you mean 'h100'?)"},
      {"name: t\ndevices:\n  - {name: a, kind: gpu}\n  - {name: b, kind: switch, model: h100}\nlinks:\n  - {from: a, "
       "to: "
       "b, rate: 1GB/s, latency: 0s, class: ideal}\n",
       "field 'devices[1].model': only GPUs have a model"},
      {"name: t\ngpu_models:\n  h100: {mamf: {bf16: 2PFLOP/s}}\ncluster: {node: hgx-h100}\n",
       "field 'gpu_models.h100.mamf': the bf16 ceiling 2 PFLOP/s must not exceed the bf16 peak"},
  };
  for (const auto& [text, want] : cases) {
    const std::string path = dir + "t.yaml";
    std::ofstream(path) << text;
    const auto r = collsim::testing::run_collsim("topo " + path);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// Model FLOPs per token x NeMo's measured tokens/s per GPU = NeMo's model
// TFLOP/s per GPU (NeMo 24.07 performance summary, DGX H100; model shapes
// from the model cards).
TEST(Throughput, ModelFlopsMatchNemosModelTflops) {
  struct Row {
    const char* name;
    int layers, hidden, heads, kv_heads, ffn, vocab, seq;
    workload::Mlp mlp;
    double tokens_per_gpu_s, model_tflops;
  };
  const Row rows[] = {
      {"GPT3-175B", 96, 12288, 96, 96, 49152, 50257, 2048, workload::Mlp::kGelu, 726, 782},
      {"LLAMA2-70B", 80, 8192, 64, 8, 28672, 32000, 4096, workload::Mlp::kSwiGlu, 1707, 759},
      {"LLAMA3-70B", 80, 8192, 64, 8, 28672, 128256, 8192, workload::Mlp::kSwiGlu, 1533, 738},
      {"LLAMA3-8B", 32, 4096, 32, 8, 14336, 128256, 8192, workload::Mlp::kSwiGlu, 12036, 697},
      {"Nemotron-340B", 96, 18432, 96, 8, 73728, 256000, 4096, workload::Mlp::kGelu, 322, 678},  // 2 MLP matrices
  };
  for (const Row& r : rows) {
    workload::ModelSpec m;
    m.layers = r.layers, m.hidden = r.hidden, m.heads = r.heads, m.kv_heads = r.kv_heads;
    m.head_dim = r.hidden / r.heads, m.ffn_hidden = r.ffn, m.vocab = r.vocab, m.seq_len = r.seq, m.mlp = r.mlp;
    const double tflops = workload::model_flops_per_token(m) * r.tokens_per_gpu_s / 1e12;
    EXPECT_NEAR(tflops, r.model_tflops, 0.005 * r.model_tflops) << r.name;  // NeMo prints whole TFLOP/s
  }
}

// A step's compute at the GPU model's peak: the same workload (mfu 0.4, no
// peak of its own) on H100 and on B200 nodes; compute time scales as the
// peaks, 989 / 2,250 (datasheets).
TEST(Throughput, ComputeTakesTheGpuModelsPeakAndReportsMfu) {
  auto run = [](const std::string& topo, const std::string& extra) {
    return collsim::testing::run_collsim("run -t topologies/" + topo +
                                         " -w tests/data/workloads/small-4node-gpu-peak.yaml --what-if off "
                                         "--backend analytical --json - " +
                                         extra);
  };
  auto number = [](const std::string& json, const std::string& key) {
    const auto at = json.find("\"" + key + "\":");
    EXPECT_NE(at, std::string::npos) << key << " in " << json;
    return at == std::string::npos ? NAN : std::stod(json.substr(at + key.size() + 3));
  };
  const auto h100 = run("h100-ib400-4node.yaml", "");
  ASSERT_EQ(h100.exit_code, 0) << h100.err;
  const auto b200 = run("h100-ib400-4node.yaml",
                        "--set devices[0].model=b200 --set devices[3].model=b200 "
                        "--set devices[6].model=b200 --set devices[9].model=b200");
  ASSERT_EQ(b200.exit_code, 0) << b200.err;
  EXPECT_NEAR(number(b200.out, "compute_s") / number(h100.out, "compute_s"), 989.0 / 2250, 1e-9);
  EXPECT_DOUBLE_EQ(number(h100.out, "peak_flop_per_s"), 989e12);
  // MFU = model TFLOP/s per GPU / peak, and below the workload's mfu (the
  // bubble and exposed communication come on top of compute).
  const double mfu = number(h100.out, "mfu");
  EXPECT_NEAR(mfu, number(h100.out, "model_tflops_per_gpu") * 1e12 / 989e12, 1e-12);
  EXPECT_LT(mfu, 0.4);
  // fp16 runs at bf16's rate (ASSUMPTION, as on A100); an explicit
  // compute.peak is taken as given and named as such in the MFU line.
  const auto fp16 = run("h100-ib400-4node.yaml", "--set-workload precision.compute=fp16");
  ASSERT_EQ(fp16.exit_code, 0) << fp16.err;
  EXPECT_DOUBLE_EQ(number(fp16.out, "peak_flop_per_s"), 989e12);
  const auto own = collsim::testing::run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w tests/data/workloads/small-4node-gpu-peak.yaml --what-if off "
      "--backend analytical --set-workload compute.peak=500TFLOP/s --set-workload precision.compute=fp4");
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(own.out.find("of compute.peak 500 TFLOP/s"), std::string::npos) << own.out;
  // A precision the GPU lacks is bad input.
  const auto fp4 = run("h100-ib400-4node.yaml", "--set-workload precision.compute=fp4");
  EXPECT_EQ(fp4.exit_code, 2) << fp4.err;
  EXPECT_NE(fp4.err.find("precision.compute"), std::string::npos) << fp4.err;
  EXPECT_NE(fp4.err.find("h100 GPUs have no fp4 rate; they have bf16, fp16, fp8, tf32"), std::string::npos) << fp4.err;
}

}  // namespace
}  // namespace collsim
