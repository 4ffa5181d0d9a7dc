// One collective over a range of sizes on one network: the tuner's candidate
// schedules for every size (engine/tuner.h) run on the backend in one go, and
// the tuner's pick per size is kept. Shared by `collsim collective` and
// `collsim validate`.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "sim/cli/args.h"
#include "sim/collective/ops.h"
#include "sim/core/error.h"
#include "sim/engine/backend.h"
#include "sim/engine/nccl_tests_loop.h"
#include "sim/report/collective_table.h"
#include "sim/topology/network.h"

namespace collsim::cli {

struct SweepRequest {
  collective::Op op = collective::Op::kAllReduce;
  std::string algo = "auto";   // engine::TunerChoice::algorithm: auto, fastest or a name
  std::string proto = "auto";  // or LL, LL128, Simple, none
  std::vector<double> sizes;   // bytes, as nccl-tests prints them
  int type_size = 4;
  std::string type_name = "float";
  std::string redop = "sum";
  int ranks = 0;
  // Rank r runs on GPU gpus[r] (topology::place); empty: rank r on GPU r.
  std::vector<int> gpus;
  int root = 0;
  // engine::TunerChoice::simgrid_max_work (`--auto-max-work`).
  double auto_max_work = 50e6;
  double simgrid_aggregate_above = engine::kDefaultSimgridAggregateAbove;  // engine::RunOptions'
  collective::NcclRelease nccl = collective::kDefaultNcclRelease;          // `--nccl`
  // `--iters`: above 1, a broadcast's or reduce's time is nccl-tests' per
  // iteration over that many back-to-back runs (engine/nccl_tests_loop.h),
  // the chosen schedule replayed after the tuner picked it by one run's
  // time. The other ops keep one collective's time: where every rank needs
  // every rank's data (all-reduce, all-gather, reduce-scatter, all-to-all)
  // the loop changes little, and on send/recv's ring shift, where the
  // replay lets ranks far from the network run up to an iteration per hop
  // ahead (7-13% less time on the B200 send/recv ramps of
  // tests/validation), the measured ramps show no such gain
  // (docs/validation-cloud.md).
  int nccl_tests_iterations = 1;
  // The loop's replay limit (engine::detail::kNcclTestsLoopMaxTransfers):
  // a schedule of more transfers is replayed with fewer copies of its slice
  // or not at all (kNcclTestsLoopMinCopies). Lowered by tests only.
  double loop_max_transfers = engine::detail::kNcclTestsLoopMaxTransfers;
};

// The request's ranks' GPUs in rank order (gpus, or rank r on GPU r).
std::vector<int> placed_gpus(const SweepRequest& request);

// Named limit on a collective's size: 1 PiB per rank (three orders of
// magnitude above any GPU's memory; counts stay exact in a double and in
// 64-bit integers). `collsim collective -e` and a study's collective.bytes.
inline constexpr double kMaxCollectiveBytes = 1125899906842624.0;

// `specs` (--help last, and kept last) and nccl-tests' launch options that
// mean nothing to a simulation, each accepted with a value and ignored.
std::vector<OptionSpec> with_ignored_nccl_tests_options(std::vector<OptionSpec> specs);

// SweepRequest::nccl_tests_iterations from nccl-tests' -n (--iters, 1 to
// collective::kMaxNcclTestsIters) and -z (--blocking, 0-3). Error: either
// out of range, naming the flag.
Expected<int> nccl_tests_iterations(const ParsedArgs& args);

// Bytes per element of an nccl-tests datatype name ("float" -> 4).
Expected<int> datatype_size(const std::string& name);
// nccl-tests' element types with their sizes in bytes, and its reductions,
// in its own order (its src/common.cu test_types and test_opnames, NCCL
// 2.24 and later: fp8 from there): what -d all and -o all run.
const std::vector<std::pair<std::string, int>>& nccl_tests_datatypes();
const std::vector<std::string>& nccl_tests_redops();

// Whether `name` is one of nccl-tests' reductions (sum, prod, min, max, avg).
bool known_redop(const std::string& name);

// Whether `op`'s reduction runs on NVLS: false where NCCL's NVLS kernels
// cannot reduce `redop` on `type` (collective::nccl_nvls_reduces); an
// all-gather, which reduces nothing, always may. An error when `algo`
// names nvls or nvlstree and they cannot ("--algo nvls: ..."), led by
// `field` (the flag or the study's field).
// nccl-tests allocates a send, a receive and (with its data check, -c 1,
// the default: `datacheck`) an expected buffer of --maxbytes on every GPU,
// after keeping 1 GiB per 16 GiB of the GPU's memory (at most 4 GiB) and 1
// GiB more; a larger --maxbytes it lowers to what fits ("Reducing maxBytes
// ... due to memory limitation", nccl-tests src/common.cu). A simulation
// runs the size asked for: a warning saying so for `largest` bytes on a
// GPU of `hbm_bytes` (model `gpu`), or "" where it fits or hbm_bytes is 0.
std::string nccl_tests_max_bytes_note(double largest, double hbm_bytes, const std::string& gpu, bool datacheck);

Expected<bool> nvls_may_reduce(collective::Op op, const std::string& algo, const std::string& redop,
                               const std::string& type, const std::string& field);

// Runs `request` on the GPUs of placement `spec` (topology::place): sets
// request.ranks and request.gpus (left empty when the placement is every
// GPU in order). Returns "SPEC (where the ranks landed)", or "" for every
// GPU. Errors: place()'s, and fewer than 2 GPUs, each message led by
// `field` (the input's name; "" where the error names it already).
Expected<std::string> place_ranks(const topology::Network& network, const std::string& spec, const std::string& field,
                                  SweepRequest& request);

// An explicitly requested algorithm or protocol that cannot run here is an
// error; while choosing, such candidates are skipped and each row names them.
// `on_progress` (done, total) counts the candidates' runs, then, after a
// call with done 0, nccl-tests' loop's (SweepRequest::nccl_tests_iterations).
Expected<std::vector<report::CollectiveRow>> run_collective_sweep(
    const SweepRequest& request, const topology::Network& network, engine::Backend& backend,
    const std::function<void(std::size_t, std::size_t)>& on_progress = {});

}  // namespace collsim::cli
