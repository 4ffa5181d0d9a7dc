// The engine's view of a topology: endpoints (one per GPU, in rank order),
// directed links with an effective rate and a latency, and routes between
// endpoints as lists of link indices.
//
// Plane merging. NVLink traffic is striped over all of a GPU's NVLinks, so a
// GPU reaches a peer through every NVSwitch chip at once (hardware.yaml:
// 18 links per GPU, one per NVSwitch chip on GB200 NVL72). Switches that are
// twins (same kind, same neighbours, same per-neighbour class and efficiency,
// and the same share of every neighbour's bandwidth) are merged into one
// logical switch whose links carry the summed rate and the largest latency
// of the merged links (a striped message arrives with its last stripe). Under striping in proportion to
// link rate this is exact for max-min fair sharing, and it turns 18 parallel
// flows into one. Twins that do not meet the conditions are kept apart.
//
// Routing: fewest hops, transiting only devices that forward traffic; among
// those, the widest (largest narrowest effective rate).
// NIC affinity: at a PCIe switch joining several GPUs and NICs, a route may
// turn between a GPU and a NIC only if they are paired (the k-th GPU with
// the k-th NIC, in declaration order; shared or split in proportion when the
// counts differ), so a GPU's network traffic leaves and arrives through its
// own NIC, and no route turns from one NIC to another through the host.
// Where the rule leaves a destination unreachable (rails that nothing
// joins), that route may use a sibling's NIC. Paired NICs are never merged
// as twins (one GPU would get both).
// ECMP: where several fewest-hop paths remain after plane merging, each
// (source, destination) pair takes one, chosen from the destination's
// number (D-mod-k, the static routing of fat trees); GPUs are numbered by
// the switch their NIC is cabled to, then by index.
// PXN (p2p_route): point-to-point traffic to another NVLink domain is
// relayed through the sender-side GPU on the receiver's rail; collective
// routes (route) do not relay.
// Why each rule, and what it changed when it came in: docs/topology-format.md
// ("Routing") and docs/architecture.md ("Routing").
//
// Threads: a Network is not thread-safe. route() and p2p_route() fill caches
// and a scratch area inside a const object; use one Network per thread (the
// SimGrid backend and the sweep's workers run in processes of their own).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/core/error.h"
#include "sim/topology/topology.h"

namespace collsim::topology {

// A link of the merged graph, in one direction. Its name and the file's
// links it carries are kept by the Network (link_name, spec_links): at
// 131,072 GPUs there are 2.5 M links, and a string and a list per link cost
// a second and 200 MB to build.
struct NetworkLink {
  double rate_Bps = 0;  // effective: line rate x efficiency
  double line_rate_Bps = 0;
  double latency_s = 0;
  LinkLabel link_class;
  double nvls_efficiency = 0;  // from the link class; 0 = no in-switch reduction
  double nvls_reduction = 0;   // from the link class (config::LinkClassSpec); 0 = not limited
  double step_latency_s = 0;   // from the link class (config::LinkClassSpec); 0 = none
  int from_node = -1;          // nodes of the merged graph (see node_of_endpoint)
  int to_node = -1;
  // Kinds of the devices at its two ends (for naming resources in reports).
  config::DeviceKind from_kind = config::DeviceKind::kGpu;
  config::DeviceKind to_kind = config::DeviceKind::kGpu;
  double sharp_efficiency = 0;     // from the link class (config::LinkClassSpec); 0 = no in-network reduction
  double ring_step_latency_s = 0;  // from the link class (config::LinkClassSpec); 0 = none
};

class Network {
 public:
  // Builds the merged graph of `topo`. REQUIRES: topo passed build_topology.
  explicit Network(const Topology& topo);

