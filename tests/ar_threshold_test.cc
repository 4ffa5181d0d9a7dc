// NCCL_IB_AR_THRESHOLD (collective/protocol.h ring_step_costly_messages):
// NCCL's verbs transport sends a message larger than the threshold (8 KiB
// by default, src/transport/net_ib/p2p.cc) as an RDMA write and a separate
// zero-byte write with immediate, a smaller one in one work request; only
// the larger pay the queue pair's cost per message. Counted by hand from
// NCCL's slots (8 per buffer) and slices, and on the engine: a ring whose
// messages are all below the threshold takes the time it takes with no
// cost at all.
#include <gtest/gtest.h>

#include <string>

#include "sim/collective/protocol.h"
#include "test_support.h"

namespace collsim {
namespace {

using collective::Protocol;
using collective::ring_step_costly_messages;

constexpr double kThreshold = collective::kNcclIbArThresholdBytes;
constexpr double kLl128Window = 4915200;   // 120 x 640 x 8 x 8 B: slots of 614,400 B
constexpr double kSimpleWindow = 4194304;  // slots of 512 KiB

TEST(ArThreshold, OnlyMessagesAboveTheThresholdAreCounted) {
  EXPECT_EQ(kThreshold, 8192);
  // LL128, one slot a message: a 4,369 B step (2 MiB all-gathered over 32
  // ranks and 16 channels, 128/120 on the wire) is one message under 8 KiB.
  EXPECT_EQ(ring_step_costly_messages(Protocol::kLL128, 4369, kLl128Window, 2, kThreshold), 0);
  EXPECT_EQ(ring_step_costly_messages(Protocol::kLL128, 8738, kLl128Window, 2, kThreshold), 1);
  EXPECT_EQ(ring_step_costly_messages(Protocol::kLL128, 8192, kLl128Window, 2, kThreshold), 0);  // not larger
  // A full slot and a 1-byte rest: two messages, one above.
  EXPECT_EQ(ring_step_costly_messages(Protocol::kLL128, 614401, kLl128Window, 2, kThreshold), 1);
  // Simple: a 2 MiB chunk in two 1 MiB slices, then the rest's first slice
  // (half of it, at least a sixteenth of a slot, 32,768 B) and its second
  // (what is left): a 20,000 B rest is one slice above 8 KiB: 3; 6,000 B
  // one under it: 2; 40,000 B is 32,768 + 7,232: 3; 80,000 B two slices
  // of 40,000: 4.
  EXPECT_EQ(ring_step_costly_messages(Protocol::kSimple, 2097152 + 20000, kSimpleWindow, 2, kThreshold), 3);
  EXPECT_EQ(ring_step_costly_messages(Protocol::kSimple, 2097152 + 6000, kSimpleWindow, 2, kThreshold), 2);
  EXPECT_EQ(ring_step_costly_messages(Protocol::kSimple, 2097152 + 40000, kSimpleWindow, 2, kThreshold), 3);
  EXPECT_EQ(ring_step_costly_messages(Protocol::kSimple, 2097152 + 80000, kSimpleWindow, 2, kThreshold), 4);
  // Threshold 0 (NCCL_IB_AR_THRESHOLD=0): every message NCCL sends.
  for (double wire : {1.0, 4369.0, 614401.0, 13421772.8})
    EXPECT_EQ(ring_step_costly_messages(Protocol::kSimple, wire, kSimpleWindow, 2, 0),
              collective::ring_step_messages(Protocol::kSimple, wire, kSimpleWindow))
        << wire;
  EXPECT_EQ(ring_step_costly_messages(Protocol::kLL128, 0, kLl128Window, 2, 0), 0);  // nothing sent
}

TEST(ArThreshold, TheRateLosesOnlyTheCostOfMessagesAboveIt) {
  using collective::ring_channel_message_rate_Bps;
  // 7 us a message on a 23.5 GB/s channel: D / (D / R + m x cost).
  EXPECT_DOUBLE_EQ(ring_channel_message_rate_Bps(Protocol::kLL128, 4369, kLl128Window, 23.5e9, 7e-6), 23.5e9);
  EXPECT_NEAR(ring_channel_message_rate_Bps(Protocol::kLL128, 8738, kLl128Window, 23.5e9, 7e-6),
              8738 / (8738 / 23.5e9 + 7e-6), 1);
  EXPECT_NEAR(ring_channel_message_rate_Bps(Protocol::kLL128, 4369, kLl128Window, 23.5e9, 7e-6, 2, 0),
              4369 / (4369 / 23.5e9 + 7e-6), 1);
}

// 4 x 8 H100 with a 400G InfiniBand NIC each: a ring all-gather under LL128
// on NCCL 2.24.3's 16 channels (32 ranks) sends 4,369 B messages at 2 MiB
// and 8,738 B at 4 MiB.
std::string allgather(const std::string& size, const std::string& extra = "") {
  return "-t topologies/h100-ib400-4node.yaml --op allgather --algo ring --proto LL128 --nccl 2.24.3 -b " + size +
         " -e " + size + " " + extra;
}

TEST(ArThreshold, ARingBelowTheThresholdTakesTheTimeItTakesWithoutTheCost) {
  const std::string free_messages = "--set link_classes.infiniband.qp_msg_cost=0us";
  for (const char* backend : {"analytical", "simgrid"}) {
    const std::string b = std::string("--backend ") + backend;
    const double small = testing::collective_time_us(allgather("2M", b));
    EXPECT_NEAR(small, testing::collective_time_us(allgather("2M", b + " " + free_messages)), 1e-6 * small) << backend;
    // Above it, every step pays; with NCCL_IB_AR_THRESHOLD=0 so does the smaller.
    EXPECT_GT(testing::collective_time_us(allgather("4M", b)),
              testing::collective_time_us(allgather("4M", b + " " + free_messages)) + 50)
        << backend;
    EXPECT_GT(testing::collective_time_us(allgather("2M", b + " --set nccl.ib_ar_threshold=0")), small + 50) << backend;
  }
}

TEST(ArThreshold, TheSettingReadsSizesAndRefusesNegativeOnes) {
  EXPECT_EQ(testing::run_collsim("collective " + allgather("1M", "--set nccl.ib_ar_threshold=16K")).exit_code, 0);
  const auto bad = testing::run_collsim("collective " + allgather("1M", "--set nccl.ib_ar_threshold=-1"));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("nccl.ib_ar_threshold"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace collsim
