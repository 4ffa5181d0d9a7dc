#include "sim/collective/nccl_tuner.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>

#include "sim/collective/nvls.h"

namespace collsim::collective {

namespace {

// NCCL's channel limits (src/include/device.h MAXCHANNELS 64; rings and
// trees search at most half, src/init.cc; NVLS heads at most
// NCCL_MAX_NVLS_ARITY 32; CollNet Direct heads NCCL_MAX_DIRECT_ARITY + 1).
constexpr int kMaxRingChannels = 32;
constexpr int kMaxNvlsChannels = 32;
constexpr int kMaxDirectChannels = 8;
// ASSUMPTION (named kPciGBps): the GPU-to-NIC PCIe path as NCCL rates it,
// x16 Gen4 (Volta, Ampere) 24 GB/s and Gen5 (Hopper, Blackwell) 48 GB/s
// (NCCL's topology dump on an H20 node: "PCI[48.0] - GPU", NVIDIA/nccl issue
// 1189), and the same figure for a node without NVLink.
double pci_GBps(NcclArch arch) { return arch == NcclArch::kHopper || arch == NcclArch::kBlackwell ? 48.0 : 24.0; }

int floor_div(double a, double b) { return b > 0 ? static_cast<int>(std::floor(a / b + 1e-9)) : 0; }

// ncclTopoDupChannels: twice the channels at half the speed.
void dup_channels(NcclGraph& g, NcclArch arch) {
  if (g.channels == 0 || g.bw_intra < 25.0) return;
  if (arch >= NcclArch::kHopper && g.bw_intra < 50.0 && g.channels > 4) return;
  const int dup = std::min(2 * g.channels, kMaxRingChannels);
  const int div = (dup + g.channels - 1) / g.channels;
  g.bw_intra /= div;
  g.bw_inter /= div;
  g.channels = dup;
}

// NCCL's alignment of two ranks' graphs (src/init.cc): the fewer channels,
// the lower speeds; none if either has none. Each node keeps its own NICs
// per channel, so `a`'s cross_nic stays (nccl_graphs: the node with the
// fewest NICs, whose routes are the ones that change).
void align(NcclGraph& a, const NcclGraph& b) {
  if (a.channels == 0 || b.channels == 0) {
    a = {};
    return;
  }
  a.channels = std::min(a.channels, b.channels);
  a.bw_intra = std::min(a.bw_intra, b.bw_intra);
  a.bw_inter = std::min(a.bw_inter, b.bw_inter);
}

// rings_keep_their_nic, given the system's ring graph.
bool keeps_nic(const NcclSystem& system, const NcclGraph& ring) {
  if (system.cross_nic != 2) return system.cross_nic == 0;
  return ring.channels > 0 && !ring.cross_nic;
}

}  // namespace

NcclGraphs nccl_graphs(const NcclSystem& s, NcclRelease release) {
  if (s.node_nics.size() > 1) {
    NcclGraphs out;
    for (std::size_t k = 0; k < s.node_nics.size(); ++k) {
      NcclSystem one = s;
      one.nics = s.node_nics[k];
      one.node_nics.clear();
      const NcclGraphs g = nccl_graphs(one, release);
      if (k == 0) {
        out = g;
        continue;
      }
      align(out.ring, g.ring);
      align(out.tree, g.tree);
      align(out.nvls, g.nvls);
      align(out.collnet, g.collnet);
    }
    return out;
  }
  NcclGraphs out;
  const NcclArch arch = nccl_arch(s.gpu_model);
  if (arch == NcclArch::kUnknown || s.ranks < 2) return out;
  const bool inter = s.nodes > 1;
  const int ppn = std::max(1, s.ranks / std::max(1, s.nodes));
  const double nvl = s.nvlink_GBps > 0 ? s.nvlink_GBps : pci_GBps(arch);
  const NcclTables tables = nccl_tables(arch, release);
  const auto sp = inter ? tables.speeds_inter : tables.speeds_intra;
  // Search pass 2: `speed` rises through the array while below twice `other`
  // and `holds` the next speed.
  auto raise = [&](double& speed, double other, auto holds) {
    for (auto it = sp.rbegin(); it != sp.rend(); ++it) {
      if (*it <= speed) continue;
      if (speed >= 2 * other || !holds(*it)) break;
      speed = *it;
    }
  };
  // The per-channel limit a search starts under: the GPU's path to a NIC
  // across nodes, to a peer inside one.
  const double max_bw = inter ? std::min(s.nic_GBps, pci_GBps(arch)) : nvl;

  // Ring: the speed with the most channels x speed (search.cc pass 1). A
  // channel that leaves by another NIC spares its last GPU's NVLink.
  auto ring_channels = [&](double v, bool cross) {
    int n = kMaxRingChannels;
    if (ppn > 1) n = std::min(n, floor_div(nvl * (cross ? ppn / (ppn - 1.0) : 1.0), v));
    if (inter) n = std::min(n, s.nics * floor_div(s.nic_GBps, v));
    return n;
  };
  // NCCL_CROSS_NIC: the same NIC first (not with 1), then another (not
  // with 0, nor inside one node); a graph is kept only if strictly better.
  const bool same_nic = !inter || s.cross_nic != 1;
  const bool other_nic = inter && s.cross_nic != 0;
  NcclGraph ring;
  for (double v : sp) {
    if (v > max_bw + 1e-9) continue;
    if (ring.channels > 0 && v / ring.bw_inter <= 0.49) break;
    for (const bool cross : {false, true}) {
      if (!(cross ? other_nic : same_nic)) continue;
      const int n = ring_channels(v, cross);
      if (n >= 1 && n * v > ring.channels * ring.bw_inter + 1e-9) ring = {n, v, v, cross};
    }
    if (ring.channels * ring.bw_inter >= std::max(nvl, pci_GBps(arch)) - 1e-9) break;
  }
  if (ring.channels == 0) return out;
  const double ring_speed = ring.bw_inter;
  dup_channels(ring, arch);
  out.ring = ring;

  // Tree: the ring's channels; on two nodes the in-node speed rises while
  // below twice the network's and NVLink holds it (search.cc pass 2).
  out.tree = ring;
  out.tree.cross_nic = false;  // trees are symmetric (search.cc)
  if (inter && s.nodes <= 2)
    raise(out.tree.bw_intra, out.tree.bw_inter, [&](double v) { return out.tree.channels * v <= nvl + 1e-9; });

  // NVLS: every channel costs every GPU's NVLink v, its head's 2 v.
  if (arch >= NcclArch::kHopper && s.nvswitch && s.nvls && ppn >= nccl_nvls_min_gpus(release)) {
    const int n = inter ? std::min({kMaxNvlsChannels, ppn, s.nics}) : std::min(kMaxNvlsChannels, ppn);
    for (double v : sp) {
      if (n < 1 || v > max_bw + 1e-9 || (n + 1) * v > nvl + 1e-9) continue;
      out.nvls = {n, v, v};
      break;
    }
    // Pass 2 raises the network speed alone, below twice the in-node one,
    // as far as the NIC holds it (inside one node nothing holds it back).
    if (out.nvls.channels > 0)
      raise(out.nvls.bw_inter, out.nvls.bw_intra, [&](double v) { return !inter || v <= max_bw + 1e-9; });
  }
  if (s.collnet && inter && s.nics > 0) out.collnet = {std::min(kMaxDirectChannels, s.nics), ring_speed, ring_speed};
  return out;
}

int nccl_ring_channels(const NcclSystem& s, NcclRelease release) {
  const NcclArch arch = nccl_arch(s.gpu_model);
  const NcclGraph ring = nccl_graphs(s, release).ring;
  if (ring.channels == 0) return 0;
  constexpr int kMaxChannels = 2 * kMaxRingChannels;  // MAXCHANNELS
  int n = std::min(2 * ring.channels, kMaxChannels);
  if (s.nodes > 1 && ring.bw_intra > 45.0) {
    if (release < NcclRelease{2, 20, 3}) {
      if (arch == NcclArch::kHopper && 2 * n <= kMaxChannels) n *= 2;
    } else if ((arch == NcclArch::kHopper || (arch > NcclArch::kHopper && release >= NcclRelease{2, 25, 1})) &&
               n < 16) {
      n *= 2;
    }
  }
  // NCCL_MAX_NCHANNELS and NCCL_MAX_CTAS, then the floors (src/graph/connect.cc).
  if (s.max_channels > 0) n = std::min(n, s.max_channels);
  if (s.max_ctas > 0) n = std::min(n, s.max_ctas);
  n = std::max({n, s.min_channels, nccl_min_ctas(s)});
  // Then, 2.20.3-2.27.x, at least NVLS's channels (themselves within
  // NCCL_MIN_CTAS and NCCL_MAX_CTAS; connect.cc copies the rings up to them).
  const int ppn = std::max(1, s.ranks / std::max(1, s.nodes));
  const bool nvls = arch >= NcclArch::kHopper && s.nvswitch && s.nvls && ppn >= nccl_nvls_min_gpus(release);
  if (nvls && release >= NcclRelease{2, 20, 3} && release < NcclRelease{2, 28, 0})
    n = std::max(n, nccl_capped_ctas(s.nodes > 1 ? nccl_nvls_tree_chunking(s.gpu_model, s.nodes, ppn, release).channels
                                                 : nccl_nvls_chunking(s.gpu_model, 0, release).channels,
                                     s));
  return std::min(n, kMaxChannels);
}

int nccl_min_ctas(const NcclSystem& system) {
  // NCCL lowers a minCTAs above maxCTAs to it (src/init.cc: "minCTAs %d is
  // larger than maxCTAs %d, set both to %d").
  return system.max_ctas > 0 ? std::min(system.min_ctas, system.max_ctas) : system.min_ctas;
}

int nccl_capped_ctas(int channels, const NcclSystem& system) {
  if (system.max_ctas > 0) channels = std::min(channels, system.max_ctas);
  return std::max(channels, nccl_min_ctas(system));
}

int nccl_ring_channels_for(int channels, double bytes, int ranks, Protocol protocol) {
  double per_channel = 0;  // threads x bytes a thread
  switch (protocol) {
    case Protocol::kLL:
      per_channel = 512.0 * 8 * std::max(1, ranks);
      break;
    case Protocol::kLL128:
      per_channel = 640.0 * 8;
      break;
    case Protocol::kSimple:
      per_channel = 512.0 * 64;
      break;
    case Protocol::kNone:
      return channels;
  }
  int nc = channels;
  while (nc >= 2 && bytes < nc * per_channel) --nc;
  return nc;
}

NcclP2pSetup resolve_p2p_setup(NcclP2pSetup given, const NcclSystem& system, NcclRelease release) {
  if (given.channels <= 0) {
    const int ring = nccl_ring_channels(system, release);
    int pow2 = 1;
    while (pow2 < ring) pow2 *= 2;
    given.channels = ring > 0 ? pow2 : 32;
  }
  const NcclArch arch = nccl_arch(system.gpu_model);
  given.bandwidth_rule = release >= NcclRelease{2, 29, 0};
  given.net_GBps = std::min(system.nic_GBps, pci_GBps(arch));
  given.nodes = system.nodes;
  // From 2.29, across nodes of Grace-hosted Blackwell (4 GPUs a host), the
  // point-to-point chunk is twice NCCL_P2P_NET_CHUNKSIZE (src/init.cc
  // computeBuffSizes, "GBx platforms ... increase the ratio").
  if (given.bandwidth_rule && system.nodes > 1 && arch == NcclArch::kBlackwell &&
      nccl_host(system.gpu_model, system.host_cpu) == NcclHost::kArm)
    given.net_chunk_bytes *= 2;
  return given;
}

bool rings_keep_their_nic(const NcclSystem& system, NcclRelease release) {
  return keeps_nic(system, nccl_graphs(system, release).ring);
}

bool rings_alternate(const NcclSystem& system, NcclRelease release) {
  if (release < NcclRelease{2, 20, 3}) return false;
  const NcclGraph ring = nccl_graphs(system, release).ring;
  if (keeps_nic(system, ring) || ring.channels < 1 || ring.channels % 2 != 0) return false;
  if (release < NcclRelease{2, 21, 0}) return system.nodes % 2 == 0;
  return release < NcclRelease{2, 23, 0} || system.cross_nic == 2;
}

namespace {

enum Algo { kTree, kRing, kCollNetDirect, kNvls, kNvlsTree, kPat, kNone };

Algo algo_of(std::string_view name) {
  if (name == "tree") return kTree;
  if (name == "ring") return kRing;
  if (name == "collnetdirect") return kCollNetDirect;
  if (name == "nvls") return kNvls;
  if (name == "nvlstree") return kNvlsTree;
  if (name == "pat") return kPat;
  return kNone;
}

// NCCL 2.30.7 src/graph/tuning.cc (tuner constants), [algorithm][protocol]
// in the order above; protocols LL, LL128, Simple.
using Table = std::array<std::array<double, 3>, 6>;
constexpr Table kBaseLat{{{6.8, 14.0, 8.4}, {6.6, 14.0, 8.4}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {8.0, 8.0, 8.0}}};
constexpr std::array<Table, 3> kHwLat{{
    {{{0.6, 1.25, 4.0}, {0.6, 1.9, 3.4}, {0, 0, 3.7}, {0, 0, 25}, {0, 0, 25}, {0, 0, 4.0}}},  // NVLink
    {{{1.0, 1.9, 4.0}, {1.0, 2.5, 5.7}, {0, 0, 3.7}, {0, 0, 0}, {0, 0, 0}, {0, 0, 4.0}}},     // PCI
    {{{5.0, 8.5, 14}, {2.7, 4.0, 14.0}, {0, 0, 31}, {0, 0, 18}, {0, 0, 20.9}, {0, 0, 14}}},   // network
}};
// treeCorrectionFactor[protocol][log2(bytes / 64)], 64 B to 256 MiB.
constexpr std::array<std::array<double, 24>, 3> kTreeCorrection{{
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9, .9},
}};

int log2i(double n) { return n >= 1 ? static_cast<int>(std::floor(std::log2(n))) : -1; }

}  // namespace

