// A channel's bytes in NCCL's chunks: whole chunks, then what is left
// (collective/schedule.h chunk_pieces, Schedule::last_copy_fraction), so
// that a size just above a whole number of chunks costs a little more and
// never less. Checked against the closed form of a pipelined chain, the
// recurrence of the pipeline's copies (cost_repeated_test.cc) and, on a
// real topology, against time growing with size on both backends.
#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "engine_support.h"
#include "sim/collective/chain.h"
#include "sim/collective/check.h"
#include "sim/collective/nvls.h"
#include "sim/collective/tree.h"
#include "sim/engine/backend.h"
#include "test_support.h"

namespace collsim::collective {
namespace {

using collsim::testing::run_schedules;
using collsim::testing::topology_from_file;
using collsim::testing::topology_from_text;

constexpr double kChunk = 512.0 * 1024;  // NCCL Simple's step (4 MiB buffer / 8 steps)

TEST(ChunkPieces, WholeChunksThenTheRemainder) {
  // 8.5 MiB over 16 channels: 544 KiB each, one 512 KiB chunk and 32 KiB.
  const ChunkPieces a = chunk_pieces(8.5 * 1048576 / 16, kChunk, 1024);
  EXPECT_EQ(a.count, 2);
  EXPECT_DOUBLE_EQ(a.piece, kChunk);
  EXPECT_DOUBLE_EQ(a.last, 32.0 * 1024);
  EXPECT_DOUBLE_EQ(a.last_fraction(), 1.0 / 16);
  // A whole number of chunks has no remainder, a hair above it neither.
  const ChunkPieces b = chunk_pieces(3 * kChunk * (1 + 1e-12), kChunk, 1024);
  EXPECT_EQ(b.count, 3);
  EXPECT_DOUBLE_EQ(b.last_fraction(), 1.0);
  // Less than a chunk: one piece of it all.
  const ChunkPieces c = chunk_pieces(1000, kChunk, 1024);
  EXPECT_EQ(c.count, 1);
  EXPECT_DOUBLE_EQ(c.piece, 1000);
  EXPECT_DOUBLE_EQ(c.last, 1000);
  // Beyond the cap, equal pieces.
  const ChunkPieces d = chunk_pieces(10.25 * kChunk, kChunk, 4);
  EXPECT_EQ(d.count, 4);
  EXPECT_DOUBLE_EQ(d.piece, 10.25 * kChunk / 4);
  EXPECT_DOUBLE_EQ(d.last, d.piece);
}

// Pipelined with a remainder, a schedule expands to the one written out
// piece by piece (the remainder last), and both move every byte.
TEST(ChunkPieces, PipelinedRemainderExpandsToTheScheduleWrittenOut) {
  const double bytes = 2 * 5.3 * 1048576;  // 5.3 MiB per channel: 10 chunks and 0.6 of one
  const std::vector<std::vector<int>> orders{{0, 1, 2, 3, 4, 5}, {3, 5, 1, 0, 2, 4}};
  ChainOptions written;
  written.pipelined = false;
  const Schedule pipelined = chain_reduce_channels(6, bytes, 2, orders);
  ASSERT_EQ(pipelined.repeats, 11);
  EXPECT_NEAR(pipelined.last_copy_fraction, 0.6, 1e-9);
  const Schedule a = expand(pipelined), b = chain_reduce_channels(6, bytes, 2, orders, written);
  ASSERT_EQ(a.transfers.size(), b.transfers.size());
  for (std::size_t i = 0; i < a.transfers.size(); ++i) {
    const Transfer &x = a.transfers[i], &y = b.transfers[i];
    ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.chunk == y.chunk && x.deps == y.deps &&
                x.queue_after == y.queue_after)
        << "transfer " << i;
    ASSERT_NEAR(x.bytes, y.bytes, 1e-6) << "transfer " << i;
  }
  // Each of the 2 channels' 5 hops carries its 5.3 MiB, remainder included.
  EXPECT_NEAR(pipelined.total_bytes(), 2 * 5 * 5.3 * 1048576, 1e-3);
  EXPECT_NEAR(a.total_bytes(), pipelined.total_bytes(), 1e-3);
  EXPECT_TRUE(check_schedule(Op::kReduce, pipelined).ok());

