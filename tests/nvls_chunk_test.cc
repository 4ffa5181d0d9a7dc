// NVLS inside one NVLink domain in NCCL's chunks (collective/nvls.h
// NvlsChunking): the chunk NCCL's calcCollChunking picks (src/enqueue.cc,
// the same rule from NCCL 2.18.5 to 2.30.7) and what each chunk smaller
// than 128 KiB costs its channel, against closed forms worked out here from
// that rule.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/collective/algorithms.h"
#include "sim/collective/nvls.h"
#include "sim/config/topology_file.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::nccl_nvls_chunk_bytes;
using collective::nccl_nvls_chunking;
using collective::NcclRelease;
using collective::nvls_chunk_overhead_s;

constexpr double KiB = 1024, MiB = 1048576, GiB = 1073741824;

TEST(NvlsChunks, FollowNcclsRule) {
  // 8 H100s: 16 channels x 8 heads = 128 chunks at once. 128 KiB from
  // 64 x 128 x 128 KiB = 1 GiB; 64 KiB from 8 x 128 x 64 KiB = 64 MiB;
  // 32 KiB from 2 x 128 x 32 KiB = 8 MiB; 16 KiB below.
  const auto h100 = nccl_nvls_chunking("h100", 1e-6);
  EXPECT_EQ(h100.channels, 16);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 8 * GiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, GiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 512 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 64 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 32 * MiB, 8), 32 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 8 * MiB, 8), 32 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 4 * MiB, 8), 16 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(h100, 4096, 8), 16 * KiB);
  // A GB200 NVL72 rack under NCCL 2.25.1: 32 channels (NVLS_NCHANNELS_SM100)
  // x 72 heads = 2,304: 64 KiB from 8 x 2,304 x 64 KiB = 1.125 GiB up to
  // 64 x 2,304 x 128 KiB = 18 GiB; 32 KiB from 144 MiB.
  const auto nvl72 = nccl_nvls_chunking("gb200", 0, NcclRelease{2, 25, 1});
  EXPECT_EQ(nvl72.channels, 32);
  EXPECT_EQ(nccl_nvls_chunk_bytes(nvl72, 8 * GiB, 72), 64 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(nvl72, 18 * GiB, 72), 128 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(nvl72, GiB, 72), 32 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(nvl72, 144 * MiB, 72), 32 * KiB);
  EXPECT_EQ(nccl_nvls_chunk_bytes(nvl72, 128 * MiB, 72), 16 * KiB);
  // From NCCL 2.27 one Blackwell domain runs 24 channels (NVLS_NCHANNELS_SM100_NVL).
  EXPECT_EQ(nccl_nvls_chunking("b200", 0, NcclRelease{2, 27, 3}).channels, 24);
  EXPECT_EQ(nccl_nvls_chunking("gb200", 0).channels, 24);
  EXPECT_EQ(nccl_nvls_chunking("", 0).channels, 16);  // an unnamed model is taken as Hopper
}

TEST(NvlsChunks, EachChunkBelow128KiBCostsItsChannel) {
  // cost x bytes / 16 channels x (1 / chunk - 1 / 128 KiB), at 1 us:
  // 8 MiB in 32 KiB chunks: 512 KiB per channel, 16 - 4 chunks: 12 us;
  // 1 MiB in 16 KiB chunks: 64 KiB per channel, 4 - 0.5: 3.5 us;
  // 64 MiB in 64 KiB chunks: 4 MiB per channel, 64 - 32: 32 us;
  // 1 GiB in 128 KiB chunks: nothing.
  const auto h100 = nccl_nvls_chunking("h100", 1e-6);
  EXPECT_NEAR(nvls_chunk_overhead_s(h100, 8 * MiB, 8), 12e-6, 1e-15);
  EXPECT_NEAR(nvls_chunk_overhead_s(h100, MiB, 8), 3.5e-6, 1e-15);
  EXPECT_NEAR(nvls_chunk_overhead_s(h100, 64 * MiB, 8), 32e-6, 1e-15);
  EXPECT_EQ(nvls_chunk_overhead_s(h100, GiB, 8), 0);
  EXPECT_EQ(nvls_chunk_overhead_s(nccl_nvls_chunking("h100", 0), MiB, 8), 0);  // no cost
  // The schedule carries it, and NVLSTree its own chunks' (NCCL's rule,
  // enqueue.cc calcCollChunking: 16 channels x 4 heads = 64 at once, 8 MiB
  // under 4 x 64 x 128 KiB: 64 KiB chunks): 512 KiB per channel, 8 - 4
  // chunks, 4 us.
  collective::AlgoParams params;
  params.nvls_efficiency = 0.85;
  params.nvls_chunk_cost_s = 1e-6;
  params.gpu_model = "h100";
  auto nvls = collective::build_schedule(collective::Op::kAllReduce, "nvls", 8, 8 * MiB, params);
  ASSERT_TRUE(nvls.ok()) << nvls.error().to_string();
  EXPECT_NEAR(nvls->chunk_overhead_s, 12e-6, 1e-15);
  params.domain_of_rank = {0, 0, 0, 0, 1, 1, 1, 1};
  auto tree = collective::build_schedule(collective::Op::kAllReduce, "nvlstree", 8, 8 * MiB, params);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  EXPECT_NEAR(tree->chunk_overhead_s, 4e-6, 1e-15);
}

