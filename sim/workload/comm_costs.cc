#include "sim/workload/comm_costs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "sim/collective/algorithms.h"
#include "sim/collective/protocol.h"
#include "sim/core/log.h"
#include "sim/engine/nccl_system.h"
#include "sim/engine/schedule_loads.h"
#include "sim/engine/sharp.h"
#include "sim/engine/tuner.h"
#include "sim/units/units.h"

namespace collsim::workload {

namespace {

// A call's wiring in canonical form: its links numbered in order of first
// appearance over the routes between its endpoints (GPUs, then the NVSwitch
// helper when there is one), plus everything a schedule depends on.
// Groups above this many GPUs are keyed by their exact endpoints instead:
// the canonical key routes every pair (n^2 routes per call: 2 M cross-fabric
// routes for the 128-GPU data-parallel groups of a 16,384-GPU step, most of
// its time), while equal groups (the same GPUs) still share one costing.
// Their links are numbered as the chosen schedule's routes meet them.
// Named default, 96: the shipped workloads' groups (up to DeepSeek-V3's 72)
// keep sharing costings by wiring, which matters on the SimGrid backend.
constexpr std::size_t kAllPairsKeyMaxGpus = 96;

// Named default: the candidate schedules of a step are built and run in
// batches that close once they hold this many explicit transfers, so memory
// stays bounded however many wirings a step has (about 650 bytes each on
// the analytical backend with its plan: some 650 MB, plus the last
// wiring's). Results do not depend on it: every candidate is costed alone.
constexpr double kBatchTransfers = 1e6;

struct Canonical {
  std::string key;
  std::vector<int> links;      // canonical id -> network link (empty: filled when costed)
  std::vector<int> endpoints;  // rank -> endpoint (helper last)
};

void append(std::string& key, const void* data, std::size_t n) { key.append(static_cast<const char*>(data), n); }
template <class T>
void append(std::string& key, T v) {
  append(key, &v, sizeof v);
}

// Whether the call's all-reduce may run on the fabric's SHARP trees
// (collnetdirect, or nvls across NVLink domains): then it is keyed by its
// exact GPUs, since its helpers are particular switches whose routes the
// canonical key does not hold.
bool may_use_sharp(const CommCall& c, const topology::Network& net) {
  if (c.op != collective::Op::kAllReduce || !net.has_sharp() || c.gpus.empty()) return false;
  const int first = net.nvlink_domain_of(c.gpus.front());
  for (int g : c.gpus)
    if (net.nvlink_domain_of(g) != first) return true;
  return false;
}

Canonical canonical(const CommCall& c, const topology::Network& net) {
  Canonical out;
  out.endpoints = c.gpus;
  // Helpers (collective::Schedule::helper_ranks): the NVSwitch of each
  // NVLink domain, domains in order of their first GPU (nvls has one,
  // nvlstree one per domain).
  std::unordered_set<int> seen;
  for (int g : c.gpus) {
    const int helper = net.nvswitch_endpoint_near(g);
    if (helper >= 0 && seen.insert(helper).second) out.endpoints.push_back(helper);
  }
  std::string& key = out.key;
  append(key, static_cast<int>(c.op));
  append(key, c.bytes);
  append(key, c.root);
  append(key, c.one_way);
  append(key, static_cast<int>(c.gpus.size()));
  append(key, net.nvls_efficiency_near(c.gpus.front()));
  append(key, net.nvls_chunk_cost_near(c.gpus.front()));
  append(key, net.p2p_op_cost_of(c.gpus.front()));
  append(key, net.nccl_p2p_channels());
  append(key, net.nccl_nchannels_per_net_peer());
  append(key, net.nccl_p2p_per_channel_net_GBps());
  append(key, net.nccl_min_channels());
  append(key, net.nccl_min_ctas());
  append(key, net.nccl_max_channels());
  append(key, net.nccl_max_ctas());
  append(key, net.nccl_host_cpu());
  append(key, net.nccl_ring_channel_net_GBps());
  append(key, net.nccl_tree_chain_channel_GBps());
  append(key, net.nccl_ib_qps_per_connection());
  append(key, net.nccl_ib_ar_threshold());
  append(key, net.qp_rate_GBps_of(c.gpus.front()));
  append(key, net.qp_msg_cost_of(c.gpus.front()));
  append(key, net.plugin_latency_of(c.gpus.front()));
  append(key, net.nccl_buffsize());
  append(key, net.nccl_nics_per_gpu());
  append(key, net.nccl_p2p_net_chunksize());
  append(key, net.nccl_nvls_chunksize());
  append(key, net.nccl_nvlstree_max_chunksize());
  // What NCCL's choice (`auto`) reads of the nodes (engine/nccl_system.h).
  const collective::NcclSystem nccl = engine::nccl_system(net, c.gpus);
  append(key, nccl.nics);
  for (int n : nccl.node_nics) append(key, n);
  append(key, nccl.nic_GBps);
  append(key, nccl.nvlink_GBps);
  std::unordered_map<int, int> dom;
  for (int g : c.gpus) {
    auto [it, ins] = dom.try_emplace(net.nvlink_domain_of(g), static_cast<int>(dom.size()));
    append(key, it->second);
  }
  // A GPU off the network moves rings' channels and routes (ring.h
  // rings_over_domains, Network::exit_route): such calls are keyed exactly.
  const bool off_network =
      dom.size() > 1 && std::any_of(c.gpus.begin(), c.gpus.end(), [&](int g) { return !net.on_network(g); });
  if (c.gpus.size() > kAllPairsKeyMaxGpus || may_use_sharp(c, net) || off_network) {
    key += "exact";
    for (int e : out.endpoints) append(key, e);
    return out;
  }
  std::unordered_map<int, int> canon;
  const int n = static_cast<int>(out.endpoints.size());
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i == j) continue;
      const int a = out.endpoints[i], b = out.endpoints[j];
      auto visit = [&](int l) {
        auto [it, ins] = canon.try_emplace(l, static_cast<int>(out.links.size()));
        if (ins) {
          out.links.push_back(l);
          const auto& link = net.links()[l];
          key += '[';
          append(key, link.rate_Bps);
          append(key, link.latency_s);
          key += link.link_class;
          key += ']';
        }
        append(key, it->second);
      };
      // Point-to-point ops take the PXN route, and so may rings across
      // domains (collective::Schedule::pxn_between_domains): their relayed
      // links are in the key too.
      const bool p2p = collective::is_point_to_point(c.op);
      for (int l : p2p || net.needs_stand_in(a, b) ? net.p2p_route(a, b) : net.route(a, b)) visit(l);
      if (!p2p && net.nccl_cross_nic() != 1 && net.pxn_relay(a, b) >= 0)
        for (int l : net.p2p_route(a, b)) visit(l);
      key += ';';
    }
  }
  return out;
}

}  // namespace

