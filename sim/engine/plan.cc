#include "sim/engine/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <unordered_map>

#include "sim/collective/nccl_tables.h"
#include "sim/collective/protocol.h"
#include "sim/core/flat_index.h"
#include "sim/engine/schedule_loads.h"

namespace collsim::engine::detail {

namespace {

// The smaller of two rate caps, 0 meaning none.
double capped(double a, double b) { return a > 0 && b > 0 ? std::min(a, b) : std::max(a, b); }

// What planning an explicit schedule finds that its protocol does not
// change: each transfer's connection (src, dst, into a switch's reduction
// engines), the connections in order of first use, the channels' static
// shares per connection (under a protocol) and the deps, packed.
struct PlanBody {
  const collective::Schedule* schedule = nullptr;  // reusable for this one's twins; null: not reusable
  const std::vector<int>* rank_map = nullptr;
  bool under_protocol = false;
  double nvlink_busy = 1;                                     // add_explicit_channel_shares's
  std::shared_ptr<std::vector<std::uint32_t>> connection_of;  // per transfer
  std::vector<std::uint32_t> first_use, resolve_order;        // per connection
  std::unordered_map<std::uint64_t, double> shares;
  std::shared_ptr<std::vector<int>> deps;
  std::shared_ptr<std::vector<std::uint32_t>> dep_begin;  // per transfer, and the end
  bool all_on_channels = true;                            // every transfer has a channel (Transfer::channel)
  std::string error;                                      // an internal error, or ""
};

template <class Endpoint>
PlanBody plan_body(const topology::Network& network, const collective::Schedule& e, Endpoint endpoint,
                   bool under_protocol, double nvlink_busy, std::unordered_map<std::uint64_t, double> ring_shares) {
  PlanBody b;
  b.under_protocol = under_protocol;
  b.nvlink_busy = nvlink_busy;
  b.shares = std::move(ring_shares);
  if (under_protocol) add_explicit_channel_shares(network, e, endpoint, nvlink_busy, b.shares);
  // Connections are resolved once each, in order of first use (route and
  // helper host numbering follow it). Grouped by sorting (a 9,216-GPU tree
  // has 2.7 M transfers over far fewer connections; a hash lookup per
  // transfer missed the cache).
  const std::size_t n = e.transfers.size();
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_connection(n);  // (connection key, transfer)
  b.deps = std::make_shared<std::vector<int>>();
  b.dep_begin = std::make_shared<std::vector<std::uint32_t>>(n + 1);
  auto& dep_begin = *b.dep_begin;
  std::size_t total_deps = 0;
  for (const auto& t : e.transfers) total_deps += t.deps.size();
  b.deps->reserve(total_deps);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = e.transfers[i];
    if (t.queue_after >= static_cast<int>(i)) {
      b.error = fmt::format("transfer {} queues after transfer {}, which is not before it", i, t.queue_after);
      return b;
    }
    const bool addend = t.switch_addend && t.dst >= e.ranks;
    by_connection[i] = {(static_cast<std::uint64_t>(static_cast<std::uint32_t>(t.src)) << 33) |
                            (static_cast<std::uint64_t>(static_cast<std::uint32_t>(t.dst)) << 1) | (addend ? 1U : 0U),
                        static_cast<std::uint32_t>(i)};
    dep_begin[i] = static_cast<std::uint32_t>(b.deps->size());
    b.deps->insert(b.deps->end(), t.deps.begin(), t.deps.end());
    b.all_on_channels &= t.channel >= 0;
  }
  dep_begin[n] = static_cast<std::uint32_t>(b.deps->size());
  std::sort(by_connection.begin(), by_connection.end());
  b.connection_of = std::make_shared<std::vector<std::uint32_t>>(n);
  auto& connection_of = *b.connection_of;
  for (std::size_t k = 0; k < n; ++k) {
    if (k == 0 || by_connection[k].first != by_connection[k - 1].first) b.first_use.push_back(by_connection[k].second);
    connection_of[by_connection[k].second] = static_cast<std::uint32_t>(b.first_use.size() - 1);
  }
  b.resolve_order.resize(b.first_use.size());
  std::iota(b.resolve_order.begin(), b.resolve_order.end(), 0U);
  std::sort(b.resolve_order.begin(), b.resolve_order.end(),
            [&](std::uint32_t x, std::uint32_t y) { return b.first_use[x] < b.first_use[y]; });
  return b;
}

}  // namespace