double nccl_predicted_time_us(Op op, std::string_view algo_name, Protocol protocol, double bytes, const NcclSystem& s,
                              const NcclGraphs& graphs, NcclRelease release) {
  const NcclArch arch = nccl_arch(s.gpu_model);
  const Algo a = algo_of(algo_name);
  if (arch == NcclArch::kUnknown || a == kNone || protocol == Protocol::kNone || s.ranks < 2) return -1;
  const bool allreduce = op == Op::kAllReduce;
  const bool gather = op == Op::kAllGather || op == Op::kReduceScatter;
  const bool bcast = op == Op::kBroadcast || op == Op::kReduce;
  if (!allreduce && !gather && !bcast) return -1;
  if (bcast && a != kRing) return -1;
  if (gather && a != kRing && a != kPat && a != kNvls) return -1;          // CollNet gathers: not collsim's
  if (gather && a == kNvls && release < NcclRelease{2, 19, 0}) return -1;  // NVLS gathers from 2.19
  if (a == kPat && release < kFirstPatRelease) return -1;
  if (allreduce && a == kPat) return -1;
  const bool simple = protocol == Protocol::kSimple;
  if ((a == kNvls || a == kNvlsTree || a == kPat || a == kCollNetDirect) && !simple) return -1;
  const int nodes = std::max(1, s.nodes), ranks = s.ranks;
  const double ppn = static_cast<double>(ranks) / nodes;
  if (a == kNvlsTree && nodes == 1) return -1;                       // disabled on one node
  if (a == kNvls && nodes > 1 && !s.collnet) return -1;              // across nodes only with CollNet
  if (a == kCollNetDirect && (!s.collnet || nodes == 1)) return -1;  // NCCL_COLLNET_ENABLE
  if (a == kPat && ppn != 1) return -1;                              // PAT: one GPU per node

  const NcclGraph& g = a == kRing                ? graphs.ring
                       : a == kTree || a == kPat ? graphs.tree
                       : a == kCollNetDirect     ? graphs.collnet
                                                 : graphs.nvls;
  if (g.channels == 0) return -1;
  const NcclTables t = nccl_tables(arch, release);
  const auto p = static_cast<std::size_t>(protocol) - 1;
  const int nsteps = allreduce ? 2 * (ranks - 1) : gather ? ranks - 1 : ranks;
  const std::size_t column = nccl_node_column(nodes);

  // Bandwidth (ncclTopoTuneModel).
  double bw = nodes <= 2 || a == kCollNetDirect ? g.bw_intra : g.bw_inter;
  if (a == kNvls || a == kNvlsTree) {
    if (t.nvls_efficiency_model) {
      if (g.channels < 2) return -1;
      double intra = g.bw_intra * t.nvls_efficiency * (g.channels - 1) / g.channels;
      intra *= allreduce ? 2.0 : (ppn - 1) / ppn;
      const double inter_bw = g.bw_inter * (nodes <= 2 && a == kNvlsTree ? 2 : 1);
      bw = std::min({intra, inter_bw, a == kNvlsTree ? t.nvls_tree[column] : std::numeric_limits<double>::max()});
    } else {
      bw = std::min(g.bw_intra, a == kNvlsTree && nodes > 2 ? g.bw_inter / 2 : g.bw_inter);
    }
  }
  double bus = g.channels * bw;
  const double ll_max = ll_max_GBps(s.gpu_model, nodes, release, s.host_cpu);
  if (a == kRing && protocol == Protocol::kLL) bus = std::min(ll_max, bus * 0.5);
  if (a == kRing && protocol == Protocol::kLL128) bus = std::min(bus * 0.92, g.channels * t.ring_ll128[column]);
  if (a == kTree && allreduce) bus = std::min(bus * 0.92, g.channels * t.tree[column]);
  if (a == kTree && protocol == Protocol::kLL) bus = std::min(bus / 3.8, ll_max);
  if (a == kTree && protocol == Protocol::kLL128)
    bus = std::min(bus * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0), g.channels * t.tree_ll128[column]);
  // 2.26.2 on, a tree graph of NCCL's plain pattern (NCCL_TOPO_PATTERN_TREE)
  // loses 15% (src/graph/tuning.cc, maxTreePattern); the search takes that
  // pattern with one GPU a node (src/graph/search.cc). NOT MODELLED: on
  // Hopper and later it also falls back to it where no balanced tree is
  // found at a speed, which needs NCCL's search.
  if (a == kTree && ppn == 1 && release >= NcclRelease{2, 26, 2}) bus *= 0.85;
  if (a == kPat) bus *= 0.75;
  if (a == kCollNetDirect) {
    double factor = ppn / g.channels;  // GPUs per NIC
    factor -= (factor - 1) / 2;
    bus /= factor;
    if (arch >= NcclArch::kHopper) bus *= 0.85;
  }
  const bool nvls_family = a == kNvls || a == kNvlsTree;
  if (!(a != kRing && gather))
    bus *= a == kRing                               ? double(ranks) / nsteps
           : nvls_family && t.nvls_efficiency_model ? double(ranks) / nsteps
           : nvls_family                            ? 5.0 / 6.0
                                                    : 0.5;
  if (!(bus > 0)) return -1;

  // Latency.
  const std::size_t intra_hw = s.nvlink_GBps > 0 ? 0 : 1;
  const auto ax = static_cast<std::size_t>(a);
  double intra_lat = kHwLat[intra_hw][ax][p];
  double inter_lat = ppn == 1 ? kHwLat[2][kTree][p] : kHwLat[2][ax][p];
  if (a == kNvlsTree && ppn != 1) inter_lat = t.nvls_tree_net_latency_us;
  // The plugin's own latency (graph latencyInter), and Simple's flush.
  inter_lat += s.net_latency_us * (simple ? 2 : 1);
  double lat = kBaseLat[ax][p];
  const bool amd = nccl_host(s.gpu_model, s.host_cpu) == NcclHost::kAmd;
  if (a == kRing) {
    if (bcast) {
      // ASSUMPTION: one node's channels are all alike (sameChannels), so one
      // hop latency; across nodes they are not, so one per step.
      const std::size_t hw = nodes == 1 ? intra_hw : 2;
      const double step = kHwLat[hw][simple ? kTree : kRing][p];
      lat += nodes == 1 ? kHwLat[hw][kRing][p] : nsteps * step;
    } else {
      double net_overhead = 0;
      if (nodes > 1) net_overhead = (amd ? 2.0 : 1.0) * (simple ? 3 : 1);
      intra_lat = std::max(intra_lat, net_overhead);
      const int inter_steps = nodes == 1 ? 0 : allreduce ? 2 * (nodes - 1) : nodes - 1;
      lat += (nsteps - inter_steps) * intra_lat + inter_steps * inter_lat;
    }
  } else if (a == kTree) {
    if (allreduce) lat += 2 * ((ranks / nodes - 1) * intra_lat + log2i(nodes) * inter_lat);
  } else if (a == kCollNetDirect) {
    lat += 2 * (std::min(1, ranks / nodes - 1) * intra_lat + (ranks / nodes - 1) * 0.4) + inter_lat;
  } else if (a == kNvls) {
    lat = intra_lat + (nodes > 1 ? inter_lat : 0);
  } else if (a == kNvlsTree) {
    lat += intra_lat + 2 * log2i(nodes) * inter_lat;
  } else if (a == kPat) {
    lat += log2i(nodes) * (inter_lat / 3.5) + ranks * 2.8;
  }

  // Time (ncclTopoGetAlgoTime), one operation.
  const int log_size = log2i(std::floor(bytes / 64));
  const bool x86 = nccl_host(s.gpu_model, s.host_cpu) != NcclHost::kArm;
  const bool nvls_tree_correction = t.nvls_tree_correction && arch == NcclArch::kBlackwell && x86;
  if (allreduce && log_size >= 0 &&
      ((a == kTree && log_size < 23) || (a == kNvlsTree && log_size < 24 && nvls_tree_correction)))
    bus *= kTreeCorrection[p][static_cast<std::size_t>(log_size)];
  if (a == kRing && simple && nodes > 1 && allreduce && bytes / (graphs.ring.channels * double(ranks)) >= 64)
    lat *= arch == NcclArch::kVolta ? 1.9 : 1.4;  // NCCL: "plateau effect of ring"
  return lat + bytes / (1000 * bus);
}

}  // namespace collsim::collective
