// collsim's public C++ API: simulate a collective over a range of sizes, or
// one training step, from the same files and overrides the command line
// takes, and read the results as plain structs. Only the standard library
// appears here; link the `collsim::collsim` CMake target
// (find_package(collsim)) or pkg-config's `collsim`.
//
// Units: bytes (sizes), seconds (times, unless a name says _us), GB/s =
// 1e9 bytes per second (bandwidths, as nccl-tests prints them).
// Errors: every function throws collsim::api::Error; `input()` says whether the
// inputs were at fault (a bad file, field or value: the command line's exit
// code 2) or the simulation failed (exit code 1). Messages name the file,
// line and column, or the request field, as the command line does.
// Threads: calls may run one at a time per process (the SimGrid backend
// forks a child per run, and routing caches are not shared between calls).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace collsim::api {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, bool input) : std::runtime_error(message), input_(input) {}
  bool input() const { return input_; }

 private:
  bool input_;
};

// The version `collsim --version` prints ("0.1.0").
std::string version();

// One collective over `sizes`, as `collsim collective` runs it.
struct CollectiveRequest {
  std::string topology;                    // topology file (docs/topology-format.md)
  std::vector<std::string> topology_sets;  // overrides, as --set: "cluster.nodes=4"
  std::string op = "allreduce";            // nccl-tests' name: allreduce, allgather, reducescatter, alltoall, ...
  std::string algo = "auto";               // --algo: auto, tuned, fastest, ring, tree, nvls, ...; "ring,tree", "^nvls"
  std::string proto = "auto";              // --proto: auto, LL, LL128, Simple, none; "LL,Simple", "^LL128"
  std::vector<double> sizes;               // bytes per rank as nccl-tests prints them; empty = {32 MiB}
  std::string datatype = "float";          // nccl-tests' names
  std::string redop = "sum";
  int ranks = 0;                    // the first `ranks` GPUs; 0 = all
  int root = 0;                     // broadcast and reduce
  std::string backend = "simgrid";  // or "analytical"
  // Which GPUs the ranks run on, as --placement: all, packed:N, per-domain:K,
  // spread:N, random:N[:SEED], domains:LIST, gpus:LIST. Not with `ranks`.
  std::string placement = "all";
  // The NCCL release to model, as --nccl ("2.27", "2.27.3-1"): its tuning
  // tables. Empty = collsim's default release (`collsim collective --help`).
  std::string nccl;
};

// One row of the table `collsim collective` prints (nccl-tests' columns).
struct CollectiveRow {
  std::string op, algo, proto;
  double bytes = 0;
  long long count = 0;  // elements of `datatype`
  std::string datatype, redop;
  int ranks = 0;
  double time_us = 0;
  double algbw_GBps = 0;                   // bytes / time
  double busbw_GBps = 0;                   // algbw x nccl-tests' factor for the op
  bool aggregated = false;                 // SimGrid simulated ring steps one at a time (docs/performance.md)
  std::vector<std::string> not_simulated;  // "algorithm: why", candidates the tuner skipped
  // What binds (the table's `# busiest`): per class of resource ("nvlink5
  // gpu-nvswitch", "nvswitch reduction engines"), the one busy longest
  // (`where`: a link or NVSwitch), busy for `share` of time_us (0-1),
  // busiest first, at most 3; empty where nothing moves or the schedule is
  // too large to read (the table says which: above 4 million connections,
  // or an all-to-all of more than 100,000 pairs, about 300 GPUs).
  struct Busy {
    std::string resource, where;
    double share = 0;
  };
  std::vector<Busy> busiest;
  bool busiest_skipped = false;  // not read: the schedule is above those limits
  int root = -1;                 // broadcast and reduce: the root rank; -1 otherwise (nccl-tests' column)
  // As the command line's JSON: the analytical time is least certain (the
  // schedule's transfers share links); NCCL's buffer held a transfer below
  // its links' rate; under `auto`, NCCL's own model's time for its pick
  // (us; 0 otherwise).
  bool contended = false;
  bool buffer_bound = false;
  double nccl_model_us = 0;
};

std::vector<CollectiveRow> run_collective(const CollectiveRequest& request);

// One training step, as `collsim run` simulates it.
struct StepRequest {
  std::string topology, workload;                         // files (docs/topology-format.md, docs/workload-format.md)
  std::vector<std::string> topology_sets, workload_sets;  // --set, --set-workload
  std::string backend = "simgrid";                        // or "analytical"
  bool what_if = false;           // re-simulate with each critical resource upgraded (slower; `collsim run` does)
  bool memory_check = true;       // a plan that does not fit in HBM is an input error
  std::string placement = "all";  // which GPUs the job runs on, as --placement
};

struct StepResult {
  double step_time_s = 0;
  double compute_s = 0;                // per worker, mean over workers
  double bubble_s = 0;                 // pipeline bubble
  double exposed_communication_s = 0;  // communication with no compute running
  double tokens_per_s = 0;
  double mfu = 0;                 // model FLOP/s per GPU / the GPUs' peak; NaN when the peak is unknown
  double peak_memory_bytes = 0;   // HBM per GPU of the fullest pipeline stage
  double hbm_capacity_bytes = 0;  // 0 = unknown
  int gpus = 0;
  std::string json;  // the whole report, as `collsim run --json` writes it (docs/workload-format.md)
};

StepResult run_step(const StepRequest& request);

}  // namespace collsim::api