  // Endpoints are the GPUs (0 .. num_gpus()-1, in rank order) followed by
  // the logical NVSwitches, which can take part in in-switch reductions,
  // then the logical fabric switches that reduce in the network (SHARP: a
  // link of theirs has a class with sharp_efficiency > 0).
  int num_endpoints() const { return static_cast<int>(endpoints_.size()); }
  // Whether endpoint `e` is a fabric switch that reduces (SHARP).
  bool reduces_in_network(int e) const { return e >= first_sharp_endpoint_ && e < num_endpoints(); }
  // The SHARP endpoint at node `node` of the merged graph, or -1.
  int sharp_endpoint_of_node(int node) const {
    const int e = endpoint_of_node_[static_cast<std::size_t>(node)];
    return reduces_in_network(e) ? e : -1;
  }
  bool collnet_enabled() const { return collnet_; }  // Topology::collnet
  bool nvls_enabled() const { return nvls_; }        // Topology::nvls
  // NCCL_CROSS_NIC (Topology::cross_nic): 0, 1 or 2; whether a communicator's
  // rings keep their NIC is collective::rings_keep_their_nic's answer.
  int nccl_cross_nic() const { return cross_nic_; }
  // Whether some fabric switch reduces in the network.
  bool has_sharp() const { return first_sharp_endpoint_ < num_endpoints(); }
  int num_gpus() const { return num_gpus_; }
  // The logical NVSwitch endpoint one hop from GPU endpoint `gpu`, or -1.
  int nvswitch_endpoint_near(int gpu) const;
  // An id shared by the GPUs on the same logical NVSwitch (an NVLink
  // domain); a GPU without one is a domain of its own.
  int nvlink_domain_of(int gpu) const {
    const int sw = nvswitch_endpoint_near(gpu);
    return sw >= 0 ? sw : -1 - gpu;
  }
  // Whether endpoints `a` and `b` are both GPUs of one NVLink domain.
  bool same_nvlink_domain(int a, int b) const {
    return a >= 0 && b >= 0 && a < num_gpus_ && b < num_gpus_ && nvlink_domain_of(a) == nvlink_domain_of(b);
  }
  // Line rate of GPU endpoint `gpu`'s NVLinks to its NVSwitch (merged planes
  // summed), bytes/s per direction; 0 without one.
  double nvlink_line_rate_Bps(int gpu) const;
  // Line rate of the network ports of GPU endpoint `gpu`'s own NIC (the one
  // its traffic leaves through, NIC affinity), bytes/s; 0 without one.
  double nic_line_rate_Bps(int gpu) const { return gpu_nic_rate_Bps_[static_cast<std::size_t>(gpu)]; }
  // NVLS efficiency of the link from GPU endpoint `gpu` to that NVSwitch
  // (its link class's nvls_efficiency; 0 = no in-switch reduction).
  double nvls_efficiency_near(int gpu) const;
  // The in-switch reduction throughput of NVSwitch endpoint `sw`, in bytes
  // of adds per second: each GPU link into it contributes its line rate
  // times its class's nvls_reduction. 0 = not limited (a class without it).
  double nvls_reduction_rate_Bps(int sw) const;
  // What an NVLS chunk smaller than NCCL's largest costs a channel, in
  // seconds, on the link from GPU endpoint `gpu` to its NVSwitch (its link
  // class's nvls_chunk_cost_s); 0 without an NVSwitch or a cost.
  double nvls_chunk_cost_near(int gpu) const;
  // What one network operation of NCCL's proxy costs GPU endpoint `gpu`: the
  // largest p2p_op_cost_s of its NIC's network links' classes; 0 without.
  double p2p_op_cost_of(int gpu) const {
    return gpu_p2p_op_cost_s_.empty() ? 0 : gpu_p2p_op_cost_s_[static_cast<std::size_t>(gpu)];
  }
  // What one queue pair of an NCCL ring channel's network connection from
  // GPU endpoint `gpu` moves, GB/s of wire bytes: the smallest qp_rate_GBps
  // of its NIC's network links' classes; 0 = not limited.
  double qp_rate_GBps_of(int gpu) const {
    return gpu_qp_rate_GBps_.empty() ? 0 : gpu_qp_rate_GBps_[static_cast<std::size_t>(gpu)];
  }
  // What each network message of such a connection costs its queue pair,
  // seconds: the largest qp_msg_cost_s of those classes; 0 = nothing.
  double qp_msg_cost_of(int gpu) const {
    return gpu_qp_msg_cost_s_.empty() ? 0 : gpu_qp_msg_cost_s_[static_cast<std::size_t>(gpu)];
  }
  // The latency NCCL's network plugin reports for GPU endpoint `gpu`'s NIC,
  // seconds (config::LinkClassSpec::plugin_latency_s): the largest of its
  // network links' classes; 0 = none.
  double plugin_latency_of(int gpu) const {
    return gpu_plugin_latency_s_.empty() ? 0 : gpu_plugin_latency_s_[static_cast<std::size_t>(gpu)];
  }
  // NCCL's point-to-point split settings (Topology, config::NcclSpec).
  int nccl_p2p_channels() const { return p2p_channels_; }
  int nccl_nchannels_per_net_peer() const { return nchannels_per_net_peer_; }
  double nccl_p2p_per_channel_net_GBps() const { return p2p_per_channel_net_GBps_; }
  // NCCL_MIN_NCHANNELS, NCCL_MIN_CTAS and the ring channel's network rate
  // (Topology).
  int nccl_min_channels() const { return min_channels_; }
  int nccl_min_ctas() const { return min_ctas_; }
  // NCCL_MAX_NCHANNELS and NCCL_MAX_CTAS (Topology; 0: none).
  int nccl_max_channels() const { return max_channels_; }
  int nccl_max_ctas() const { return max_ctas_; }
  // The host CPU NCCL reads (config::NcclSpec::host_cpu): -1 the GPU model's,
  // 0 Intel, 1 AMD, 2 Arm (collective::NcclHost's order).
  int nccl_host_cpu() const { return host_cpu_; }
  double nccl_ring_channel_net_GBps() const { return ring_channel_net_GBps_; }
  double nccl_tree_chain_channel_GBps() const { return tree_chain_channel_GBps_; }  // config::NcclSpec's
  int nccl_ib_qps_per_connection() const { return ib_qps_per_connection_; }         // NCCL_IB_QPS_PER_CONNECTION
  double nccl_ib_ar_threshold() const { return ib_ar_threshold_; }                  // NCCL_IB_AR_THRESHOLD, bytes
  double nccl_buffsize() const { return buffsize_; }                                // NCCL_BUFFSIZE, bytes
  int nccl_nics_per_gpu() const { return nics_per_gpu_; }
  // "no route from A to B", with the failures that may have cut it
  // (Topology::failed) when there are any.
  std::string no_route_message(int src, int dst) const;
  double nccl_p2p_net_chunksize() const { return p2p_net_chunksize_; }
  // NCCL_NVLS_CHUNKSIZE and NCCL_NVLSTREE_MAX_CHUNKSIZE (0: NCCL's own).
  double nccl_nvls_chunksize() const { return nvls_chunksize_; }
  double nccl_nvlstree_max_chunksize() const { return nvlstree_max_chunksize_; }
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The GPU model GPU endpoint `gpu` names (gpu_models.h); empty when none.
  const std::string& gpu_model(int gpu) const { return gpu_models_[static_cast<std::size_t>(gpu)]; }
  const std::vector<NetworkLink>& links() const { return links_; }
  // Link `l`'s name, "gpu0->nvswitch" (merged twins get a range name,
  // "a..b (4 planes)"). REQUIRES: 0 <= l < links().size().
  std::string link_name(int l) const;
  // The name of node `node` of the merged graph: its device's, or a range
  // for merged twins.
  const std::string& node_name(int node) const { return node_names_[static_cast<std::size_t>(node)]; }
  // The file's links (TopologySpec::links indices) link `l` carries, in
  // its direction: several when twins were merged or parallel links
  // aggregated; none for links the file did not declare one by one.
  std::span<const int> spec_links(int l) const {
    const auto at = spec_link_first_[static_cast<std::size_t>(l)];
    return {spec_link_ids_.data() + at, spec_link_first_[static_cast<std::size_t>(l) + 1] - at};
  }
  int num_logical_switches() const { return num_logical_switches_; }
  // The merged graph's nodes: every device, twins merged into one.
  int num_nodes() const { return static_cast<int>(out_arcs_.size()); }
  int node_of_endpoint(int endpoint) const { return endpoint_node_[endpoint]; }

