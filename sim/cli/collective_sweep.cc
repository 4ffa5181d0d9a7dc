#include "sim/cli/collective_sweep.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/collective/algorithms.h"
#include "sim/collective/nvls.h"
#include "sim/collective/protocol.h"
#include "sim/engine/nccl_system.h"
#include "sim/engine/nccl_tests_loop.h"
#include "sim/engine/schedule_loads.h"
#include "sim/engine/sharp.h"
#include "sim/engine/tuner.h"
#include "sim/topology/placement.h"
#include "sim/units/units.h"
#include "sim/workload/what_if.h"

namespace collsim::cli {

std::vector<int> placed_gpus(const SweepRequest& request) {
  if (!request.gpus.empty()) return request.gpus;
  std::vector<int> gpus(static_cast<std::size_t>(std::max(0, request.ranks)));
  for (std::size_t r = 0; r < gpus.size(); ++r) gpus[r] = static_cast<int>(r);
  return gpus;
}

namespace {

// The busiest resource of each class while schedule body `s` runs alone
// under `protocol` for time_s on ranks placed by rank_map
// (report::CollectiveRow::busiest): every link's wire bytes over its
// effective rate, and each NVSwitch's adds of an NVLS reduction over its
// engines' rate.
std::vector<report::CollectiveRow::Busy> busiest_resources(const topology::Network& network,
                                                           const collective::Schedule& s, collective::Protocol protocol,
                                                           const std::vector<int>& rank_map, double time_s) {
  struct Class {
    std::string where;
    double busy_s = 0;
  };
  std::map<std::string, Class> classes;
  auto offer = [&](std::string resource, std::string where, double busy_s) {
    Class& c = classes[std::move(resource)];
    if (busy_s > c.busy_s) c = {std::move(where), busy_s};
  };
  auto endpoint = [&](int rank) { return engine::rank_endpoint(network, s, rank_map, rank); };
  engine::for_each_link_bytes(network, s, protocol, endpoint, [&](int l, double bytes) {
    const auto& link = network.links()[static_cast<std::size_t>(l)];
    if (link.rate_Bps > 0)
      offer(workload::resource_of(link.link_class, link.from_kind, link.to_kind), network.link_name(l),
            bytes / link.rate_Bps);
  });
  if (const double adds = s.switch_adds(); adds > 0) {
    for (int h = 0; h < s.helper_ranks; ++h) {  // the switches the plan reduces in (NVLS: one per domain)
      const int sw = endpoint(s.ranks + h);
      const double rate = sw >= 0 ? network.nvls_reduction_rate_Bps(sw) : 0;
      if (rate > 0) offer(workload::kEngineResource, network.endpoints()[static_cast<std::size_t>(sw)], adds / rate);
    }
  }
  std::vector<report::CollectiveRow::Busy> out;
  for (auto& [resource, c] : classes) out.push_back({resource, std::move(c.where), c.busy_s / time_s});
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.share > b.share; });
  if (out.size() > report::kBusiestShown) out.resize(report::kBusiestShown);
  return out;
}

}  // namespace

Expected<std::string> place_ranks(const topology::Network& network, const std::string& spec, const std::string& field,
                                  SweepRequest& request) {
  auto placed = topology::place(network, spec, {}, 2);  // a collective's least
  if (!placed) {
    Error e = placed.error();
    if (!field.empty()) e.message = field + ": " + e.message;
    return e;
  }
  if (placed->gpus.size() < 2)
    return make_error(fmt::format("{}a collective needs at least 2 GPUs, found 1", field.empty() ? "" : field + ": "));
  request.ranks = static_cast<int>(placed->gpus.size());
  if (placed->everything) return std::string();
  request.gpus = std::move(placed->gpus);
  return fmt::format("{} ({})", spec, placed->where);
}

