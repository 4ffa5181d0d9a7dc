// Finite buffers (issue 16 item 5): a connection keeps NCCL's buffer in
// flight, so over a long link it moves at most window / round trip, round
// trip = 2 x the route's latency + the protocol's step latencies, and an
// NCCL ring's Simple connection its channels' slots per cycle
// (engine/plan.h). Both backends, against the closed form.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>

#include "sim/collective/protocol.h"
#include "sim/collective/schedule.h"
#include "sim/engine/backend.h"
#include "sim/engine/plan.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collective::Protocol;

// Two GPUs, each behind a NIC of 50 GB/s on one switch; the second NIC's
// cable has `latency` (500 us: 100 km of fibre).
topology::Network far_pair(const std::string& latency) {
  return topology::Network(collsim::testing::topology_from_text(std::string(R"(name: far
devices:
  - {name: g, kind: gpu, count: 2}
  - {name: n, kind: nic, count: 2}
  - {name: s, kind: switch}
links:
  - {from: g, to: n, pattern: zip, rate: 64GB/s, latency: 0s, class: pcie, efficiency: 1}
  - {from: "n[0]", to: s, rate: 50GB/s, latency: 0s, class: infiniband, efficiency: 1}
  - {from: "n[1]", to: s, rate: 50GB/s, class: infiniband, efficiency: 1, latency: )") +
                                                                latency + "}\n"));
}

// One transfer of 1 GB from rank 0 to rank 1 under `protocol`, as `algo`.
collective::Schedule one_transfer(Protocol protocol, const char* algo) {
  collective::Schedule s;
  s.op = "sendrecv";
  s.algo = algo;
  s.ranks = 2;
  s.chunks = 1;
  s.protocol = protocol;
  collective::Transfer t;
  t.src = 0;
  t.dst = 1;
  t.bytes = 1e9;
  s.transfers = {t};
  return s;
}

void expect_time(const topology::Network& net, const collective::Schedule& s, double expected) {
  for (const char* name : {"simgrid", "analytical"}) {
    auto backend = make_backend(name);
    ASSERT_TRUE(backend.ok());
    auto r = (*backend)->run(net, {s}, RunOptions{});
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_NEAR((*r)[0].time_s, expected, 1e-9 * expected) << name << " " << s.algo;
  }
}

// Simple's window is 4 MiB; a short link is not capped.
TEST(FiniteBuffers, ALongLinkMovesAtMostTheWindowPerRoundTrip) {
  for (const char* latency : {"500us", "1us"}) {
    const auto costs =
        collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kSimple, collective::HopKind::kNet);
    const double one_way = std::string(latency) == "500us" ? 500e-6 : 1e-6;
    const double rtt = 2 * one_way + costs.step_latency_s;
    const double rate = std::min(50e9, 4194304.0 / rtt);
    expect_time(far_pair(latency), one_transfer(Protocol::kSimple, "direct"),
                costs.launch_latency_s + one_way + costs.step_latency_s + 1e9 / rate);
    if (std::string(latency) == "1us")
      EXPECT_DOUBLE_EQ(rate, 50e9);  // the cluster's own cable: not capped
    else
      EXPECT_LT(rate, 5e9);  // 100 km: about 4 GB/s per connection
  }
}

// An NCCL ring's step under LL128 over InfiniBand also pays the class's
// ring step latency (8 us, link_classes.cc), in its latency and in its
// round trip; LL128's window is 4,915,200 wire bytes, 120 of 128 payload.
TEST(FiniteBuffers, ARingStepUnderLl128PaysItsRingStepLatencyInTheRoundTrip) {
  const auto costs =
      collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kLL128, collective::HopKind::kNet);
  const double step = costs.step_latency_s + 8e-6;
  const double rate = std::min(50e9, 4915200.0 / (2 * 500e-6 + step));
  expect_time(far_pair("500us"), one_transfer(Protocol::kLL128, "ring"),
              costs.launch_latency_s + 500e-6 + step + 1e9 * 128 / 120 / rate);
}

