// What a user sees outside the tables: `--json -` (and the other output
// options) on standard output, `collsim --version`, and the step timeline of
// the HTML report.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/cli/args.h"
#include "sim/cli/output.h"
#include "test_support.h"

namespace collsim {
namespace {

using collsim::testing::run_collsim;

// `--json -` writes the JSON to standard output, and only the JSON (it
// used to create a file named '-').
TEST(StdoutOutputs, JsonDashIsStandardOutputForEveryCommand) {
  const std::string dash = std::string(COLLSIM_SOURCE_DIR) + "/-";
  std::filesystem::remove(dash);
  const std::vector<std::pair<std::string, std::string>> commands{
      {"collective -t topologies/hgx-h100.yaml -b 1M -e 2M --backend analytical --json -", "results"},
      {"topo topologies/hgx-h100.yaml --json -", "gpus"},
      {"run -t topologies/h100-ib400-4node.yaml -w tests/data/workloads/small-4node.yaml --what-if off "
       "--backend analytical --json -",
       "step_time_s"},
      {"validate --backend analytical --json -", "cases"},
  };
  for (const auto& [args, key] : commands) {
    const auto r = run_collsim(args);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
    ASSERT_FALSE(r.out.empty()) << args;
    EXPECT_EQ(r.out.front(), '{') << args << ": " << r.out.substr(0, 80);
    EXPECT_EQ(r.out.back(), '\n') << args;
    const YAML::Node doc = YAML::Load(r.out);  // JSON is YAML; the human table would not parse as one document
    EXPECT_TRUE(doc.IsMap()) << args;
    EXPECT_TRUE(doc[key]) << args << " has no '" << key << "'";
    EXPECT_FALSE(std::filesystem::exists(dash)) << args << " wrote a file named '-'";
  }
  // The collective's rows are the ones the file output has.
  const std::string file = ::testing::TempDir() + "dash.json";
  const auto to_file =
      run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 2M --backend analytical --json " + file);
  const auto to_stdout =
      run_collsim("collective -t topologies/hgx-h100.yaml -b 1M -e 2M --backend analytical --json -");
  ASSERT_EQ(to_file.exit_code, 0);
  EXPECT_EQ(to_stdout.out, collsim::testing::read_file(file));
}

TEST(StdoutOutputs, TwoOutputsCannotShareStandardOutput) {
  const auto r = run_collsim("topo topologies/hgx-h100.yaml --json - --dot -");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--json and --dot both name '-'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// An output option naming a pipe or a symbolic link: the pipe is written
// (renaming a file over it would replace it, and its reader would get
// nothing; so would a device such as /dev/null), and the link keeps
// pointing at the file that receives the output.
TEST(FileOutputs, PipesAreWrittenAndLinksFollowed) {
  const std::string dir = ::testing::TempDir() + "collsim_outputs_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string args = "collective -t topologies/hgx-h100.yaml -b 1M -e 1M --backend analytical --json ";
  const std::string fifo = dir + "/pipe.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened first and without blocking, so the writer's open succeeds; the
  // small document fits in the pipe's buffer.
  const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  const auto r = run_collsim(args + fifo);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  ASSERT_FALSE(got.empty());
  EXPECT_NE(YAML::Load(got)["results"].size(), 0u);

  const std::string target = dir + "/target.json", link = dir + "/link.json";
  std::filesystem::remove(target);
  std::filesystem::remove(link);
  {
    std::FILE* f = std::fopen(target.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  std::filesystem::create_symlink(target, link);
  const auto l = run_collsim(args + link);
  EXPECT_EQ(l.exit_code, 0) << l.err;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_GT(std::filesystem::file_size(target), 0u);
  std::filesystem::remove_all(dir);
}

TEST(Version, PrintsTheProjectVersionFromCMakeLists) {
  // The oracle is CMakeLists.txt's project(... VERSION x.y.z ...), read here.
  const std::string cmake = collsim::testing::read_file(std::string(COLLSIM_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(collsim VERSION ([0-9]+\.[0-9]+\.[0-9]+))")));
  for (const char* spelling : {"--version", "-V", "version"}) {
    const auto r = run_collsim(spelling);
    EXPECT_EQ(r.exit_code, 0) << spelling << ": " << r.err;
    EXPECT_EQ(r.out, "collsim " + m[1].str() + "\n") << spelling;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

// The issue's case: 9 pipeline stages drew 8 timeline rows and skipped stage 4.
TEST(Run, HtmlTimelineShowsEveryStageOfANineStagePipeline) {
  const std::string html = ::testing::TempDir() + "pp9.html";
  const auto r = run_collsim(
      "run --topology topologies/gb200-nvl72-8rack.yaml --workload workloads/llama3-405b.yaml "
      "--what-if off --backend analytical --html " +
      html);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = collsim::testing::read_file(html);
  // order [tp, pp, dp], tp 8: stage s of replica 0 is GPUs 8s .. 8s + 7.
  for (int s = 0; s < 9; ++s) {
    const std::string label = ">stage " + std::to_string(s) + " (GPU " + std::to_string(8 * s) + "-" +
                              std::to_string(8 * s + 7) + ") compute<";
    EXPECT_NE(page.find(label), std::string::npos) << label;
  }
  EXPECT_NE(page.find("Replica 0, 9 of 9 pipeline stages."), std::string::npos);
  EXPECT_EQ(page.find("not shown"), std::string::npos);
}

}  // namespace
}  // namespace collsim

namespace collsim {
namespace {

// -v / --log-level: what the simulator decided, on standard error only; the
// table on standard output is the same, and nothing is logged by default.
TEST(Logging, VerboseTellsTheTunersChoiceOnStandardErrorOnly) {
  const std::string args = "collective -t topologies/h100-ib400-4node.yaml -b 1M -e 1M --backend analytical";
  const auto quiet = collsim::testing::run_collsim(args);
  const auto verbose = collsim::testing::run_collsim("-v " + args);
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
  EXPECT_EQ(verbose.out, quiet.out);
  // The choice and NCCL's predicted time of every pair it weighed (`auto`).
  EXPECT_NE(verbose.err.find("collsim: info: tuner: allreduce of 1048576 B on 32 ranks: chose "), std::string::npos)
      << verbose.err;
  EXPECT_NE(verbose.err.find("NCCL's model predicts tree/LL128 "), std::string::npos) << verbose.err;
  EXPECT_NE(verbose.err.find("ring/LL128"), std::string::npos) << verbose.err;
  // `tuned` simulates NCCL's algorithms and names the one left out (NVLS across nodes).
  const auto tuned = collsim::testing::run_collsim("-v " + args + " --algo tuned");
  EXPECT_NE(tuned.err.find("skipped nvls"), std::string::npos) << tuned.err;
  // Point-to-point relays at debug; routes at trace.
  const auto debug = collsim::testing::run_collsim(
      "collective -t topologies/h100-ib400-4node.yaml --op alltoall -b 1M -e 1M --backend analytical --log-level "
      "debug");
  EXPECT_NE(debug.err.find("collsim: debug: pxn: n0gpu0 -> n1gpu1 relayed through n0gpu1"), std::string::npos)
      << debug.err.substr(0, 400);
  const auto bad = collsim::testing::run_collsim("--log-level=loud " + args);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--log-level must be trace, debug, info, warn, error or off, found 'loud'"), std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace collsim

namespace collsim::cli {
namespace {

// Progress counts: the time left is the time so far over the share done
// (5 of 20 in 10 s: 30 s more); none in the first second, before any is
// done, or once all are.
TEST(Progress, TimeLeftIsTheRateSoFar) {
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(count_and_time_left(5, 20, now - std::chrono::seconds(10)), "5 of 20, ~30 s left");
  EXPECT_EQ(count_and_time_left(0, 20, now - std::chrono::seconds(10)), "0 of 20");
  EXPECT_EQ(count_and_time_left(20, 20, now - std::chrono::seconds(10)), "20 of 20");
  EXPECT_EQ(count_and_time_left(5, 20, now), "5 of 20");
}

// Which options may be given twice is one field (OptionSpec::repeatable):
// the parser keeps every value of those, refuses a second different value
// of any other, and --help says which are which.
TEST(Options, RepeatableIsOneFieldForParserAndHelp) {
  const std::vector<cli::OptionSpec> specs{{"set", "", true, "override a field", "", false, true},
                                           {"topology", "t", true, "topology YAML file", ""}};
  auto twice = cli::parse_args(specs, {"--set", "a=1", "--set=b=2", "-t", "x.yaml", "--topology", "x.yaml"});
  ASSERT_TRUE(twice.ok());
  EXPECT_EQ(twice->all("set"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(twice->get("topology"), "x.yaml");
  auto differ = cli::parse_args(specs, {"-t", "x.yaml", "--topology", "y.yaml"});
  ASSERT_FALSE(differ.ok());
  EXPECT_NE(differ.error().message.find("option '--topology' given twice"), std::string::npos);
  const std::string help = cli::format_options_help(specs);
  EXPECT_NE(help.find("override a field (repeatable)"), std::string::npos) << help;
  EXPECT_EQ(help.find("topology YAML file (repeatable)"), std::string::npos) << help;
  // Every command's help marks the options its code reads every value of.
  // An option's block runs from its line to the next line starting with '-'.
  for (const char* command : {"run", "collective", "goodput", "topo", "validate"}) {
    const auto r = collsim::testing::run_collsim(std::string(command) + " --help");
    std::map<std::string, std::string> block;
    std::string current;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const auto first = line.find_first_not_of(' ');
      if (first != std::string::npos && line[first] == '-') {
        const auto long_at = line.find("--");
        current = long_at == std::string::npos ? "" : line.substr(long_at, line.find(' ', long_at) - long_at);
      }
      if (!current.empty()) block[current] += line;
    }
    int marked = 0;
    for (const auto& [name, text] : block) {
      const bool repeatable = name == "--set" || name == "--set-workload" || name == "--fail" || name == "--degrade" ||
                              name == "--job" || name == "--slow" || name == "--nccl-tests";
      EXPECT_EQ(text.find("(repeatable)") != std::string::npos, repeatable) << command << " " << name;
      marked += repeatable;
    }
    EXPECT_GT(marked, 0) << command;
  }
}

// A row says what NCCL's own cost model predicted for the pair `auto` ran
// (the time -v prints for it), and 0 where the model chose nothing: on 8
// GB200 racks with NVLS off NCCL's model picks ring LL128 at 1 GiB, which
// collsim runs at twice that time.
TEST(StdoutOutputs, JsonRowsCarryNcclsPredictionForAutosPick) {
  const std::string base =
      "collective -t topologies/gb200-nvl72-8rack.yaml --set nccl.nvls=false -b 1G -e 1G "
      "--backend analytical --json - ";
  const auto picked = run_collsim("-v " + base);
  ASSERT_EQ(picked.exit_code, 0) << picked.err;
  const auto row = YAML::Load(picked.out)["results"][0];
  EXPECT_EQ(row["algo"].as<std::string>() + "/" + row["proto"].as<std::string>(), "ring/LL128");
  const double predicted = row["nccl_model_us"].as<double>();
  EXPECT_NE(picked.err.find(fmt::format("NCCL's model predicts ring/LL128 {:.2f} us", predicted)), std::string::npos)
      << picked.err;
  EXPECT_GT(row["time_us"].as<double>(), 1.5 * predicted);
  const auto named = run_collsim(base + "--algo ring --proto LL128");
  ASSERT_EQ(named.exit_code, 0) << named.err;
  // The same pair named: the model's same time for it (it gave 0 before).
  EXPECT_DOUBLE_EQ(YAML::Load(named.out)["results"][0]["nccl_model_us"].as<double>(), predicted);
}

// nccl-tests times its iterations back to back (src/common.cu), which hides a
// broadcast's or reduce's chain at small sizes: the table says so for those
// two ops, and only where a chain has more than one hop.
TEST(Collective, BroadcastAndReduceTablesSayWhatNcclTestsLoopHides) {
  const std::string args = "collective -t topologies/h100-ib400-4node.yaml -b 8 -e 8 --backend analytical --op ";
  for (const char* op : {"broadcast", "reduce"}) {
    auto r = run_collsim(args + op);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("# broadcast, reduce: the time is one collective's, along its whole chain"), std::string::npos)
        << op << r.out;
  }
  for (const std::string other : {"allreduce", "broadcast --ranks 2"}) {
    auto r = run_collsim(args + other);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("# broadcast, reduce:"), std::string::npos) << other << r.out;
  }
}

}  // namespace
}  // namespace collsim::cli

// The executable's heap on huge pages (sim/cli/heap_pages.h) changes where
// tcmalloc maps memory, never a result: a collective sweep and a training
// step print the same bytes with it off (COLLSIM_HUGE_PAGES=0) and on.
TEST(Heap, HugePagesChangeNoResult) {
  const std::vector<std::string> commands = {
      "collective -t topologies/hgx-h100.yaml --op allreduce -b 1M -e 64M --json -",
      "run -t topologies/h100-ib400-4node.yaml -w workloads/llama3-70b.yaml --backend analytical --json -"};
  for (const auto& command : commands) {
    ::setenv("COLLSIM_HUGE_PAGES", "0", 1);
    const auto off = collsim::testing::run_collsim(command);
    ::unsetenv("COLLSIM_HUGE_PAGES");
    const auto on = collsim::testing::run_collsim(command);
    EXPECT_EQ(off.exit_code, 0) << off.err;
    EXPECT_EQ(on.exit_code, 0) << on.err;
    EXPECT_FALSE(on.out.empty()) << command;
    EXPECT_EQ(off.out, on.out) << command;
  }
}

// A result says what produced it: the NCCL release modelled, the default
// too (it was left out unless --nccl was given), and the topology's --set
// overrides, in the table's header and the JSON.
TEST(CollectiveOutput, NamesTheReleaseAndTheOverrides) {
  const std::string run = "collective -t topologies/hgx-h100.yaml -b 1M -e 1M";
  const auto table = collsim::testing::run_collsim(run + " --set nccl.buffsize=8M --set nccl.pxn=false");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("# NCCL release modelled: 2."), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("# --set: nccl.buffsize=8M nccl.pxn=false\n"), std::string::npos) << table.out;
  const auto json = collsim::testing::run_collsim(run + " --nccl 2.26.2 --set nccl.buffsize=8M --json -");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"nccl\":\"2.26.2\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"overrides\":[\"nccl.buffsize=8M\"]"), std::string::npos) << json.out;
  const auto plain = collsim::testing::run_collsim(run + " --json -");
  EXPECT_NE(plain.out.find("\"nccl\":\"2."), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("\"overrides\""), std::string::npos) << plain.out;
}

// nccl-tests allocates a send, a receive and an expected buffer of
// --maxbytes on every GPU after keeping min(1 GiB per 16 GiB, 4 GiB) and 1
// GiB more, and lowers --maxbytes to what fits (src/common.cu): on an H100
// (81,559 MiB as nvidia-smi reports it, 79.65 GiB) (79.65 - 4 - 1) / 3 =
// 24.88 GiB, 37.32 GiB without its data check (-c 0). A simulation runs the
// size asked for, and says so.
TEST(CollectiveOutput, WarnsWhereNcclTestsWouldLowerMaxBytes) {
  const std::string run = "collective -t topologies/hgx-h100.yaml --backend analytical";
  const auto big = collsim::testing::run_collsim(run + " -b 32G -e 32G");
  EXPECT_EQ(big.exit_code, 0) << big.err;
  EXPECT_NE(big.err.find("--maxbytes 32 GiB: nccl-tests would lower it to 24.88 GiB on this GPU (79.65 GiB of HBM "
                         "(h100), less 4 GiB it keeps and 1 GiB, over 3 buffers"),
            std::string::npos)
      << big.err;
  EXPECT_EQ(collsim::testing::run_collsim(run + " -b 32G -e 32G -c 0").err.find("lower it"), std::string::npos);
  EXPECT_NE(collsim::testing::run_collsim(run + " -b 40G -e 40G -c 0").err.find("lower it to 37.32 GiB"),
            std::string::npos);
  EXPECT_EQ(collsim::testing::run_collsim(run + " -b 24G -e 24G").err.find("lower it"), std::string::npos);
  // Beyond the GPU's own HBM, the warning says that first.
  EXPECT_NE(collsim::testing::run_collsim(run + " -b 140G -e 140G")
                .err.find("--maxbytes 140 GiB is more than one GPU's 79.65 GiB of HBM, so no run could hold it; "
                          "nccl-tests would lower it to 24.88 GiB"),
            std::string::npos);
}
