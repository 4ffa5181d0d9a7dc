#include "sim/collective/nvls.h"

#include <gtest/gtest.h>

#include "sim/collective/check.h"

namespace collsim::collective {
namespace {

TEST(Nvls, ComputesAnAllReduceWithTheSwitchAsHelper) {
  for (int p : {2, 3, 8, 9}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      const Schedule s = nvls_allreduce(p, bytes, 0.85);
      EXPECT_EQ(s.helper_ranks, 1);
      const Status st = check_allreduce(s);
      EXPECT_TRUE(st.ok()) << "p=" << p << ": " << st.error().to_string();
    }
  }
}

TEST(Nvls, MulticastBeforeTheSumIsCaught) {
  Schedule s = nvls_allreduce(4, 1e4, 1.0);
  // The last transfer multicasts chunk 3; without its dependency on the
  // owner's store it could leave before the sum exists.
  s.transfers.back().deps.clear();
  EXPECT_FALSE(check_allreduce(s).ok());
}

TEST(Nvls, EachGpuSendsAndReceivesNPlusNOverP) {
  // The traffic NCCL's NVLS generates per GPU (nvls.h): n + n/p each way.
  const int p = 8;
  const double n = 64.0 * 1048576, eff = 0.5;
  const Schedule s = nvls_allreduce(p, n, eff);
  std::vector<double> up(p, 0), down(p, 0);
  for (const auto& t : s.transfers) {
    if (t.src < p) up[t.src] += t.bytes;
    if (t.dst < p) down[t.dst] += t.bytes;
  }
  for (int g = 0; g < p; ++g) {
    EXPECT_NEAR(up[g] * eff, n + n / p, 1e-6 * n);  // wire bytes carry the efficiency
    EXPECT_NEAR(down[g] * eff, n + n / p, 1e-6 * n);
  }
}

// NVLSTree: NVLS in each domain, the double binary tree between domains.
std::vector<int> domains_of(int nd, int g) {
  std::vector<int> out;
  for (int d = 0; d < nd; ++d)
    for (int i = 0; i < g; ++i) out.push_back(d);
  return out;
}

TEST(NvlsTree, ComputesAnAllReduceWithOneSwitchPerDomain) {
  for (auto [nd, g] : {std::pair{2, 4}, {3, 2}, {5, 8}, {2, 1}}) {
    for (double bytes : {1e4, 64.0 * 1048576}) {
      auto s = nvls_tree_allreduce(nd * g, bytes, 0.85, domains_of(nd, g));
      ASSERT_TRUE(s.ok()) << s.error().to_string();
      EXPECT_EQ(s->helper_ranks, nd);
      const Status st = check_allreduce(*s);
      EXPECT_TRUE(st.ok()) << nd << " x " << g << ": " << st.error().to_string();
    }
  }
}

TEST(NvlsTree, RefusesOneDomainAndUnequalDomains) {
  EXPECT_FALSE(nvls_tree_allreduce(4, 1e6, 0.85, domains_of(1, 4)).ok());
  EXPECT_FALSE(nvls_tree_allreduce(5, 1e6, 0.85, {0, 0, 0, 1, 1}).ok());
}

TEST(NvlsTree, EachGpuMovesNPlusNOverGThroughItsSwitchAndNOverGOverTwoNodes) {
  // Per GPU through the switch: its whole buffer up plus its portion's
  // store (n + n/g), the portion's domain sum and the multicast down (n/g +
  // n). Between two domains each tree has one edge: n/g each way per GPU.
  const int nd = 2, g = 4;
  const double n = 64.0 * 1048576, eff = 0.5;
  auto s = nvls_tree_allreduce(nd * g, n, eff, domains_of(nd, g));
  ASSERT_TRUE(s.ok());
  const int p = nd * g;
  std::vector<double> up(p, 0), down(p, 0), net_out(p, 0), net_in(p, 0);
  for (const auto& t : expand(*s).transfers) {
    if (t.dst >= p) up[t.src] += t.bytes * eff;
    if (t.src >= p) down[t.dst] += t.bytes * eff;
    if (t.src < p && t.dst < p) net_out[t.src] += t.bytes, net_in[t.dst] += t.bytes;
  }
  for (int r = 0; r < p; ++r) {
    EXPECT_NEAR(up[r], n + n / g, 1e-6 * n);
    EXPECT_NEAR(down[r], n + n / g, 1e-6 * n);
    EXPECT_NEAR(net_out[r], n / g, 1e-6 * n);
    EXPECT_NEAR(net_in[r], n / g, 1e-6 * n);
  }
}

// NCCL 2.30's NVLSTree chunk (src/transport/nvls.cc ncclNvlsTuning and
// ncclNvlsTreeSm100Tuning, src/enqueue.cc calcCollChunking), worked by hand.
TEST(NvlsTree, ChunksAsNcclChoosesThem) {
  constexpr double KiB = 1024, MiB = 1048576, GiB = 1073741824;
  // H100, 2 nodes x 8: 16 channels x 8 heads = 128 chunks in flight, at
  // most 128 KiB; 64 KiB below 4 x 128 x 128 KiB = 64 MiB, 32 KiB below
  // 1 x 128 x 64 KiB = 8 MiB.
  const auto h100 = nccl_nvls_tree_chunking("h100", 2, 8);
  EXPECT_EQ(h100.channels, 16);
  EXPECT_EQ(h100.max_chunk_bytes, 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(h100, GiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(h100, 64 * MiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(h100, 32 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(h100, 8 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(h100, 4 * MiB, 8), 32 * KiB);
  // From 4 nodes NCCL caps the tree's chunk at 64 KiB; an unnamed model is
  // taken as Hopper.
  EXPECT_EQ(nccl_nvls_tree_chunking("h100", 4, 8).max_chunk_bytes, 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunking("", 2, 8).channels, 16);
  // B200, 2 nodes x 8 (400G NIC behind a PCIe switch): 32 channels, 64 KiB.
  const auto b200 = nccl_nvls_tree_chunking("b200", 2, 8);
  EXPECT_EQ(b200.channels, 32);
  EXPECT_EQ(b200.max_chunk_bytes, 64 * KiB);
  // 64 KiB is not above the 64 KiB step, so the next halving comes below
  // 1 x 256 x 64 KiB = 16 MiB.
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b200, 32 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b200, 8 * MiB, 8), 32 * KiB);
  // B300, 4 nodes x 8 (800G NIC): 24 channels and 256 KiB; 128 KiB below
  // 16 x 192 x 256 KiB = 768 MiB, 64 KiB below 4 x 192 x 128 KiB = 96 MiB.
  const auto b300 = nccl_nvls_tree_chunking("b300", 4, 8);
  EXPECT_EQ(b300.channels, 24);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b300, GiB, 8), 256 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b300, 512 * MiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b300, 64 * MiB, 8), 64 * KiB);
  // Two GB200 NVL72 racks: 72 GPUs per domain (16 or more): 64 KiB.
  EXPECT_EQ(nccl_nvls_tree_chunking("gb200", 2, 72).max_chunk_bytes, 64 * KiB);
  // Before NCCL 2.30.3 Blackwell took Hopper's rule with 32 channels
  // (2.26.2 src/enqueue.cc and src/transport/nvls.cc): B200 on 2 nodes
  // 128 KiB, halved to 64 KiB below 4 x 256 x 128 KiB = 128 MiB; 64 KiB
  // from 4 nodes.
  const collsim::collective::NcclRelease r2262{2, 26, 2};
  const auto b200_2262 = nccl_nvls_tree_chunking("b200", 2, 8, r2262);
  EXPECT_EQ(b200_2262.channels, 32);
  EXPECT_EQ(b200_2262.max_chunk_bytes, 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b200_2262, 128 * MiB, 8), 128 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunk_bytes(b200_2262, 64 * MiB, 8), 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunking("b200", 4, 8, r2262).max_chunk_bytes, 64 * KiB);
  EXPECT_EQ(nccl_nvls_tree_chunking("b300", 4, 8, {2, 30, 2}).channels, 32);
}