// NCCL's Simple slots (engine/plan.h simple_ring_slot_rate_Bps), by hand:
// 4 slices a channel, each half of min(chunk = buffer / 2, step) but at
// least buffer / 128, held for the data's step, the credit's way back and
// the slice's arrival and drain.
TEST(FiniteBuffers, SimpleRingSlotsHoldHalfAChunkForARoundTrip) {
  // 8 MiB steps under the 4 MiB buffer: 1 MiB slices; 2 channels share 44.5
  // GB/s (22.25 each); 71 us out, 57 us back: 128 + 2 x 47.13 = 222.25 us,
  // 2 x 4 x 1 MiB / 222.25 us = 37.74 GB/s.
  using detail::simple_ring_slot_rate_Bps;
  const double full = simple_ring_slot_rate_Bps(8388608, 2, 4194304, 71e-6, 57e-6, 44.5e9);
  EXPECT_NEAR(full, 2 * 4 * 1048576 / (128e-6 + 2 * 1048576 / 22.25e9), 1);
  EXPECT_NEAR(full / 1e9, 37.74, 0.01);
  // A 256 KiB step fills each slice with 128 KiB: 4 x 128 KiB a channel.
  EXPECT_NEAR(simple_ring_slot_rate_Bps(262144, 2, 4194304, 71e-6, 57e-6, 44.5e9),
              2 * 4 * 131072 / (128e-6 + 2 * 131072 / 22.25e9), 1);
  // A 16 KiB step is below a slice's floor (4 MiB / 128 = 32 KiB): one slice
  // carries the whole chunk, so its slot is held for 2 x 16 KiB / r.
  EXPECT_NEAR(simple_ring_slot_rate_Bps(16384, 2, 4194304, 71e-6, 57e-6, 44.5e9),
              2 * 2 * 16384 / (128e-6 + 2 * 16384 / 22.25e9), 1);
  // Half a channel per transfer: half a channel's slots, at the route's rate.
  EXPECT_NEAR(simple_ring_slot_rate_Bps(262144, 0.5, 4194304, 71e-6, 57e-6, 44.5e9),
              0.5 * 4 * 131072 / (128e-6 + 2 * 131072 / 44.5e9), 1);
  // NCCL_BUFFSIZE=8M: 2 MiB slices, more than the link.
  EXPECT_GT(simple_ring_slot_rate_Bps(8388608, 2, 8388608, 71e-6, 57e-6, 44.5e9), 44.5e9);
  // Nothing to cap without bytes, channels, a buffer or a rate.
  EXPECT_EQ(simple_ring_slot_rate_Bps(0, 2, 4194304, 71e-6, 57e-6, 44.5e9), 0);
  EXPECT_EQ(simple_ring_slot_rate_Bps(8388608, 0, 4194304, 71e-6, 57e-6, 44.5e9), 0);
  EXPECT_EQ(simple_ring_slot_rate_Bps(8388608, 2, 4194304, 71e-6, 57e-6, 0), 0);
}

// A slice's arrival and its drain each pay the channel's cost per message
// (collective/protocol.h ring_channel_message_rate_Bps) on top of its bytes
// at the channel's own rate, a message of at most NCCL_IB_AR_THRESHOLD
// (8 KiB) nothing: cycle = 128 us + 2 x 32 KiB / 22.25 GB/s + 7 us per
// slice above it. Under the 4 MiB buffer a step of 32 to 64 KiB has 32 KiB
// slices (the floor): at 32 KiB the second is empty, at 36 KiB 4 KiB, at
// 64 KiB 32 KiB. The cost scaled by slice / step once made 36 KiB slower
// than 64.
TEST(FiniteBuffers, SimpleRingSlotsPayTheMessageCostOnArrivalAndDrain) {
  using detail::simple_ring_slot_rate_Bps;
  const double slices = 128e-6 + 2 * 32768 / 22.25e9;
  for (auto [step, costly] : {std::pair{32768.0, 1}, {36864.0, 1}, {65536.0, 2}}) {
    const double cycle = slices + costly * 7e-6;
    const double rate = simple_ring_slot_rate_Bps(step, 2, 4194304, 71e-6, 57e-6, 44.5e9, 7e-6);
    EXPECT_NEAR(rate, 2 * 2 * step / cycle, 1) << step;
    EXPECT_NEAR(2 * step / rate, cycle / 2, 1e-12) << step;  // a step's time: half a cycle
    // NCCL_IB_AR_THRESHOLD=0: every slice with a byte pays (32 KiB: one).
    EXPECT_NEAR(simple_ring_slot_rate_Bps(step, 2, 4194304, 71e-6, 57e-6, 44.5e9, 7e-6, 0),
                2 * 2 * step / (slices + (step > 32768 ? 2 : 1) * 7e-6), 1)
        << step;
  }
}