  std::vector<int> domains(16);
  for (int r = 0; r < 16; ++r) domains[static_cast<std::size_t>(r)] = r / 8;
  TreeOptions tree_written;
  tree_written.pipelined = false;
  const double tree_bytes = 8.5 * 1048576;  // 16 channels of 544 KiB
  const Schedule tree = tree_allreduce(16, tree_bytes, domains, TreeOptions{});
  ASSERT_EQ(tree.repeats, 2);
  EXPECT_DOUBLE_EQ(tree.last_copy_fraction, 1.0 / 16);
  const Schedule ta = expand(tree), tb = tree_allreduce(16, tree_bytes, domains, tree_written);
  ASSERT_EQ(ta.transfers.size(), tb.transfers.size());
  for (std::size_t i = 0; i < ta.transfers.size(); ++i)
    ASSERT_NEAR(ta.transfers[i].bytes, tb.transfers[i].bytes, 1e-6) << "transfer " << i;
  // Every tree edge carries the whole buffer's share twice (up, down):
  // 16 channels x 2 x 15 edges x 544 KiB.
  EXPECT_NEAR(tree.total_bytes(), 16 * 2 * 15 * tree_bytes / 16, 1e-3);
  EXPECT_TRUE(check_schedule(Op::kAllReduce, tree).ok());
}

// A chain of H hops at one rate B and latency a per hop, fed k whole
// chunks C and a remainder r (n = k C + r): a proportionate flow shop,
//   t = H a + n / B + (H - 1) C / B,
// the fill paid in whole chunks. Cut into k + 1 equal pieces, the fill
// would be (H - 1) n / (k + 1) / B: 25% of C less here.
TEST(ChunkRemainder, AChainPipelinesWholeChunksThenItsRemainder) {
  const topology::Network net(topology_from_text(R"(name: star
devices:
  - {name: g, kind: gpu, count: 4}
  - {name: sw, kind: switch}
links:
  - {from: g, to: sw, rate: 100GB/s, latency: 1us, class: ideal}
)"));
  const double n = 2.25 * kChunk, B = 100e9, a = 2e-6;  // a hop: two links
  const int H = 3;
  const double expected = H * a + n / B + (H - 1) * kChunk / B;
  for (const char* backend : {"simgrid", "analytical"}) {
    const Schedule s = chain_broadcast(4, n, 0);
    ASSERT_EQ(s.repeats, 3);
    const auto r = run_schedules(backend, net, {s});
    EXPECT_NEAR(r[0].time_s, expected, 1e-12) << backend;
    EXPECT_NEAR(r[0].bytes_sent, H * n, 1e-3) << backend;
  }
}

// Time never falls as the buffer grows: on two H100 nodes (8 x 400G
// InfiniBand), a tree and NVLSTree from 7 to 10 MiB and from 15 to 17 MiB
// in 1/4 MiB steps, on both backends. Cut evenly, 8.25 MiB (two pieces
// of 264 KiB per channel) ran 39% faster than 8 MiB (one of 512 KiB).
// SimGrid shares links between flows as they overlap (max-min), which
// moves a time by up to 0.1% either way (15.75 MiB: 102.94 us, 16 MiB:
// 102.91); the analytical backend is exactly monotone.
TEST(ChunkRemainder, TimeNeverFallsAsTheBufferGrows) {
  const topology::Network net(
      topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/tests/validation/topologies/h100-ib400-2node.yaml"));
  std::vector<int> domains(16);
  for (int r = 0; r < 16; ++r) domains[static_cast<std::size_t>(r)] = r / 8;
  std::vector<double> sizes;
  for (double mib = 7; mib <= 10; mib += 0.25) sizes.push_back(mib * 1048576);
  for (double mib = 15; mib <= 17; mib += 0.25) sizes.push_back(mib * 1048576);
  std::vector<Schedule> trees, nvls_trees;
  for (double bytes : sizes) {
    trees.push_back(tree_allreduce(16, bytes, domains, TreeOptions{}));
    auto s = nvls_tree_allreduce(16, bytes, 0.85, domains, NvlsOptions{});
    ASSERT_TRUE(s.ok());
    nvls_trees.push_back(std::move(*s));
  }
  for (const char* backend : {"simgrid", "analytical"}) {
    for (const auto* list : {&trees, &nvls_trees}) {
      const auto r = run_schedules(backend, net, *list);
      for (std::size_t i = 1; i < r.size(); ++i) {
        if (sizes[i] < sizes[i - 1]) continue;
        const double slack = std::string(backend) == "simgrid" ? 1e-3 : 1e-12;
        EXPECT_GE(r[i].time_s, r[i - 1].time_s * (1 - slack))
            << backend << " " << (*list)[i].algo << " " << sizes[i - 1] << " -> " << sizes[i] << " B";
      }
    }
  }
}

// NVLSTree on 512 H100 nodes pipelines hundreds of copies through queues
// that the recurrence cuts short once a queue sets the pace; a remainder
// then runs from the last whole copy's bounded finishes (compact_cost.h).
// 1,300 MiB (a remainder) lies between 1,280 and 1,536 MiB (none), on both
// backends, as `collsim collective` runs it. The bounds once read a
// queue's tail for heads only: a crash.
TEST(ChunkRemainder, ALongNvlsTreeWithARemainderLiesBetweenItsNeighbours) {
  for (const std::string backend : {"analytical", "simgrid"}) {
    std::vector<double> times;
    for (const char* size : {"1280M", "1300M", "1536M"}) {
      times.push_back(collsim::testing::collective_field(std::string("-t topologies/h100-ib400-512node.yaml -b ") +
                                                             size + " -e " + size + " --algo nvlstree --backend " +
                                                             backend,
                                                         "time_us"));
    }
    const double slack = backend == "simgrid" ? 1e-3 : 1e-12;
    EXPECT_GE(times[1], times[0] * (1 - slack)) << backend;
    EXPECT_LE(times[1], times[2] * (1 + slack)) << backend;
  }
}

}  // namespace
}  // namespace collsim::collective
