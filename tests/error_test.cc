// Error kinds and the one mapping from an error to the process exit code:
// the documented contract (README, docs/architecture.md) is 2 for bad input
// and 1 for an internal failure. End to end: refusals exit 2 with one line,
// and a workload that does not fit its topology names the values that would.
#include "sim/core/error.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "sim/cli/exit_code.h"
#include "sim/report/atomic_file.h"
#include "test_support.h"

namespace collsim {
namespace {

using collsim::testing::run_collsim;

std::size_t lines_of(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(ErrorKind, InputErrorsExit2AndInternalFailuresExit1) {
  EXPECT_EQ(cli::exit_code(make_error("tp must divide the heads")), 2);
  EXPECT_EQ(cli::exit_code(make_internal_error("the SimGrid engine crashed")), 1);
  // An Error spelled out field by field, as the readers build them, is about input.
  const Error with_position{"has no unit", "links[0].rate", SourceMark{"t.yaml", 7, 31}};
  EXPECT_EQ(cli::exit_code(with_position), 2);
  EXPECT_FALSE(with_position.internal());
}

TEST(ErrorKind, AFileErrorIsTheUsersWhenThePathIsUnusable) {
  for (int err : {ENOENT, EACCES, EISDIR, ENOTDIR, EROFS}) {
    EXPECT_EQ(cli::exit_code(make_file_error("cannot write 'x'", err)), 2) << err;
  }
  for (int err : {ENOSPC, EIO, EDQUOT}) {
    EXPECT_EQ(cli::exit_code(make_file_error("cannot write 'x'", err)), 1) << err;
  }
}

TEST(ErrorKind, AnOutputInAMissingDirectoryIsBadInput) {
  const auto s = report::write_file_atomically(::testing::TempDir() + "no/such/dir/out.json", "{}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(cli::exit_code(s.error()), 2) << s.error().to_string();
}

// Refusals of an algorithm for the ranks it was given are the user's choice
// of algorithm, not a failure of collsim: exit 2, one line (they exited 1).
TEST(ExitCodes, AlgorithmRefusalsAreBadInput) {
  // 32 GPUs in four NVLink domains of 8: nvls reduces inside one.
  auto r = run_collsim("collective -t topologies/h100-ib400-4node.yaml --op allreduce --algo nvls -b 1M -e 1M");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("error: nvls reduces inside one NVSwitch domain"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err), 1u) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // The first 12 GPUs: 8 in node 0, 4 in node 1, so hier's domains are unequal.
  r = run_collsim("collective -t topologies/h100-ib400-4node.yaml --op allreduce --algo hier --ranks 12 -b 1M -e 1M");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("hier needs NVLink domains of equal size; found 8 and 4 GPUs"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err), 1u) << r.err;
  // The same refusal inside a training step: ZeRO-0 all-reduces gradients over
  // the two data-parallel replicas, one per node.
  r = run_collsim(
      "run -t topologies/h100-ib400-4node.yaml -w tests/data/workloads/small-4node.yaml --algo nvls "
      "--what-if off --backend analytical --set-workload parallelism.zero=0");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("nvls reduces inside one NVSwitch domain"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(r.err), 1u) << r.err;
}

// Standard output on a full device: the command did everything right and
// the machine failed it, so exit 1 and say it is internal.
TEST(ExitCodes, AFailedWriteToStandardOutputIsAnInternalFailure) {
  ASSERT_EQ(::access("/dev/full", W_OK), 0) << "/dev/full (Linux's always-full device) is needed";
  const std::string err = ::testing::TempDir() + "devfull.err";
  const std::string cmd = std::string("cd '") + COLLSIM_SOURCE_DIR + "' && '" + COLLSIM_BINARY +
                          "' topo topologies/hgx-h100.yaml --json - >/dev/full 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string message = collsim::testing::read_file(err);
  EXPECT_NE(message.find("collsim topo: internal error: cannot write to standard output"), std::string::npos)
      << message;
}

TEST(ExitCodes, AnOutputPathThatCannotBeWrittenIsBadInput) {
  const auto r = run_collsim("topo topologies/hgx-h100.yaml --json " + ::testing::TempDir() + "no/such/dir/t.json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;
}

// Workloads that do not fit a shipped topology: the error names the values
// that would (worked out by hand in each comment), at the field's position.
TEST(Run, WorkloadsThatDoNotFitNameTheNearestValidValues) {
  struct Case {
    const char* topology;
    const char* workload;
    const char* expected;
  };
  const std::vector<Case> cases{
      // 576 GPUs / (tp 8 x pp 4) = dp 18; 18 x 28 = 504 < 512 < 522 = 18 x 29.
      {"gb200-nvl72-8rack", "llama3-70b",
       "workloads/llama3-70b.yaml:32:11: field 'batch.global': the global batch (512) must split into micro-batches "
       "of 1 over dp = 18 replicas (a multiple of 18); nearest valid batch.global: 504 or 522"},
      // 8 GPUs / tp 8 = 1: only pp 1 fits.
      {"hgx-h100", "llama3-70b",
       "workloads/llama3-70b.yaml:28:7: field 'parallelism.pp': tp x cp x pp = 8 x 1 x 4 = 32 does not divide the "
       "topology's 8 GPUs; nearest valid pp: 1"},
      // 32 GPUs / tp 8 = 4: pp 1, 2 or 4, of which 1 and 2 split 126 layers; no dp makes 8 x 9 x dp = 32.
      {"h100-ib400-4node", "llama3-405b",
       "workloads/llama3-405b.yaml:31:7: field 'parallelism.dp': tp x cp x pp x dp = 8 x 1 x 9 x 8 = 576, but the "
       "topology has 32 GPUs; no dp fits pp = 9; with dp left out (or 0), nearest valid pp: 2"},
      // 72 GPUs / tp 8 = 9: pp 1, whose dp 9 leaves the batch of 512 unsplit: 504 = 9 x 56, 513 = 9 x 57.
      {"gb200-nvl72", "llama3-70b",
       "nearest valid pp: 1 (with pp 1, batch.global 504 or 513, a multiple of micro-batch x dp)"},
      // 72 GPUs / (8 x 9) = 1.
      {"gb200-nvl72", "llama3-405b", "but the topology has 72 GPUs; dp = 1 uses them all (or leave dp out, or 0)"},
      // 32 GPUs / tp 8 = dp 4; ep must divide 4 and the 256 experts: 4.
      {"h100-ib400-4node", "deepseek-v3",
       "workloads/deepseek-v3.yaml:44:7: field 'parallelism.ep': ep (8) must divide dp (4); nearest valid ep: 4"},
  };
  for (const auto& c : cases) {
    const auto r = run_collsim(std::string("run -t topologies/") + c.topology + ".yaml -w workloads/" + c.workload +
                               ".yaml --what-if off --backend analytical");
    EXPECT_EQ(r.exit_code, 2) << c.topology << " x " << c.workload << ": " << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    EXPECT_EQ(lines_of(r.err), 1u) << r.err;
  }
}

}  // namespace
}  // namespace collsim