TEST(NvlsTree, PiecesStandForATreesChannelsChunks) {
  // H100, 2 x 8, 1 GiB: a portion's half on one tree is 64 MiB, cut into
  // pieces of 8 channels x 128 KiB = 1 MiB: 64 per (portion, tree).
  std::vector<int> domains = domains_of(2, 8);
  NvlsOptions options;
  options.tree_chunking = nccl_nvls_tree_chunking("h100", 2, 8);
  auto s = nvls_tree_allreduce(16, 1073741824.0, 0.85, domains, options);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->chunks, 8 * 2 * 64);
  // The named bound: at most 256 pieces (8 GiB would need 512).
  s = nvls_tree_allreduce(16, 8 * 1073741824.0, 0.85, domains, options);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->chunks, 8 * 2 * 256);
}

// Pipelined, NVLSTree is one slice repeated, its NVLS stages queueing on
// shared connections within a slice; expanded, it is exactly the schedule
// written out slice by slice.
TEST(NvlsTree, PipelinedFormExpandsToEverySliceWrittenOut) {
  NvlsOptions written;
  written.pipelined = false;
  auto pipelined = nvls_tree_allreduce(12, 64.0 * 1048576, 0.85, domains_of(3, 4));
  auto b = nvls_tree_allreduce(12, 64.0 * 1048576, 0.85, domains_of(3, 4), written);
  ASSERT_TRUE(pipelined.ok() && b.ok());
  ASSERT_GT(pipelined->repeats, 1);
  const Schedule a = expand(*pipelined);
  ASSERT_EQ(a.transfers.size(), b->transfers.size());
  for (std::size_t i = 0; i < a.transfers.size(); ++i) {
    const Transfer &x = a.transfers[i], &y = b->transfers[i];
    ASSERT_TRUE(x.src == y.src && x.dst == y.dst && x.bytes == y.bytes && x.chunk == y.chunk && x.deps == y.deps &&
                x.queue_after == y.queue_after && x.channel == y.channel && x.switch_addend == y.switch_addend)
        << "transfer " << i;
  }
  EXPECT_TRUE(check_allreduce(*pipelined).ok());
}

