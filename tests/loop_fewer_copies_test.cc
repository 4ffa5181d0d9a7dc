// nccl-tests' loop for pipelines too long to replay whole
// (engine/nccl_tests_loop.h kNcclTestsLoopMinCopies): replayed with fewer
// copies of their slice, a row's time is its own run less the fill the loop
// hid of the shorter one. The oracle is the loop's own rule, replayed whole
// where that is possible: on a pipelined chain the hidden fill is the hops'
// (p - 2) h less their share of the average (the closed form in
// nccl_tests_loop_test.cc), the same for any number of slices, so the
// estimate must agree with the whole replay: within 0.01% at 512 MiB and
// 0.6% at 64 MiB, where a connection's buffer holds a larger share of an
// iteration and its credits reach back further with fewer slices (0.2%
// before LL128's chains waited for whole steps at their network hops,
// engine/plan.h chain_hop_latency_s, which lengthens how far they reach;
// bounds 1% there and 0.5% at 512 MiB).
#include <gtest/gtest.h>

#include <string>

#include "sim/cli/collective_sweep.h"
#include "sim/engine/backend.h"
#include "sim/report/collective_table.h"
#include "test_support.h"

namespace collsim::cli {
namespace {

struct Looped {
  double time_us = 0, single_us = 0;
  int copies = 0;
  bool skipped = false;
};

Looped broadcast(engine::Backend& backend, const topology::Network& net, double bytes, double limit,
                 collective::Op op = collective::Op::kBroadcast) {
  SweepRequest req;
  req.op = op;
  req.sizes = {bytes};
  req.ranks = 32;
  req.nccl_tests_iterations = 20;
  req.loop_max_transfers = limit;
  auto rows = run_collective_sweep(req, net, backend);
  EXPECT_TRUE(rows.ok()) << rows.error().to_string();
  if (!rows.ok()) return {};
  const auto& r = rows->front();
  return {r.time_us, r.single_us, r.loop_copies, r.loop_skipped};
}

// Four H100 nodes (31 hops): Simple and LL128 chains of hundreds of slices,
// replayed whole and with a limit that leaves a few dozen copies.
TEST(LoopFewerCopies, AgreesWithTheWholeReplay) {
  const topology::Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml"));
  for (const char* name : {"analytical", "simgrid"}) {
    auto backend = engine::make_backend(name);
    ASSERT_TRUE(backend.ok());
    for (auto op : {collective::Op::kBroadcast, collective::Op::kReduce}) {
      for (double bytes : {64.0 * 1048576, 512.0 * 1048576}) {
        const Looped whole = broadcast(**backend, net, bytes, 2e5, op);
        ASSERT_EQ(whole.copies, 0) << name << " " << bytes << ": replayed whole";
        ASSERT_GT(whole.single_us, whole.time_us) << name << " " << bytes << ": the loop hides part of the fill";
        const Looped fewer = broadcast(**backend, net, bytes, 2000, op);
        ASSERT_GE(fewer.copies, engine::detail::kNcclTestsLoopMinCopies) << name << " " << bytes;
        EXPECT_FALSE(fewer.skipped);
        EXPECT_DOUBLE_EQ(fewer.single_us, whole.single_us) << name << " " << bytes;
        EXPECT_NEAR(fewer.time_us, whole.time_us, (bytes < 128.0 * 1048576 ? 0.01 : 0.005) * whole.time_us)
            << name << " " << bytes << " " << collective::op_name(op) << ": " << fewer.copies << " copies";
      }
    }
  }
}

// The table says which rows were replayed with fewer copies, and --json
// how many.
TEST(LoopFewerCopies, TheTableAndJsonSaySo) {
  report::CollectiveRow row;
  row.op = "broadcast";
  row.ranks = 512;
  row.bytes = 1048576;
  row.time_us = 140;
  row.single_us = 1380;
  row.loop_iterations = 20;
  row.loop_copies = 32;
  const std::string table = report::format_collective_table({}, {row});
  EXPECT_NE(table.find("replayed with fewer of their slices"), std::string::npos) << table;
  EXPECT_NE(report::collective_json({}, {row}).find("\"loop_copies\":32"), std::string::npos);
  row.loop_copies = 0;
  EXPECT_EQ(report::format_collective_table({}, {row}).find("replayed with fewer of their slices"), std::string::npos);
}

// Below the fewest copies the loop may not be steady: one collective's
// time, said (loop_skipped), not estimated.
TEST(LoopFewerCopies, TooFewCopiesStayOneCollectives) {
  const topology::Network net(
      collsim::testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) + "/topologies/h100-ib400-4node.yaml"));
  auto backend = engine::make_backend("analytical");
  ASSERT_TRUE(backend.ok());
  const Looped r = broadcast(**backend, net, 256.0 * 1048576, 100);
  EXPECT_TRUE(r.skipped);
  EXPECT_EQ(r.copies, 0);
  EXPECT_EQ(r.single_us, 0) << "no loop: time_us is one collective's";
}

}  // namespace
}  // namespace collsim::cli