Expected<std::vector<report::CollectiveRow>> run_collective_sweep(
    const SweepRequest& request, const topology::Network& network, engine::Backend& backend,
    const std::function<void(std::size_t, std::size_t)>& on_progress) {
  engine::TunerChoice choice;
  choice.algorithm = engine::algorithm_name(request.algo);
  choice.protocol = request.proto;
  choice.simgrid_max_work = request.auto_max_work;
  choice.simgrid_aggregate_above = request.simgrid_aggregate_above;
  choice.nccl = request.nccl;

  auto gpu = [&](int r) { return request.gpus.empty() ? r : request.gpus[static_cast<std::size_t>(r)]; };
  std::vector<int> gpus(static_cast<std::size_t>(request.ranks));
  for (int r = 0; r < request.ranks; ++r) gpus[static_cast<std::size_t>(r)] = gpu(r);
  collective::AlgoParams params = engine::placement_params(network, gpus);
  params.root = request.root;
  // NCCL weighs NVLS only for the reductions and types its kernels have.
  auto nvls_reduces = nvls_may_reduce(request.op, choice.algorithm, request.redop, request.type_name, "algorithm");
  if (!nvls_reduces) return nvls_reduces.error();
  if (!*nvls_reduces) params.nvls_enabled = params.nccl_system.nvls = false;
  // CollNet's aggregation trees, when the fabric's switches reduce (SHARP).
  if (request.op == collective::Op::kAllReduce) engine::set_collnet(params, network, gpus);
  std::vector<engine::TuneCase> cases;
  std::vector<long long> counts;
  // nccl-tests' count column (its setupArgs and each test's
  // getCollByteCount): the elements one rank passes to NCCL, so for
  // all-gather, reduce-scatter and all-to-all count / ranks, the size then
  // rounded down to a multiple of ranks elements.
  const bool per_rank = request.op == collective::Op::kAllGather || request.op == collective::Op::kReduceScatter ||
                        request.op == collective::Op::kAllToAll;
  for (double size : request.sizes) {
    const long long count = static_cast<long long>(size) / request.type_size;
    const long long each = per_rank ? count / std::max(1, request.ranks) : count;
    counts.push_back(each);
    const double elements = per_rank ? static_cast<double>(each) * request.ranks : static_cast<double>(count);
    cases.push_back({request.op, request.ranks, elements * request.type_size, params});
  }
  auto candidates = engine::build_candidates(cases, choice, backend.name());
  if (!candidates) return candidates.error();
  const auto& schedules = candidates->schedules;

  engine::RunOptions options;
  options.rank_to_endpoint = request.gpus;
  options.on_progress = on_progress;
  options.simgrid_aggregate_above = request.simgrid_aggregate_above;
  options.nccl = request.nccl;
  auto results = engine::run_candidates(*candidates, network, backend, options);
  if (!results) return results.error();

  // Each size's pick (fastest() logs the choice: once per size).
  std::vector<std::size_t> picked(request.sizes.size());
  for (std::size_t i = 0; i < request.sizes.size(); ++i) picked[i] = engine::fastest(*candidates, i, *results);
  // nccl-tests' loop: each size's pick run again, replayed back to back.
  std::vector<double> loop_s(request.sizes.size(), 0.0);
  std::vector<char> loop_skipped(request.sizes.size(), 0);
  std::vector<int> loop_copies(request.sizes.size(), 0);
  // Only broadcast and reduce: their chains let ranks near the start run
  // ahead (engine/nccl_tests_loop.h); see SweepRequest.
  if (request.nccl_tests_iterations > 1 && collective::rooted(request.op)) {
    // Replayed from every transfer, which SimGrid then simulates one by one:
    // within its aggregation threshold too (--simgrid-aggregate-above).
    const double most = backend.name() == "simgrid"
                            ? std::min(request.loop_max_transfers, request.simgrid_aggregate_above)
                            : request.loop_max_transfers;
    std::vector<collective::Schedule> again;
    std::vector<std::size_t> which;
    std::vector<char> fewer;  // per `again`: replayed with fewer copies
    for (std::size_t i = 0; i < request.sizes.size(); ++i) {
      const auto& body = collective::body_of(schedules, picked[i]);
      if (body.transfer_count() <= most) {
        again.push_back(collective::materialize(schedules, picked[i]));
        fewer.push_back(0);
        which.push_back(i);
        continue;
      }
      // A pipeline too long to replay whole: fewer copies of its slice
      // (engine/nccl_tests_loop.h kNcclTestsLoopMinCopies). Every other
      // field stays, pipeline_slices included: each transfer runs at the
      // rate it had.
      const double per_copy = static_cast<double>(body.transfers.size());
      const double copies = per_copy > 0 ? std::floor(most / per_copy) : 0;
      if (!body.repeated() || body.compact() || copies < engine::detail::kNcclTestsLoopMinCopies) {
        loop_skipped[i] = 1;
        continue;
      }
      again.push_back(collective::materialize(schedules, picked[i]));
      again.back().repeats = static_cast<int>(std::min<double>(copies, engine::detail::kNcclTestsLoopCopies));
      fewer.push_back(1);
      which.push_back(i);
    }
    engine::RunOptions loop_options = options;
    // Counted afresh: (0, runs) says a new count starts (the callback may
    // keep state), and the loop's runs report to the callback as it is now.
    if (on_progress && !again.empty()) on_progress(0, again.size());
    loop_options.on_progress = on_progress;
    loop_options.nccl_tests_iterations = request.nccl_tests_iterations;
    auto looped = backend.run(network, again, loop_options);
    if (!looped) return looped.error();
    for (std::size_t k = 0; k < which.size(); ++k) {
      const auto& r = (*looped)[k];
      double t = r.loop_time_s;
      // Fewer copies: this size's own run less what the loop hid of theirs.
      if (fewer[k] && t > 0) {
        const double single = (*results)[picked[which[k]]].time_s;
        t = std::clamp(single - (r.time_s - t), 0.0, single);
      }
      loop_s[which[k]] = t;
      if (fewer[k] && t > 0) loop_copies[which[k]] = again[k].repeats;
      loop_skipped[which[k]] = !(t > 0);  // not replayed: said, not hidden
    }
  }

  std::vector<report::CollectiveRow> rows;
  for (std::size_t i = 0; i < request.sizes.size(); ++i) {
    const std::size_t best = picked[i];
    const auto& s = schedules[best];
    report::CollectiveRow r;
    r.op = s.op;
    r.algo = s.algo;
    r.proto = std::string(collective::protocol_name(s.protocol));
    r.bytes = s.bytes;
    r.count = counts[i];
    r.type = request.type_name;
    // nccl-tests prints the reduction op where the op takes one, `none`
    // for the rest, and -1 for the root of an op without one.
    r.redop = collective::takes_redop(request.op) ? request.redop : "none";
    r.root = collective::rooted(request.op) ? request.root : -1;
    r.ranks = request.ranks;
    r.time_us = (*results)[best].time_s * 1e6;
    if (loop_s[i] > 0) {
      r.single_us = r.time_us;
      r.time_us = loop_s[i] * 1e6;
      r.loop_iterations = request.nccl_tests_iterations;
    }
    r.loop_skipped = loop_skipped[i] != 0;
    r.loop_copies = loop_copies[i];
    r.contended = (*results)[best].load_bound || (*results)[best].shared_links;
    r.aggregated = (*results)[best].aggregated;
    r.buffer_bound = (*results)[best].buffer_bound;
    r.skipped = candidates->skipped[i];
    r.nccl_model_us = candidates->nccl_predicted_us[i];
    // Paid with the launch under a protocol (engine/plan.cc), not by the bare network.
    if (s.point_to_point && s.protocol != collective::Protocol::kNone)
      r.proxy_us = collective::body_of(schedules, best).chunk_overhead_s * 1e6;
    // NCCL discards an empty collective before choosing anything (NCCL
    // 2.27.7 src/enqueue.cc, "Empty collectives can be discarded"): a size
    // of no element (count 0) costs nothing and runs no algorithm.
    if (!(s.bytes > 0) && !collective::is_point_to_point(request.op)) {
      r.algo = r.proto = "none";
      r.time_us = r.single_us = 0;
      r.loop_iterations = 0;
      r.loop_skipped = false;
      r.loop_copies = 0;
      r.contended = r.aggregated = r.buffer_bound = false;
      r.nccl_model_us = r.proxy_us = 0;
      r.skipped.clear();
    }
    const double t = r.time_us * 1e-6;
    if (t > 0 && s.bytes > 0) {
      const auto& body = collective::body_of(schedules, best);
      const double pairs = body.all_pairs ? static_cast<double>(body.ranks) * (body.ranks - 1) : 0;
      if (engine::connection_visits(body) > report::kBusiestMaxConnections || pairs > report::kBusiestMaxPairs)
        r.busiest_skipped = true;
      else
        r.busiest = busiest_resources(network, body, s.protocol, request.gpus, t);
    }
    // A link busy for (nearly) all the time binds: a larger buffer cannot
    // shorten it, so the buffer-bound note (raise NCCL_BUFFSIZE) would mislead.
    if (r.buffer_bound && !r.busiest.empty() && r.busiest.front().share >= report::kBindingShare)
      r.buffer_bound = false;
    r.algbw_GBps = t > 0 ? s.bytes / t / 1e9 : 0;
    r.busbw_GBps = r.algbw_GBps * collective::busbw_factor(request.op, request.ranks);
    rows.push_back(r);
  }
  return rows;
}