  // Link indices from endpoint `src` to endpoint `dst` (src != dst).
  // Computed per pair on demand and cached (memory grows with the pairs
  // asked for, not with endpoints squared): a bidirectional BFS finds the
  // fewest-hop distance, the states on fewest-hop paths are kept, and a BFS
  // restricted to them replays the full single-source BFS's order, so the
  // widest-path and ECMP choices are exactly reference_route()'s.
  const std::vector<int>& route(int src, int dst) const;
  // The same route, written to `out` and not kept (callers that visit
  // millions of pairs once each, engine/all_pairs_cost.h).
  void route_into(int src, int dst, std::vector<int>* out) const;
  // The route of point-to-point traffic (all-to-all, send/recv) from GPU
  // `src` to GPU `dst`: route(src, dst), or with PXN (config::NcclSpec::pxn,
  // on by default as in NCCL) and a relay (pxn_relay), route(src, relay)
  // then route(relay, dst): over NVLink to the relay, out through its NIC;
  // between two domains with either GPU off the network, stand_in_route.
  // NCCL 2.30.7 src/graph/search.cc ncclTopoGetNetDev, NCCL_P2P_PXN_LEVEL=2
  // ("use PXN as much as possible"): the sender uses the NIC of its local
  // GPU with the receiver's local index, through that GPU (the proxy rank),
  // and the receiver its own NIC (src/transport/net.cc recvSetup). Cached.
  const std::vector<int>& p2p_route(int src, int dst) const;
  // A ring channel's hop from GPU `src` to GPU `dst` in another NVLink
  // domain that leaves src's domain through the NIC of GPU `exit`, the
  // channel's entry there (collective::Schedule::exit_relay):
  // exit_via(src, exit, dst) is `exit` when that is not p2p_route's relay,
  // is not src, both it and dst are on the network and the route through
  // it exists; else -1, and the hop takes p2p_route. It does not check
  // PXN: callers ask only with it on (the exit is reached over NVLink).
  // exit_route(src, exit, dst) is then route(src, exit) and route(exit,
  // dst): over NVLink, out of exit's NIC and across to dst's, through the
  // fabric's spines when their rails differ (NCCL's ring graph keeps each
  // node's own NICs per channel). Cached.
  int exit_via(int src, int exit, int dst) const;
  const std::vector<int>& exit_route(int src, int exit, int dst) const;
  // The PXN relay of GPU `src` for GPU `dst`: the GPU of src's NVLink
  // domain at dst's position in its own domain (positions in rank order; on
  // 8-GPU nodes the local index, on the cluster templates the rail), when
  // PXN is on, the domains differ, and that GPU exists, is not src and has
  // a NIC; else -1.
  int pxn_relay(int src, int dst) const;
  // Whether GPU `gpu` reaches the fabric through a NIC of its own: false
  // when it has none, or when every port of its NIC to the fabric is down
  // (failures).
  bool on_network(int gpu) const { return gpu_has_nic_[static_cast<std::size_t>(gpu)]; }
  bool pxn_enabled() const { return pxn_; }  // config::NcclSpec::pxn
  // The node of GPU `gpu`'s own NIC (a neighbour, or one behind its PCIe
  // switch), -1 without one: GPUs that share a NIC give the same.
  int nic_of_gpu(int gpu) const { return gpu_nic_[static_cast<std::size_t>(gpu)]; }
  // A GPU off the network (a failed NIC or its cable) sends and receives
  // through a peer of its NVLink domain that is on it, reached over NVLink
  // (NCCL finds no NIC of its own and takes the nearest one, by PXN for a
  // send; a receive it would bring through host memory, modelled as the
  // same NVLink path). network_stand_in(gpu, position) is `gpu` when it is
  // on the network, else the peer at `position` in its domain when that one
  // is (-1: none preferred), else the next one on the network after `gpu`'s
  // own position, else -1. needs_stand_in(src, dst): src and dst are in
  // two different NVLink domains and one of them is off the network; then
  // p2p_route is stand_in_route: dst's stand-in at src's position (the
  // sender's rail), src's at that one's position with PXN on (for a sender
  // on the network, its PXN relay), then src to its stand-in over NVLink,
  // across, and over NVLink to dst (empty when a leg has no route).
  int network_stand_in(int gpu, int position) const;
  bool needs_stand_in(int src, int dst) const;
  std::vector<int> stand_in_route(int src, int dst) const;
  // GPU `gpu`'s position in its NVLink domain (rank order), the position
  // pxn_relay matches.
  int domain_position(int gpu) const { return domain_position_[static_cast<std::size_t>(gpu)]; }
  // The same route from a full BFS over the whole graph from `src` (the
  // original algorithm; O(graph) per call). For tests and checks.
  std::vector<int> reference_route(int src, int dst) const;
  // Fewest hops from endpoint `src` to every GPU endpoint (one full BFS; 0
  // for src itself, -1 where unreachable). The route lengths, without routes.
  std::vector<int> hops_to_gpus(int src) const;

