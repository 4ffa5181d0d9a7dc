// `collsim collective` names what binds at each size: the busiest resource of
// each class, busy for its bytes (or an NVSwitch's adds) over its rate.
// Checked against closed forms of the bytes each resource must carry, and
// against conservation of the bytes on the links.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "sim/collective/direct.h"
#include "sim/collective/ring.h"
#include "sim/engine/schedule_loads.h"
#include "sim/report/collective_table.h"
#include "test_support.h"

namespace collsim {
namespace {

struct Busy {
  std::string resource, where;
  double share = 0;
};

// The first row's time (s) and busiest resources, from --json.
struct Row {
  double time_s = 0;
  std::vector<Busy> busiest;
};

std::string text_after(const std::string& s, std::size_t& at, const std::string& key) {
  at = s.find("\"" + key + "\":\"", at);
  if (at == std::string::npos) return "";
  const auto begin = at + key.size() + 4;
  at = s.find('"', begin);
  return s.substr(begin, at - begin);
}

Row first_row(const std::string& args) {
  const auto r = testing::run_collsim("collective " + args + " --json -");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Row row;
  const auto t = r.out.find("\"time_us\":");
  if (t == std::string::npos) return row;
  row.time_s = std::stod(r.out.substr(t + 10)) * 1e-6;
  std::size_t at = r.out.find("\"busiest\":[", t);
  const std::size_t end = at == std::string::npos ? at : r.out.find(']', at);
  while (at != std::string::npos) {
    Busy b;
    b.resource = text_after(r.out, at, "resource");
    if (at == std::string::npos || at > end) break;
    b.where = text_after(r.out, at, "where");
    at = r.out.find("\"share\":", at);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no share after " << b.resource << ": " << r.out;
      break;
    }
    b.share = std::stod(r.out.substr(at + 8));
    row.busiest.push_back(b);
  }
  return row;
}

// A file of this test's own (ctest runs each test as a process of its own,
// in parallel).
std::string one_switch_file(int gpus, double nvls_reduction) {
  const std::string file = ::testing::TempDir() + "busiest_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                           std::to_string(gpus) + ".yaml";
  std::string yaml = "name: one-switch\n";
  if (nvls_reduction > 0) yaml += "link_classes: {ideal: {nvls_reduction: " + std::to_string(nvls_reduction) + "}}\n";
  yaml += "devices:\n  - {name: g, kind: gpu, count: " + std::to_string(gpus) +
          "}\n  - {name: sw, kind: nvswitch}\nlinks:\n  - {from: g, to: sw, rate: 100GB/s, latency: 0s, class: "
          "ideal}\n";
  std::ofstream(file) << yaml;
  return file;
}

TEST(BusiestResource, RingLinksCarryTheRingsBytes) {
  // A ring all-reduce sends 2 (p - 1) / p x n out of every GPU (nccl-tests'
  // busbw definition): on one switch at 100 GB/s per link that is the
  // busiest link's busy time, and, the ring being link-bound on an idle
  // switch, all of the time.
  const double n = 1073741824.0, p = 8;
  const double busy_s = 2 * (p - 1) / p * n / 100e9;
  for (const char* backend : {"analytical", "simgrid"}) {
    const Row row =
        first_row("-t " + one_switch_file(8, 0) + " --algo ring --proto none -b 1G -e 1G --backend " + backend);
    ASSERT_EQ(row.busiest.size(), 1u) << backend;  // one class of link
    EXPECT_EQ(row.busiest[0].resource, "ideal gpu-nvswitch");
    EXPECT_NEAR(row.busiest[0].share * row.time_s, busy_s, 1e-9 * busy_s) << backend;
    EXPECT_GE(row.busiest[0].share, 0.97) << backend;
    EXPECT_LE(row.busiest[0].share, 1 + 1e-9) << backend;
  }
}

TEST(BusiestResource, NvlsNamesTheSwitchEnginesWhereTheyBind) {
  // p = 4, engines at 0.25 x 4 x 100 GB/s = 100 GB/s of adds: (p - 1) n of
  // adds take 3 n / R (nvls_engine_test.cc's closed form), the links' share
  // less: the engines bind and are named first.
  const double n = 1073741824.0;
  const double engines_s = 3 * n / 100e9;
  const Row row = first_row("-t " + one_switch_file(4, 0.25) + " --algo nvls --proto none -b 1G -e 1G");
  ASSERT_EQ(row.busiest.size(), 2u);
  EXPECT_EQ(row.busiest[0].resource, "nvswitch reduction engines");
  EXPECT_EQ(row.busiest[0].where, "sw");
  EXPECT_NEAR(row.busiest[0].share * row.time_s, engines_s, 1e-9 * engines_s);
  EXPECT_GE(row.busiest[0].share, 0.95);
  EXPECT_EQ(row.busiest[1].resource, "ideal gpu-nvswitch");
  EXPECT_LT(row.busiest[1].share, row.busiest[0].share);
}

TEST(BusiestResource, LinkBytesAreConserved) {
  // Every byte a ring transfer sends crosses two links on one switch (up to
  // it, down from it): the links' bytes sum to twice what the ranks send,
  // 2 x p x 2 (p - 1) / p x n, and each GPU's uplink carries its share.
  const double n = 1 << 20;
  const int p = 5;
  const topology::Network net(testing::one_nvswitch(p));
  const auto s = collective::ring_allreduce(p, n);
  double total = 0, up0 = 0;
  const std::vector<int> identity;
  engine::for_each_link_bytes(
      net, s, collective::Protocol::kNone, [&](int r) { return engine::rank_endpoint(net, s, identity, r); },
      [&](int l, double bytes) {
        total += bytes;
        if (net.link_name(l) == "g0->sw") up0 = bytes;
      });
  EXPECT_NEAR(total, 4.0 * (p - 1) * n, 1e-9 * total);
  EXPECT_NEAR(up0, 2.0 * (p - 1) / p * n, 1e-9 * n);
  // LL moves 8-byte lines of 4 data bytes and a 4-byte flag (NCCL's
  // src/device/prims_ll.h): twice the payload on the wire.
  double ll_total = 0;
  engine::for_each_link_bytes(
      net, s, collective::Protocol::kLL, [&](int r) { return engine::rank_endpoint(net, s, identity, r); },
      [&](int, double bytes) { ll_total += bytes; });
  EXPECT_NEAR(ll_total, 2 * total, 1e-9 * total);
}

TEST(BusiestResource, AllToAllAcrossNodesPutsEachRemoteBlockOnOneUplink) {
  // 2 x 8 H100s, one 400G NIC each: every rank sends n / 16 to each of the
  // 8 ranks of the other node, 8 n across in all; each such block leaves
  // through exactly one NIC (its own, or by PXN the one on the receiver's
  // rail) and enters through one, whatever the relay: the NICs' uplinks
  // carry 8 n, and so do their downlinks. Explicit pairs (all_pairs).
  const double n = 1 << 24;
  const auto topo = testing::topology_from_file(std::string(COLLSIM_SOURCE_DIR) +
                                                "/tests/validation/topologies/h100-ib400-2node.yaml");
  const topology::Network net(topo);
  std::vector<int> domain(16);
  for (int r = 0; r < 16; ++r) domain[static_cast<std::size_t>(r)] = r / 8;
  const auto s = collective::direct_alltoall(16, n, domain);
  double up = 0, down = 0;
  const std::vector<int> identity;
  engine::for_each_link_bytes(
      net, s, collective::Protocol::kSimple, [&](int r) { return engine::rank_endpoint(net, s, identity, r); },
      [&](int l, double bytes) {
        const auto& link = net.links()[static_cast<std::size_t>(l)];
        if (link.from_kind == config::DeviceKind::kNic && link.to_kind == config::DeviceKind::kSwitch) up += bytes;
        if (link.from_kind == config::DeviceKind::kSwitch && link.to_kind == config::DeviceKind::kNic) down += bytes;
      });
  EXPECT_NEAR(up, 8 * n, 1e-9 * n);
  EXPECT_NEAR(down, 8 * n, 1e-9 * n);
}

TEST(BusiestResource, TableNamesTheBusiestPerSize) {
  // 4 bytes over 4 ranks is no element each: nothing moves at that size.
  const auto r = testing::run_collsim("collective -t " + one_switch_file(4, 0.25) +
                                      " --op reducescatter --algo nvls -b 4 -e 1G -f 268435456");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("# busiest:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# 1073741824  "), std::string::npos) << r.out;  // one line per size that moves bytes
  EXPECT_NE(r.out.find("nvswitch reduction engines (sw)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("#          0  "), std::string::npos) << r.out;  // size 0 moves nothing
}

TEST(BusiestResource, LargeAllToAllsAreNotReadAndSaySo) {
  // 320 ranks: 102,080 pairs, above report::kBusiestMaxPairs (each pair
  // would be a route search): the row says it was not read.
  const std::string args =
      "collective -t topologies/h100-ib400-128node.yaml --op alltoall --ranks 320 -b 1G -e 1G "
      "--backend analytical";
  const auto text = testing::run_collsim(args);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("not shown: finding the busiest resource would route more than"), std::string::npos)
      << text.out;
  const auto json = testing::run_collsim(args + " --json -");
  EXPECT_NE(json.out.find("\"busiest\":[],\"busiest_skipped\":true"), std::string::npos) << json.out;
}

TEST(BusiestResource, SharesLineUpWhateverTheSizesDigits) {
  // A sweep to 16 GiB has sizes of 7 and 11 digits: each row's first share
  // starts in the same column, as nccl-tests' own table keeps its columns.
  std::vector<report::CollectiveRow> rows(2);
  rows[0].bytes = 1048576;
  rows[1].bytes = 17179869184.0;
  for (auto& r : rows) r.busiest = {{"infiniband nic-switch", "nic0->ib", 0.5}};
  const std::string table = report::format_collective_table({}, rows);
  const auto small = table.find("#     1048576 ");
  const auto large = table.find("# 17179869184 ");
  ASSERT_NE(small, std::string::npos) << table;
  ASSERT_NE(large, std::string::npos) << table;
  EXPECT_EQ(table.find('%', small) - small, table.find('%', large) - large) << table;
}

// A 10.24 s row keeps its microseconds: nccl-tests widens its time column
// past 7 digits rather than round (an exponent kept two digits: 1.0e+07).
TEST(BusiestResource, LongTimesKeepTheirDigits) {
  std::vector<report::CollectiveRow> rows(1);
  rows[0].bytes = 140e9;
  rows[0].time_us = 10240123.4;
  const std::string table = report::format_collective_table({}, rows);
  EXPECT_NE(table.find(" 10240123 "), std::string::npos) << table;
  EXPECT_EQ(table.find("e+07"), std::string::npos) << table;
}

}  // namespace
}  // namespace collsim