namespace {
// nccl-tests' launch options that mean nothing to a simulation (threads,
// GPUs per process, iterations, CUDA graphs, timing and memory reports...):
// accepted with a value, as nccl-tests takes them, and ignored. Its -t
// (threads) is not among them: here -t is --topology. NVIDIA/nccl-tests
// src/common.cu, the long options table.
constexpr const char* kIgnoredNcclTestsOptions[][2] = {
    {"ngpus", "g"},
    {"agg_iters", "m"},
    {"run_cycles", "N"},
    {"parallel_init", "p"},
    {"stream_null", "y"},
    {"timeout", "T"},
    {"cudagraph", "G"},
    {"report_cputime", "C"},
    {"report_timestamps", "S"},
    {"average", "a"},
    {"local_register", "R"},
    {"cta_policy", "x"},
    {"device_implementation", "D"},
    {"device_cta_count", "V"},
    {"memory", "M"},
    {"unalign", "u"},
    {"per_iter_timing", "I"},
    {"per_iter_skip", "K"},
};
}  // namespace

std::vector<OptionSpec> with_ignored_nccl_tests_options(std::vector<OptionSpec> specs) {
  const OptionSpec help = specs.back();  // --help stays last
  specs.pop_back();
  for (const auto& [name, letter] : kIgnoredNcclTestsOptions)
    specs.push_back({name, letter, true, "accepted for nccl-tests compatibility; ignored", "", true});
  specs.push_back(help);
  return specs;
}

