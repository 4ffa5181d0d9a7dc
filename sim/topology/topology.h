// The device/link graph of a cluster (Boost.Graph), built from a validated
// TopologySpec. Each full-duplex cable becomes two directed edges, one per
// direction, each with its own rate: traffic one way never slows the other.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <map>
#include <string>
#include <vector>

#include "sim/config/topology_spec.h"
#include "sim/core/error.h"
#include "sim/topology/failures.h"
#include "sim/topology/link_label.h"

namespace collsim::topology {

struct Device {
  std::string name;
  config::DeviceKind kind = config::DeviceKind::kGpu;
  SourceMark declared_at;
  std::string model;  // GPUs: the GPU model (gpu_models.h); empty when none is named
};

// One direction of a link (or bundle of lanes).
struct Link {
  double rate_Bps = 0;      // line rate of the bundle in this direction
  double efficiency = 1.0;  // achievable fraction for collective traffic
  double latency_s = 0;
  LinkLabel link_class;
  double nvls_efficiency = 0;
  double nvls_reduction = 0;  // config::LinkClassSpec::nvls_reduction
  double step_latency_s = 0;  // config::LinkClassSpec::step_latency_s
  int spec_index = -1;        // index into TopologySpec::links
  double length_m = 0;        // of its cable; 0 when it is not a cable
  LinkLabel medium;           // empty when it is not a cable
  int lanes = 1;              // parallel cables (ports) the link stands for
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Device, Link>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

struct Topology {
  std::string name;
  std::string file;
  Graph graph;
  std::vector<Vertex> gpus;  // in declaration order; rank i runs on gpus[i] by default
  bool pxn = true;           // config::NcclSpec::pxn
  bool collnet = false;      // config::NcclSpec::collnet
  bool nvls = true;          // config::NcclSpec::nvls
  // Link classes whose switches reduce in the network, with their
  // config::LinkClassSpec::sharp_efficiency (only those above 0).
  std::map<std::string, double> sharp_efficiency;
  // Link classes whose NVLS chunks cost time, with their
  // config::LinkClassSpec::nvls_chunk_cost_s (only those above 0).
  std::map<std::string, double> nvls_chunk_cost_s;
  // Link classes whose proxy operations cost time, with their
  // config::LinkClassSpec::p2p_op_cost_s (only those above 0), and NCCL's
  // point-to-point split (config::NcclSpec).
  std::map<std::string, double> p2p_op_cost_s;
  // Link classes whose ring steps under LL/LL128 cost time, with their
  // config::LinkClassSpec::ring_step_latency_s (only those above 0).
  std::map<std::string, double> ring_step_latency_s;
  // Link classes whose queue pairs limit a ring channel, with their
  // config::LinkClassSpec::qp_rate_GBps (only those above 0).
  std::map<std::string, double> qp_rate_GBps;
  // config::LinkClassSpec::qp_msg_cost_s (only those above 0).
  std::map<std::string, double> qp_msg_cost_s;
  // config::LinkClassSpec::plugin_latency_s (only those above 0).
  std::map<std::string, double> plugin_latency_s;
  int p2p_channels = 0;
  int nchannels_per_net_peer = 0;
  double p2p_per_channel_net_GBps = 14;  // config::NcclSpec::p2p_per_channel_net_GBps
  int min_channels = 0;                  // config::NcclSpec::min_channels
  int min_ctas = 0;                      // config::NcclSpec::min_ctas
  int max_channels = 0;                  // config::NcclSpec::max_channels
  int max_ctas = 0;                      // config::NcclSpec::max_ctas
  int host_cpu = -1;                     // config::NcclSpec::host_cpu
  double ring_channel_net_GBps = -1;     // config::NcclSpec::ring_channel_net_GBps
  double tree_chain_channel_GBps = -1;   // config::NcclSpec::tree_chain_channel_GBps
  int ib_qps_per_connection = 1;         // config::NcclSpec::ib_qps_per_connection
  double ib_ar_threshold = 8192;         // config::NcclSpec::ib_ar_threshold (NCCL_IB_AR_THRESHOLD)
  double buffsize = 4194304;             // config::NcclSpec::buffsize (NCCL_BUFFSIZE)
  int nics_per_gpu = 1;                  // config::NcclSpec::nics_per_gpu
  double p2p_net_chunksize = 131072;
  double nvls_chunksize = 0;          // config::NcclSpec::nvls_chunksize
  double nvlstree_max_chunksize = 0;  // config::NcclSpec::nvlstree_max_chunksize
  int cross_nic = 2;                  // config::NcclSpec::cross_nic (NCCL_CROSS_NIC)
  FailureSummary failed;              // what config::FailuresSpec took down or degraded