// NCCL_NVLS_CHUNKSIZE and NCCL_NVLSTREE_MAX_CHUNKSIZE (`nccl:`), as AWS's
// plugin sets them on p5 (512 KiB): NCCL starts from these chunks and
// halves them by the same rules (enqueue.cc calcCollChunking). NVLSTree on
// 8 nodes at 512 MiB: 512 MiB < 32 x (16 x 8) x 512 KiB, so 256 KiB chunks,
// which cost nothing (the default's 64 KiB cost 512 us at 2 us); NVLS on
// one node at 1 GiB: 1 GiB < 64 x 128 x 512 KiB, so 64 KiB chunks, 1 GiB /
// 16 x (1 / 64 KiB - 1 / 128 KiB) = 512 chunks' cost, where the default's
// 128 KiB cost nothing. On both backends: there the analytical backend's
// time is its link-load bound, which starts after the launch and its
// overhead as the transfers do (it used to absorb 361 of these 1,024 us).
TEST(NvlsChunks, NcclsChunkSizeSettingsChangeTheChunks) {
  const std::string plugin = " --set nccl.nvls_chunksize=512K --set nccl.nvlstree_max_chunksize=512K";
  for (const char* backend : {"simgrid", "analytical"}) {
    auto time_us = [&](const std::string& args, const std::string& cost) {
      return testing::collective_time_us(args + " --nccl 2.27.3 --backend " + backend +
                                         " --set link_classes.nvlink4.nvls_chunk_cost=" + cost);
    };
    const std::string tree = "-t tests/validation/topologies/h100-ib400-8node.yaml --algo nvlstree -b 512M -e 512M";
    EXPECT_NEAR(time_us(tree + plugin, "2us"), time_us(tree + plugin, "0s"), 0.02) << backend;
    const std::string nvls = "-t topologies/hgx-h100.yaml --algo nvls --proto Simple -b 1G -e 1G";
    EXPECT_NEAR(time_us(nvls + plugin, "2us") - time_us(nvls + plugin, "0s"), 1024.0, 0.02) << backend;
    EXPECT_NEAR(time_us(nvls, "2us"), time_us(nvls, "0s"), 0.02) << backend;
  }
  const std::string base =
      "name: t\ndevices:\n  - {name: g, kind: gpu, count: 2}\n  - {name: sw, kind: switch}\nlinks:\n"
      "  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: nvlink4}\n";
  for (const char* bad : {"nccl: {nvls_chunksize: 1K}\n", "nccl: {nvlstree_max_chunksize: 128M}\n"}) {
    auto spec = config::load_topology_text(base + bad, "t.yaml");
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_NE(spec.error().to_string().find("expected a size from 4 KiB to 64 MiB"), std::string::npos)
        << spec.error().to_string();
    EXPECT_NE(spec.error().to_string().find("t.yaml:"), std::string::npos) << spec.error().to_string();
  }
  auto fine =
      config::load_topology_text(base + "nccl: {nvls_chunksize: 512K, nvlstree_max_chunksize: 262144}\n", "t.yaml");
  ASSERT_TRUE(fine.ok()) << fine.error().to_string();
  EXPECT_DOUBLE_EQ(fine->nccl.nvls_chunksize, 524288);
  EXPECT_DOUBLE_EQ(fine->nccl.nvlstree_max_chunksize, 262144);
}

// NVLSTree's NVLS stages pay the same cost per chunk (nvls.h
// nvls_tree_chunk_overhead_s): NCCL caps its chunk at 64 KiB from 4 nodes,
// so 8 H100 nodes pay at 512 MiB, 2 us x 32 MiB per channel x (1 / 64 KiB
// - 1 / 128 KiB) = 512 us, where 2 nodes at 1 GiB (128 KiB chunks) pay
// nothing; on both backends.
TEST(NvlsChunks, NvlsTreePaysForItsChunksBelow128KiB) {
  for (const char* backend : {"simgrid", "analytical"}) {
    auto time_us = [&](const std::string& nodes, const std::string& size, const std::string& cost) {
      return testing::collective_time_us(
          "-t tests/validation/topologies/h100-ib400-" + nodes + "node.yaml --algo nvlstree --nccl 2.27.3 -b " + size +
          " -e " + size + " --backend " + backend + " --set link_classes.nvlink4.nvls_chunk_cost=" + cost);
    };
    EXPECT_NEAR(time_us("8", "512M", "2us") - time_us("8", "512M", "0s"), 512.0, 0.02) << backend;
    EXPECT_NEAR(time_us("2", "1G", "2us"), time_us("2", "1G", "0s"), 0.02) << backend;
  }
}

