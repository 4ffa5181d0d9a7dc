// The validation table (tests/validation/cases.yaml): published measurements
// with the collective, topology and algorithm they were taken with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"
#include "sim/core/error.h"

namespace collsim::config {

struct ValidationPoint {
  double bytes = 0;
  double measured = 0;  // in the case's metric
};

// Where a case's list of --set overrides (topology_set, workload_set) sits
// in its file, so an error one of its entries causes can point there.
struct SetList {
  SourceMark at;      // of the list, or of the case when the list is absent
  std::string field;  // "cases[3].topology_set"
};

// The override an error about a --set or --set-workload entry names (its
// "a=b") and what it says ("field 'f': ..." where it names a field);
// nullopt for any other error.
struct SetEntryError {
  std::string entry;
  std::string message;
};
std::optional<SetEntryError> set_entry_error(const Error& e);

// `e` pointing at `list` (its field, its file position) when one of
// `entries` caused it (an error about a --set or --set-workload override
// names the flag and the assignment); any other error unchanged.
Error at_set_list(Error e, const std::vector<std::string>& entries, const SetList& list);

struct ValidationCase {
  std::string name;
  std::string source;
  std::string topology;        // path, relative to the current directory
  SourceMark topology_at;      // where the file gives it
  std::string topology_field;  // "cases[3].topology"
  // --set overrides of the topology for the cluster as measured, such as
  // the NCCL settings it ran with ("nccl.min_channels=24").
  std::vector<std::string> topology_set;
  SetList topology_set_at;  // where the file gives it, for errors its entries cause
  std::string op;
  std::string algo = "auto";
  std::string proto = "auto";
  int ranks = 0;  // the first `ranks` GPUs of the topology (collsim collective --ranks); 0 = all
  // Or the GPUs of a placement (collsim collective --placement, e.g.
  // "per-domain:4"); empty = `ranks`. At most one of the two is given.
  std::string placement;
  SourceMark placement_at;      // where the file gives it
  std::string placement_field;  // "cases[3].placement"
  // The NCCL release the measurement ran (`nccl: 2.27.3`): its tuning tables
  // apply (collective::NcclRelease); the named default when not given.
  collective::NcclRelease nccl = collective::kDefaultNcclRelease;
  // nccl-tests' -n the run used (`iters:`): time is its loop's per
  // iteration (engine/nccl_tests_loop.h); its default when not given.
  int iters = collective::kNcclTestsDefaultIters;
  // The run's element type, reduction and root as nccl-tests names them
  // (-d, -o, -r); validate --nccl-tests reads them from the log's rows, and
  // a table's cases keep these defaults.
  std::string type = "float";
  std::string redop = "sum";
  int root = 0;
  std::string metric;  // "busbw_GBps" or "time_us"
  std::vector<ValidationPoint> points;
  SourceMark declared_at;
};

Expected<std::vector<ValidationCase>> load_validation_file(const std::string& path);

// A measured training step (tests/validation/steps.yaml): a topology and a
// workload (files plus --set overrides) and what the run measured: its step
// time, its tokens per second per GPU, or its model TFLOP/s per GPU.
struct StepValidationCase {
  std::string name;
  std::string source;
  std::string topology, workload;  // paths, relative to the current directory
  std::vector<std::string> topology_set, workload_set;
  SetList topology_set_at, workload_set_at;  // for errors their entries cause
  double step_s = 0;                         // measured step time; 0 when given as throughput
  double tokens_per_gpu_s = 0;               // measured throughput; 0 when given otherwise
  // Measured model TFLOP/s per GPU (model FLOPs as workload::model_flops_per_token
  // counts them); 0 when given otherwise.
  double model_tflops_per_gpu = 0;
  bool fitted = false;  // a model parameter was fitted to this row
  SourceMark declared_at;
};

Expected<std::vector<StepValidationCase>> load_step_validation_file(const std::string& path);

}  // namespace collsim::config