Expected<int> nccl_tests_iterations(const ParsedArgs& args) {
  auto iters = whole_number_option(args, "iters", 1, collective::kMaxNcclTestsIters);
  if (!iters) return iters.error();
  auto blocking = whole_number_option(args, "blocking", 0, 3);
  if (!blocking) return blocking.error();
  // nccl-tests src/common.cu: -z 1 and 3 wait at a barrier after each
  // iteration (or outer one); 0 and 2 let each rank go on.
  return *blocking == 1 || *blocking == 3 ? 1 : static_cast<int>(*iters);
}

std::string nccl_tests_max_bytes_note(double largest, double hbm_bytes, const std::string& gpu, bool datacheck) {
  if (!(hbm_bytes > 0)) return {};
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  const double reserve = std::min(std::ceil(hbm_bytes / (16 * kGiB)) * kGiB, 4 * kGiB);
  const double fits = (hbm_bytes - reserve - kGiB) / (datacheck ? 3 : 2);
  if (!(largest > fits)) return {};
  // A buffer larger than the GPU's memory is not a tuning matter: say that first.
  const std::string beyond = largest > hbm_bytes
                                 ? fmt::format(" is more than one GPU's {} of HBM, so no run could hold it;",
                                               units::format(units::Bytes{hbm_bytes}))
                                 : ":";
  return fmt::format(
      "--maxbytes {}{} nccl-tests would lower it to {} on this GPU ({} of HBM ({}), less {} it keeps and 1 GiB, over "
      "{}); simulated as asked",
      units::format(units::Bytes{largest}), beyond, units::format(units::Bytes{fits}),
      units::format(units::Bytes{hbm_bytes}), gpu, units::format(units::Bytes{reserve}),
      datacheck ? "3 buffers of the size: send, receive and -c 1's expected" : "2 buffers: send and receive");
}

Expected<bool> nvls_may_reduce(collective::Op op, const std::string& algo, const std::string& redop,
                               const std::string& type, const std::string& field) {
  if (!collective::reduces(op) || collective::nccl_nvls_reduces(redop, type)) return true;
  // One of them named, or a list (NCCL_ALGO's) of nothing else.
  bool only_nvls = algo == "nvls" || algo == "nvlstree";
  if (engine::is_algorithm_list(algo) && algo.front() != '^') {
    const auto names = engine::listed_names(algo);
    only_nvls = std::all_of(names.begin(), names.end(), [](const auto& n) { return n == "nvls" || n == "nvlstree"; });
  }
  if (only_nvls) {
    return make_error(fmt::format(
        "{}: {} cannot reduce {} on {}: NCCL's NVLS kernels sum float and double, and sum, min or max half, "
        "bfloat16 and 32- and 64-bit integers (NCCL src/include/device.h, ncclNvlsSupported); expected another "
        "algorithm, or one of those reductions and types",
        field, algo, redop, type));
  }
  return false;
}

const std::vector<std::string>& nccl_tests_redops() {
  static const std::vector<std::string> ops{"sum", "prod", "max", "min", "avg", "mulsum"};
  return ops;
}

bool known_redop(const std::string& name) {
  const auto& ops = nccl_tests_redops();
  return std::find(ops.begin(), ops.end(), name) != ops.end();
}

const std::vector<std::pair<std::string, int>>& nccl_tests_datatypes() {
  static const std::vector<std::pair<std::string, int>> types{
      {"int8", 1}, {"uint8", 1}, {"int32", 4},  {"uint32", 4},   {"int64", 8},  {"uint64", 8},
      {"half", 2}, {"float", 4}, {"double", 8}, {"bfloat16", 2}, {"f8e4m3", 1}, {"f8e5m2", 1},
  };
  return types;
}

Expected<int> datatype_size(const std::string& name) {
  for (const auto& [n, size] : nccl_tests_datatypes())
    if (n == name) return size;
  std::vector<std::string> names;
  for (const auto& t : nccl_tests_datatypes()) names.push_back(t.first);
  return make_error(
      fmt::format("unknown datatype '{}': expected one of {} (or all, with -d)", name, fmt::join(names, ", ")));
}

}  // namespace collsim::cli
