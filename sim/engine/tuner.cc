#include "sim/engine/tuner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "sim/collective/direct.h"
#include "sim/collective/nccl_tuner.h"
#include "sim/collective/protocol.h"
#include "sim/core/log.h"
#include "sim/engine/analytical_backend.h"
#include "sim/engine/simgrid/simgrid_backend.h"

namespace collsim::engine {

Expected<std::vector<std::string>> candidate_algorithms(collective::Op op, const TunerChoice& asked) {
  TunerChoice choice = asked;
  choice.algorithm = algorithm_name(asked.algorithm);
  if (choice.algorithm == "auto" || choice.algorithm == "tuned") return collective::nccl_algorithms_for(op);
  if (choice.algorithm == "fastest") return collective::algorithms_for(op);
  const auto all = collective::algorithms_for(op);
  if (is_algorithm_list(choice.algorithm)) {
    // NCCL_ALGO's lists: those named that run the op, or NCCL's own for it
    // but those named; an op none of them runs takes NCCL's own in a
    // training step, as a named algorithm does, else is refused.
    const auto named = listed_names(choice.algorithm);
    const bool except = choice.algorithm.front() == '^';
    auto named_has = [&](const std::string& a) { return std::find(named.begin(), named.end(), a) != named.end(); };
    std::vector<std::string> out;
    for (const auto& a : except ? collective::nccl_algorithms_for(op) : all)
      if (named_has(a) != except) out.push_back(a);
    if (!out.empty()) return out;
    if (choice.named_algorithm_for_every_op) return std::vector{collective::nccl_algorithms_for(op).front()};
    return make_error(fmt::format("no algorithm of '{}' runs {}; available: {}", choice.algorithm,
                                  collective::op_name(op), fmt::join(all, ", ")));
  }
  if (std::find(all.begin(), all.end(), choice.algorithm) != all.end()) return std::vector{choice.algorithm};
  if (choice.named_algorithm_for_every_op) return std::vector{collective::nccl_algorithms_for(op).front()};
  return make_error(fmt::format("no algorithm '{}' for {}; available: {}, auto, tuned, fastest", choice.algorithm,
                                collective::op_name(op), fmt::join(all, ", ")));
}

namespace {

// Peak memory per explicit transfer on the analytical backend, schedule and
// plan together: measured, a 1,024-GPU all-to-all (1.05 M transfers) peaked
// at 684 MB (docs/performance.md).
constexpr double kAnalyticalBytesPerTransfer = 650;

// Why p (p - 1) transfers held at once (an all-to-all, a PAT slice) are
// too many for the analytical backend, or "".
std::string analytical_too_big(int ranks, const char* what) {
  const double p = ranks, need = p * (p - 1) * kAnalyticalBytesPerTransfer, memory = guard_memory_bytes();
  if (memory > 0 && need > 0.5 * memory) {
    return fmt::format(
        "{} over {} ranks is {:.0f} transfers, about {:.1f} GB for the analytical backend to hold "
        "({:.0f} bytes each), more than half of this machine's {:.1f} GB; use fewer ranks (--ranks)",
        what, ranks, p * (p - 1), need / 1e9, kAnalyticalBytesPerTransfer, memory / 1e9);
  }
  return {};
}

// Why `backend` cannot hold p (p - 1) transfers at once (an all-to-all's
// first wave, a PAT slice), or "": SimGrid's in-flight memory, the
// analytical backend's transfers and plan.
std::string all_pairs_refusal(const std::string& backend, int ranks, const char* what) {
  if (backend == "analytical") return analytical_too_big(ranks, what);
  const double p = ranks;
  if (backend == "simgrid")
    if (auto fits = simgrid_fits_in_flight(p * (p - 1)); !fits) return fits.error().message;
  return {};
}

// SimGrid's work for a schedule, in the guard's unit (about 1 us of
// simulation on the machine of docs/performance.md). An explicit schedule's
// transfers are simulated one by one: 7-21 us each where they pipeline
// (trees, NVLSTree, rings of 32 to 4,096 ranks; measured 2026-12-06: 1.7e5
// NVLSTree transfers over 576 GB200s in 1.4 s, 5.2e5 tree LL128 transfers
// over 4,096 H100s in 11.2 s, 1.6e4 ring transfers over 32 H100s in 0.26
// s), about 80 us where they all start at once and share links (all-to-all:
// 6.5e4 over 256 GB200s in 5.4 s, 3.3e5 over 576 in 25 s). A schedule
// simulated one step (a ring) or one pipeline copy (a tree) at a time
// (aggregated) has its flows start together and solved together, about 30
// us each, whatever the ranks (measured 2026-12-03: rings of 1 GiB, 32,768
// flows per step on 4,096 H100s in 1.0-1.3 s, 663,552 on 9,216 GB200s in
// 17-18 s; the broadcast's pipeline, 663,480, in 7.5 s). A pipeline whose
// every transfer runs at its channel's share is not simulated at all
// (engine/plan.h, at_channel_shares): only planned, about 1 us a transfer
// (the 9,216-GPU tree's 2.65 M in 1.5 s).
// ASSUMPTION (measured on one machine, not a sourced fact): the weights.
// Before 2026-12-06 an explicit transfer weighed the ranks (x 576 for
// NVLSTree on 8 NVL72 racks: 9.8e7 against the 1.4 s it takes), and `auto`
// skipped NCCL's own pick there.
constexpr double kWorkPerExplicitTransfer = 20;
constexpr double kWorkPerConcurrentTransfer = 100;
constexpr double kWorkPerAggregatedFlow = 30;
constexpr double kWorkPerPlannedTransfer = 1;

// Estimated SimGrid work for `s` (above), and how it was counted.
double simgrid_work(const collective::Schedule& s, double aggregate_above, std::string* how) {
  const double transfers = s.transfer_count();
  if (s.compact() && transfers > aggregate_above) {  // one step of every pass at a time
    double flows = 0;
    for (const auto& phase : s.ring_phases)
      for (const auto& pass : phase) flows += static_cast<double>(pass.order.size()) * pass.slices;
    *how = fmt::format("one step at a time: {:.3g} flows x {:g}", flows, kWorkPerAggregatedFlow);
    return flows * kWorkPerAggregatedFlow;
  }
  if (s.repeated() && transfers > aggregate_above) {  // one pipeline copy at a time
    const auto copy = static_cast<double>(s.transfers.size());
    const bool on_channels = s.protocol != collective::Protocol::kNone &&
                             std::all_of(s.transfers.begin(), s.transfers.end(),
                                         [](const collective::Transfer& t) { return t.channel >= 0; });
    const double weight = on_channels ? kWorkPerPlannedTransfer : kWorkPerAggregatedFlow;
    *how = fmt::format("one pipeline copy at a time: {:.3g} transfers x {:g}", copy, weight);
    return copy * weight;
  }
  const double weight = s.all_pairs ? kWorkPerConcurrentTransfer : kWorkPerExplicitTransfer;
  *how = fmt::format("{:.3g} transfers{} x {:g}", transfers, s.all_pairs ? " at once" : "", weight);
  return transfers * weight;
}

// Why `s` is too costly to simulate on `backend` while choosing, or "".
std::string guard(const collective::Schedule& s, const TunerChoice& choice, const std::string& backend) {
  if (backend == "simgrid") {
    std::string how;
    const double work = simgrid_work(s, choice.simgrid_aggregate_above, &how);
    if (work > choice.simgrid_max_work) {
      return fmt::format("{:.2g} units of SimGrid work ({}), above --auto-max-work {:g}", work, how,
                         choice.simgrid_max_work);
    }
  } else if (backend == "analytical") {
    const auto explicit_transfers = static_cast<double>(s.transfers.size());
    if (explicit_transfers > choice.analytical_max_transfers) {
      return fmt::format("{:.2g} transfers to hold in memory, above {:g}", explicit_transfers,
                         choice.analytical_max_transfers);
    }
  }
  return {};
}

// Whether NCCL would run PAT here: one GPU per node (collective/pat.h), from 2.23.4.
bool nccl_runs_pat(const TuneCase& c, collective::NcclRelease release) {
  return release >= collective::kFirstPatRelease &&
         collective::group_by_domain(c.params.domain_of_rank).size() == static_cast<std::size_t>(c.ranks);
}

// One candidate: PAT's slice weighed before it is built (as an all-to-all's; where NCCL would not run PAT,
// build_schedule says why), the schedule built for `proto`, then, when `guarded`, weighed against the backend's
// cost guard. The error's message says why it cannot run here.
Expected<collective::Schedule> build_candidate(const TuneCase& c, const std::string& algo, collective::Protocol proto,
                                               const TunerChoice& choice, const std::string& backend, bool guarded) {
  if (algo == "pat" && nccl_runs_pat(c, choice.nccl)) {
    if (std::string why = all_pairs_refusal(backend, c.ranks, "a PAT slice"); !why.empty()) return make_error(why);
  }
  collective::AlgoParams params = c.params;
  params.protocol = proto;
  params.nccl = choice.nccl;
  auto s = collective::build_schedule(c.op, algo, c.ranks, c.bytes, params);
  if (!s || !guarded) return s;
  if (std::string why = guard(*s, choice, backend); !why.empty()) return make_error(why);
  return s;
}

// `auto`'s candidates as NCCL orders them (collective/nccl_tuner.h): the
// pairs NCCL's model would run for the case, by its predicted time, fastest
// first. Empty where NCCL's model does not cover the case (a GPU model it
// lacks, all-to-all, send/recv): then every candidate is simulated.
std::vector<std::pair<std::string, collective::Protocol>> nccl_order(
    const TuneCase& c, const std::vector<std::string>& algos, const std::vector<collective::Protocol>& protos,
    collective::NcclRelease release, std::string* predicted, std::vector<double>* times_us) {
  std::vector<std::tuple<double, std::string, collective::Protocol>> timed;
  const auto& sys = c.params.nccl_system;
  const auto graphs = collective::nccl_graphs(sys, release);
  log::debug(
      "NCCL's view: {} x {} ranks on {} nodes, NVLink {:.1f} GB/s, {} NICs of {:.1f} GB/s; graphs ring {} x {}/{}, "
      "tree {} x {}/{}, nvls {} x {}/{}",
      sys.gpu_model, sys.ranks, sys.nodes, sys.nvlink_GBps, sys.nics, sys.nic_GBps, graphs.ring.channels,
      graphs.ring.bw_intra, graphs.ring.bw_inter, graphs.tree.channels, graphs.tree.bw_intra, graphs.tree.bw_inter,
      graphs.nvls.channels, graphs.nvls.bw_intra, graphs.nvls.bw_inter);
  for (const auto& algo : algos) {
    for (auto proto : protos) {
      const double t =
          collective::nccl_predicted_time_us(c.op, algo, proto, c.bytes, c.params.nccl_system, graphs, release);
      if (t >= 0) timed.emplace_back(t, algo, proto);
      log::debug("NCCL's model: {} {} of {:.0f} bytes over {} ranks: {:.1f} us", algo, collective::protocol_name(proto),
                 c.bytes, c.ranks, t);
    }
  }
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::vector<std::pair<std::string, collective::Protocol>> out;
  for (auto& [t, algo, proto] : timed) {
    if (times_us) times_us->push_back(t);
    if (predicted)
      *predicted +=
          fmt::format("{}{}/{} {:.2f} us", predicted->empty() ? "" : ", ", algo, collective::protocol_name(proto), t);
    out.emplace_back(std::move(algo), proto);
  }
  return out;
}

}  // namespace

Expected<Candidates> build_candidates(const std::vector<TuneCase>& cases, const TunerChoice& choice,
                                      const std::string& backend) {
  if (auto s = check_choice(choice); !s) return s.error();
  const auto all_protos = *collective::protocol_candidates(choice.protocol);
  Candidates out;
  out.of_case.resize(cases.size());
  out.skipped.resize(cases.size());
  out.nccl_model.resize(cases.size());
  out.nccl_predicted_us.resize(cases.size(), 0.0);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const TuneCase& c = cases[i];
    auto algos = candidate_algorithms(c.op, choice);
    if (!algos) return algos.error();
    // NCCL's point-to-point (all-to-all, send/recv) runs LL or Simple, never
    // LL128 (src/enqueue.cc; direct.h nccl_p2p_protocol): those asked for.
    const bool point_to_point = collective::is_point_to_point(c.op);
    std::vector<collective::Protocol> protos;
    for (auto p : all_protos)
      if (!point_to_point || p != collective::Protocol::kLL128) protos.push_back(p);
    // A training step names one protocol for every op: its point-to-point
    // calls then take NCCL's own rule.
    if (protos.empty() && choice.named_algorithm_for_every_op)
      protos = {collective::Protocol::kLL, collective::Protocol::kSimple};
    if (protos.empty()) return Error{point_to_point_refusal(c.op, choice.protocol), "protocol", {}};
    // An all-to-all starts its p (p - 1) transfers at once: refused before
    // they are built (4,096 ranks: 16.8 M) when SimGrid could not hold
    // them. The analytical backend costs them without listing them
    // (all_pairs_cost.h).
    if (c.op == collective::Op::kAllToAll && backend != "analytical") {
      if (auto why = all_pairs_refusal(backend, c.ranks, "an all-to-all"); !why.empty()) return make_error(why);
    }
    const bool choosing_algorithm = algos->size() > 1;
    const bool choosing = choosing_algorithm || protos.size() > 1;
    auto& skipped = out.skipped[i];
    // `auto`: what NCCL's own model picks, simulated alone; a pair that
    // cannot run here gives way to NCCL's next (named among the skipped).
    // One algorithm named with `--proto auto` is NCCL_ALGO set and
    // NCCL_PROTO not: NCCL's model picks the protocol (src/enqueue.cc,
    // topoGetAlgoInfo, over the algorithm's row of its cost table).
    std::vector<std::pair<std::string, collective::Protocol>> order;
    std::vector<double> order_us;  // NCCL's predicted time of each of `order` (its model's pairs only)
    // NCCL's predictions as text only for the log (fastest() prints them).
    std::string* predicted = log::enabled(spdlog::level::info) ? &out.nccl_model[i] : nullptr;
    const bool nccl_picks_protocol =
        !choosing_algorithm && protos.size() > 1 && choice.algorithm != "tuned" && choice.algorithm != "fastest";
    // Point-to-point: NCCL's own rule, not its cost model (direct.h).
    const bool p2p = point_to_point;
    const double peer_bytes = c.op == collective::Op::kAllToAll ? c.bytes / std::max(1, c.ranks) : c.bytes;
    const auto p2p_setup =
        p2p ? collective::resolve_p2p_setup(c.params.p2p, c.params.nccl_system, choice.nccl) : c.params.p2p;
    if (p2p && predicted && c.params.nccl_system.nodes > 1) {
      log::info(
          "tuner: {} of {:.0f} B on {} ranks: {} point-to-point channels, {} per network peer, {} for "
          "this message, {} through the network",
          collective::op_name(c.op), c.bytes, c.ranks, p2p_setup.channels,
          collective::nccl_p2p_channels_per_net_peer(c.ranks, p2p_setup),
          collective::nccl_p2p_net_parts(peer_bytes, c.ranks, p2p_setup),
          p2p_setup.channel_net_Bps > 0 ? fmt::format("at most {:g} GB/s each", p2p_setup.channel_net_Bps / 1e9)
                                        : std::string("no limit on each"));
    }
    // Rings across nodes: NCCL's ring channels and what each carries
    // through the network (protocol.h ring_channel_net_GBps).
    const bool rings = std::find(algos->begin(), algos->end(), "ring") != algos->end();
    if (!p2p && rings && predicted && c.params.nccl_system.nodes > 1) {
      const int channels = collective::nccl_ring_channels(c.params.nccl_system, choice.nccl);
      if (channels > 0 && c.params.nccl_system.nics > 0) {
        log::info(
            "tuner: {} of {:.0f} B on {} ranks: {} NCCL ring channels, {:g} per NIC, {} through the network (wire "
            "bytes){}",
            collective::op_name(c.op), c.bytes, c.ranks, channels,
            static_cast<double>(channels) / c.params.nccl_system.nics,
            c.params.ring_channel_net_Bps > 0
                ? fmt::format("at most {:g} GB/s each", c.params.ring_channel_net_Bps / 1e9)
                : std::string("no limit on each"),
            c.params.ring_channel_msg_cost_s > 0
                ? fmt::format("; each network message over {:g} B costs a channel {:g} us{}",
                              c.params.ring_channel_ar_threshold_bytes, c.params.ring_channel_msg_cost_s * 1e6,
                              c.op == collective::Op::kAllReduce || c.op == collective::Op::kAllGather ||
                                      c.op == collective::Op::kReduceScatter
                                  ? fmt::format(" (a ring step here: {:.0f} B of data a channel, LL128 x 128/120 "
                                                "on the wire)",
                                                c.bytes / std::max(1, c.ranks) / channels)
                                  : std::string())
                : std::string());
      }
    }
    if (p2p && (nccl_picks_algorithm(choice) || nccl_picks_protocol) && protos.size() > 1 && algos->size() == 1) {
      // NCCL's rule, among the protocols asked for (NCCL_PROTO=^LL: Simple).
      const auto proto = collective::nccl_p2p_protocol(peer_bytes, c.ranks, p2p_setup);
      auto asked = [&](collective::Protocol p) { return std::find(protos.begin(), protos.end(), p) != protos.end(); };
      if (asked(proto)) order = {{algos->front(), proto}};
      if (proto != collective::Protocol::kSimple && asked(collective::Protocol::kSimple))
        order.emplace_back(algos->front(), collective::Protocol::kSimple);
      if (order.empty()) order = {{algos->front(), protos.front()}};
    } else if (nccl_picks_algorithm(choice) || nccl_picks_protocol) {
      order = nccl_order(c, *algos, protos, choice.nccl, predicted, &order_us);
    }
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto& [algo, proto] = order[k];
      // A named algorithm always runs: only `auto`'s picks meet the guard.
      auto s = build_candidate(c, algo, proto, choice, backend, nccl_picks_algorithm(choice));
      if (!s) {
        skipped.push_back(fmt::format("{} {}: {}", algo, collective::protocol_name(proto), s.error().message));
        continue;
      }
      out.of_case[i].push_back(out.schedules.size());
      out.schedules.push_back(std::move(*s));
      if (k < order_us.size()) out.nccl_predicted_us[i] = order_us[k];
      break;
    }
    // Algorithms NCCL would not weigh here, dropped without being listed as skipped: named only if nothing is left.
    std::vector<std::string> dropped;
    for (const auto& algo : order.empty() ? *algos : std::vector<std::string>{}) {
      // NCCL disables NVLSTree on one node (src/graph/tuning.cc); so does a choice here, not listed as skipped.
      if (choosing_algorithm && algo == "nvlstree" && collective::group_by_domain(c.params.domain_of_rank).size() < 2) {
        dropped.push_back("nvlstree: NCCL runs it only across NVLink domains");
        continue;
      }
      // NCCL runs CollNet only when it is enabled (NCCL_COLLNET_ENABLE=1;
      // config::NcclSpec::collnet); then a fabric without SHARP trees is
      // named among the skipped.
      if (choosing_algorithm && algo == "collnetdirect" && !c.params.collnet_enabled) {
        dropped.push_back("collnetdirect: CollNet is off (nccl.collnet)");
        continue;
      }
      // NCCL_NVLS_ENABLE=0 (config::NcclSpec::nvls), or a reduction or type its NVLS kernels lack: neither runs.
      if (choosing_algorithm && (algo == "nvls" || algo == "nvlstree") && !c.params.nvls_enabled) {
        dropped.push_back(algo + ": NVLS is off here (nccl.nvls, or a reduction or type NCCL's NVLS kernels lack)");
        continue;
      }
      if (choosing_algorithm && algo == "nvls" && !c.params.collnet_enabled &&
          collective::group_by_domain(c.params.domain_of_rank).size() > 1) {
        skipped.push_back(fmt::format("nvls: {}", collective::kNvlsAcrossDomains));
        continue;
      }
      // Not a candidate where NCCL would not run PAT.
      if (choosing_algorithm && algo == "pat" && !nccl_runs_pat(c, choice.nccl)) {
        dropped.push_back("pat: NCCL runs it only with one GPU per node, from 2.23.4");
        continue;
      }
      std::string refusal;  // the last reason one of this algorithm's candidates could not run
      bool any = false;
      int body = -1;  // this algorithm's first candidate: the others share its transfers
      for (auto proto : protos) {
        if (body >= 0 && !collective::transfers_depend_on_protocol(c.op, algo)) {
          // A candidate per protocol shares the first one's transfers (Schedule::transfers_of).
          auto& first = out.schedules[static_cast<std::size_t>(body)];
          if (!collective::protocol_supported(first.latency_family, proto)) {
            refusal = fmt::format("{} runs only the Simple protocol, not {}", algo, collective::protocol_name(proto));
            continue;
          }
          out.of_case[i].push_back(out.schedules.size());
          out.schedules.push_back(collective::protocol_variant(first, body, proto));
          continue;
        }
        auto s = build_candidate(c, algo, proto, choice, backend, choosing_algorithm);
        if (!s) {
          if (!choosing) return s.error();
          refusal = s.error().message;
          continue;
        }
        out.of_case[i].push_back(out.schedules.size());
        if (!s->transfers.empty() || s->compact()) body = static_cast<int>(out.schedules.size());
        out.schedules.push_back(std::move(*s));
        any = true;
        // One pair named: NCCL's model's time for it too, where it has one.
        if (!choosing && !point_to_point) {
          const auto graphs = collective::nccl_graphs(c.params.nccl_system, choice.nccl);
          const double t =
              collective::nccl_predicted_time_us(c.op, algo, proto, c.bytes, c.params.nccl_system, graphs, choice.nccl);
          if (t > 0) out.nccl_predicted_us[i] = t;
        }
      }
      if (!any) skipped.push_back(fmt::format("{}: {}", algo, refusal));
    }
    if (out.of_case[i].empty()) {
      // One algorithm asked for: its own reason. Several: each one's, and
      // what would let one run.
      if (!choosing_algorithm) {
        std::string why = skipped.front().substr(skipped.front().find(": ") + 2);
        if (backend == "simgrid" && why.find("--auto-max-work") != std::string::npos)
          why += "; raise --auto-max-work, or use --backend analytical";
        // A list that leaves one algorithm ("^ring,tree,..."): say so.
        if (is_algorithm_list(choice.algorithm))
          why = fmt::format("--algo {} leaves only {} for the {} here, and it cannot run: {}", choice.algorithm,
                            algos->front(), collective::op_name(c.op), why);
        return make_error(why);
      }
      if (skipped.empty()) skipped = std::move(dropped);
      const bool guarded = std::any_of(skipped.begin(), skipped.end(), [](const std::string& why) {
        return why.find("--auto-max-work") != std::string::npos;
      });
      return make_error(
          fmt::format("{}no algorithm can run the {} of {:.0f} bytes over {} ranks here ({}); name one "
                      "with --algo ({}){}",
                      is_algorithm_list(choice.algorithm) ? "--algo " + choice.algorithm + ": " : std::string(),
                      collective::op_name(c.op), c.bytes, c.ranks, fmt::join(skipped, "; "),
                      fmt::join(collective::algorithms_for(c.op), ", "),
                      backend == "simgrid" && guarded ? ", raise --auto-max-work, or use --backend analytical" : ""));
    }
  }
  return out;
}