// A ring step of under half a byte per transfer (8 B over 32 ranks and 16
// channels) still takes its Simple slots for a round trip: SimGrid skipped
// the cap for flows it did not simulate, so the same ring took 342 us at
// 8-64 B and 978 us from 128 B (elements = ranks), where the analytical
// backend gave 963 throughout.
TEST(FiniteBuffers, ARingStepUnderAByteStillWaitsForItsSlots) {
  const std::string run = "-t topologies/h100-ib400-4node.yaml --algo ring --proto Simple ";
  const double tiny = testing::collective_time_us(run + "-b 8 -e 8 --backend simgrid");
  EXPECT_NEAR(tiny, testing::collective_time_us(run + "-b 512 -e 512 --backend simgrid"), 1e-4 * tiny);
  EXPECT_NEAR(tiny, testing::collective_time_us(run + "-b 8 -e 8 --backend analytical"), 0.05 * tiny);
}

// Runs `collective <args> --json -` and expects each row's time at least
// the one before it (at least `least_rows` rows).
void expect_time_never_falls(const std::string& args, int least_rows = 5) {
  const auto r = testing::run_collsim("collective " + args + " --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  double previous = 0;
  int rows = 0;
  for (std::size_t at = r.out.find("\"time_us\":"); at != std::string::npos;
       at = r.out.find("\"time_us\":", at + 1), ++rows) {
    const double t = std::stod(r.out.substr(at + 10));
    EXPECT_GE(t, previous * (1 - 1e-9)) << args << " row " << rows;
    previous = t;
  }
  EXPECT_GE(rows, least_rows) << args;
}

// Time never falls as a ring's message grows (same algorithm, protocol and
// cluster): a 4-node H100 all-gather under Simple took 713 us at 18 MiB,
// 544 at 16 and 32 MiB; 640 MiB on 8 GB200 racks took 46.8 ms, 1 GiB 34.6.
TEST(FiniteBuffers, ASimpleRingAcrossNodesNeverGetsFasterWithMoreBytes) {
  for (const char* args : {"-t topologies/h100-ib400-4node.yaml --op allgather -b 15M -e 80M -f 1.19",
                           "-t topologies/h100-ib400-4node.yaml --op allreduce -b 15M -e 80M -f 1.19",
                           "-t topologies/gb200-nvl72-8rack.yaml --op allreduce -b 512M -e 1G -i 128M"}) {
    for (const char* backend : {"analytical", "simgrid"}) {
      if (std::string(args).find("gb200") != std::string::npos && std::string(backend) == "simgrid") continue;
      expect_time_never_falls(std::string(args) + " --algo ring --proto Simple --backend " + backend);
    }
  }
}

// Nor as a broadcast's or reduce's chain grows: each network message's
// cost holds its hop before the next GPU sees it, whatever the slices
// (16 H100 nodes, LL128: 634 us at 256 KiB, 551 at 4 MiB; Simple 9.1 ms at
// 4 MiB on 128 nodes, 8.7 at 8 MiB; 8 GB200 racks, 1,595 us at 4 MiB, 1,585
// at 8). The cost is whole on every network hop: a 16-node chain crosses 15.
// Nor across a channel's step (16 channels of 576,000 B under LL128: 8.8
// MiB), where a chain's network hop waits for its whole step: at the rate
// the message cost leaves an average message it took 16 nodes 1,042 us for
// a 9 MiB reduce and 963 for 17 MiB (engine/plan.h chain_hop_latency_s).
// Simple's slices, whole 512 KiB messages, moved at the rate of the
// channel's average message: a 9 MiB broadcast 4,255 us, 15 MiB 4,193.
TEST(FiniteBuffers, AChainAcrossNodesNeverGetsFasterWithMoreBytes) {
  for (const char* args : {"-t topologies/h100-ib400-128node.yaml --set cluster.nodes=16 -b 64K -e 64M",
                           "-t topologies/gb200-nvl72-8rack.yaml -b 1M -e 32M"}) {
    for (const char* op : {"broadcast", "reduce"}) {
      for (const char* proto : {"LL128", "Simple"}) {
        expect_time_never_falls(std::string(args) + " --op " + op + " --algo ring --proto " + proto +
                                " --backend analytical");
      }
    }
  }
  for (const char* op : {"broadcast", "reduce"}) {
    for (const char* proto : {"LL", "LL128", "Simple"}) {
      expect_time_never_falls(std::string("-t topologies/h100-ib400-128node.yaml --set cluster.nodes=16 -b 8M -e 20M "
                                          "-i 1M --algo ring --backend analytical --op ") +
                              op + " --proto " + proto);
    }
  }
}

// A ring's transfer under Simple takes the slots' cap in place of the
// window (both backends): over the 1 us cable a 64 KiB step per channel
// (32 KiB slices) on 2 channels, 25 GB/s each, goes out in 1 + 14 us
// (NCCL's Simple network step) and its credit back in 1 us (no fabric step
// latency on this class); an 8 MiB step is not capped there. Over 100 km the
// slots of both channels move more than one buffer per round trip
// (window_rate_Bps's single connection). Under LL128 each of the two
// channels keeps its own window (4,915,200 wire bytes): twice one window a
// round trip (it was one window for the transfer, which took a 256 MiB
// all-reduce over 40 km 4 times the link-bound time).
TEST(FiniteBuffers, ASimpleRingTransferMovesItsChannelsSlotsPerCycle) {
  const auto costs =
      collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kSimple, collective::HopKind::kNet);
  ASSERT_DOUBLE_EQ(costs.step_latency_s, 14e-6);
  auto ring = [](Protocol protocol, double step) {
    auto s = one_transfer(protocol, "ring");
    s.ring_channel_step_bytes = step;
    s.ring_channels_per_transfer = 2;
    return s;
  };
  const double small = 2 * 4 * 32768 / (15e-6 + 1e-6 + 2 * 32768 / 25e9);
  EXPECT_NEAR(small / 1e9, 14.08, 0.01);
  expect_time(far_pair("1us"), ring(Protocol::kSimple, 65536), costs.launch_latency_s + 15e-6 + 1e9 / small);
  expect_time(far_pair("1us"), ring(Protocol::kSimple, 8388608), costs.launch_latency_s + 15e-6 + 1e9 / 50e9);
  const double far = 2 * 4 * 1048576 / (514e-6 + 500e-6 + 2 * 1048576 / 25e9);
  EXPECT_GT(far, 4194304 / (2 * 500e-6 + 14e-6));
  expect_time(far_pair("500us"), ring(Protocol::kSimple, 8388608), costs.launch_latency_s + 514e-6 + 1e9 / far);
  const auto ll128 =
      collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kLL128, collective::HopKind::kNet);
  const double step = ll128.step_latency_s + 8e-6;
  expect_time(far_pair("500us"), ring(Protocol::kLL128, 65536),
              ll128.launch_latency_s + 500e-6 + step + 1e9 * 128 / 120 / std::min(50e9, 2 * 4915200.0 / (1e-3 + step)));
}

