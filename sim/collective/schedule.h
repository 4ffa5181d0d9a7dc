// A collective compiled into data: a DAG of point-to-point transfers between
// ranks. Schedules never call an engine; any backend can run them, and the
// symbolic checker can execute them on symbolic data to prove they compute the
// operation they claim.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/collective/protocol.h"
#include "sim/core/dep_list.h"
#include "sim/core/flat_index.h"

namespace collsim::collective {

// What the receiver does with the bytes: add them into its copy of the chunk
// (reduce) or overwrite its copy (copy). The reduction is fused into the
// receive, as NCCL's kernels do; its compute time is not modelled (HBM
// bandwidth far exceeds link bandwidth).
enum class Action { kReduce, kCopy };

struct Transfer {
  int src = 0;          // rank
  int dst = 0;          // rank
  double bytes = 0;     // payload
  int chunk = 0;        // the first of the operation's data chunks this carries
  int chunk_count = 1;  // it carries chunks [chunk, chunk + chunk_count)
  int slice = 0;        // which slice of that chunk (pipelining)
  Action action = Action::kCopy;
  // Indices of transfers that must have arrived before this one can start.
  DepList deps;
  // FIFO on a connection: this transfer's bytes enter the network only after
  // transfer `queue_after` (an earlier one on the same src->dst connection)
  // has finished; its latency still overlaps. -1: no queueing.
  int queue_after = -1;
  // The NCCL channel this transfer runs on, for channels that carry equal
  // bytes on each of their connections (the tree's): under a protocol the
  // engine caps each connection at its static share of its busiest link
  // (engine/plan.h). -1: none (max-min sharing alone).
  int channel = -1;
  // In-switch reduction (NVLS): an input of a sum the switch reduces (every
  // reduce-load where Schedule::switch_inputs is set; else every reduce-load
  // of an element but the first, an input added to a sum). Its bytes also
  // pass the switch's reduction engines, which the engine caps at
  // topology::Network::nvls_reduction_rate_Bps (scaled as
  // Schedule::switch_inputs says). dst is then a helper (the switch).
  bool switch_addend = false;
};

// A ring pass in compact form: `steps` steps around `order` (positions
// 0..p-1 hold ranks); at step k position i sends one block to position
// i + 1 (mod p), block (i - k + shift) mod p, which covers chunks
// [first_chunk + b * stride, ... + width), where b is the block itself, or,
// when `blocks_by_rank`, the rank at position block (order[block]: the
// rank's own part, as reduce-scatter and all-gather need on a ring whose
// order is not the identity). The first `reduce_steps`
// steps reduce, the rest copy. Each block moves as `slices` equal slices.
// Dependencies: a rank's first send of the pass waits for its last arrival
// and its own last send of the previous phases; after that each slice waits
// for the same slice's arrival one step earlier, and, when `in_order`, for
// the rank's own previous send too (a GPU runs its steps in order).
// Every step is the same permutation of the same bytes, so a pass costs
// O(p) to describe, and a backend can cost it without p x steps transfers.
struct RingPass {
  std::vector<int> order;
  int steps = 0;
  double block_bytes = 0;
  int slices = 1;  // REQUIRES: 1 when in_order
  int first_chunk = 0;
  int stride = 1;
  int width = 1;
  int reduce_steps = 0;
  int shift = 0;
  bool in_order = false;
  bool blocks_by_rank = false;
};

struct Schedule {
  std::string op;    // nccl-tests name: "allreduce", ...
  std::string algo;  // "ring", ...
  int ranks = 0;
  double bytes = 0;  // the size nccl-tests prints: the whole buffer per rank
  int chunks = 0;    // how many data chunks the buffer is split into
  int root = 0;      // for rooted operations (broadcast, reduce)
  // In-network participants (the NVSwitch in NVLS) as ranks
  // ranks .. ranks + helper_ranks - 1: they start with no data and owe none.
  int helper_ranks = 0;
  // Helper k is the NVSwitch next to rank helper_near_rank[k]; empty: every
  // helper is the one next to rank 0.
  std::vector<int> helper_near_rank;
  // Or, when not empty, helper k is network endpoint helper_endpoint[k]
  // (a fabric switch that reduces: CollNet's aggregation tree, collnet.h).
  std::vector<int> helper_endpoint;
  // NVLS reductions: how many inputs each element's sum takes at a switch
  // (the GPUs of its NVLink domain). Every reduce-load then passes the
  // switch's reduction engines (Transfer::switch_addend) and the engines
  // take `switch_inputs` inputs for `switch_inputs` - 1 adds: the engine
  // scales their rate (in adds) by switch_inputs / (switch_inputs - 1).
  // Nothing in the hardware singles out one input as the sum's first, so
  // the adds are spread evenly over the inputs, and no load skips the
  // engines to run ahead of the others (which cost SimGrid's max-min
  // sharing 3% on an 8-GPU board where the engines and links bind
  // together). 0: only the transfers flagged pass, at the engines' rate (and
  // a schedule without reductions, as NVLS's all-gather).
  int switch_inputs = 0;
  // The bytes of adds each of its switches makes: (switch_inputs - 1) x the
  // buffer (every element of it summed over switch_inputs inputs); 0 when
  // switch_inputs is not set.
  double switch_adds() const { return switch_inputs > 1 ? (switch_inputs - 1) * bytes : 0.0; }
  // Protocol costs the engine adds (protocol.h); kNone = the network alone.
  Protocol protocol = Protocol::kNone;
  LatencyFamily latency_family = LatencyFamily::kRing;
  // Time the collective spends beyond its bytes on its chunks (NVLS and
  // NVLSTree: nvls.h NvlsChunking, nvls_tree_chunk_overhead_s) or its
  // proxy's network operations (all-to-all, send/recv: direct.h), paid once
  // before any transfer under a protocol (the engine adds it to the launch
  // latency); 0 = none, and nothing under Protocol::kNone.
  double chunk_overhead_s = 0;
  // NCCL's point-to-point transport (all-to-all, send/recv): its transfers
  // take Network::p2p_route (PXN) instead of the collective route.
  bool point_to_point = false;
  // A point-to-point transfer through the network moves at most this rate:
  // its message's NCCL channels (parts) x one channel's network rate
  // (direct.h NcclP2pSetup::channel_net_Bps); 0 = the route's rate alone.
  double p2p_net_cap_Bps = 0;
  // And keeps at most this many bytes of it in flight under Simple: its
  // parts x NCCL_STEPS x NCCL_P2P_NET_CHUNKSIZE (each part's channel runs 8
  // chunks ahead of its credits; src/transport/net.cc); 0 = the protocol's
  // window (protocol.h).
  double p2p_window_bytes = 0;
  // A ring channel's transfer through the network moves at most this rate
  // of wire bytes, under any protocol: the NCCL ring channels it stands for
  // (nccl_tuner.h nccl_ring_channels over the schedule's channels) x one
  // NCCL channel's rate (protocol.h ring_channel_net_GBps); 0 = none.
  double ring_net_cap_Bps = 0;
  // Where each network message of an NCCL ring channel costs its queue pair
  // time (protocol.h ring_channel_message_rate_Bps), what the engine needs
  // to lower ring_net_cap_Bps for the protocol it runs: the payload bytes
  // one NCCL channel moves a ring step, one NCCL channel's rate (wire
  // bytes/s), and the cost per message over its queue pairs (the link
  // class's qp_msg_cost / NCCL_IB_QPS_PER_CONNECTION); 0 = none.
  double ring_channel_step_bytes = 0;
  double ring_channel_Bps = 0;
  double ring_channel_msg_cost_s = 0;
  // Only a message larger than this pays that cost (NCCL_IB_AR_THRESHOLD,
  // protocol.h ring_step_costly_messages).
  double ring_channel_ar_threshold_bytes = kNcclIbArThresholdBytes;
  // The slots of NCCL's buffer one such message takes under Simple
  // (protocol.h ring_step_messages; NCCL's SLICESTEPS): 2 for a ring step,
  // 1 for a broadcast's or reduce's chain, whose step
  // (ring_channel_step_bytes) is then all a channel carries. Only 1 and 2
  // are meaningful (any other value counts as 2).
  int ring_slots_per_message = 2;
  // The NCCL ring channels one transfer of a ring across nodes stands for
  // (nccl_ring_channels over the schedule's channels), for every ring
  // all-reduce, reduce-scatter and all-gather across nodes: what Simple's
  // slots need (engine/plan.h simple_ring_slot_rate_Bps); 0 = not such a
  // ring (a broadcast's or reduce's chain sets ring_channel_step_bytes but
  // not this: it keeps the window).
  double ring_channels_per_transfer = 0;
  // The channels of NCCL's tree graph (nccl_tuner.h nccl_graphs, before
  // its duplication over the two trees) for a tree, when NCCL's view of the
  // nodes is known: what its throughput limit is counted over (protocol.h
  // tree_protocol_cap_Bps); 0 = unknown.
  int nccl_tree_graph_channels = 0;
  // A ring broadcast's or reduce's chains (chain.h), one per channel: the
  // count LL's throughput limit is shared over (engine/plan.cc); 0 = not a chain.
  int chain_channels = 0;
  // The NCCL ring channels (CTAs) one chain stands for: NCCL's ring
  // channels for the collective (nccl_tuner.h nccl_ring_channels_for) over
  // chain_channels; 0 = unknown (a GPU NCCL's tables lack) or not a chain.
  double chain_nccl_channels = 0;
  // Rings across NVLink domains that keep their rail (NCCL's ring graph
  // with crossNic 0, reached by PXN; nccl_tuner.h rings_keep_their_nic):
  // each channel leaves a node through the NIC it entered by, so a transfer
  // to another domain takes Network::p2p_route, over NVLink to the GPU on
  // the receiver's rail and out of its NIC.
  bool pxn_between_domains = false;
  // With it and PXN on, where some rank has no NIC of its own (rings, ring.h
  // ring_exit_relays; AlgoParams::rank_on_network): per rank, the rank
  // whose NIC its sends to another domain leave by, its channel's entry
  // into its own domain (Network::exit_route); empty: Network::p2p_route's
  // relay, the GPU on the receiver's rail. The two differ where domains
  // lost NICs at different positions.
  std::vector<int> exit_relay;
  std::vector<Transfer> transfers;  // topologically ordered: deps point backwards
  // Compact form (rings): when not empty, `transfers` is empty and the
  // schedule is these ring passes, phase after phase; passes of one phase
  // start from the ranks' state at the phase's start. expand() turns them
  // into the transfers they stand for, in pass, step, position, slice order.
  std::vector<std::vector<RingPass>> ring_phases;
  // Pipelined form (trees, chains, NVLSTree, CollNet, PAT): when above 1, `transfers` are
  // one slice and the schedule is `repeats` copies of them, copy after
  // copy: every slice follows the same connections in the same order.
  // Copy k's transfer i carries chunk + k x repeat_chunk_step, its deps are
  // copy k's, and it queues (Transfer::queue_after) behind copy k's
  // queue_after or, heading its queue (-1), behind copy k - 1's last
  // transfer of that queue (the transfers linked by queue_after), as a
  // QueuedAppender writing slice after slice would. REQUIRES when above 1:
  // no ring_phases. A backend may then cost the copies from one copy's
  // flows (the pipeline recurrence, engine/compact_cost.h) instead of
  // slices x transfers.
  int repeats = 1;
  int repeat_chunk_step = 0;
  // The last copy of a pipelined form carries this share of every
  // transfer's bytes, in (0, 1]: a channel's bytes are whole chunks and
  // what is left (NCCL loops over a channel's range in chunkSize steps, the
  // last one holding the remainder; src/device/all_reduce.h), so copies
  // 0 .. repeats - 2 are whole chunks and the last the remainder. A size a
  // little above a whole number of chunks then costs a little more, not a
  // pipeline of finer pieces (which, cut evenly, made 8.3 MiB on a tree of
  // 8 H100 nodes 39% faster than 7.8 MiB).
  double last_copy_fraction = 1;
  // A tree's pipeline (tree.h): the hops a slice crosses one after another
  // (pipeline_depth) and the slices each channel sends, a remainder
  // counting as its share of one (pipeline_slices). While a slice crosses
  // a hop of a deep chain the other hops of its channel wait, so at most
  // min(1, slices / depth) of a link's tree connections are busy at once
  // (engine/plan.cc, channel shares). 0: not a tree.
  int pipeline_depth = 0;
  double pipeline_slices = 0;
  // min(1, pipeline_slices / pipeline_depth); 1 when either is unset.
  double pipeline_busy() const {
    return pipeline_depth > 0 && pipeline_slices > 0 ? std::min(1.0, pipeline_slices / pipeline_depth) : 1.0;
  }
  // All-pairs form (direct all-to-all, direct.h): when true, `transfers` is
  // empty and the schedule is every ordered pair (src, dst) of ranks,
  // src != dst, sending bytes / ranks at once (chunk src x ranks + dst), no
  // dependencies. Describes p (p - 1) transfers in O(1); the analytical
  // backend costs it without listing them (engine/all_pairs_cost.h).
  // REQUIRES when true: no ring_phases, repeats 1.
  bool all_pairs = false;
  // A protocol candidate that shares an earlier schedule's transfers: that
  // schedule's index in the same list (it differs only in `protocol`), its
  // own `transfers` and `ring_phases` being empty; -1: none. A tuner lists
  // an algorithm's protocols this way (a tree over 131,072 GPUs is 4.2 M
  // transfers, about 350 MB, per copy); backends read such a list through
  // body_of() or materialize().
  int transfers_of = -1;