Expected<std::vector<CommCost>> cost_calls(const std::vector<CommCall>& calls, const topology::Network& network,
                                           engine::Backend& backend, const CommChoice& choice, CommCostStats* stats,
                                           const std::function<void(std::size_t, std::size_t)>& on_progress) {
  // 1. Distinct wirings.
  std::vector<Canonical> canon;
  std::vector<int> rep_of_call(calls.size());
  std::vector<int> reps;  // call index of each distinct wiring's representative
  std::unordered_map<std::string, int> distinct;
  canon.reserve(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    canon.push_back(canonical(calls[i], network));
    auto [it, ins] = distinct.try_emplace(canon.back().key, static_cast<int>(reps.size()));
    if (ins) reps.push_back(static_cast<int>(i));
    rep_of_call[i] = it->second;
    canon.back().key.clear();
    canon.back().key.shrink_to_fit();
  }

  // 2. Candidate schedules of every distinct wiring (the tuner's), run in
  //    batches of about kBatchTransfers explicit transfers (one backend
  //    call each, usually one in all). A named algorithm applies to the ops
  //    it implements; the others keep their NCCL default.
  engine::TunerChoice tuner = choice;
  tuner.named_algorithm_for_every_op = true;
  auto tune_case = [&](int rep) {
    const CommCall& c = calls[static_cast<std::size_t>(rep)];
    engine::TuneCase tc{c.op, static_cast<int>(c.gpus.size()), c.bytes, engine::placement_params(network, c.gpus)};
    tc.params.root = c.root;
    tc.params.one_way = c.one_way;
    // CollNet's aggregation trees (engine/sharp.h), where the fabric reduces.
    if (may_use_sharp(c, network)) engine::set_collnet(tc.params, network, c.gpus);
    return tc;
  };
  std::vector<CommCost> rep_cost(reps.size());
  std::vector<std::vector<double>> rep_canon_bytes(reps.size());
  std::vector<double> rep_adds(reps.size(), 0.0);  // bytes of adds per NVSwitch (CommCost::engine_adds)
  std::vector<std::string> skipped;
  std::size_t simulated = 0;
  for (std::size_t first = 0; first < reps.size();) {
    engine::Candidates batch;
    double transfers = 0;
    std::size_t last = first;
    for (; last < reps.size() && (last == first || transfers < kBatchTransfers); ++last) {
      auto one = engine::build_candidates({tune_case(reps[last])}, tuner, backend.name());
      if (!one) return one.error();
      std::vector<std::size_t> of;
      const auto base = static_cast<int>(batch.schedules.size());
      for (auto& sch : one->schedules) {
        transfers += sch.all_pairs ? sch.transfer_count() : static_cast<double>(sch.transfers.size());
        if (sch.transfers_of >= 0) sch.transfers_of += base;  // its index in the batch
        of.push_back(batch.schedules.size());
        batch.schedules.push_back(std::move(sch));
      }
      batch.of_case.push_back(std::move(of));
      batch.skipped.push_back(std::move(one->skipped.front()));
    }
    const auto& schedules = batch.schedules;
    std::vector<std::vector<int>> maps(schedules.size());
    for (std::size_t r = first; r < last; ++r)
      for (std::size_t k : batch.of_case[r - first]) maps[k] = canon[static_cast<std::size_t>(reps[r])].endpoints;
    engine::RunOptions options;
    options.rank_to_endpoint_per_schedule = std::move(maps);
    options.simgrid_aggregate_above = choice.simgrid_aggregate_above;
    options.nccl = choice.nccl;
    if (on_progress) {  // schedules of this batch, scaled to the wirings done
      options.on_progress = [&, first, last](std::size_t done, std::size_t total) {
        on_progress(first + (last - first) * done / std::max<std::size_t>(total, 1), reps.size());
      };
    }
    auto results = engine::run_candidates(batch, network, backend, options);
    if (!results) return results.error();
    simulated += schedules.size();

    // 3. The fastest candidate per wiring, and its bytes on each canonical link.
    for (std::size_t r = first; r < last; ++r) {
      const std::size_t best = engine::fastest(batch, r - first, *results);
      // The chosen candidate's protocol, over its transfers (its own, or the
      // ones it shares with another protocol's candidate).
      const collective::Protocol protocol = schedules[best].protocol;
      const auto& s = collective::body_of(schedules, best);
      for (const auto& why : batch.skipped[r - first]) {
        const CommCall& c = calls[static_cast<std::size_t>(reps[r])];
        std::string line = fmt::format("{} of {} over {} GPUs: {}", collective::op_name(c.op),
                                       units::format(units::Bytes{c.bytes}), c.gpus.size(), why);
        if (std::find(skipped.begin(), skipped.end(), line) == skipped.end()) skipped.push_back(std::move(line));
      }
      const Canonical& cn = canon[reps[r]];
      CommCost& cost = rep_cost[r];
      cost.time_s = (*results)[best].time_s;
      cost.algo = s.algo;
      cost.proto = std::string(collective::protocol_name(protocol));
      cost.bytes_sent = s.total_bytes();
      rep_adds[r] = s.switch_adds();  // per switch of an NVLS reduction: the call's switches
      std::unordered_map<int, int> canon_id;
      for (std::size_t k = 0; k < cn.links.size(); ++k) canon_id[cn.links[k]] = static_cast<int>(k);
      auto& bytes = rep_canon_bytes[r];
      bytes.assign(cn.links.size(), 0.0);
      auto& links = canon[static_cast<std::size_t>(reps[r])].links;  // grows for exact-keyed groups
      // Ranks, then helpers: the fabric's switches (CollNet) by their own
      // endpoints, else the NVSwitches in canonical order.
      auto endpoint = [&](int r) {
        const int helper = r - s.ranks;
        return helper >= 0 && !s.helper_endpoint.empty() ? s.helper_endpoint[static_cast<std::size_t>(helper)]
                                                         : cn.endpoints[static_cast<std::size_t>(r)];
      };
      engine::for_each_link_bytes(network, s, protocol, endpoint, [&](int l, double wire) {
        auto [it, fresh] = canon_id.try_emplace(l, static_cast<int>(links.size()));
        if (fresh) {
          links.push_back(l);
          bytes.push_back(0.0);
        }
        bytes[static_cast<std::size_t>(it->second)] += wire;
      });
    }
    first = last;
  }

  // 4. Every call gets its wiring's cost on its own links.
  std::vector<CommCost> out(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const int r = rep_of_call[i];
    out[i].time_s = rep_cost[r].time_s;
    out[i].algo = rep_cost[r].algo;
    out[i].proto = rep_cost[r].proto;
    out[i].bytes_sent = rep_cost[r].bytes_sent;
    if (rep_adds[r] > 0) {
      for (int g : calls[i].gpus) {
        const int sw = network.nvswitch_endpoint_near(g);
        if (sw < 0 || network.nvls_reduction_rate_Bps(sw) <= 0) continue;
        auto& adds = out[i].engine_adds;
        if (std::none_of(adds.begin(), adds.end(), [&](const auto& a) { return a.first == sw; }))
          adds.emplace_back(sw, rep_adds[r]);
      }
    }
    const auto& bytes = rep_canon_bytes[r];
    // Exact-keyed groups have the representative's GPUs, hence its links.
    const auto& links = canon[i].links.empty() ? canon[static_cast<std::size_t>(reps[r])].links : canon[i].links;
    for (std::size_t k = 0; k < bytes.size(); ++k)
      if (bytes[k] > 0) out[i].link_bytes.emplace_back(links[k], bytes[k]);
  }
  log::info("step: {} collective calls, {} distinct wirings, {} candidate schedules on the {} backend", calls.size(),
            reps.size(), simulated, backend.name());
  if (stats) *stats = CommCostStats{calls.size(), reps.size(), simulated, std::move(skipped)};
  return out;
}

}  // namespace collsim::workload
