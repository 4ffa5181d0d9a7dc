// `collsim collective`: one collective over a range of sizes, printed like
// nccl-tests. Wires config -> topology -> collective -> engine -> report.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>

#include "sim/cli/args.h"
#include "sim/cli/collective_sweep.h"
#include "sim/cli/commands.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/exit_owned.h"
#include "sim/cli/output.h"
#include "sim/collective/algorithms.h"
#include "sim/collective/nccl_tables.h"
#include "sim/collective/ops.h"
#include "sim/collective/protocol.h"
#include "sim/config/gpu_models.h"
#include "sim/config/topology_file.h"
#include "sim/config/validation_file.h"
#include "sim/core/log.h"
#include "sim/engine/backend.h"
#include "sim/engine/nccl_system.h"
#include "sim/engine/tuner.h"
#include "sim/report/collective_table.h"
#include "sim/report/html_report.h"
#include "sim/topology/network.h"
#include "sim/units/units.h"

namespace collsim::cli {

namespace {

const std::vector<OptionSpec>& collective_options() {
  static const std::vector<OptionSpec> specs = with_failure_options(with_ignored_nccl_tests_options({
      {"topology", "t", true, "topology YAML file", ""},
      {"set", "", true, "override a topology field, e.g. --set links[0].rate=800Gb/s", "", false, true},
      {"op", "", true,
       "collective, named like nccl-tests' binaries: allreduce, reducescatter, allgather, alltoall, "
       "broadcast, reduce, sendrecv",
       "allreduce"},
      // No short forms for --algo and --proto: nccl-tests uses -a (average) and -p (parallel init).
      {"algo", "", true,
       "algorithm: ring, tree, rhd, hier, nvls, nvlstree, collnetdirect (allreduce; collnetdirect where the "
       "fabric's switches reduce: a link class with sharp_efficiency); ring, nvls, pat (reducescatter, allgather; "
       "nvls inside one NVLink domain, pat with one GPU per node); ring (broadcast, reduce); direct (alltoall, "
       "sendrecv); auto: what NCCL's own cost "
       "model picks per size, simulated; tuned: the fastest per size of those NCCL runs for the op (ring, tree, "
       "nvls, nvlstree for allreduce, and collnetdirect with nccl.collnet: true; ring, nvls and, at one GPU per "
       "node, pat for allgather and reducescatter; not hier or rhd); fastest: the fastest of every algorithm; or "
       "NCCL_ALGO's lists: ring,tree (NCCL's model picks among those), ^nvls,nvlstree (among its own but those)",
       "auto"},
      {"minbytes", "b", true, "smallest size; K/M/G are powers of two as in nccl-tests", "32M"},
      {"maxbytes", "e", true, "largest size", "32M"},
      {"stepfactor", "f", true, "multiply the size by this between rows", "2"},
      {"datatype", "d", true,
       "element type: float, half, bfloat16, double, int8, uint8, int32, uint32, int64, "
       "uint64, f8e4m3, f8e5m2, or all (each in turn, as nccl-tests)",
       "float"},
      {"redop", "o", true,
       "reduction: sum, prod, min, max, avg, mulsum, or all (each in turn, as nccl-tests) (the time depends on it only "
       "through NVLS, which NCCL runs for sum of float and double, and sum, min or max of half, bfloat16 and "
       "32/64-bit integers)",
       "sum"},
      {"proto", "", true,
       "NCCL protocol: LL, LL128, Simple, none (links only), or auto: NCCL's choice under --algo auto, one "
       "of NCCL's algorithms or a list (as NCCL with NCCL_PROTO unset), the fastest per size under tuned, "
       "fastest, hier, rhd; or NCCL_PROTO's lists: LL,LL128 or ^LL128 (chosen among as auto)",
       "auto"},
      {"ranks", "", true, "use the first N GPUs of the topology (--placement packed:N)", "all"},
      {"placement", "", true,
       "which GPUs the ranks run on: all, packed:N, per-domain:K (K GPUs of every NVLink domain), spread:N "
       "(round-robin over NVLink domains), random:N[:SEED], topology-aware:N (under as few leaves and NVLink "
       "domains as hold N), domains:LIST (whole NVLink domains), gpus:LIST "
       "(\"0-63,72-135\", in rank order)",
       "all"},
      {"root", "r", true, "root rank for broadcast and reduce, or all (each in turn, as nccl-tests)", "0"},
      {"backend", "", true,
       "engine backend: simgrid (flow-level) or analytical (closed form, fast; see docs/architecture.md)", "simgrid"},
      {"auto-max-work", "", true,
       "SimGrid backend, while choosing (auto, tuned, fastest or a list): skip (and name) candidates whose estimated "
       "work exceeds this "
       "(units of about 1 us: explicit transfers x 20, an all-to-all's x 100; one aggregated step's flows x 30)",
       "5e7"},
      {"simgrid-aggregate-above", "", true,
       "SimGrid backend: simulate ring schedules of more transfers than this one step at a time, and trees, "
       "chains and NVLSTree one slice at a time (an approximation: docs/performance.md); 0 = always, inf = never",
       fmt::format("{:g}", engine::kDefaultSimgridAggregateAbove)},
      {"nccl", "", true,
       "the NCCL release to model (2.27, 2.27.3-1...): its tuning tables, e.g. the tree's per-channel throughput",
       collective::to_string(collective::kDefaultNcclRelease)},
      {"json", "", true, "also write the rows as JSON to this file ('-': to standard output, instead of the table)",
       ""},
      {"html", "", true,
       "write a self-contained HTML report: the busbw-vs-size curve with published measurements "
       "('-': to standard output)",
       ""},
      {"validation", "", true, "validation table whose measurements of the same case the HTML report shows",
       "tests/validation/cases.yaml"},
      {"output_file", "J", true,
       "also write the rows in nccl-tests' own JSON schema to this file (as its -J; '-': to standard output)", ""},
      {"stepbytes", "i", true, "without -f: add this many bytes between rows instead of multiplying (as nccl-tests)",
       ""},
      {"iters", "n", true,
       "nccl-tests' timed iterations: above 1, a broadcast's or reduce's time is nccl-tests' per iteration of "
       "that many back to back (ranks near the root start the next while the last runs down the chain; "
       "nccl-tests' own default is 20); 1: one collective's time, what a training step waits for",
       "1"},
      {"warmup_iters", "w", true, "accepted for nccl-tests compatibility; ignored", ""},
      {"blocking", "z", true,
       "nccl-tests' -z 0-3: 1 and 3 put a barrier between iterations, so each collective is timed alone, as -n 1", "0"},
      {"check", "c", true, "accepted for nccl-tests compatibility; ignored", ""},
      {"help", "h", false, "show this help", ""},
  }));
  return specs;
}

int stop(const Error& error) { return fail("collective", error); }
int stop(const std::string& message) { return stop(make_error(message)); }

Expected<std::vector<double>> size_sweep(const ParsedArgs& args) {
  for (const char* flag : {"minbytes", "maxbytes", "stepbytes"}) {
    if (!args.has(flag) || !units::is_decimal_size_unit(args.get(flag))) continue;
    auto b = units::parse_size_arg(args.get(flag));
    if (b) {
      log::warn(
          "--{} {} is {:.0f} bytes (a decimal unit); nccl-tests reads only its first letter, as powers of two "
          "(1MB = 1M = 1048576)",
          flag, args.get(flag), b->count);
    }
  }
  auto min = units::parse_size_arg(args.get("minbytes"));
  if (!min) return Error{min.error().message, "--minbytes", {}};
  auto max = units::parse_size_arg(args.get("maxbytes"));
  if (!max) return Error{max.error().message, "--maxbytes", {}};
  char* end = nullptr;
  const std::string factor_text = args.get("stepfactor");
  const double factor = std::strtod(factor_text.c_str(), &end);
  if (end == factor_text.c_str() || *end != '\0' || !(factor > 1)) {
    return make_error(fmt::format("--stepfactor must be a number > 1, found '{}'", factor_text));
  }
  if (!(min->count >= 1)) return make_error(fmt::format("--minbytes must be at least 1 byte, found {}", min->count));
  // Named limits: kMaxCollectiveBytes (collective_sweep.h) and 10,000
  // sizes (a sweep from 1 B to 1 PiB by 2 has 51).
  constexpr double kMaxBytes = kMaxCollectiveBytes;
  constexpr double kMaxSizes = 10000;
  for (const auto& [flag, v] : {std::pair{"--minbytes", min->count}, {"--maxbytes", max->count}})
    if (v > kMaxBytes)
      return Error{fmt::format("expected at most {:.0f} bytes (1 PiB), found {}", kMaxBytes, v), flag, {}};
  if (max->count < min->count) {
    return make_error(fmt::format("--maxbytes ({}) is smaller than --minbytes ({})", max->count, min->count));
  }
  if (args.has("stepbytes") && !args.has("stepfactor")) {  // nccl-tests: -i adds, -f multiplies
    auto step = units::parse_size_arg(args.get("stepbytes"));
    if (!step) return Error{step.error().message, "--stepbytes", {}};
    if (!(step->count >= 1))
      return Error{fmt::format("expected at least 1 byte, found {}", step->count), "--stepbytes", {}};
    const double steps = std::floor((max->count - min->count) / step->count) + 1;
    if (steps > kMaxSizes) {
      return Error{fmt::format("{} to {} in steps of {} is {:.3g} sizes; at most {:.0f}", min->count, max->count,
                               step->count, steps, kMaxSizes),
                   "--stepbytes",
                   {}};
    }
    std::vector<double> sizes;
    for (double k = 0; k < steps; ++k) sizes.push_back(std::floor(min->count + k * step->count));
    return sizes;
  }
  const double count = std::floor(std::log(max->count * (1 + 1e-12) / min->count) / std::log(factor)) + 1;
  if (count > kMaxSizes) {
    return Error{fmt::format("{} to {} by {} is {:.3g} sizes; at most {:.0f}", min->count, max->count, factor_text,
                             count, kMaxSizes),
                 "--stepfactor",
                 {}};
  }
  std::vector<double> sizes;
  for (double s = min->count; s <= max->count * (1 + 1e-12); s *= factor) sizes.push_back(std::floor(s));
  return sizes;
}

// Published measurements of this very case: validation cases on the same
// topology file with the same --set overrides (a case's topology_set) and
// collective, on the same GPUs:
// every GPU, the same first N (`--ranks`, a case's `ranks`) or the same
// placement as written (`--placement`, a case's `placement`). The default
// table is optional (collsim may run outside the source tree); a table
// named explicitly must load.
Expected<std::vector<config::ValidationCase>> matching_measurements(const ParsedArgs& args, collective::Op op,
                                                                    int num_gpus) {
  std::vector<config::ValidationCase> out;
  const std::string file = args.get("validation");
  std::error_code ec;
  if (!args.has("validation") && !std::filesystem::exists(file, ec)) return out;
  auto cases = config::load_validation_file(file);
  if (!cases) return cases.error();
  const std::string placement = args.get("placement") == "all" ? "" : args.get("placement");
  const std::string ranks = args.get("ranks") == "all" ? "" : args.get("ranks");
  for (auto& c : *cases) {
    if (collective::parse_op(c.op) != op) continue;
    const bool every_gpu = c.placement.empty() && (c.ranks == 0 || c.ranks == num_gpus);
    const bool same_gpus = placement.empty()
                               ? (ranks.empty() ? every_gpu : c.placement.empty() && std::to_string(c.ranks) == ranks)
                               : c.placement == placement;
    // A different cluster than the one measured: other --set overrides.
    if (!same_gpus || c.topology_set != topology_sets(args)) continue;
    if (!std::filesystem::equivalent(c.topology, args.get("topology"), ec) || ec) continue;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

int collective_command(const std::vector<std::string>& argv) {
  auto parsed = parse_args(collective_options(), argv);
  if (!parsed) return stop(parsed.error());
  const ParsedArgs& args = *parsed;
  if (args.has("help")) {
    std::printf("usage: collsim collective --topology FILE [options]\n\n%s",
                format_options_help(collective_options()).c_str());
    return kExitOk;
  }
  if (!args.positional().empty()) return stop(fmt::format("unexpected argument '{}'", args.positional()[0]));
  if (!args.has("topology")) return stop("missing --topology FILE (e.g. topologies/hgx-h100.yaml)");

  if (args.has("validation") && !args.has("html"))
    return stop("--validation: only the HTML report reads the table; expected --html FILE with it, found none");
  auto op = collective::parse_op(args.get("op"));
  if (!op)
    return stop(
        fmt::format("unknown --op '{}': expected one of allreduce, allgather, reducescatter, "
                    "alltoall, broadcast, reduce, sendrecv",
                    args.get("op")));
  // NCCL_ALGO's names read in any case (Ring, NVLSTree), as the protocol's do.
  const std::string algo = engine::algorithm_name(args.get("algo"));
  // Validate the algorithm and protocol names before loading anything.
  std::vector<std::string> candidates;  // the algorithms the choice may run for the op
  {
    engine::TunerChoice choice;
    choice.algorithm = algo;
    choice.protocol = args.get("proto");
    if (auto s = engine::check_choice(choice); !s) {
      return stop((s.error().field == "protocol" ? "--proto: " : "--algo: ") + s.error().message);
    }
    auto a = engine::candidate_algorithms(*op, choice);
    if (!a) return stop("--algo: " + a.error().message);
    candidates = std::move(*a);
    if (auto why = engine::point_to_point_refusal(*op, choice.protocol); !why.empty()) return stop("--proto: " + why);
  }
  // nccl-tests' `all` (-d all, -o all): every type, and every reduction
  // where the op takes one, in nccl-tests' order (collective_sweep.h; each
  // test's RunTest loops types, then reductions, then roots). fp8 joins
  // below, once the GPU is known.
  const bool all_types = args.get("datatype") == "all";
  std::vector<std::string> types{args.get("datatype")}, redops{args.get("redop")};
  if (all_types) {
    types.clear();
    for (const auto& [name, size] : nccl_tests_datatypes())
      if (name.rfind("f8", 0) != 0) types.push_back(name);
  }
  if (redops.front() == "all")
    redops = collective::takes_redop(*op) ? nccl_tests_redops() : std::vector<std::string>{"sum"};
  for (const auto& type : types) {
    if (auto type_size = datatype_size(type); !type_size) return stop(type_size.error());
    for (const auto& redop : redops) {
      if (!known_redop(redop)) {
        return stop(
            fmt::format("unknown --redop '{}': expected {} or all", redop, fmt::join(nccl_tests_redops(), ", ")));
      }
      if (auto nvls = nvls_may_reduce(*op, algo, redop, type, "--algo"); !nvls) return stop(nvls.error());
    }
  }
  auto sizes = size_sweep(args);
  if (!sizes) return stop(sizes.error());
  const auto to_stdout = output_to_stdout(args, {"json", "html", "output_file"}, {args.get("topology")});
  if (!to_stdout) return stop(to_stdout.error());

  // The file's spec and device graph are dropped once the network is built
  // (at 131,072 GPUs they hold over a gigabyte the collectives never read);
  // the network is kept until the process exits (exit_owned.h).
  std::string topology_name, failures;
  bool degraded = false;
  const topology::Network* built = nullptr;
  std::string gpu_name;  // the first GPU's model, and its HBM (0: unknown)
  double gpu_hbm_bytes = 0;
  {
    const std::string path = args.get("topology");
    std::error_code ec;
    // nccl-tests' -t is threads per process; here it names the topology.
    if (!path.empty() && path.find_first_not_of("0123456789") == std::string::npos &&
        !std::filesystem::exists(path, ec)) {
      return stop(
          fmt::format("-t/--topology: expected a topology file, found '{}' (nccl-tests' -t, threads per "
                      "process, has no counterpart: collsim runs one rank per GPU; -g is accepted and "
                      "ignored)",
                      path));
    }
    auto spec = config::load_topology_file(path, topology_sets(args));
    if (!spec) return stop(spec.error());
    auto topo = topology::build_topology(*spec);
    if (!topo) return stop(topo.error());
    for (const auto& d : spec->devices) {
      if (d.kind != config::DeviceKind::kGpu || d.model.empty()) continue;
      if (auto m = config::find_gpu_model(*spec, d.model); m) gpu_name = d.model, gpu_hbm_bytes = (*m)->hbm_bytes;
      break;
    }
    *spec = config::TopologySpec{};
    topology_name = topo->name;
    if (topo->failed.any()) failures = topo->failed.text();
    degraded = topo->failed.cables_degraded > 0;
    built = &keep_until_exit(std::make_unique<topology::Network>(*topo));
  }
  const topology::Network& network = *built;

  int ranks = network.num_gpus();
  if (ranks < 2) {
    return stop(
        fmt::format("--topology {}: a collective needs 2 or more GPUs, and it has {} (nccl-tests on one GPU "
                    "times a local copy, which collsim does not model)",
                    args.get("topology"), ranks));
  }
  SweepRequest placed;  // the ranks and GPUs --placement chose
  std::string placement;
  if (args.get("placement") != "all") {
    if (args.get("ranks") != "all") return stop("--ranks and --placement both choose the GPUs: give one of them");
    auto where = place_ranks(network, args.get("placement"), "--placement", placed);
    if (!where) return stop(where.error());
    ranks = placed.ranks;
    placement = *where;
  } else if (args.get("ranks") != "all") {
    char* end = nullptr;
    const std::string text = args.get("ranks");
    const long n = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || n < 2 || n > network.num_gpus()) {
      return stop(fmt::format("--ranks must be a whole number from 2 to {} (the topology's GPUs), found '{}'",
                              network.num_gpus(), text));
    }
    ranks = static_cast<int>(n);
  }

  // -r all: every rank in turn, for the ops that have a root.
  std::vector<int> roots;
  if (const std::string text = args.get("root"); text == "all") {
    for (int r = 0; r < (collective::rooted(*op) ? ranks : 1); ++r) roots.push_back(r);
  } else {
    char* end = nullptr;
    const long r = std::strtol(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || r < 0 || r >= ranks) {
      return stop(fmt::format("--root must be a rank from 0 to {} or all, found '{}'", ranks - 1, text));
    }
    roots.push_back(static_cast<int>(r));
  }

  // -d all's fp8 types where nccl-tests runs them: NCCL has them from 2.24,
  // on Hopper and later GPUs (NCCL refuses fp8 below sm_90).
  auto nccl = collective::parse_nccl_release(args.get("nccl"));
  if (!nccl) return stop(fmt::format("--nccl: {}", nccl.error().message));
  // A patch NVIDIA did not tag (2.27.99) is modelled by its number: said.
  if (const auto tagged = collective::nccl_published_patches(nccl->minor);
      args.has("nccl") && std::find(tagged.begin(), tagged.end(), nccl->patch) == tagged.end()) {
    std::vector<std::string> releases;
    for (int patch : tagged) releases.push_back(fmt::format("2.{}.{}", nccl->minor, patch));
    log::warn("--nccl {}: not among NVIDIA/nccl's release tags ({}); modelled by its number", args.get("nccl"),
              fmt::join(releases, ", "));
  }
  const collective::NcclArch arch =
      network.num_gpus() > 0 ? collective::nccl_arch(network.gpu_model(0)) : collective::NcclArch::kUnknown;
  if (all_types && !(*nccl < collective::NcclRelease{2, 24, 0}) && arch >= collective::NcclArch::kHopper) {
    types.push_back("f8e4m3");
    types.push_back("f8e5m2");
  }
  // At most as many rows as sizes (size_sweep's 10,000): -r all on a large
  // cluster times every root.
  constexpr double kMaxRows = 10000;
  if (const double n = static_cast<double>(types.size() * redops.size() * roots.size() * sizes->size()); n > kMaxRows) {
    return stop(fmt::format(
        "-d/-o/-r: {} types x {} reductions x {} roots x {} sizes is {:.0f} rows; at most {:.0f} (give one root, "
        "type or reduction, or fewer sizes)",
        types.size(), redops.size(), roots.size(), sizes->size(), n, kMaxRows));
  }
  auto backend = engine::make_backend(args.get("backend"));
  if (!backend) return stop(backend.error());

  SweepRequest request;
  request.op = *op;
  request.algo = algo;
  request.proto = args.get("proto");
  request.sizes = *sizes;
  request.ranks = ranks;
  request.gpus = std::move(placed.gpus);
  auto max_work = positive_number_option(args, "auto-max-work");
  if (!max_work) return stop(max_work.error());
  request.auto_max_work = *max_work;
  {
    const std::string text = args.get("simgrid-aggregate-above");
    char* end = nullptr;
    const double v = text == "inf" ? std::numeric_limits<double>::infinity() : std::strtod(text.c_str(), &end);
    if (text != "inf" && (end == text.c_str() || *end != '\0' || !(v >= 0))) {
      return stop(fmt::format("--simgrid-aggregate-above must be a number of transfers >= 0 or inf, found '{}'", text));
    }
    request.simgrid_aggregate_above = v;
  }
  request.nccl = *nccl;
  auto iterations = nccl_tests_iterations(args);
  if (!iterations) return stop(iterations.error());
  request.nccl_tests_iterations = *iterations;
  if (auto note = nccl_tests_max_bytes_note(sizes->back(), gpu_hbm_bytes, gpu_name, args.get("check") != "0");
      !note.empty())
    log::warn("{}", note);
  if (std::find(candidates.begin(), candidates.end(), "ring") != candidates.end()) {
    if (auto note = engine::ring_queue_pair_note(network, placed_gpus(request), *nccl); !note.empty())
      log::warn("{}", note);
    if (auto note = engine::uneven_nodes_channel_note(network, placed_gpus(request), *nccl); !note.empty())
      log::warn("{}", note);
  }
  // NCCL ships Blackwell kernels (sm_100) from 2.25.1 (its makefiles/
  // common.mk); an older release runs there only through its Hopper PTX,
  // and collsim then reads Hopper's search tables (collective/nccl_tables.h).
  if (*nccl < collective::NcclRelease{2, 25, 1} && arch == collective::NcclArch::kBlackwell)
    log::warn(
        "--nccl {}: NCCL has Blackwell kernels from 2.25.1; an older release runs there only through its "
        "Hopper PTX, and collsim reads Hopper's search tables for it",
        collective::to_string(*nccl));
  // Progress on a terminal only; pipes and files get just the table. One
  // counter per sweep: (0, total) starts its nccl-tests' loop, timed afresh.
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  auto new_progress = [terminal]() -> std::function<void(std::size_t, std::size_t)> {
    if (!terminal) return {};
    return [since = std::chrono::steady_clock::now(), what = "candidate runs simulated"](std::size_t done,
                                                                                         std::size_t total) mutable {
      if (done == 0) {
        since = std::chrono::steady_clock::now();
        what = "nccl-tests' loop, runs replayed";
        return;
      }
      std::fprintf(stderr, "\r\033[Kcollsim: %s: %s", what, count_and_time_left(done, total, since).c_str());
      if (done == total) std::fputs("\r\033[K", stderr);
      std::fflush(stderr);
    };
  };
  std::vector<report::CollectiveRow> rows;
  for (const auto& type : types) {
    for (const auto& redop : redops) {
      for (int root : roots) {
        request.type_name = type;
        request.type_size = *datatype_size(type);
        request.redop = redop;
        request.root = root;
        auto more = run_collective_sweep(request, network, **backend, new_progress());
        if (!more) return stop(more.error());
        rows.insert(rows.end(), std::make_move_iterator(more->begin()), std::make_move_iterator(more->end()));
      }
    }
  }
  // NCCL_MAX_NCHANNELS / NCCL_MAX_CTAS do not cap the tree here (config::NcclSpec::max_channels).
  if ((network.nccl_max_channels() > 0 || network.nccl_max_ctas() > 0) &&
      std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.algo == "tree"; }))
    log::warn("nccl.max_channels and max_ctas cap the rings' channels (max_ctas NVLS's), not the tree's");
  const report::CollectiveHeader header{topology_name,
                                        (*backend)->name(),
                                        std::string(collective::op_name(*op)),
                                        algo,
                                        ranks,
                                        failures,
                                        placement,
                                        collective::to_string(request.nccl),
                                        args.all("set"),
                                        degraded};
  if (!*to_stdout) std::fputs(report::format_collective_table(header, rows).c_str(), stdout);
  if (args.has("json")) {
    if (auto s = write_output(args.get("json"), report::collective_json(header, rows)); !s) {
      return stop(s.error());
    }
  }
  if (args.has("output_file")) {
    if (auto s = write_output(args.get("output_file"), report::nccl_tests_json(header, rows)); !s) {
      return stop(s.error());
    }
  }
  if (args.has("html")) {
    auto reference = matching_measurements(args, *op, network.num_gpus());
    if (!reference) return stop(reference.error());
    if (auto s =
            write_output(args.get("html"), report::collective_html(header, rows, *reference, args.get("validation")));
        !s) {
      return stop(s.error());
    }
  }
  return kExitOk;
}

}  // namespace collsim::cli