  // How route() found the routes it computed (diagnostics and tests):
  // composed at gateways (gateway.cc) across the fabric, walked inside the
  // source's host, or searched pair by pair.
  struct RouteStats {
    long long composed = 0, in_host = 0, searched = 0;
  };
  RouteStats route_stats() const { return route_stats_; }

  // The sum of latencies and the minimum effective rate along a route.
  double route_latency_s(const std::vector<int>& route) const;
  double route_rate_Bps(const std::vector<int>& route) const;

 private:
  struct Arc {
    int to;
    int link;
  };
  // Walks back from `dst` through `parents` (per routing state), taking the
  // ECMP choice of `dst`'s index at each fork.
  std::vector<int> walk_back(int dst, const std::vector<std::vector<Arc>>& parents) const;
  // The D-mod-k walk itself (walk_back's comment): from routing state `v`
  // back over `options_of(v)` (a std::span of equal-cost predecessors;
  // empty where the walk ends), each fork taking the next digit of
  // `digits`; appends the links, last hop first. routing_steps.h.
  template <typename OptionsOf>
  void walk_ecmp(int v, std::size_t digits, OptionsOf&& options_of, std::vector<int>* links) const;
  // The number D-mod-k takes its digits from: a GPU's ecmp_index_, else
  // the endpoint's index.
  std::size_t ecmp_number(int dst) const {
    return static_cast<std::size_t>(dst < num_gpus_ ? ecmp_index_[static_cast<std::size_t>(dst)] : dst);
  }
  // Per-pair search (see route()); false if no route under `affinity`.
  bool route_pair(int src, int dst, bool affinity, std::vector<int>* out) const;
  // The search behind it, between routing states: leaves the fewest-hop
  // widest DAG's predecessors in scratch_.parents for the states in
  // scratch_.queue (start first). false if `goal` is unreachable.
  bool search_dag(int start, int goal, double start_width, bool affinity) const;
  // A fresh stamp for the scratch arrays (sized on first use).
  std::uint32_t new_mark() const;