  bool compact() const { return !ring_phases.empty(); }
  bool repeated() const { return repeats > 1; }
  // Transfers it has or stands for.
  double transfer_count() const;
  double total_bytes() const;
};

// Appends transfers that queue in order (Transfer::queue_after) behind the
// previous one of the same stream on the same connection. Streams are the
// algorithm's independent channels (NVLS stages, the two trees, hier phases):
// different streams never wait for each other.
// Three ints as one hash key: (stream, src, dst) of a queued connection,
// (src, dst, channel) of a channel's connection.
struct IntTriple {
  int a = 0, b = 0, c = 0;
  bool operator==(const IntTriple&) const = default;
};
struct IntTripleHash {
  std::uint64_t operator()(const IntTriple& k) const noexcept {
    std::uint64_t h = static_cast<std::uint32_t>(k.a);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint32_t>(k.b);
    h = h * 0x9E3779B97F4A7C15ULL + static_cast<std::uint32_t>(k.c);
    return h ^ (h >> 29);
  }
};

class QueuedAppender {
 public:
  explicit QueuedAppender(Schedule& s) : s_(s) {}
  // Returns the new transfer's index.
  int add(int stream, Transfer t);

 private:
  // (stream, src, dst) -> the last transfer on it (an NVLSTree slice over
  // 131,072 GPUs adds 5.2 M transfers on 1 M connections).
  Schedule& s_;
  FlatIndex<IntTriple, IntTripleHash> last_;
};

// Appends `t` queued behind the transfer `last` holds (-1: none) and makes
// it `last`: for an algorithm that indexes its connections itself, as
// QueuedAppender would key them, without a table (cheaper at millions of
// transfers). Returns the new transfer's index.
inline int append_queued(Schedule& s, int& last, Transfer t) {
  t.queue_after = last;
  last = static_cast<int>(s.transfers.size());
  s.transfers.push_back(std::move(t));
  return last;
}

// For each transfer heading its queue in a copy (queue_after == -1), the
// last transfer of that queue (itself when alone); -1 for the others.
// Anything with an int `queue_after` pointing backwards (Transfer, the
// engine's planned transfers).
template <class T>
std::vector<int> queue_tails(const std::vector<T>& transfers) {
  const std::size_t n = transfers.size();
  std::vector<int> next(n, -1), tail(n, -1), last(n);
  for (std::size_t i = 0; i < n; ++i)
    if (transfers[i].queue_after >= 0) next[static_cast<std::size_t>(transfers[i].queue_after)] = static_cast<int>(i);
  for (std::size_t i = n; i-- > 0;) {  // last[i]: of the queue from i on
    last[i] = next[i] < 0 ? static_cast<int>(i) : last[static_cast<std::size_t>(next[i])];
    if (transfers[i].queue_after < 0) tail[i] = last[i];
  }
  return tail;
}
// The explicit form of `s` (a copy when it is already explicit). The
// transfers of `in_order` passes queue per connection and phase
// (Transfer::queue_after). Those of the other passes queue per connection
// and slice lane of their pass when `fifo_rings` (an NCCL channel's
// connection moves its steps' bytes in order, their latencies overlapping:
// with one slice per step, the rings' default, a slowed link never carries
// two steps of one channel at once), else share their connections
// max-min fairly (what the compact passes' closed form costs exactly,
// engine/compact_cost.h). Repeated schedules become their copies, in copy
// order; all-pairs ones their p (p - 1) transfers.
Schedule expand(const Schedule& s, bool fifo_rings = false);

// The schedule whose transfers and ring phases list[k] runs: list[k] itself,
// or the one it shares them with (Schedule::transfers_of).
const Schedule& body_of(const std::vector<Schedule>& list, std::size_t k);
// list[k] with its own transfers and ring phases (a copy of a shared body).
Schedule materialize(const std::vector<Schedule>& list, std::size_t k);
// A protocol candidate of `s` sharing its transfers, s being list[index]
// (s is left as it was).
Schedule protocol_variant(Schedule& s, int index, Protocol protocol);
// Appends the passes' transfers to `s` through `queued`, phase k on stream
// `first_stream + k`, with fresh rank state (no dependency on earlier
// transfers); `fifo_rings` as for expand.
void append_ring_phases(Schedule& s, const std::vector<std::vector<RingPass>>& phases, int first_stream,
                        QueuedAppender& queued, bool fifo_rings = false);
// Every connection's bytes over the whole schedule: f(src, dst, bytes), one
// call per transfer (explicit, all pairs) or per pass position (compact).
template <typename F>
void for_each_connection_bytes(const Schedule& s, F&& f) {
  const double copies = s.repeats > 1 ? s.repeats - 1 + s.last_copy_fraction : 1;
  for (const auto& t : s.transfers) f(t.src, t.dst, t.bytes * copies);
  if (s.all_pairs)
    for (int src = 0; src < s.ranks; ++src)
      for (int k = 1; k < s.ranks; ++k) f(src, (src + k) % s.ranks, s.bytes / s.ranks);
  for (const auto& phase : s.ring_phases) {
    for (const RingPass& pass : phase) {
      const int p = static_cast<int>(pass.order.size());
      for (int i = 0; i < p; ++i) f(pass.order[i], pass.order[(i + 1) % p], pass.block_bytes * pass.steps);
    }
  }
}

// A schedule with its identity filled in and no transfers yet.
Schedule empty_schedule(std::string op, std::string algo, int ranks, double bytes, int chunks);

// How many pieces to cut `bytes` into: pieces of at least `min_piece_bytes`,
// but no more than `max_pieces` (and at least one).
int piece_count(double bytes, double min_piece_bytes, int max_pieces);

// A channel's `bytes` in NCCL's chunks of `chunk_bytes`: `count` pieces,
// count - 1 whole chunks (`piece` = chunk_bytes each) and then what is
// left (`last`, in (0, piece]). Above `max_pieces` chunks, `max_pieces`
// equal pieces instead (last = piece = bytes / max_pieces). A size a hair
// above a whole number of chunks (relative 1e-9) counts as that number.
// REQUIRES bytes >= 0, chunk_bytes > 0.
struct ChunkPieces {
  int count = 1;
  double piece = 0;
  double last = 0;
  // last / piece: Schedule::last_copy_fraction when pipelined.
  double last_fraction() const { return piece > 0 ? last / piece : 1.0; }
  // The bytes of written slice `slice`: pipelined, the one slice written is
  // a whole piece (the last copy scales it); written out, the last slice is
  // the remainder.
  double slice_bytes(int slice, bool pipelined) const { return pipelined || slice + 1 < count ? piece : last; }
};
ChunkPieces chunk_pieces(double bytes, double chunk_bytes, int max_pieces);

// Ranks grouped by domain id: ranks in rank order inside a group, groups in
// order of their first rank.
std::vector<std::vector<int>> group_by_domain(const std::vector<int>& domain_of_rank);
// The k-th of `positions`, the positions kept in every domain (CollNet's
// rails, ring.h networked_positions); empty: every position, so k itself.
inline std::size_t kept_position(const std::vector<std::size_t>& positions, int k) {
  return positions.empty() ? static_cast<std::size_t>(k) : positions[static_cast<std::size_t>(k)];
}
// The same per domain: domain d's k-th of `positions` (ring.h
// network_entries); empty: k.
inline std::size_t kept_position(const std::vector<std::vector<std::size_t>>& positions, int d, int k) {
  return positions.empty() ? static_cast<std::size_t>(k)
                           : positions[static_cast<std::size_t>(d)][static_cast<std::size_t>(k)];
}

}  // namespace collsim::collective
