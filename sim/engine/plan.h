// A run resolved for a backend: hosts (network endpoints), links, routes,
// and each schedule's transfers with their protocol costs applied (bytes on
// the wire, route latency + per-step latency, launch latency, the finite
// buffer's rate cap). Both backends
// run the same plan.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/error.h"
#include "sim/engine/backend.h"

namespace collsim::engine::detail {

// A transfer with everything the runner needs resolved up front.
struct PlannedTransfer {
  int src_host = 0;
  int dst_host = 0;
  double bytes = 0;
  double route_latency_s = 0;
  std::span<const int> deps;  // into PlannedSchedule::dep_storage
  int queue_after = -1;       // see collective::Transfer::queue_after
  int route = 0;              // index into Plan::routes
  double max_rate_Bps = 0;    // finite buffers: window / round trip; 0 = the route's rate alone
  double window_bytes = 0;    // wire bytes the receiver's buffer holds (ProtocolCosts); 0 = unbounded
};

// A compact ring pass (collective::RingPass) resolved per position.
struct PlannedPass {
  int steps = 0;
  int slices = 1;
  bool in_order = false;
  std::vector<int> rank;             // per position
  std::vector<int> route;            // position -> next position, into Plan::routes
  std::vector<double> latency_s;     // route latency + protocol step latency
  std::vector<double> slice_bytes;   // on the wire, per slice and step
  std::vector<double> max_rate_Bps;  // per position, as PlannedTransfer::max_rate_Bps
};

// A schedule's transfers left unbuilt (make_plan's defer_candidates): each
// is built from the schedule's own transfer, its connection as resolved
// (hosts, route, protocol costs) and its deps. A tuner's candidates are
// bounded in this form and only those costed are built: at 131,072 GPUs a
// tree's protocol candidates were 4.2 M planned transfers (235 MB) each,
// and writing them was most of the default all-reduce's time.
struct DeferredTransfers {
  struct Connection {
    int src = 0, dst = 0, route = 0;  // hosts, and the index into Plan::routes
    double latency_s = 0, payload_fraction = 1, max_rate_Bps = 0, window_bytes = 0;
  };
  const collective::Schedule* schedule = nullptr;  // the caller's (outlives the plan); null: nothing deferred
  std::shared_ptr<const std::vector<std::uint32_t>> connection_of;  // per transfer, into `connections`
  std::shared_ptr<const std::vector<std::uint32_t>> dep_begin;      // per transfer and the end, into dep_storage
  std::vector<Connection> connections;
};

struct PlannedSchedule {
  // Built, unless deferred (then empty until build_transfers; num_transfers
  // and transfer read the deferred form either way).
  std::vector<PlannedTransfer> transfers;
  DeferredTransfers deferred;
  std::size_t num_transfers() const { return deferred.schedule ? deferred.connection_of->size() : transfers.size(); }
  // Transfer i, built or deferred. REQUIRES: i < num_transfers().
  PlannedTransfer transfer(std::size_t i) const;
  // Its deps alone (transfer(i).deps, without building the rest).
  std::span<const int> deps_of(std::size_t i) const {
    if (!deferred.schedule) return transfers[i].deps;
    const auto first = (*deferred.dep_begin)[i];
    return {dep_storage->data() + first, (*deferred.dep_begin)[i + 1] - first};
  }
  // Every transfer's deps, one after another (PlannedTransfer::deps view
  // it), shared by the plans of schedules with the same transfers: a
  // tuner's protocol candidates, 4.2 M transfers each for a tree over
  // 131,072 GPUs.
  std::shared_ptr<const std::vector<int>> dep_storage;
  // Copies of `transfers` in a pipeline (collective::Schedule::repeats):
  // copy k's transfer i waits for copy k's deps and queues behind copy
  // k - 1's transfer i.
  int repeats = 1;
  // The last copy carries this share of every transfer's bytes (the
  // channel's remainder; collective::Schedule::last_copy_fraction), in (0, 1].
  double last_copy_fraction = 1;
  // Every transfer runs at its channel's static share of its busiest link
  // (an NCCL protocol, every transfer on a channel): the shares never
  // oversubscribe a link, so max-min sharing gives each exactly its cap and
  // a backend need not simulate their contention. APPROXIMATION: a tree's
  // shares inside a domain count each connection by the pipeline's busy
  // share (add_explicit_channel_shares), exact where the chains' hops run in
  // step; while a few slices are on one chain, not on the tree's edges
  // between domains, a GPU port can carry up to (g - 1 + h) / g times its
  // shares (g GPUs a domain, h the tree's height), which is not simulated.
  // On the GPUs collsim places, the tree's rate per channel (protocol.h
  // tree_chain_channel_Bps) is usually below those shares.
  bool at_channel_shares = false;
  // Some transfer's cap is NCCL's buffer (TransferTiming::buffer_bound).
  bool buffer_bound = false;
  std::vector<std::vector<PlannedPass>> phases;  // compact schedules (then no transfers)
  int ranks = 0;
  // Rank r's host (Plan::host_names), only when transfers are recorded
  // (Plan::record_transfers): whose kernels nccl_tests_loop.h orders.
  std::vector<int> rank_hosts;
  double launch_latency_s = 0;  // before any transfer may start
  // An all-pairs schedule (collective::Schedule::all_pairs) left for the
  // backend to cost from the network (all_pairs_cost.h): no transfers,
  // phases or routes planned.
  bool all_pairs = false;
};

struct Plan {
  // The network's own (not copies: a million links at 131,072 GPUs); the
  // plan must not outlive the network.
  const std::vector<std::string>* host_names = nullptr;
  const std::vector<topology::NetworkLink>* links = nullptr;
  const topology::Network* network = nullptr;  // whose links `links` are
  // Resources the plan adds after the network's hosts and links: each
  // NVSwitch's reduction engines (collective::Transfer::switch_addend), as a
  // host "SWITCH:reduction" reached from the switch over a link of the
  // engines' rate (Network::nvls_reduction_rate_Bps, scaled like the
  // transfers' bytes by the NVLS efficiency, and by p / (p - 1) for a
  // schedule whose p inputs all pass, collective::Schedule::switch_inputs:
  // one host per switch and p, "SWITCH:reduction:P", as each schedule
  // runs alone). Host h >= host_names->size()
  // is extra_host_names[h - host_names->size()]; links likewise.
  std::vector<std::string> extra_host_names;
  // A relayed sender's own host (PXN's ":pxn", a ring exit's ":via:") ->
  // the GPU endpoint it sends for.
  std::unordered_map<int, int> relay_sender;
  std::vector<topology::NetworkLink> extra_links;
  std::vector<std::string> extra_link_names;  // per extra link
  std::size_t num_hosts() const { return host_names->size() + extra_host_names.size(); }
  const std::string& host_name(std::size_t h) const {
    return h < host_names->size() ? (*host_names)[h] : extra_host_names[h - host_names->size()];
  }
  std::size_t num_links() const { return links->size() + extra_links.size(); }
  const topology::NetworkLink& link(std::size_t l) const {
    return l < links->size() ? (*links)[l] : extra_links[l - links->size()];
  }
  // Link l's name: the network's (Network::link_name), or the added one's.
  std::string link_name(std::size_t l) const {
    return l < links->size() ? network->link_name(static_cast<int>(l)) : extra_link_names[l - links->size()];
  }
  // The smallest effective rate along route r.
  double route_rate_Bps(std::size_t r) const;
  // One route per (src_host, dst_host) pair in use, as link indices into `links`.
  struct Route {
    int src_host, dst_host;
    std::vector<int> links;
  };
  std::vector<Route> routes;
  std::vector<PlannedSchedule> schedules;
  bool record_transfers = false;
  std::function<void(std::size_t, std::size_t)> on_progress;  // may be empty
};

// A connection keeps at most the protocol's window in flight; the sender
// learns a slot is free a round trip after sending into it, so a transfer
// moves at most window / (2 x route latency + the protocol's step latency).
// Over a cluster's own cables this is far above any link's rate; over a
// long cable (a second building, another site) it caps throughput. Applied
// to routes through the network only: inside a node NCCL runs many channels
// per GPU pair (collsim's transfers stand for several), so one buffer per
// transfer would understate what NVLink and PCIe carry. ASSUMPTION: across
// the network one transfer is one NCCL connection's buffer (a lower bound
// when NCCL runs more channels per NIC). A ring across nodes under Simple
// counts its NCCL channels' slots instead (simple_ring_slot_rate_Bps).
double window_rate_Bps(double window_bytes, double route_latency_s, double step_latency_s);

// How many transfers of one step of `phase` (every pass's slices) cross
// each link: `users` (one entry per link, zero on entry) is filled and the
// links it touched are appended to `touched`, so the caller can reset them.
// Returns whether any link carries more than one.
bool count_step_link_users(const Plan& plan, const std::vector<PlannedPass>& phase, std::vector<int>& users,
                           std::vector<int>& touched);
// Each position of a phase's passes gets at most its channel's static share
// of its busiest link: that link's rate over the slices of the phase's
// passes that cross it in one step, per slice (PlannedPass::max_rate_Bps,
// 0 meaning no cap).
void apply_channel_shares(const Plan& plan, std::vector<std::vector<PlannedPass>>& phases);
// The same for explicit schedules' channels (collective::Transfer::channel:
// a tree's, NVLSTree's network tree): each connection (source, destination)
// that carries a channel gets at most its busiest link's rate over the
// channel connections (src, dst, channel) crossing that link, merged into
// `share_of_connection` (key src_host * endpoints + dst_host; the smaller
// where the rings put one already). A connection that stays inside an
// NVLink domain counts as `nvlink_busy` of one (in (0, 1]): the share of
// the time it is busy in a pipeline deeper than its slices
// (collective::Schedule::pipeline_depth), so of its link's connections
// busy at once. `endpoint` maps a rank to its network endpoint (-1: none).
void add_explicit_channel_shares(const topology::Network& network, const collective::Schedule& s,
                                 const std::function<int(int)>& endpoint, double nvlink_busy,
                                 std::unordered_map<std::uint64_t, double>& share_of_connection);

// What a transfer's costs need of its route: the protocol's view of it
// (hop_kind), the sum of its links' latencies, its narrowest effective
// rate and the largest link-class step latency on it
// (NetworkLink::step_latency_s).
struct RouteFacts {
  collective::HopKind kind = collective::HopKind::kNvlink;
  double latency_s = 0;
  double rate_Bps = std::numeric_limits<double>::infinity();
  double step_s = 0;
  double ring_step_s = 0;  // the largest NetworkLink::ring_step_latency_s along it
};
RouteFacts route_facts(const topology::Network& network, const std::vector<int>& route);
// A route made of two: `a` then `b` (a relayed point-to-point route).
RouteFacts join(const RouteFacts& a, const RouteFacts& b);

// A transfer's latency (route latency + the protocol's step latency, + the
// fabric's own step latency across the network under an NCCL protocol, and
// its ring step latency for an NCCL ring's step under LL/LL128) and
// its rate cap across the network (window_rate_Bps, and under an NCCL
// protocol the NCCL channels the transfer stands for, `net_cap_Bps` of
// payload: collective::Schedule::p2p_net_cap_Bps for a point-to-point
// message, ring_net_cap_Bps x the protocol's payload share for a ring
// channel; 0 = none), as
// make_plan resolves every transfer.
// A ring transfer across nodes under Simple takes its cap from NCCL's slots
// (simple_ring_slot_rate_Bps) instead of window_rate_Bps, given `slots`.
struct TransferTiming {
  double latency_s = 0, max_rate_Bps = 0;
  // The window or Simple's slots, not the route or the channels, set the
  // cap, below the route's rate, and the transfer fills them (Simple's ring
  // slots, or more than one window of an NCCL channel in flight): NCCL's
  // buffer holds the transfer back.
  bool buffer_bound = false;
};
struct RingSlots {
  double step_bytes = 0, channels = 0;  // collective::Schedule::ring_channel_step_bytes, ring_channels_per_transfer
  // The cost each network message (a slice) costs its channel, seconds, and
  // the share of the channels' rate left after it
  // (collective::ring_channel_message_rate_Bps over the channel's rate; 1 =
  // none), which `net_cap_Bps` already carries.
  double msg_cost_s = 0, msg_rate_factor = 1;
  double ar_threshold_bytes = collective::kNcclIbArThresholdBytes;  // only larger messages pay msg_cost_s
};
// `channel_wire_bytes`: what one NCCL channel of the transfer puts on the
// wire (unknown: infinity), for TransferTiming::buffer_bound.
// `message_wire_bytes`: the wire bytes of a transfer that is a whole
// message (point-to-point), whose first window needs no credit: no cap
// when it fits, else the rate that takes (bytes - window) at window /
// round trip and the window at the open rate. 0: the transfer is one step
// or slice of a stream, capped at window / round trip throughout.
TransferTiming transfer_timing(const RouteFacts& route, const collective::ProtocolCosts& costs,
                               collective::Protocol protocol, double net_cap_Bps = 0, const RingSlots* slots = nullptr,
                               double channel_wire_bytes = std::numeric_limits<double>::infinity(),
                               double message_wire_bytes = 0);

// The latency a network hop of a broadcast's or reduce's chain adds for
// its message cost (`msg_cost_s`, seconds; RingSlots::msg_cost_s), beyond
// the share of it the channel's rate charges a transfer of `payload_bytes`:
// a message holds its queue pair for the cost before the next GPU sees it,
// so each network hop adds the whole cost to the pipeline's fill, where the
// rate charges each slice only its share (which, where a message is many
// slices, made a larger broadcast faster: 16 H100 nodes, LL128, 634 us at
// 256 KiB, 551 at 4 MiB). 0 for any schedule but a chain across nodes.
double chain_message_latency_s(const collective::Schedule& s, collective::Protocol protocol,
                               const collective::ProtocolCosts& costs, double payload_bytes, double msg_cost_s);

// Whether a broadcast's or reduce's chain (chain.h) waits for NCCL's steps
// (chain_hop_latency_s): under LL or LL128, with its channels' bytes known
// (Schedule::ring_channel_step_bytes). Such a chain does not pay the
// fabric's ring step latency, which on rings stands for that wait.
bool chain_waits_for_steps(const collective::Schedule& s, collective::Protocol protocol);

// The latency of one hop of a broadcast's or reduce's chain: the hop's own
// `latency_s` (seconds) and, through the network, chain_message_latency_s.
// Under LL or LL128, given the bytes of the unit the hop carries
// (`payload_bytes`) and its rate (`rate_Bps`, wire bytes/s): inside a node
// the larger of the latency and the unit's time, since NCCL's per-hop
// latency (its tuning table, 1.9 us for LL128 on NVLink) is a warp's pass of
// its lines, not a wait before it (it was their sum: 28 NVLink hops of 2.4 +
// 2.0 us on 4 H100 nodes, where the whole measured 2 MiB LL128 broadcast
// takes 117 us). Where the chain waits for steps (above), through the
// network, plus the time the rest of a step takes at the hop's rate before
// its message cost (`slots`: RingSlots::msg_rate_factor; an upper bound
// where the route or the window binds): NCCL's proxy sends an LL or LL128
// step once every line of it is written (NCCL 2.24.3 src/transport/net.cc
// sendProxyProgress), a step being min(the protocol's buffer / NCCL_STEPS,
// the channel's bytes) per NCCL channel the chain stands for.
double chain_hop_latency_s(const collective::Schedule& s, collective::Protocol protocol,
                           const collective::ProtocolCosts& costs, double latency_s, double payload_bytes,
                           double rate_Bps, bool through_net, const RingSlots& slots);

// What an NCCL ring's connection across the network moves under Simple,
// whose slots hold less than its buffer while a channel's step is small.
// Each channel keeps 4 slices in flight: NCCL_STEPS = 8 slots of
// NCCL_BUFFSIZE / 8, a slice taking SLICESTEPS = 2 of them
// (src/include/collectives.h), 2 slices a chunk. A chunk is CHUNKSTEPS = 4
// slots or, when less is left of the channel's part, what is left
// (src/device/all_gather.h, all_reduce.h, reduce_scatter.h: nelem =
// min(chunk, rest)), so a ring step of `step_bytes` per channel puts c =
// min(buffer / 2, step) in a chunk, and its first slice takes half of it,
// at least buffer / 128 (src/device/prims_simple.h genericOp: sliceSize =
// max(nelem / 2, stepSize / 16)), at most all of it. The receiver's proxy
// posts a slot again only once its GPU has drained it (src/transport/net.cc
// recvProxyProgress: posted < done + NCCL_STEPS), and the sender writes
// into it only once that post has reached it, so a slot is held for the
// data's network step, the slice's arrival and drain at one channel's
// rate r, and the post's way back (ASSUMPTION: arrival and drain each at
// r, the channel's share of the route, each paying the channel's cost per
// network message larger than `ar_threshold_bytes`, `msg_cost_s`:
// collective/protocol.h ring_channel_message_rate_Bps; a slice is one
// message, an empty one pays nothing):
//   cycle = data latency + credit latency + 2 x slice / r + msg_cost for
//           each of the two slices larger than the threshold,
//   one channel <= 2 chunks / cycle (a chunk of one slice, at most buffer /
//   128, still waits for and posts its empty second slice: genericOp),
// and the transfer moves at most `channels` x that (r = `rate_Bps` over
// `channels`, at most the rate itself). `data_latency_s` is the transfer's
// latency (route, protocol and fabric step latencies); `credit_latency_s`
// the route's and the fabric's own step latency (the link class's
// step_latency: a posted receive is a message through the network and its
// plugin, but not a Simple data step, so NCCL's protocol latency is not
// paid twice); `window_bytes` NCCL_BUFFSIZE. With full chunks each channel
// moves its buffer per round trip, as window_rate_Bps's one connection
// does, but its round trip also pays the fabric's step latency coming back
// and the slice's own time. LL and LL128 keep the window: their GPU reads
// each line as it lands (a flag in every line) rather than after the
// proxy has seen the whole slice arrive, and this cycle applied to them
// made the 16- and 32-node EFA all-gather curves 20% slow
// (docs/validation-efa.md). Returns 0 (no cap) when the bytes, channels,
// window or rate are not positive.
// (Until 2026-12-06 r was the rate after the message cost, so the cycle
// paid it scaled by slice / step: twice as much at a step of 36 KiB as at
// 32 or 64 KiB under the 4 MiB buffer, and a 4-node H100 all-gather took
// 713 us at 18 MiB, 544 us at 16 and at 32 MiB.)
double simple_ring_slot_rate_Bps(double step_bytes, double channels, double window_bytes, double data_latency_s,
                                 double credit_latency_s, double rate_Bps, double msg_cost_s = 0,
                                 double ar_threshold_bytes = collective::kNcclIbArThresholdBytes);

// A route's rate under a transfer's cap (PlannedTransfer::max_rate_Bps; 0 = none).
inline double capped_rate(double route_rate_Bps, double max_rate_Bps) {
  return max_rate_Bps > 0 && max_rate_Bps < route_rate_Bps ? max_rate_Bps : route_rate_Bps;
}

// What a backend asks of make_plan; the defaults expand everything.
struct PlanChoices {
  // Compact and repeated schedules stay so when `keep_compact` (the backend
  // costs ring passes and pipelines itself) and they have more transfers
  // than `keep_compact_above`, else they are expanded (a ring keeping its
  // channels' shares and protocol caps).
  bool keep_compact = false;
  double keep_compact_above = -1;
  bool keep_all_pairs = false;  // all-pairs schedules stay so
  // The transfers of explicit schedules that are among several candidates
  // (RunOptions::choose_among) and need no expanding are left deferred
  // (DeferredTransfers) unless RunOptions::record_transfers.
  bool defer_candidates = false;
  // Rings it expands queue per channel connection (collective::expand).
  bool fifo_rings = false;
};

// Resolves ranks to hosts and routes, adds protocol costs, and checks every
// transfer can be routed, as `choices` asks.
Expected<Plan> make_plan(const topology::Network& network, const std::vector<collective::Schedule>& schedules,
                         const RunOptions& options, const PlanChoices& choices = {});

// Builds a deferred schedule's transfers (PlannedSchedule::transfers; the
// deferred form stays, so they can be dropped and built again), or drops
// built ones to free their memory (a schedule costed and done with).
void build_transfers(PlannedSchedule& s);
void drop_transfers(PlannedSchedule& s);

// The rank map schedule `si` runs with (RunOptions: per schedule, else the
// shared one); empty = rank r is GPU r.
const std::vector<int>& rank_map_of(const RunOptions& options, std::size_t si);

}  // namespace collsim::engine::detail
