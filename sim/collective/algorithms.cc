#include "sim/collective/algorithms.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/collective/chain.h"
#include "sim/collective/collnet.h"
#include "sim/collective/direct.h"
#include "sim/collective/hier.h"
#include "sim/collective/nvls.h"
#include "sim/collective/pat.h"
#include "sim/collective/rhd.h"
#include "sim/collective/ring.h"
#include "sim/collective/tree.h"

namespace collsim::collective {

const std::vector<AlgorithmInfo>& algorithm_table() {
  static const std::vector<AlgorithmInfo> table{
      {Op::kAllReduce, "ring", true},     {Op::kAllReduce, "tree", true},    {Op::kAllReduce, "rhd", false},
      {Op::kAllReduce, "hier", false},    {Op::kAllReduce, "nvls", true},    {Op::kAllReduce, "nvlstree", true},
      {Op::kReduceScatter, "ring", true}, {Op::kReduceScatter, "pat", true}, {Op::kAllGather, "ring", true},
      {Op::kAllGather, "pat", true},      {Op::kBroadcast, "ring", true},    {Op::kReduce, "ring", true},
      {Op::kAllToAll, "direct", true},    {Op::kSendRecv, "direct", true},   {Op::kAllReduce, "collnetdirect", true},
      {Op::kReduceScatter, "nvls", true}, {Op::kAllGather, "nvls", true},
  };
  return table;
}

std::vector<std::string> algorithms_for(Op op) {
  std::vector<std::string> out;
  for (const auto& a : algorithm_table())
    if (a.op == op) out.emplace_back(a.name);
  return out;
}

std::vector<std::string> nccl_algorithms_for(Op op) {
  std::vector<std::string> out;
  for (const auto& a : algorithm_table())
    if (a.op == op && a.nccl) out.emplace_back(a.name);
  return out;
}

const char* const kNvlsAcrossDomains =
    "nvls reduces inside one NVSwitch domain, and these ranks span several (across domains NCCL runs it only with "
    "CollNet: fabric switches that reduce, a link class with sharp_efficiency, and nccl.collnet: true)";

namespace {

// Why NCCL would not run NVLS on these ranks, or "" (nvls.h
// nccl_nvls_min_gpus): too few of them in each NVLink domain. Domains of
// different sizes are left to the builders, which refuse them with their
// own reason (nccl_tuner.h's system has every node alike).
std::string nvls_too_few_gpus(const std::string& algo, int ranks, const AlgoParams& params) {
  const auto domains = group_by_domain(params.domain_of_rank);
  const int per_domain = domains.empty() ? ranks : static_cast<int>(domains.front().size());
  for (const auto& domain : domains)
    if (static_cast<int>(domain.size()) != per_domain) return "";
  const int needed = nccl_nvls_min_gpus(params.nccl);
  if (per_domain >= needed) return "";
  return fmt::format(
      "{} needs {} or more GPUs in each NVLink domain under NCCL {}, and these have {} (NCCL {} NVLS with fewer "
      "and runs its model's choice of the other algorithms)",
      algo, needed, to_string(params.nccl), per_domain, needed == 3 ? "before 2.28.7 turns off" : "turns off");
}

Expected<Schedule> build_one(Op op, const std::string& algo, int ranks, double bytes, const AlgoParams& params) {
  if (algo == "ring") {
    // Across NVLink domains every ring op runs on the same channels, one
    // per GPU of a domain, so that every NIC carries traffic (ring.h).
    // Each channel leaves a domain through the NIC it entered by (ring.h,
    // Schedule::pxn_between_domains).
    const bool keep_nic = rings_keep_their_nic(params.nccl_system, params.nccl);
    // Crossing rings alternate on odd nodes where NCCL's release does (ring.h).
    const bool alternate = rings_alternate(params.nccl_system, params.nccl);
    auto orders = params.domain_of_rank.empty() ? std::vector<std::vector<int>>{}
                                                : rings_over_domains(params.domain_of_rank, params.rank_on_network,
                                                                     !keep_nic || !params.pxn, alternate);
    // One channel is the identity ring, unless failed NICs left it or odd
    // domains run it backwards (ring.h).
    const auto domains = group_by_domain(params.domain_of_rank);
    std::size_t per_domain = domains.empty() ? 0 : domains.front().size();
    for (const auto& d : domains) per_domain = std::min(per_domain, d.size());
    const bool channels = orders.size() > 1 || (domains.size() > 1 && per_domain > 1);
    // NCCL's ring channels (nccl_ring_channels) shared out over these,
    // each at most one NCCL channel's rate through the network.
    // A small collective runs on fewer of them (nccl_ring_channels_for), so
    // on its first rings only. Counted across nodes, and for a broadcast's
    // or reduce's chains (below) on one node too.
    const int collective_channels =
        params.nccl_system.nodes > 1 || op == Op::kBroadcast || op == Op::kReduce
            ? nccl_ring_channels_for(nccl_ring_channels(params.nccl_system, params.nccl), bytes, ranks, params.protocol)
            : 0;
    const int all_channels = params.nccl_system.nodes > 1 ? collective_channels : 0;
    if (all_channels > 0 && orders.size() > static_cast<std::size_t>(all_channels))
      orders.resize(static_cast<std::size_t>(all_channels));
    const int nccl_channels = params.ring_channel_net_Bps > 0 ? all_channels : 0;
    auto rail_aligned = [channels, keep_nic, all_channels, nccl_channels, &orders, &params, op, ranks,
                         bytes](Schedule s) {
      s.pxn_between_domains = channels && keep_nic;
      // Only where NICs are missing (healthy, PXN's relay is the entry GPU on
      // every template; a placement whose rank order is not the NICs' keeps it).
      if (s.pxn_between_domains && params.pxn && !params.rank_on_network.empty())
        s.exit_relay = ring_exit_relays(params.domain_of_rank);
      // Every step of a ring all-reduce, reduce-scatter or all-gather moves
      // each rank's S / ranks, split over the channels. A broadcast's or
      // reduce's chain moves each channel's S / channels through every hop,
      // in messages of one slot (protocol.h ring_step_messages), which pay
      // the same cost (2026-12-06: its 4-node H100 plateaus, 286 GB/s
      // measured, held out, are 16 channels x 23.5 GB/s x 22.3 / (22.3 + 7)
      // us per 512 KiB message; without it 349).
      const bool stepped = op == Op::kAllReduce || op == Op::kReduceScatter || op == Op::kAllGather;
      if (all_channels > 0 && stepped) {
        s.ring_channel_step_bytes = bytes / std::max(1, ranks) / all_channels;
        s.ring_channels_per_transfer = all_channels / static_cast<double>(std::max<std::size_t>(1, orders.size()));
      } else if (all_channels > 0) {
        s.ring_channel_step_bytes = bytes / all_channels;
        s.ring_slots_per_message = 1;
      }
      if (nccl_channels > 0) {
        s.ring_net_cap_Bps =
            params.ring_channel_net_Bps * nccl_channels / static_cast<double>(std::max<std::size_t>(1, orders.size()));
        s.ring_channel_Bps = params.ring_channel_net_Bps;
        s.ring_channel_msg_cost_s = params.ring_channel_msg_cost_s;
        s.ring_channel_ar_threshold_bytes = params.ring_channel_ar_threshold_bytes;
      }
      return s;
    };
    if (op == Op::kAllReduce)
      return rail_aligned(channels ? ring_allreduce_channels(ranks, bytes, orders) : ring_allreduce(ranks, bytes));
    if (op == Op::kReduceScatter)
      return rail_aligned(channels ? ring_reducescatter_channels(ranks, bytes, orders)
                                   : ring_reducescatter(ranks, bytes));
    if (op == Op::kAllGather)
      return rail_aligned(channels ? ring_allgather_channels(ranks, bytes, orders) : ring_allgather(ranks, bytes));
    ChainOptions chain;
    chain.protocol = params.protocol;
    chain.min_slice_bytes = params.nccl_buffsize / kNcclSteps;  // NCCL's step
    // NCCL's ring channels for this collective, shared over the chains
    // (none under kNone: the links alone).
    const int ctas = params.protocol == Protocol::kNone ? 0 : collective_channels;
    chain.ctas_per_chain = ctas / static_cast<double>(channels ? std::max<std::size_t>(1, orders.size()) : 1);
    if (op == Op::kBroadcast)
      return rail_aligned(channels ? chain_broadcast_channels(ranks, bytes, params.root, orders, chain)
                                   : chain_broadcast(ranks, bytes, params.root, chain));
    if (op == Op::kReduce)
      return rail_aligned(channels ? chain_reduce_channels(ranks, bytes, params.root, orders, chain)
                                   : chain_reduce(ranks, bytes, params.root, chain));
  }
  if (algo == "rhd" && op == Op::kAllReduce) return rhd_allreduce(ranks, bytes);
  if (algo == "tree" && op == Op::kAllReduce) {
    TreeOptions options;
    options.protocol = params.protocol;
    options.min_slice_bytes = params.nccl_buffsize / kNcclSteps;
    options.head_positions = network_entries(params.domain_of_rank, params.rank_on_network, false);
    return tree_allreduce(ranks, bytes, params.domain_of_rank, options);
  }
  if (algo == "hier" && op == Op::kAllReduce) {
    if (params.domain_of_rank.empty()) return make_error("hier needs the NVLink domain of every rank");
    return hier_allreduce(ranks, bytes, params.domain_of_rank);
  }
  if (algo == "nvls" && (op == Op::kAllReduce || op == Op::kReduceScatter || op == Op::kAllGather)) {
    if (!(params.nvls_efficiency > 0)) {
      return make_error("nvls needs GPUs on an NVSwitch that can reduce (a link class with nvls_efficiency > 0)");
    }
    bool several = false;
    for (int d : params.domain_of_rank) several |= d != params.domain_of_rank.front();
    if (!several) {
      if (auto why = nvls_too_few_gpus(algo, ranks, params); !why.empty()) return make_error(why);
      NvlsOptions options;
      options.chunking =
          nccl_nvls_chunking(params.gpu_model, params.nvls_chunk_cost_s, params.nccl, params.nvls_chunk_settings);
      // NCCL_MIN_CTAS and NCCL_MAX_CTAS bound NVLS's channels (src/transport/nvls.cc).
      options.chunking.channels = nccl_capped_ctas(options.chunking.channels, params.nccl_system);
      if (op == Op::kReduceScatter) return nvls_reducescatter(ranks, bytes, params.nvls_efficiency, options);
      if (op == Op::kAllGather) return nvls_allgather(ranks, bytes, params.nvls_efficiency, options);
      return nvls_allreduce(ranks, bytes, params.nvls_efficiency, options);
    }
    if (op != Op::kAllReduce) {
      return make_error(
          fmt::format("nvls {} runs inside one NVSwitch domain, and these ranks span several (collsim joins domains "
                      "with NVLS only for all-reduce: nvlstree, or nvls with CollNet)",
                      op_name(op)));
    }
    // Across domains NCCL runs NVLS only with CollNet: SHARP between them.
    const auto& trees = params.collnet;
    const bool switches =
        !trees.domain_nvswitch.empty() &&
        std::find(trees.domain_nvswitch.begin(), trees.domain_nvswitch.end(), -1) == trees.domain_nvswitch.end();
    if (!params.collnet_unavailable.empty() || trees.rails.empty() || !switches) {
      return make_error(kNvlsAcrossDomains);
    }
    if (auto why = nvls_too_few_gpus(algo, ranks, params); !why.empty()) return make_error(why);
    return nvls_collnet_allreduce(ranks, bytes, params.domain_of_rank, params.nvls_efficiency, trees);
  }
  if (algo == "nvlstree" && op == Op::kAllReduce) {
    if (!(params.nvls_efficiency > 0)) {
      return make_error("nvlstree needs GPUs on NVSwitches that can reduce (a link class with nvls_efficiency > 0)");
    }
    if (auto why = nvls_too_few_gpus(algo, ranks, params); !why.empty()) return make_error(why);
    NvlsOptions options;
    const auto domains = group_by_domain(params.domain_of_rank);
    options.tree_chunking = nccl_nvls_tree_chunking(params.gpu_model, static_cast<int>(domains.size()),
                                                    domains.empty() ? ranks : static_cast<int>(domains.front().size()),
                                                    params.nccl, params.nvls_chunk_settings);
    options.tree_chunking.channels = nccl_capped_ctas(options.tree_chunking.channels, params.nccl_system);
    options.chunking.chunk_cost_s = params.nvls_chunk_cost_s;
    options.owner_positions = network_entries(params.domain_of_rank, params.rank_on_network, false);
    return nvls_tree_allreduce(ranks, bytes, params.nvls_efficiency, params.domain_of_rank, options);
  }
  if (algo == "collnetdirect" && op == Op::kAllReduce) {
    if (!params.collnet_unavailable.empty()) return make_error(params.collnet_unavailable);
    // NCCL_MAX_DIRECT_ARITY + 1 (NCCL 2.30.7 src/include/device.h, src/enqueue.cc).
    constexpr std::size_t kMaxLocalGpus = 8;
    const auto domains = group_by_domain(params.domain_of_rank);
    if (!domains.empty() && domains.front().size() > kMaxLocalGpus) {
      return make_error(fmt::format("NCCL runs collnetdirect with at most {} GPUs per node, and these have {}",
                                    kMaxLocalGpus, domains.front().size()));
    }
    return collnet_direct_allreduce(ranks, bytes, params.domain_of_rank, params.collnet);
  }
  if (algo == "pat" && (op == Op::kAllGather || op == Op::kReduceScatter)) {
    if (params.nccl < kFirstPatRelease) {
      return make_error(fmt::format("pat needs NCCL 2.23.4 or later (--nccl {}.{}.{} has no PAT)", params.nccl.major,
                                    params.nccl.minor, params.nccl.patch));
    }
    // NCCL enables PAT only with one GPU per node (src/graph/tuning.cc,
    // ncclPatEnable: nNodes == nRanks); here, one rank per NVLink domain.
    const auto domains = group_by_domain(params.domain_of_rank);
    if (ranks > 1 && static_cast<int>(domains.size()) != ranks) {
      return make_error(fmt::format(
          "pat runs with one GPU per node (NCCL enables PAT only then), and these {} ranks share NVLink domains",
          ranks));
    }
    return op == Op::kAllGather ? pat_allgather(ranks, bytes) : pat_reducescatter(ranks, bytes);
  }
  if (algo == "direct") {
    const NcclP2pSetup p2p = resolve_p2p_setup(params.p2p, params.nccl_system, params.nccl);
    if (op == Op::kAllToAll) return direct_alltoall(ranks, bytes, params.domain_of_rank, p2p);
    if (op == Op::kSendRecv) return ring_sendrecv(ranks, bytes, params.domain_of_rank, p2p, params.one_way);
  }
  return make_error(fmt::format("no algorithm '{}' for {}; available: {}, auto", algo, op_name(op),
                                fmt::join(algorithms_for(op), ", ")));
}

}  // namespace

bool transfers_depend_on_protocol(Op op, const std::string& algo) {
  return algo == "tree" || (algo == "ring" && (op == Op::kBroadcast || op == Op::kReduce));
}

Expected<Schedule> build_schedule(Op op, const std::string& algo, int ranks, double bytes, const AlgoParams& params) {
  if (params.root < 0 || params.root >= ranks) {
    return make_error(fmt::format("root {} is not a rank (0-{})", params.root, ranks - 1));
  }
  const std::string chosen = algo == "auto" ? algorithms_for(op).front() : algo;
  auto s = build_one(op, chosen, ranks, bytes, params);
  if (!s) return s;
  if (!protocol_supported(s->latency_family, params.protocol)) {
    return make_error(fmt::format("{} runs only the Simple protocol, not {}", chosen, protocol_name(params.protocol)));
  }
  s->protocol = params.protocol;
  if (chosen == "tree" && params.nccl_system.ranks > 1)
    s->nccl_tree_graph_channels = nccl_graphs(params.nccl_system, params.nccl).tree.channels;
  return s;
}

}  // namespace collsim::collective