  // Gateways (gateway.cc): where every route of a GPU leaves (or enters) its
  // host by one path, the route between two such GPUs is that path, the
  // fewest-hop widest DAG between the two gateways (cached per gateway pair
  // and walked with the destination's ECMP number), and the other path; a
  // route that stays inside the host is walked over the full search's own
  // predecessors there. Equal to route_pair's (proof in gateway.cc,
  // checked against reference_route in tests/network_test.cc).
  struct Gateway {
    int state = -1;    // the gateway's routing state; -1: none
    double width = 0;  // narrowest effective rate of the path
    // Ranges of gateway_ints_: the path's links in travel order; the
    // routing states within the gateway's depth, sorted; (inbound) the
    // non-forwarding nodes one hop before them, sorted; (outbound) the same
    // states in visit order, and per state the first of its equal-cost
    // widest predecessors in gateway_arcs_ (one more entry closes the last).
    std::size_t links_at = 0, links_n = 0, ball_at = 0, ball_n = 0, ends_at = 0, ends_n = 0, order_at = 0,
                firsts_at = 0;
  };
  struct MiddleDag {          // a DAG between two gateways, predecessors per state
    std::vector<int> states;  // sorted
    std::vector<int> first;   // states.size() + 1 offsets into `parents`
    std::vector<Arc> parents;
  };
  struct MiddleKey {
    int from, to;
    double width;
    bool operator==(const MiddleKey&) const = default;
  };
  struct MiddleKeyHash {
    std::size_t operator()(const MiddleKey& k) const {
      return std::hash<std::uint64_t>()((static_cast<std::uint64_t>(k.from) << 32) ^ static_cast<std::uint32_t>(k.to)) ^
             std::hash<double>()(k.width);
    }
  };
  const Gateway& gateway(int gpu, bool outbound) const;
  Gateway find_gateway(int gpu, bool outbound) const;
  bool gateway_route(int src, int dst, std::vector<int>* out) const;
  // Appends the fewest-hop widest DAG's D-mod-k walk from gateway state
  // `from` to gateway state `to` (searched with `width`) for destination
  // `dst`, in travel order; false if `to` is unreachable. Cached per key.
  bool middle_into(int from, int to, double width, int dst, std::vector<int>* out) const;
  friend class ExitRoutes;  // exit_routes.h: routes of many sources at once
  // The states a route may move to from / come from, in the BFS's order.
  template <typename F>
  void for_each_next(int state, int start, bool affinity, F&& f) const;
  template <typename F>
  void for_each_prev(int state, int start, bool affinity, F&& f) const;
  int node_of_state(int s) const {
    return s < static_cast<int>(out_arcs_.size()) ? s : state_node_[static_cast<std::size_t>(s)];
  }
  int via_of_state(int s) const {
    return s < static_cast<int>(out_arcs_.size()) ? -1 : state_via_[static_cast<std::size_t>(s)];
  }
  // Equal-cost widest predecessors from `src` (per routing state when
  // `affinity`, per node otherwise), and each state's depth if asked.
  void bfs(int src, bool affinity, std::vector<std::vector<Arc>>* parents, std::vector<int>* depth) const;
  // The routing state of `node` entered from `via` (the node itself unless
  // it is a PCIe switch with NIC affinity).
  int state_of(int node, int via) const;
  // Whether a route may enter PCIe switch `via` from node `from` and leave to `to`.
  bool turn_allowed(int via, int from, int to) const;
  // The constructor's steps (network.cc), on the merged nodes `members`
  // (original vertices per node) and each vertex's node `node_of`.
  void aggregate_links(const Graph& g, const std::vector<std::vector<Vertex>>& members,
                       const std::vector<int>& node_of);
  void set_up_nic_affinity(const Graph& g, const std::vector<std::vector<Vertex>>& members);
  // Whether merged node `nic` has a port up to the fabric (a switch, or a
  // NIC cabled back to back): failures leave down links out of out_arcs_.
  bool reaches_fabric(const Graph& g, const std::vector<std::vector<Vertex>>& members, int nic) const;
  void number_endpoints(const Topology& topo, const std::vector<std::vector<Vertex>>& members,
                        const std::vector<int>& node_of);