// Through the CLI, on both backends: the link class's cost (nvlink4, the
// HGX H100's NVLink) reaches the NVLS all-reduce's time, once, under a
// protocol, and not the network alone (--proto none).
TEST(NvlsChunks, TheLinkClassCostAddsToTheTimeOnBothBackends) {
  for (const char* backend : {"simgrid", "analytical"}) {
    auto time_us = [&](const std::string& size, const std::string& extra) {
      return testing::collective_time_us("-t topologies/hgx-h100.yaml --algo nvls -b " + size + " -e " + size +
                                         " --backend " + backend + extra);
    };
    const std::string none = " --set link_classes.nvlink4.nvls_chunk_cost=0s";
    const std::string two = " --set link_classes.nvlink4.nvls_chunk_cost=2us";
    EXPECT_NEAR(time_us("8M", two + " --proto Simple") - time_us("8M", none + " --proto Simple"), 24.0, 0.02)
        << backend;
    EXPECT_NEAR(time_us("64M", two + " --proto Simple") - time_us("64M", none + " --proto Simple"), 64.0, 0.02)
        << backend;
    EXPECT_NEAR(time_us("1G", two + " --proto Simple"), time_us("1G", none + " --proto Simple"), 0.02) << backend;
    EXPECT_NEAR(time_us("8M", two + " --proto none"), time_us("8M", none + " --proto none"), 0.02) << backend;
  }
}

TEST(NvlsChunks, TheCostIsCheckedWhereItIsRead) {
  const std::string base =
      "name: t\ndevices:\n  - {name: g, kind: gpu, count: 2}\n  - {name: sw, kind: nvswitch}\nlinks:\n"
      "  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: nvlink4}\nlink_classes:\n  nvlink4: {nvls_chunk_cost: ";
  for (auto [value, expected] : {std::pair{"-1us", "t.yaml:8:30:"},
                                 {"1ms", "expected a time per chunk from 0 to 100 us, found 1 ms"},
                                 {"1", "has no unit"}}) {
    auto spec = config::load_topology_text(base + value + "}\n", "t.yaml");
    ASSERT_FALSE(spec.ok()) << value;
    EXPECT_NE(spec.error().to_string().find(expected), std::string::npos) << spec.error().to_string();
    EXPECT_NE(spec.error().to_string().find("nvls_chunk_cost"), std::string::npos) << spec.error().to_string();
  }
  auto fine = config::load_topology_text(base + "500ns}\n", "t.yaml");
  ASSERT_TRUE(fine.ok()) << fine.error().to_string();
  EXPECT_DOUBLE_EQ(fine->link_classes.at("nvlink4").nvls_chunk_cost_s, 500e-9);
}

// NCCL_MIN_CTAS raises NVLS's channels too (src/transport/nvls.cc:
// nvlsChannels = max(minCTAs, min(maxCTAs, NVLS_NCHANNELS))), where
// NCCL_MIN_NCHANNELS only raises the rings'. On 8 H100s a 32 MiB NVLS
// all-reduce then runs 24 channels instead of 16, and only its chunk cost
// moves (the NVLS rates are per GPU, not per channel): the difference of
// the two overheads above, at nvlink4's 1 us.
TEST(NvlsChunks, MinCtasRaisesNvlsChannelsAndMinNchannelsDoesNot) {
  auto time_us = [](const std::string& extra) {
    return testing::collective_time_us("-t topologies/hgx-h100.yaml --algo nvls -b 32M -e 32M --backend analytical" +
                                       extra);
  };
  const double base = time_us("");
  EXPECT_NEAR(time_us(" --set nccl.min_channels=24"), base, 1e-9);
  auto h100 = nccl_nvls_chunking("h100", 1e-6);
  const double sixteen = nvls_chunk_overhead_s(h100, 32 * MiB, 8);
  h100.channels = 24;
  const double twenty_four = nvls_chunk_overhead_s(h100, 32 * MiB, 8);
  EXPECT_GT(sixteen - twenty_four, 1e-6);
  EXPECT_NEAR(time_us(" --set nccl.min_ctas=24") - base, (twenty_four - sixteen) * 1e6, 1e-3);
  // NCCL_MAX_CTAS=8 lowers them (nvlsChannels = max(minCTAs, min(maxCTAs, 16))).
  h100.channels = 8;
  const double eight = nvls_chunk_overhead_s(h100, 32 * MiB, 8);
  EXPECT_GT(std::abs(eight - sixteen), 1e-6);
  EXPECT_NEAR(time_us(" --set nccl.max_ctas=8") - base, (eight - sixteen) * 1e6, 1e-3);
  // NCCL_MIN_CTAS above NCCL_MAX_CTAS is lowered to it (src/init.cc): 8.
  EXPECT_NEAR(time_us(" --set nccl.max_ctas=8 --set nccl.min_ctas=24") - base, (eight - sixteen) * 1e6, 1e-3);
}

}  // namespace
}  // namespace collsim
