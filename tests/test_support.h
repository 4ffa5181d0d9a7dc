// Shared helpers for tests: build networks from YAML text, run the CLI.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/collective/nccl_tuner.h"
#include "sim/config/topology_file.h"
#include "sim/topology/network.h"
#include "sim/topology/topology.h"

namespace collsim::testing {

// What NCCL's search sees of `nodes` HGX H100 nodes, 8 GPUs and 8 NICs of
// 400 Gb/s each (NCCL's figures: 18 NVLinks x 20.6 GB/s, 50 GB/s a NIC).
inline collective::NcclSystem h100_nccl_system(int nodes) {
  collective::NcclSystem s;
  s.gpu_model = "h100";
  s.nodes = nodes;
  s.ranks = 8 * nodes;
  s.nvlink_GBps = 370.8;
  s.nvswitch = true;
  s.nics = 8;
  s.nic_GBps = 50;
  return s;
}

inline topology::Topology topology_from_text(const std::string& yaml) {
  auto spec = config::load_topology_text(yaml, "test.yaml");
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  EXPECT_TRUE(topo.ok()) << topo.error().to_string();
  return *topo;
}

// `gpus` GPUs on one NVSwitch, each over one `rate` link of the `ideal`
// class (no derating), no latency; `nvls_reduction` > 0 bounds the
// switch's reduction engines (config::LinkClassSpec::nvls_reduction).
inline topology::Topology one_nvswitch(int gpus, const std::string& rate = "100GB/s", double nvls_reduction = 0) {
  std::string yaml = "name: one-nvswitch\n";
  if (nvls_reduction > 0) yaml += fmt::format("link_classes: {{ideal: {{nvls_reduction: {:.17g}}}}}\n", nvls_reduction);
  yaml += "devices:\n  - {name: g, kind: gpu, count: " + std::to_string(gpus) +
          "}\n  - {name: sw, kind: nvswitch}\nlinks:\n  - {from: g, to: sw, rate: " + rate +
          ", latency: 0s, class: ideal}\n";
  return topology_from_text(yaml);
}

// `sets`: --set overrides and failure flags (config::failure_flag), as the CLI's.
inline topology::Topology topology_from_file(const std::string& path, const std::vector<std::string>& sets = {}) {
  auto spec = config::load_topology_file(path, sets);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  auto topo = topology::build_topology(*spec);
  EXPECT_TRUE(topo.ok()) << topo.error().to_string();
  return *topo;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the collsim binary with `args` (shell words) from the source directory.
inline CommandResult run_collsim(const std::string& args) {
  static int counter = 0;
  const std::string base =
      ::testing::TempDir() + "collsim_cli_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  const std::string cmd = std::string("cd '") + COLLSIM_SOURCE_DIR + "' && '" + COLLSIM_BINARY + "' " + args + " >'" +
                          base + ".out' 2>'" + base + ".err'";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(base + ".out");
  r.err = read_file(base + ".err");
  return r;
}

// A run that must fail on bad input: `args` after `collsim`, from the
// project root, and what its one line on standard error must contain.
struct BadRun {
  std::string args;
  std::string expect;
};
// Exit 2 and exactly one line on standard error, containing `c.expect`.
inline void expect_one_clear_line(const BadRun& c) {
  const auto r = run_collsim(c.args);
  EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
  EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
}

// A 2-node H100 topology file whose line 3 sets `field: -3` under `nccl:`:
// `collsim collective` on it must exit 2 naming the line, the field and
// what it found. Returns the file (valid with `--set nccl.FIELD=...`).
inline std::string expect_nccl_setting_refused(const std::string& field) {
  const std::string file = ::testing::TempDir() + field + "_bad.yaml";
  std::ofstream(file) << "name: t\ncluster: {node: hgx-h100, nodes: 2}\nnccl: {" << field << ": -3}\n";
  const auto bad = run_collsim("collective -t " + file);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find(":3:"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find(field), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("found -3"), std::string::npos) << bad.err;
  return file;
}

// A number field (`key`: "busbw_GBps", "time_us") of the first row of
// `collsim collective` run with `args` (without --json), read from its
// JSON; 0 (and a test failure) if none.
inline double collective_field(const std::string& args, const std::string& key) {
  static int counter = 0;
  const std::string json =
      ::testing::TempDir() + "row_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + ".json";
  const CommandResult r = run_collsim("collective " + args + " --json " + json);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string out = read_file(json);
  const std::string quoted = "\"" + key + "\":";
  const auto at = out.find(quoted);
  EXPECT_NE(at, std::string::npos) << out;
  return at == std::string::npos ? 0.0 : std::stod(out.substr(at + quoted.size()));
}

// A text field (`key`: "algo", "proto") of the first row `collsim
// collective` ran; empty (and a test failure) if it did not run.
inline std::string collective_text(const std::string& args, const std::string& key) {
  const CommandResult r = run_collsim("collective " + args + " --json -");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string quoted = "\"" + key + "\":";
  const auto at = r.out.find(quoted);
  if (at == std::string::npos) return "";
  const auto q = r.out.find('"', at + quoted.size());
  return r.out.substr(q + 1, r.out.find('"', q + 1) - q - 1);
}
// The algorithm the first row ran (its JSON's "algo").
inline std::string collective_algo(const std::string& args) { return collective_text(args, "algo"); }

// busbw (GB/s) and time (us) of the first row (collective_field).
inline double collective_busbw(const std::string& args) { return collective_field(args, "busbw_GBps"); }
inline double collective_time_us(const std::string& args) { return collective_field(args, "time_us"); }

}  // namespace collsim::testing