// Every transfer queues behind the previous one on its connection and
// stream (the NVLS stages, each tree), checked by brute force against the
// written-out schedule: its streams read off each transfer (to the switch:
// a load reduces, a store copies; from it: the sum back follows loads, a
// multicast follows a store; between owners: the tree is the channel's
// parity), over interleaved domains so that owners are not contiguous.
TEST(NvlsTree, EveryTransferQueuesBehindTheLastOnItsConnection) {
  NvlsOptions written;
  written.pipelined = false;
  written.max_tree_slices = 3;
  const int ranks = 15;
  std::vector<int> domains(ranks);
  for (int r = 0; r < ranks; ++r) domains[static_cast<std::size_t>(r)] = r % 5;
  auto s = nvls_tree_allreduce(ranks, 64.0 * 1048576, 0.85, domains, written);
  ASSERT_TRUE(s.ok());
  const auto& ts = s->transfers;
  auto stream = [&](const Transfer& t) {
    if (t.dst >= ranks) return t.action == Action::kReduce ? 0 : 1;
    if (t.src >= ranks) return ts[static_cast<std::size_t>(t.deps.front())].action == Action::kReduce ? 2 : 3;
    return 4 + t.channel % 2;
  };
  int queued = 0;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    int expected = -1;
    for (std::size_t j = i; j-- > 0;) {
      if (ts[j].src == ts[i].src && ts[j].dst == ts[i].dst && stream(ts[j]) == stream(ts[i])) {
        expected = static_cast<int>(j);
        break;
      }
    }
    ASSERT_EQ(ts[i].queue_after, expected) << "transfer " << i;
    queued += expected >= 0;
  }
  EXPECT_GT(queued, static_cast<int>(ts.size()) / 2);  // slices, portions and trees share connections
}

// NCCL's ncclNvlsSupported (src/include/device.h, 2.18 to 2.30.7): the
// switch sums float and double; sums, mins and maxes half, bfloat16 and
// 32/64-bit integers; reduces no 8-bit type, and no prod or avg at all.
TEST(Nvls, ReducesOnlyWhatNcclsKernelsReduce) {
  for (const char* type : {"float", "double"}) {
    EXPECT_TRUE(nccl_nvls_reduces("sum", type)) << type;
    for (const char* op : {"prod", "min", "max", "avg"}) EXPECT_FALSE(nccl_nvls_reduces(op, type)) << op;
  }
  for (const char* type : {"half", "bfloat16", "int32", "uint32", "int64", "uint64"}) {
    for (const char* op : {"sum", "min", "max"}) EXPECT_TRUE(nccl_nvls_reduces(op, type)) << op << type;
    for (const char* op : {"prod", "avg"}) EXPECT_FALSE(nccl_nvls_reduces(op, type)) << op << type;
  }
  for (const char* type : {"int8", "uint8", "f8e4m3", "f8e5m2"}) EXPECT_FALSE(nccl_nvls_reduces("sum", type)) << type;
}

}  // namespace
}  // namespace collsim::collective