// A point-to-point message is not a stream: its first window (Simple's 4
// MiB) leaves without a credit, so a message that fits pays the route's
// latency and its bytes at the link's rate however long the link, and a
// larger one waits a round trip for each further window: time = latency +
// (M - W) x round trip / W + W / rate. It was capped at window / round
// trip from its first byte (1 MiB over 40 km: 328 us, not 245).
TEST(FiniteBuffers, APointToPointMessageSendsItsFirstWindowWithoutACredit) {
  const auto costs =
      collective::protocol_costs(collective::LatencyFamily::kRing, Protocol::kSimple, collective::HopKind::kNet);
  const double latency = 500e-6 + costs.step_latency_s;
  const double rtt = 2 * 500e-6 + costs.step_latency_s;
  const double window = 4194304;
  for (double bytes : {1048576.0, 4194304.0, 1e9}) {
    auto s = one_transfer(Protocol::kSimple, "direct");
    s.point_to_point = true;
    s.transfers[0].bytes = bytes;
    const double data = bytes <= window ? bytes / 50e9 : (bytes - window) * rtt / window + window / 50e9;
    expect_time(far_pair("500us"), s, costs.launch_latency_s + latency + data);
  }
}

// Point-to-point keeps its parts' chunks in flight, not NCCL_BUFFSIZE: a
// send/recv across a 200 us cable is window-bound at 1 GiB, 4 x larger
// chunks (NCCL_P2P_NET_CHUNKSIZE) move 4 x the window a round trip (below
// the link's 47 GB/s), and the table's note names that setting.
TEST(FiniteBuffers, PointToPointWindowsAreItsChunksInFlight) {
  const std::string args =
      "collective -t topologies/h100-ib400-4node.yaml --op sendrecv --ranks 16 -b 1G -e 1G "
      "--set links[3].latency=200us --backend analytical --json -";
  auto time_us = [](const collsim::testing::CommandResult& r) {
    const auto at = r.out.find("\"time_us\":");
    return at == std::string::npos ? 0.0 : std::stod(r.out.substr(at + 10));
  };
  const auto base = collsim::testing::run_collsim(args);
  const auto larger = collsim::testing::run_collsim(args + " --set nccl.p2p_net_chunksize=512K");
  ASSERT_EQ(base.exit_code, 0) << base.err;
  ASSERT_EQ(larger.exit_code, 0) << larger.err;
  EXPECT_NEAR(time_us(base) / time_us(larger), 4.0, 0.1) << base.out << larger.out;
  const auto table = collsim::testing::run_collsim(
      "collective -t topologies/h100-ib400-4node.yaml --op sendrecv --ranks 16 -b 1G -e 1G "
      "--set links[3].latency=200us --backend analytical");
  EXPECT_NE(table.out.find("--set nccl.p2p_net_chunksize="), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("NCCL_BUFFSIZE"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace collsim::engine

namespace collsim::engine {
namespace {

// A 4 GiB all-gather on 4 H100 nodes: a ring step of 8 MiB per channel
// crosses the network in messages of Simple's slots, 512 KiB under its
// 4 MiB buffer, each paying InfiniBand's 7 us (a third of its 22 us of
// bytes), so a 64 MiB buffer is 10% faster; the row says the buffer binds,
// and stops saying it once the buffer is large (a new user's report: false
// at every size before). Not a broadcast's: a larger buffer is a larger
// NCCL step (NCCL_BUFFSIZE / 8), which its chain's fill pays on every one
// of its 31 hops (collective/chain.h), so the same broadcast takes longer
// (the model's 16.0 and 26.8 ms; no measurement here).
TEST(FiniteBuffers, MessagesCutBySimplesSlotsAreBufferBound) {
  const std::string base = "-t topologies/h100-ib400-4node.yaml -b 4G -e 4G --backend analytical --set nccl.buffsize=";
  auto bound = [&](const std::string& op, const std::string& buffer) {
    const auto r = testing::run_collsim("collective --op " + op + " " + base + buffer + " --json -");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.find("\"buffer_bound\":true") != std::string::npos;
  };
  EXPECT_TRUE(bound("allgather", "4M"));
  EXPECT_FALSE(bound("allgather", "64M"));
  EXPECT_LT(testing::collective_time_us("--op allgather " + base + "64M"),
            0.95 * testing::collective_time_us("--op allgather " + base + "4M"));
  EXPECT_FALSE(bound("broadcast", "4M"));
  EXPECT_GT(testing::collective_time_us("--op broadcast " + base + "64M"),
            testing::collective_time_us("--op broadcast " + base + "4M"));
}

// Where a link is busy for 99% of the time or more, it binds and no buffer
// can help: one GPU on each of 4 nodes, a 1 GiB ring all-gather keeps its
// NIC 99.7% busy under a 4 MiB buffer, and the row did say buffer-bound (a
// new user's report: the same time with 64 MiB). A 64 KiB buffer, 17% busy
// and 6 times slower, is.
TEST(FiniteBuffers, ALinkThatBindsIsNotBufferBound) {
  const std::string args =
      "-t topologies/h100-ib400-4node.yaml --placement spread:4 --op allgather --algo ring -b 1G -e 1G "
      "--backend analytical --set nccl.buffsize=";
  const auto held = testing::run_collsim("collective " + args + "4M --json -");
  ASSERT_EQ(held.exit_code, 0) << held.err;
  EXPECT_NE(held.out.find("\"buffer_bound\":false"), std::string::npos) << held.out;
  const auto small = testing::run_collsim("collective " + args + "64K --json -");
  EXPECT_NE(small.out.find("\"buffer_bound\":true"), std::string::npos) << small.out;
  EXPECT_GT(testing::collective_time_us(args + "64K"), 5 * testing::collective_time_us(args + "4M"));
}

// NVLS on 8 H100s takes less time at 8 MiB than just below it (NCCL's
// chunk steps up, collective/nvls.h): the table says why.
TEST(FiniteBuffers, TheTableNamesWhereTimeFallsWithSize) {
  const auto r = testing::run_collsim(
      "collective -t topologies/hgx-h100.yaml --algo nvls -b 8126464 -e 8388608 -i 262144 --backend analytical");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# time falls with size from 8126464 to 8388608 bytes"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace collsim::engine