  // The one link from GPU endpoint `gpu` to its NVSwitch, or -1 (no
  // NVSwitch, or not one hop away).
  int nvswitch_link_of(int gpu) const;

  std::vector<std::string> endpoints_;
  std::vector<int> endpoint_node_;     // endpoint -> node of the merged graph
  std::vector<int> endpoint_of_node_;  // node -> its endpoint, or -1
  std::vector<int> ecmp_index_;        // per GPU endpoint: its number for D-mod-k (network.cc)
  bool pxn_ = true;                    // Topology::pxn
  bool collnet_ = false;               // Topology::collnet
  bool nvls_ = true;                   // Topology::nvls
  int cross_nic_ = 2;                  // Topology::cross_nic
  std::map<std::string, double, std::less<>> nvls_chunk_cost_s_;  // Topology::nvls_chunk_cost_s
  int first_sharp_endpoint_ = 0;                                  // endpoints from here on reduce in the network
  std::vector<bool> gpu_has_nic_;                                 // per GPU endpoint
  std::vector<int> gpu_nic_;                                      // per GPU endpoint (nic_of_gpu)
  std::vector<double> gpu_nic_rate_Bps_;                          // per GPU endpoint (nic_line_rate_Bps)
  std::vector<double> gpu_p2p_op_cost_s_;                         // per GPU endpoint, or empty (p2p_op_cost_of)
  std::vector<double> gpu_qp_msg_cost_s_;                         // per GPU endpoint, or empty (qp_msg_cost_of)
  std::vector<double> gpu_qp_rate_GBps_;                          // per GPU endpoint, or empty (qp_rate_GBps_of)
  std::vector<double> gpu_plugin_latency_s_;                      // per GPU endpoint, or empty (plugin_latency_of)
  int p2p_channels_ = 0;                                          // Topology::p2p_channels
  int nchannels_per_net_peer_ = 0;                                // Topology::nchannels_per_net_peer
  double p2p_per_channel_net_GBps_ = 14;                          // Topology::p2p_per_channel_net_GBps
  int min_channels_ = 0;                                          // Topology::min_channels
  int min_ctas_ = 0;                                              // Topology::min_ctas
  int max_channels_ = 0;                                          // Topology::max_channels
  int max_ctas_ = 0;                                              // Topology::max_ctas
  int host_cpu_ = -1;                                             // Topology::host_cpu
  double ring_channel_net_GBps_ = -1;                             // Topology::ring_channel_net_GBps
  double tree_chain_channel_GBps_ = -1;                           // Topology::tree_chain_channel_GBps
  int ib_qps_per_connection_ = 1;                                 // Topology::ib_qps_per_connection
  double ib_ar_threshold_ = 8192;                                 // Topology::ib_ar_threshold
  double buffsize_ = 4194304;                                     // Topology::buffsize
  int nics_per_gpu_ = 1;                                          // Topology::nics_per_gpu
  std::string failures_text_;                                     // Topology::failed.text(), "" without failures
  double p2p_net_chunksize_ = 131072;                             // Topology::p2p_net_chunksize
  double nvls_chunksize_ = 0;                                     // Topology::nvls_chunksize
  double nvlstree_max_chunksize_ = 0;                             // Topology::nvlstree_max_chunksize
  std::vector<int> domain_position_;                              // per GPU endpoint: its position in its NVLink domain
  std::unordered_map<int, std::vector<int>> domain_gpus_;         // NVLink domain -> its GPUs, in rank order
  std::vector<bool> node_forwards_;
  std::vector<bool> node_is_gpu_;
  // Per node: for a PCIe switch joining several GPUs and NICs, the affinity
  // group of each GPU and NIC neighbour, sorted by neighbour (empty otherwise).
  std::vector<std::vector<std::pair<int, int>>> port_group_;
  std::vector<int> split_base_;  // per node: first of its per-entry states, or -1
  int num_states_ = 0;
  std::vector<std::vector<Arc>> out_arcs_;   // per node, sorted by target node
  std::vector<std::vector<Arc>> in_arcs_;    // per node: Arc{from node, link}, sorted by source node
  std::vector<int> state_node_, state_via_;  // per routing state (plain states: the node, -1)
  std::vector<NetworkLink> links_;
  std::vector<std::string> node_names_;  // per node of the merged graph
  // spec_links(l) is spec_link_ids_[spec_link_first_[l] .. spec_link_first_[l + 1]).
  std::vector<std::size_t> spec_link_first_;
  std::vector<int> spec_link_ids_;
  int num_logical_switches_ = 0;
  int num_gpus_ = 0;
  std::vector<std::string> gpu_models_;  // per GPU endpoint
  // Routes asked for, keyed by src * num_endpoints + dst.
  mutable std::unordered_map<std::uint64_t, std::vector<int>> route_cache_;
  mutable std::unordered_map<std::uint64_t, std::vector<int>> pxn_route_cache_;  // relayed p2p routes only
  mutable std::map<std::array<int, 3>, std::vector<int>> exit_route_cache_;      // (src, exit, dst)
  mutable std::vector<Gateway> gateway_out_, gateway_in_;                        // per GPU, computed on first use
  mutable std::vector<bool> gateway_known_;                                      // per GPU x 2 (out, in)
  mutable std::vector<int> gateway_ints_;                                        // Gateway's ranges
  mutable RouteStats route_stats_;
  mutable std::vector<Arc> gateway_arcs_;
  // Keyed by (source gateway state, destination gateway state, width).
  mutable std::unordered_map<MiddleKey, MiddleDag, MiddleKeyHash> middle_cache_;
  mutable std::size_t middle_cache_entries_ = 0;  // cleared past kMiddleCacheEntries (gateway.cc)
  // Scratch of the per-pair search, sized to the states and reset by stamp.
  struct Scratch {
    std::vector<std::uint32_t> stamp_f, stamp_b, stamp_dag;
    std::vector<int> dist_f, dist_b;
    std::vector<double> width;
    std::vector<std::vector<Arc>> parents;
    std::vector<int> queue;  // search_dag's replay order
    // find_gateway's search, per state in visit order.
    std::vector<int> visited, paths;
    std::vector<std::pair<std::size_t, int>> pred;
    std::vector<double> widths;
    std::vector<std::vector<Arc>> options;
    std::uint32_t epoch = 0;
  };
  mutable Scratch scratch_;
};

}  // namespace collsim::topology