// SimGrid's max-min solver settles rates to its own precision, so a flow-
// level time can fall below the analytical bound by about 1e-7 of itself.
constexpr double kBoundSlack = 1e-6;

Expected<std::vector<ScheduleResult>> run_candidates(const Candidates& candidates, const topology::Network& network,
                                                     Backend& backend, const RunOptions& options) {
  const auto& schedules = candidates.schedules;
  bool choosing = false;
  for (const auto& of : candidates.of_case) choosing |= of.size() > 1;
  if (!choosing) return backend.run(network, schedules, options);
  if (backend.name() == "analytical") {  // prunes by its own load bound (backend.h choose_among)
    RunOptions choose = options;
    choose.choose_among = candidates.of_case;
    return backend.run(network, schedules, choose);
  }

  RunOptions quiet = options;
  quiet.on_progress = nullptr;
  quiet.record_transfers = false;
  AnalyticalBackend analytical;
  auto bounds = analytical.run(network, schedules, quiet);
  if (!bounds) return bounds.error();
  std::vector<ScheduleResult> results = *bounds;
  for (auto& r : results) r.pruned = true;

  // Simulates `which` (indices into schedules) in one backend call.
  std::size_t done = 0;
  auto simulate = [&](const std::vector<std::size_t>& which, std::size_t total) -> Status {
    if (which.empty()) return Ok{};
    std::vector<collective::Schedule> subset;
    RunOptions sub = options;
    sub.rank_to_endpoint_per_schedule.clear();
    for (std::size_t k : which) {
      subset.push_back(collective::materialize(schedules, k));
      if (!options.rank_to_endpoint_per_schedule.empty())
        sub.rank_to_endpoint_per_schedule.push_back(options.rank_to_endpoint_per_schedule[k]);
    }
    if (options.on_progress) {
      sub.on_progress = [&, base = done](std::size_t k, std::size_t) { options.on_progress(base + k, total); };
    }
    auto r = backend.run(network, subset, sub);
    if (!r) return r.error();
    for (std::size_t i = 0; i < which.size(); ++i) results[which[i]] = std::move((*r)[i]);
    done += which.size();
    return Ok{};
  };
  std::vector<std::size_t> first;
  for (const auto& of : candidates.of_case) {
    std::size_t lowest = of.front();
    for (std::size_t k : of)
      if ((*bounds)[k].time_s < (*bounds)[lowest].time_s) lowest = k;
    first.push_back(lowest);
  }
  // Progress counts every candidate until the first round says how many remain.
  if (auto st = simulate(first, schedules.size()); !st) return st.error();
  std::vector<std::size_t> second;
  for (std::size_t c = 0; c < candidates.of_case.size(); ++c) {
    const double best = results[first[c]].time_s;
    for (std::size_t k : candidates.of_case[c])
      if (k != first[c] && (*bounds)[k].time_s <= best * (1 + kBoundSlack)) second.push_back(k);
  }
  if (auto st = simulate(second, first.size() + second.size()); !st) return st.error();
  return results;
}