  Topology() = default;
  Topology(const Topology&) = default;
  Topology& operator=(const Topology&) = default;
  // Boost's adjacency_list has no move constructor, and its swap() makes
  // three copies: a "move" copied every vertex and edge (4.7 s for a
  // 131,072-GPU cluster). With vecS vertices, stored edges refer
  // to edges by std::list iterator (listS edge list), which stay valid when
  // the lists swap, so swapping the two containers moves the graph. (A vecS
  // edge list would not do: its stored edges point at the container.) A
  // test checks a moved topology routes as the original.
  Topology(Topology&& o) noexcept
      : name(std::move(o.name)),
        file(std::move(o.file)),
        gpus(std::move(o.gpus)),
        pxn(o.pxn),
        collnet(o.collnet),
        nvls(o.nvls),
        sharp_efficiency(std::move(o.sharp_efficiency)),
        nvls_chunk_cost_s(std::move(o.nvls_chunk_cost_s)),
        p2p_op_cost_s(std::move(o.p2p_op_cost_s)),
        ring_step_latency_s(std::move(o.ring_step_latency_s)),
        qp_rate_GBps(std::move(o.qp_rate_GBps)),
        qp_msg_cost_s(std::move(o.qp_msg_cost_s)),
        plugin_latency_s(std::move(o.plugin_latency_s)),
        p2p_channels(o.p2p_channels),
        nchannels_per_net_peer(o.nchannels_per_net_peer),
        p2p_per_channel_net_GBps(o.p2p_per_channel_net_GBps),
        min_channels(o.min_channels),
        min_ctas(o.min_ctas),
        max_channels(o.max_channels),
        max_ctas(o.max_ctas),
        host_cpu(o.host_cpu),
        ring_channel_net_GBps(o.ring_channel_net_GBps),
        tree_chain_channel_GBps(o.tree_chain_channel_GBps),
        ib_qps_per_connection(o.ib_qps_per_connection),
        ib_ar_threshold(o.ib_ar_threshold),
        buffsize(o.buffsize),
        nics_per_gpu(o.nics_per_gpu),
        p2p_net_chunksize(o.p2p_net_chunksize),
        nvls_chunksize(o.nvls_chunksize),
        nvlstree_max_chunksize(o.nvlstree_max_chunksize),
        cross_nic(o.cross_nic),
        failed(std::move(o.failed)) {
    take_graph(o.graph);
  }
  Topology& operator=(Topology&& o) noexcept {
    name = std::move(o.name);
    file = std::move(o.file);
    gpus = std::move(o.gpus);
    pxn = o.pxn;
    collnet = o.collnet;
    nvls = o.nvls;
    sharp_efficiency = std::move(o.sharp_efficiency);
    nvls_chunk_cost_s = std::move(o.nvls_chunk_cost_s);
    p2p_op_cost_s = std::move(o.p2p_op_cost_s);
    ring_step_latency_s = std::move(o.ring_step_latency_s);
    qp_rate_GBps = std::move(o.qp_rate_GBps);
    qp_msg_cost_s = std::move(o.qp_msg_cost_s);
    plugin_latency_s = std::move(o.plugin_latency_s);
    p2p_channels = o.p2p_channels;
    nchannels_per_net_peer = o.nchannels_per_net_peer;
    p2p_per_channel_net_GBps = o.p2p_per_channel_net_GBps;
    min_channels = o.min_channels;
    min_ctas = o.min_ctas;
    max_channels = o.max_channels;
    max_ctas = o.max_ctas;
    host_cpu = o.host_cpu;
    ring_channel_net_GBps = o.ring_channel_net_GBps;
    tree_chain_channel_GBps = o.tree_chain_channel_GBps;
    ib_qps_per_connection = o.ib_qps_per_connection;
    ib_ar_threshold = o.ib_ar_threshold;
    buffsize = o.buffsize;
    nics_per_gpu = o.nics_per_gpu;
    p2p_net_chunksize = o.p2p_net_chunksize;
    nvls_chunksize = o.nvls_chunksize;
    nvlstree_max_chunksize = o.nvlstree_max_chunksize;
    cross_nic = o.cross_nic;
    failed = std::move(o.failed);
    take_graph(o.graph);
    return *this;
  }

 private:
  void take_graph(Graph& other) noexcept {
    graph.m_vertices.swap(other.m_vertices);
    graph.m_edges.swap(other.m_edges);
  }
};

// Builds the graph and checks it: at least one GPU, and every GPU reaches
// every other through devices that forward traffic (switches, NICs), not
// through other GPUs or CPUs. Errors name the file position of the culprit.
Expected<Topology> build_topology(const config::TopologySpec& spec);

}  // namespace collsim::topology
