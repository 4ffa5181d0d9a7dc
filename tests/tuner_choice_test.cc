// What a user asks the tuner for, in NCCL's terms (engine/tuner_choice.h):
// NCCL_ALGO's and NCCL_PROTO's lists, the protocols NCCL's point-to-point
// runs, and the SimGrid guard keeping NCCL's own pick where it runs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/collective/protocol.h"
#include "sim/engine/tuner.h"
#include "test_support.h"

namespace collsim::engine {
namespace {

using collective::Op;

// NCCL_ALGO and NCCL_PROTO take lists (NCCL's docs, environment variables):
// "Ring,Tree" lets NCCL's model choose among those, "^NVLSTree" among its own
// but those; the same for protocols ("^LL128" is a common workaround). On 4
// H100 nodes `auto` runs NVLSTree at 16 MiB and 256 MiB.
TEST(Tuner, NcclsListsRestrictWhatItsModelChoosesAmong) {
  const std::string run = "-t topologies/h100-ib400-4node.yaml --backend analytical ";
  EXPECT_EQ(collsim::testing::collective_algo(run + "-b 16M -e 16M"), "nvlstree");
  EXPECT_EQ(collsim::testing::collective_algo(run + "-b 16M -e 16M --algo ^NVLSTree"), "tree");
  EXPECT_EQ(collsim::testing::collective_algo(run + "-b 256M -e 256M --algo Ring,Tree"), "ring");
  EXPECT_EQ(*collective::protocol_candidates("^LL128"),
            (std::vector<collective::Protocol>{collective::Protocol::kLL, collective::Protocol::kSimple}));
  for (const char* size : {"-b 64K -e 64K", "-b 4M -e 4M"}) {
    const std::string proto = collsim::testing::collective_text(run + size + " --proto ^LL128", "proto");
    EXPECT_TRUE(proto == "LL" || proto == "Simple") << size << ": " << proto;
  }
  const auto bad_algo = collsim::testing::run_collsim("collective " + run + "--algo ring,foo");
  EXPECT_EQ(bad_algo.exit_code, 2);
  EXPECT_NE(bad_algo.err.find("--algo: unknown algorithm 'foo' in 'ring,foo'"), std::string::npos) << bad_algo.err;
  // NCCL_ALGO has no rhd; a list that leaves nothing here names why.
  const auto not_nccls = collsim::testing::run_collsim("collective " + run + "--algo ring,rhd");
  EXPECT_EQ(not_nccls.exit_code, 2);
  EXPECT_NE(not_nccls.err.find("unknown algorithm 'rhd' in 'ring,rhd'"), std::string::npos) << not_nccls.err;
  const auto one_node = collsim::testing::run_collsim(
      "collective -t topologies/hgx-h100.yaml -b 1M -e 1M --backend analytical --algo nvlstree,CollNetDirect");
  EXPECT_EQ(one_node.exit_code, 2);
  EXPECT_NE(one_node.err.find("--algo nvlstree,collnetdirect: no algorithm can run the allreduce of 1048576 bytes "
                              "over 8 ranks here (nvlstree: NCCL runs it only across NVLink domains; "
                              "collnetdirect: CollNet is off (nccl.collnet))"),
            std::string::npos)
      << one_node.err;
  const auto prod = collsim::testing::run_collsim(
      "collective -t topologies/hgx-h100.yaml -b 1M -e 1M --backend analytical --algo NVLS,nvlstree --redop prod");
  EXPECT_EQ(prod.exit_code, 2);
  EXPECT_NE(prod.err.find("--algo: nvls,nvlstree cannot reduce prod on float"), std::string::npos) << prod.err;
  const auto bad_proto = collsim::testing::run_collsim("collective " + run + "--proto ^LL,LL128,Simple");
  EXPECT_EQ(bad_proto.exit_code, 2);
  EXPECT_NE(bad_proto.err.find("--proto: '^LL,LL128,Simple' leaves no protocol"), std::string::npos) << bad_proto.err;
}

// NCCL's point-to-point runs LL or Simple, never LL128 (src/enqueue.cc):
// --proto LL128 on an all-to-all is refused (it ran), a list leaving LL and
// LL128 runs LL (it ran Simple, ignoring the list), and a training step
// naming LL128 for every op gives its all-to-alls NCCL's own rule.
TEST(Tuner, PointToPointNeverRunsLl128) {
  const std::string run = "collective -t topologies/h100-ib400-4node.yaml --backend analytical -b 1M -e 1M ";
  const auto refused = collsim::testing::run_collsim(run + "--op alltoall --proto LL128");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--proto: alltoall runs on NCCL's point-to-point operations, which use LL or Simple"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(collsim::testing::collective_text("-t topologies/h100-ib400-4node.yaml --backend analytical -b 1M -e 1M "
                                              "--op sendrecv --proto ^Simple",
                                              "proto"),
            "LL");
  TunerChoice step;
  step.protocol = "LL128";
  step.named_algorithm_for_every_op = true;
  TuneCase a2a{Op::kAllToAll, 64, 1 << 20, {}};
  for (int r = 0; r < 64; ++r) a2a.params.domain_of_rank.push_back(r / 8);
  auto built = build_candidates({a2a}, step, "analytical");
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  for (const auto& s : built->schedules) EXPECT_NE(s.protocol, collective::Protocol::kLL128);
}

// The guard must not skip what NCCL runs where SimGrid answers in seconds:
// NVLSTree over 8 NVL72 racks (576 ranks, 1.7e5 transfers, about 1.4 s) is
// NCCL's pick at 4 MiB (its model: NVLSTree before the tree). Weighed by the
// ranks (9.8e7 units, above the default 5e7) it was skipped, and `auto`
// printed the tree at 2.3x NVLSTree's time.
TEST(Tuner, TheSimGridGuardKeepsNcclsPickWhereItRunsInSeconds) {
  const std::string run = "-t topologies/gb200-nvl72-8rack.yaml -b 4M -e 4M --backend simgrid";
  EXPECT_EQ(collsim::testing::collective_algo(run), "nvlstree");
  const auto strict = collsim::testing::run_collsim("collective " + run + " --auto-max-work 3e6");
  EXPECT_EQ(strict.exit_code, 0) << strict.err;
  EXPECT_NE(strict.out.find("not simulated at any size: nvlstree Simple: 3.4e+06 units of SimGrid work "
                            "(1.7e+05 transfers x 20)"),
            std::string::npos)
      << strict.out;
}
}  // namespace
}  // namespace collsim::engine