std::size_t fastest(const Candidates& candidates, std::size_t index, const std::vector<ScheduleResult>& results) {
  const auto& of = candidates.of_case[index];
  std::size_t best = of.front();
  for (std::size_t k : of)
    if (results[k].time_s < results[best].time_s) best = k;
  if (log::enabled(spdlog::level::info)) {
    const auto& s = candidates.schedules[best];
    std::string all;
    for (std::size_t k : of) {
      const auto& c = candidates.schedules[k];
      all += fmt::format("{}{}/{} {:.2f} us{}", all.empty() ? "" : ", ", c.algo, collective::protocol_name(c.protocol),
                         results[k].time_s * 1e6, results[k].pruned ? " (bound, not simulated)" : "");
    }
    log::info("tuner: {} of {:.0f} B on {} ranks: chose {}/{} from {}", s.op, s.bytes, s.ranks, s.algo,
              collective::protocol_name(s.protocol), all);
    if (index < candidates.nccl_model.size() && !candidates.nccl_model[index].empty())
      log::info("tuner: {} of {:.0f} B: NCCL's model predicts {}", s.op, s.bytes, candidates.nccl_model[index]);
    for (const auto& why : candidates.skipped[index])
      log::info("tuner: {} of {:.0f} B: skipped {}", s.op, s.bytes, why);
  }
  return best;
}

}  // namespace collsim::engine