Expected<Plan> make_plan(const topology::Network& network, const std::vector<collective::Schedule>& schedules,
                         const RunOptions& options, const PlanChoices& choices) {
  Plan plan;
  plan.host_names = &network.endpoints();
  plan.links = &network.links();
  plan.network = &network;
  plan.record_transfers = options.record_transfers;
  plan.on_progress = options.on_progress;
  FlatIndex<std::uint64_t, IdentityHash> route_index;  // src host << 32 | dst host -> Plan::routes
  std::vector<RouteFacts> facts;                       // per Plan::routes entry of a connection
  // (GPU endpoint, exit GPU or -1) -> its ":via:" or ":pxn" host (relayed sends)
  std::unordered_map<std::uint64_t, int> pxn_host;
  // (NVSwitch endpoint, Schedule::switch_inputs) -> its reduction engines' host
  // (Plan::extra_host_names; -1: not limited) and link (Plan::link); (source,
  // engines' host) -> their route (Plan::routes). Each input count has its own
  // host (its own scaling; schedules run alone, never sharing the engines).
  std::unordered_map<std::uint64_t, std::pair<int, int>> engine_host;
  std::unordered_map<std::uint64_t, int> engine_route_index;
  PlanBody body;  // of the last explicit schedule planned
  const auto host_cpu = collective::nccl_host_setting(network.nccl_host_cpu());  // NCCL's, where set (LL caps)
  // Schedules whose transfers stay deferred: candidates among others.
  std::vector<char> deferrable(schedules.size(), 0);
  if (choices.defer_candidates && !options.record_transfers) {
    for (const auto& list : options.choose_among)
      if (list.size() > 1)
        for (std::size_t si : list)
          if (si < deferrable.size()) deferrable[si] = 1;
  }
  if (!options.rank_to_endpoint_per_schedule.empty() &&
      options.rank_to_endpoint_per_schedule.size() != schedules.size()) {
    return make_internal_error("one rank map per schedule expected");
  }
  for (std::size_t si = 0; si < schedules.size(); ++si) {
    // A protocol candidate sharing another's transfers plans them under its
    // own protocol (collective::Schedule::transfers_of).
    const auto& s = collective::body_of(schedules, si);
    const collective::Protocol protocol = schedules[si].protocol;
    const std::vector<int>& rank_map = rank_map_of(options, si);
    const bool keep_compact = choices.keep_compact && s.transfer_count() > choices.keep_compact_above;
    // Only NCCL's rings (not direct, rhd, hier) under LL/LL128 pay the ring step latency; chains wait for steps.
    const bool ring_step =
        s.algo == "ring" && collective::streams_lines(protocol) && !chain_waits_for_steps(s, protocol);
    if (rank_map.empty() && s.ranks > network.num_gpus()) {
      return make_error(
          fmt::format("{} needs {} ranks but the topology has {} GPUs", s.op, s.ranks, network.num_gpus()));
    }
    if (!collective::protocol_supported(s.latency_family, protocol)) {
      return make_error(
          fmt::format("{} ({}) does not run the {} protocol", s.op, s.algo, collective::protocol_name(protocol)));
    }
    auto endpoint = [&](int rank) { return rank_endpoint(network, s, rank_map, rank); };
    PlannedSchedule planned;
    planned.ranks = s.ranks;
    if (options.record_transfers)
      for (int r = 0; r < s.ranks; ++r) planned.rank_hosts.push_back(endpoint(r));
    // The all-pairs cost relays every member of a domain alike: across
    // domains, a GPU off the network (Network::needs_stand_in) takes the
    // listed transfers.
    auto stand_ins = [&] {
      bool off = false, across = false;
      const int g0 = endpoint(0);
      for (int r = 0; r < s.ranks; ++r) {
        const int g = endpoint(r);
        if (g < 0 || g >= network.num_gpus()) continue;
        off |= !network.on_network(g);
        across |= network.nvlink_domain_of(g) != network.nvlink_domain_of(g0);
      }
      return off && across;
    };
    if (s.all_pairs && choices.keep_all_pairs && !stand_ins()) {
      planned.all_pairs = true;
      plan.schedules.push_back(std::move(planned));
      continue;
    }
    std::string model;  // the first rank's GPU's; and the protocol's payload share of the wire
    for (int r = 0; r < s.ranks && model.empty(); ++r)
      if (const int e = endpoint(r); e >= 0 && e < network.num_gpus()) model = network.gpu_model(e);
    const double payload =
        collective::protocol_costs(s.latency_family, protocol, collective::HopKind::kNet).payload_fraction;
    // LL's throughput limit on rings (protocol.h), per channel: a ring's
    // passes or a ring broadcast's or reduce's chains (NCCL's model caps every
    // ring collective under LL alike, src/graph/tuning.cc llMaxBw). Nodes: the
    // NVLink domains the ring spans, or one when no hop of it crosses the
    // network (GPUs without an NVSwitch in one server).
    double protocol_cap = 0;
    const bool passes = s.algo == "ring" && s.compact() && !s.ring_phases.front().empty();
    const int ring_channels = passes             ? static_cast<int>(s.ring_phases.front().size())
                              : s.algo == "ring" ? s.chain_channels
                                                 : 0;
    if (ring_channels > 0 && protocol == collective::Protocol::kLL) {
      // The ranks in ring order: the first pass's, or rank order (a chain's ring).
      const std::size_t p = passes ? s.ring_phases.front().front().order.size() : static_cast<std::size_t>(s.ranks);
      auto rank_at = [&](std::size_t i) {
        return passes ? s.ring_phases.front().front().order[i % p] : static_cast<int>(i % p);
      };
      std::set<int> domains;
      std::string ring_model;
      bool network_hop = false;
      for (std::size_t i = 0; i < p; ++i) {
        const int e = endpoint(rank_at(i)), next = endpoint(rank_at(i + 1));
        if (e < 0 || e >= network.num_gpus() || next < 0 || next >= network.num_gpus() || e == next) continue;
        domains.insert(network.nvlink_domain_of(e));
        if (ring_model.empty()) ring_model = network.gpu_model(e);
        network_hop |= hop_kind(network, network.route(e, next)) == collective::HopKind::kNet;
      }
      const int nodes = network_hop ? std::max(2, static_cast<int>(domains.size())) : 1;
      protocol_cap =
          collective::ring_protocol_cap_Bps(protocol, ring_model, nodes, ring_channels, options.nccl, host_cpu) /
          payload;
    }
    // NCCL's tree throughput (tree_protocol_cap_Bps): the cap on the whole
    // all-reduce, shared by its channels, each moving its share through every
    // hop; NVLSTree's (nvls_tree_protocol_cap_Bps) caps its trees between
    // domains alike, not its NVLS stages. Inside a domain a tree's and a ring
    // chain's hops run at their channels' own rate (tree_chain_channel_Bps,
    // ring_chain_channel_Bps; 0: no limit).
    bool cap_network_only = false;
    std::optional<double> chain_cap;
    if ((s.algo == "tree" || s.algo == "nvlstree") && protocol != collective::Protocol::kNone && s.ranks > 1) {
      std::map<int, int> per_domain;
      for (int r = 0; r < s.ranks; ++r) {
        const int e = endpoint(r);
        if (e >= 0 && e < network.num_gpus()) ++per_domain[network.nvlink_domain_of(e)];
      }
      int widest = 0;
      for (const auto& [d, n] : per_domain) widest = std::max(widest, n);
      const int domains = static_cast<int>(per_domain.size());
      cap_network_only = s.algo == "nvlstree";
      const double cap = cap_network_only
                             ? collective::nvls_tree_protocol_cap_Bps(model, domains, widest, s.ranks, options.nccl)
                             : collective::tree_protocol_cap_Bps(protocol, model, domains, widest, options.nccl,
                                                                 host_cpu, s.nccl_tree_graph_channels);
      // Per channel (tree.h: two per GPU of the widest domain; nvls.h: each
      // GPU's portion on two trees); fewer heads, fewer NICs: fewer channels.
      const int channels = 2 * widest;
      if (cap > 0 && channels > 0) protocol_cap = cap / channels / payload;
      if (!cap_network_only) {
        chain_cap =
            collective::tree_chain_channel_Bps(protocol, model, widest, s.pipeline_busy(), options.nccl,
                                               network.nccl_tree_chain_channel_GBps(), s.nccl_tree_graph_channels);
        if (chain_cap) *chain_cap /= payload;
      }
    }
    if (s.chain_nccl_channels > 0) {  // a ring broadcast's or reduce's chain
      chain_cap = collective::ring_chain_channel_Bps(protocol, model, s.chain_nccl_channels, options.nccl,
                                                     network.nccl_tree_chain_channel_GBps());
      if (chain_cap) *chain_cap /= payload;
    }
    // Resolves one transfer's hosts, route and protocol costs.
    using Resolved = DeferredTransfers::Connection;
    auto resolve = [&](int src_rank, int dst_rank, double payload_bytes, bool addend = false) -> Expected<Resolved> {
      const int src = endpoint(src_rank), dst = endpoint(dst_rank);
      if (src < 0 || dst < 0 || src >= network.num_endpoints() || dst >= network.num_endpoints()) {
        if (src_rank >= s.ranks || dst_rank >= s.ranks) {
          return make_error(
              fmt::format("{} ({}) needs an NVSwitch next to the GPUs, and this topology has none", s.op, s.algo));
        }
        return make_internal_error(fmt::format("rank {} or {} has no GPU in the rank map", src_rank, dst_rank));
      }
      if (src == dst) return make_internal_error(fmt::format("a transfer from rank {} to itself", src_rank));
      // PXN: a relayed point-to-point route starts at the sender's own
      // ":pxn" host, so that it and the sender's collective route to the same
      // GPU (a step runs both) stay two routes of their own on every backend.
      // A GPU off the network crosses it through a peer's NIC, whatever the
      // algorithm (Network::stand_in_route). A ring channel leaves its domain
      // by its entry's NIC (Network::exit_via), from a host per exit.
      const int exit_gpu = src_rank < static_cast<int>(s.exit_relay.size()) ? endpoint(s.exit_relay[src_rank]) : -1;
      const int via = network.exit_via(src, exit_gpu, dst);
      const bool relayed = via >= 0 || network.needs_stand_in(src, dst) ||
                           ((s.point_to_point || s.pxn_between_domains) && network.pxn_relay(src, dst) >= 0);
      int from = src;
      if (relayed) {
        const auto& names = network.endpoints();
        auto [ph, fresh] =
            pxn_host.try_emplace((static_cast<std::uint64_t>(src) << 32) | static_cast<std::uint32_t>(via),
                                 static_cast<int>(plan.num_hosts()));
        if (fresh) {
          plan.relay_sender.emplace(ph->second, src);
          plan.extra_host_names.push_back(names[src] + (via < 0 ? ":pxn" : ":via:" + names[via]));
        }
        from = ph->second;
      }
      // A connection's route and its costs' facts, found once for every schedule.
      const std::uint64_t key = (static_cast<std::uint64_t>(from) << 32) | static_cast<std::uint64_t>(dst);
      const auto [index, inserted] = route_index.try_emplace(key, static_cast<int>(plan.routes.size()));
      const int route_at = *index;
      if (inserted) {
        const auto& found = connection_route(network, s, src, via, dst);
        if (found.empty()) {  // the plan stops here
          return make_error(network.no_route_message(src, dst));
        }
        plan.routes.push_back(Plan::Route{from, dst, found});
        if (facts.size() < plan.routes.size()) facts.resize(plan.routes.size());
        facts[static_cast<std::size_t>(route_at)] = route_facts(network, found);
      }
      const RouteFacts& f = facts[static_cast<std::size_t>(route_at)];
      const std::vector<int>& route = plan.routes[static_cast<std::size_t>(route_at)].links;
      auto costs = collective::protocol_costs(s.latency_family, protocol, f.kind);
      costs.ring_step = ring_step;
      // A collective's Simple window is NCCL_BUFFSIZE (protocol.h); point-to-
      // point connections keep their own chunks, as all_pairs_parts.h does.
      if (protocol == collective::Protocol::kSimple && !s.point_to_point)
        costs.window_bytes *= network.nccl_buffsize() / collective::kNcclDefaultBuffsize;
      if (protocol == collective::Protocol::kSimple && s.point_to_point && s.p2p_window_bytes > 0)
        costs.window_bytes = s.p2p_window_bytes;
      // The schedule's chunk overhead (collective::Schedule::chunk_overhead_s)
      // is paid with the launch, under a protocol.
      const double overhead = protocol == collective::Protocol::kNone ? 0 : s.chunk_overhead_s;
      planned.launch_latency_s = std::max(
          planned.launch_latency_s, overhead + costs.launch_latency_s + costs.launch_latency_per_rank_s * s.ranks);
      // The NCCL channels behind the transfer, through the network: a
      // point-to-point message's, or a ring channel's (its wire rate, so
      // its payload's under the protocol: protocol.h ring_channel_net_GBps).
      double net_cap = s.point_to_point ? s.p2p_net_cap_Bps : s.ring_net_cap_Bps * costs.payload_fraction;
      // Less where each network message costs its ring channel's queue pairs time (protocol.h): Simple's
      // and LL128's above NCCL_IB_AR_THRESHOLD, sent from GPU memory; LL's leave from host memory.
      RingSlots slots{s.ring_channel_step_bytes, s.ring_channels_per_transfer};
      if (!s.point_to_point && s.ring_channel_msg_cost_s > 0 && collective::pays_message_cost(protocol)) {
        // A chain's slices are whole messages (a slot: buffer / NCCL_STEPS) and move at one's rate.
        const double wire = s.ring_channel_step_bytes / costs.payload_fraction;
        const double rate = collective::ring_channel_message_rate_Bps(
            protocol, s.chain_channels > 0 ? std::min(wire, costs.window_bytes / collective::kNcclSteps) : wire,
            costs.window_bytes, s.ring_channel_Bps, s.ring_channel_msg_cost_s, s.ring_slots_per_message,
            s.ring_channel_ar_threshold_bytes);
        slots.msg_rate_factor = rate / s.ring_channel_Bps;
        slots.msg_cost_s = s.ring_channel_msg_cost_s;
        slots.ar_threshold_bytes = s.ring_channel_ar_threshold_bytes;
        net_cap *= slots.msg_rate_factor;
        // Simple's slots cut a step into messages: a larger buffer helps (backend.h buffer_bound), not a chain's fill.
        planned.buffer_bound |= protocol == collective::Protocol::kSimple && slots.msg_rate_factor < 0.95 &&
                                s.chain_channels == 0 &&
                                collective::ring_step_messages(protocol, s.ring_channel_step_bytes, costs.window_bytes,
                                                               s.ring_slots_per_message) > 1;
      }
      const TransferTiming timing =
          transfer_timing(f, costs, protocol, net_cap, s.ring_channels_per_transfer > 0 ? &slots : nullptr,
                          payload_bytes / costs.payload_fraction / std::max(1.0, s.ring_channels_per_transfer),
                          s.point_to_point ? payload_bytes / costs.payload_fraction : 0);
      planned.buffer_bound |= timing.buffer_bound;
      int host = dst, route_id = route_at;
      if (addend) {
        // The switch's reduction engines, as a host one link past the switch:
        // made (or found to be unlimited, -1) once per switch and input count.
        const auto inputs = static_cast<std::uint64_t>(std::max(s.switch_inputs, 0));
        const std::uint64_t key = (static_cast<std::uint64_t>(dst) << 24) | std::min<std::uint64_t>(inputs, 0xFFFFFF);
        auto [eh, fresh] = engine_host.try_emplace(key, -1, -1);
        if (fresh) {
          // In adds per second; where every input passes (Schedule::switch_inputs),
          // an input is (inputs - 1) / inputs of an add.
          const double n = static_cast<double>(inputs);
          const double rate = network.nvls_reduction_rate_Bps(dst) * (n > 1 ? n / (n - 1) : 1.0);
          const double efficiency = network.links()[static_cast<std::size_t>(route.back())].nvls_efficiency;
          if (rate > 0 && efficiency > 0) {
            eh->second = {static_cast<int>(plan.num_hosts()), static_cast<int>(plan.num_links())};
            plan.extra_host_names.push_back(network.endpoints()[static_cast<std::size_t>(dst)] + ":reduction" +
                                            (inputs > 1 ? fmt::format(":{}", inputs) : std::string()));
            topology::NetworkLink engines;
            engines.line_rate_Bps = rate;
            engines.rate_Bps = rate / efficiency;  // transfers carry bytes / NVLS efficiency
            engines.link_class = "nvls-reduction";
            engines.from_kind = engines.to_kind = config::DeviceKind::kNvSwitch;
            plan.extra_links.push_back(std::move(engines));
            plan.extra_link_names.push_back(plan.extra_host_names.back());
          }
        }
        if (eh->second.first >= 0) {
          host = eh->second.first;
          const std::uint64_t ekey =
              (static_cast<std::uint64_t>(static_cast<std::uint32_t>(src)) << 32) | static_cast<std::uint32_t>(host);
          auto [er, new_route] = engine_route_index.try_emplace(ekey, static_cast<int>(plan.routes.size()));
          if (new_route) {
            std::vector<int> links = route;
            links.push_back(eh->second.second);
            plan.routes.push_back(Plan::Route{src, host, std::move(links)});
          }
          route_id = er->second;
        }
      }
      const bool through_net = f.kind == collective::HopKind::kNet;
      const double cap = cap_network_only                       ? (through_net ? protocol_cap : 0)
                         : network.same_nvlink_domain(src, dst) ? chain_cap.value_or(protocol_cap)
                                                                : protocol_cap;
      const double rate = capped(timing.max_rate_Bps, cap);
      const double latency_s =
          chain_hop_latency_s(s, protocol, costs, timing.latency_s, payload_bytes, rate, through_net, slots);
      return Resolved{from, host, route_id, latency_s, costs.payload_fraction, rate, costs.window_bytes};
    };
    if (s.compact()) {
      for (const auto& phase : s.ring_phases) {
        planned.phases.emplace_back();
        for (const auto& pass : phase) {
          PlannedPass pp;
          pp.steps = pass.steps;
          pp.slices = pass.slices;
          pp.in_order = pass.in_order;
          pp.rank = pass.order;
          const std::size_t p = pass.order.size();
          for (std::size_t i = 0; i < p; ++i) {
            auto r = resolve(pass.order[i], pass.order[(i + 1) % p], pass.block_bytes / pass.slices);
            if (!r) return r.error();
            pp.route.push_back(r->route);
            pp.latency_s.push_back(r->latency_s);
            pp.slice_bytes.push_back(pass.block_bytes / pass.slices / r->payload_fraction);
            pp.max_rate_Bps.push_back(r->max_rate_Bps);
          }
          planned.phases.back().push_back(std::move(pp));
        }
      }
      if (protocol != collective::Protocol::kNone) apply_channel_shares(plan, planned.phases);
      if (keep_compact) {
        plan.schedules.push_back(std::move(planned));
        continue;
      }
    }
    // Expanded rings keep their channels' shares, per connection.
    std::unordered_map<std::uint64_t, double> ring_shares;
    for (const auto& phase : planned.phases) {
      for (const auto& pass : phase) {
        for (std::size_t i = 0; i < pass.route.size(); ++i) {
          const auto& route = plan.routes[static_cast<std::size_t>(pass.route[i])];
          const std::uint64_t key =
              static_cast<std::uint64_t>(route.src_host) * static_cast<std::uint64_t>(network.num_endpoints()) +
              static_cast<std::uint64_t>(route.dst_host);
          auto [it, inserted] = ring_shares.try_emplace(key, pass.max_rate_Bps[i]);
          if (!inserted) it->second = capped(it->second, pass.max_rate_Bps[i]);
        }
      }
    }
    planned.phases.clear();
    // A kept pipeline plans one copy: every copy resolves the same way.
    const bool keep_repeats = keep_compact && s.repeated();
    if (keep_repeats) {
      planned.repeats = s.repeats;
      planned.last_copy_fraction = s.last_copy_fraction;
    }
    const bool to_expand = s.compact() || s.all_pairs || (s.repeated() && !keep_repeats);
    const collective::Schedule expanded =
        to_expand ? collective::expand(s, choices.fifo_rings) : collective::Schedule{};
    const collective::Schedule& e = to_expand ? expanded : s;
    const bool under_protocol = protocol != collective::Protocol::kNone;
    // What does not depend on the protocol (connections, channel shares,
    // deps) is kept from the schedule planned before when this one shares
    // its transfers (the next protocol candidate, Schedule::transfers_of).
    // A tree's slices keep at most slices / depth of its chains' hops busy at once.
    const double nvlink_busy = s.algo == "tree" ? s.pipeline_busy() : 1.0;
    if (to_expand || body.schedule != &s || body.under_protocol != under_protocol || *body.rank_map != rank_map ||
        body.nvlink_busy != nvlink_busy) {
      body = plan_body(network, e, endpoint, under_protocol, nvlink_busy, std::move(ring_shares));
      if (!body.error.empty()) return make_internal_error(body.error);
      body.schedule = to_expand ? nullptr : &s;
      body.rank_map = &rank_map;
    }
    planned.dep_storage = body.deps;
    const auto& share_of_connection = body.shares;
    std::vector<Resolved> resolved(body.first_use.size());
    planned.at_channel_shares = under_protocol && !e.transfers.empty();
    for (std::uint32_t c : body.resolve_order) {
      const auto& t = e.transfers[body.first_use[c]];
      auto fresh = resolve(t.src, t.dst, t.bytes, t.switch_addend && t.dst >= s.ranks);
      if (!fresh) return fresh.error();
      // Shares are per pair of network endpoints (not a switch's reduction engines).
      if (!share_of_connection.empty() && fresh->dst < network.num_endpoints()) {
        const std::uint64_t key =
            static_cast<std::uint64_t>(fresh->src) * static_cast<std::uint64_t>(network.num_endpoints()) +
            static_cast<std::uint64_t>(fresh->dst);
        if (auto it = share_of_connection.find(key); it != share_of_connection.end()) {
          fresh->max_rate_Bps = capped(fresh->max_rate_Bps, it->second);
        } else {
          planned.at_channel_shares = false;
        }
      } else {
        planned.at_channel_shares = false;
      }
      resolved[c] = *fresh;
    }
    planned.at_channel_shares &= body.all_on_channels;
    planned.deferred = DeferredTransfers{&e, body.connection_of, body.dep_begin, std::move(resolved)};
    if (to_expand || !deferrable[si]) {
      build_transfers(planned);
      planned.deferred = DeferredTransfers{};  // `expanded` ends with this iteration
    }
    plan.schedules.push_back(std::move(planned));
  }
  return plan;
}

PlannedTransfer PlannedSchedule::transfer(std::size_t i) const {
  if (!deferred.schedule) return transfers[i];
  const auto& t = deferred.schedule->transfers[i];
  const auto& c = deferred.connections[(*deferred.connection_of)[i]];
  return PlannedTransfer{c.src,       c.dst,          t.bytes / c.payload_fraction,
                         c.latency_s, deps_of(i),     t.queue_after,
                         c.route,     c.max_rate_Bps, c.window_bytes};
}

void build_transfers(PlannedSchedule& s) {
  if (!s.deferred.schedule) return;
  const std::size_t n = s.num_transfers();
  s.transfers.clear();
  s.transfers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) s.transfers.push_back(s.transfer(i));
}

void drop_transfers(PlannedSchedule& s) { std::vector<PlannedTransfer>().swap(s.transfers); }

}  // namespace collsim::engine::detail
