#include "sim/config/link_classes.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "sim/units/units.h"

namespace collsim::config {
namespace {

// A rate under `key` of `map`, GB/s per `per_what` from 0 (no limit) to
// 10000, into `out`; absent leaves `out` alone.
Status read_GBps(const MapReader& map, const char* key, const char* per_what, double& out) {
  if (!map.has(key)) return Ok{};
  auto v = map.number(key);
  if (!v) return v.error();
  if (!(*v >= 0 && *v <= 10000))
    return map.error_at(key, fmt::format("expected GB/s per {} from 0 (no limit) to 10000, found {}", per_what, *v));
  out = *v;
  return Ok{};
}

}  // namespace

const std::vector<LinkClassSpec>& builtin_link_classes() {
  // NVLink5: the fitted link efficiency (below).
  constexpr double kNvlink5Efficiency = 0.76;
  static const std::vector<LinkClassSpec> classes{
      // NVLink4 (H100): ring all-reduce peaks near 370 GB/s busbw on 450 GB/s
      // per direction (calibration.yaml h100_8gpu_ring, sjeaugey in
      // nccl-tests #212): 370/450 = 0.822. NCCL's own model agrees:
      // SM90_NVLINK_BW 20.6 of 25 GB/s per link = 0.824 (NCCL src/graph/topo.h).
      // NVLS: NCCL's nvlsEfficiency, Hopper 0.85 (NCCL tuning.cc).
      // NVLS chunk cost: each chunk smaller than NCCL's largest NVLS chunk
      // (128 KiB) costs an NVLS channel 1.0 us more than its bytes. FITTED
      // to one curve, the Azure ND H100 v5 NVLS all-reduce from 1 MiB to
      // 8 GiB (NCCL 2.18.5; grid 0.40-1.30 us: mean |error| 4.7% at 0.95-1.05,
      // 6.8% at 0.6, 5.3% at 1.3); held out: the same curve measured by
      // Together under NCCL 2.26.2 (docs/validation-nvls.md, "NVLS chunks").
      // NVLSTree's NVLS stages pay it too (its chunk is 64 KiB from 4
      // nodes); held out: the 8-node H100 curve of nccl-tests issue 309,
      // 64-512 MiB from +14..+22% to +8..+16% (docs/validation-more-curves.md;
      // -4..+7% since its NCCL_MIN_CTAS=24 gives NVLSTree 24 channels).
      {"nvlink4", 0.822, 0.85, 0, 0, 0, 1.0e-6},
      // NVLink5 (B200/GB200/B300): 0.76 of the line rate. FITTED (2026-12-05)
      // to two ring plateaus on 8-GPU boards: B200 ring all-gather 673.6 GB/s
      // busbw at 16 GiB (tests/validation/b200-points.yaml, NCCL 2.29.7) and
      // B300 ring all-reduce 695 GB/s (NVIDIA/nccl issue 2140, NCCL 2.30.4;
      // compared at 8 GiB), which ask for 0.750 and 0.774: +1.4 and -1.9% at
      // 0.76, their middle. NCCL's own model, SM100_NVLINK_BW 40.1 of 50 GB/s
      // per link = 0.802 (NCCL src/graph/topo.h), made them +7.0 and +3.6%.
      // Not fitted to (they pointed the same way): all-to-all inside a
      // GB200 NVL72 rack (64 GPUs, Oracle Cloud,
      // tests/validation/cloud-curves.yaml): +27/+16% at 0.802, +21/+10%
      // at 0.76.
      // NVLS: 0.85 of the link's 0.76, as NCCL's nvlsEfficiency gives Hopper
      // (NCCL tuning.cc; NCCL's model gives Blackwell 0.74 of its own 0.802,
      // which is 0.781 of 0.76). FITTED (2026-12-05) to the one NVLS
      // measurement on Blackwell where the links bind alone: 8 GB200s of an
      // NVL72 rack (2 trays, Oracle Cloud, NCCL 2.27.3, 856 and 892 GB/s
      // busbw at 4 and 8 GiB; tests/validation/cloud-curves.yaml), whose
      // mean |error| is 4.7, 2.4, 1.9, 2.0, 2.0, 2.4, 3.6% at 0.80, 0.82,
      // 0.83, 0.84, 0.85, 0.86, 0.87 (7.0% at 0.781); 0.85 is in the flat
      // optimum and is NCCL's Hopper value. Held out: 8 B300s on one board,
      // 845 GB/s (NVIDIA/nccl issue 2140; -7.7% before, -2.9% now, the
      // engines below binding), and 8 B200s, '830+' (NVIDIA/nccl issue 1807).
      // NVLS reduction throughput (nvls_reduction, docs/validation-nvls.md): the
      // NVSwitch's reduction engines add 0.465 of the GPU-facing line rate in
      // adds per second. FITTED to one measurement: NVLS all-reduce on one
      // GB200 NVL72 rack, 72 GPUs, plateau 837 GB/s busbw at 4-8 GiB
      // (coreweave/nccl-tests pull request 43). On an 8-GPU board they bind
      // too (837 GB/s of busbw against the links' 904): the B300's 845. On
      // 8 GPUs of an NVL72 rack they do not (the rack's 18 switch chips
      // serve them). NVLS chunk cost: none
      // (NOT FOUND: the NVL72 rack's ramp asks for one, its two-rack NVLSTree
      // plateau argues against the engine rate that would then be fitted;
      // docs/validation-nvls.md, "NVLS chunks").
      {"nvlink5", kNvlink5Efficiency, 0.85, 0.465},
      // NVLink3 (A100): NCCL's SM80_NVLINK_BW 20.0 of 25 GB/s per link = 0.80.
      {"nvlink3", 0.80},
      // Scale-out NIC links: NCCL sustains 46-48 of 50 GB/s on a 400G NIC
      // (hardware.yaml nics.nccl_achievable_per_400G_nic): 47/50 = 0.94.
      // Ring step latency (ring_step_latency): a ring step under LL or LL128
      // that crosses the network costs 12 us beyond NCCL's own table (2.7
      // and 4.0 us). FITTED to one curve, the 2-node H100 ring all-reduce
      // of nccl-tests issue 309 at 1-64 MiB (LL128; grid 10-14 us: mean
      // |error| 7.2% at 10, 6.9% at 11, 6.6% at 12, 7.0% at 13, 8.0% at
      // 14; 27.1% without it). Held out: the 2-node B200 RoCE all-gather at
      // 1-8 MiB (Google Cloud A4) and the 2-node DGX A100 ring at 8 bytes
      // (93 us, NVIDIA/nccl issue 812); docs/validation.md, "Ring network
      // steps". NCCL's broadcast and reduce run on the ring but not this:
      // their chains wait for whole steps at the network hops instead
      // (engine/plan.h chain_hop_latency_s, measured on 4 H100 nodes since
      // 2026-12-07). Trees and NVLSTree do not: their measured small-size
      // curves are at or below collsim's already (the same cost there would
      // make the 8-node H100 tree at 1-2 MiB 43-46% slow).
      // On InfiniBand it is 8 us since 2026-12-04, refitted to the same
      // curve with the message cost below, which those LL128 steps pay too
      // (3.5 us a message over its 2 queue pairs): mean |error| over the
      // whole curve 9.5% at 0, 5.1% at 4, 4.1% at 6, 3.8% at 8, 4.7% at 10,
      // 6.2% at 12. RoCE keeps 12 us (below). Not refitted when messages
      // under NCCL_IB_AR_THRESHOLD stopped paying the message cost
      // (2026-12-07, collective/protocol.h): that curve's 1-2 MiB rows are
      // then 15 and 11% fast, its mean |error| 5.4% at 8 us, 5.0% at 10,
      // 5.1% at 12, while all 869 rows go 9.18, 9.35, 9.54%.
      // Proxy operation cost (p2p_op_cost): 2.5 us, as on EFA (below):
      // NCCL's proxy, not the fabric's transport, runs each operation.
      // Queue pair rate (qp_bw) and message cost (qp_msg_cost): one queue
      // pair of an NCCL ring channel's network connection moves at most
      // 23.5 GB/s of wire bytes, and each message larger than
      // NCCL_IB_AR_THRESHOLD (8 KiB) it carries (a 1 MiB
      // Simple slice under NCCL's 4 MiB buffer, one LL128 slot; not LL's,
      // sent from host memory: collective/protocol.h pays_message_cost) costs it
      // 7 us beyond its bytes (collective/protocol.h
      // ring_channel_message_rate_Bps). FITTED together to one cluster, 10
      // nodes of 8 H100s with 8 x 400G InfiniBand under NCCL 2.29.2 and
      // NCCL's defaults (github.com/xxrjun/nccl-tests-cluster,
      // example-cluster01, run 20260129-180219): its all-gather,
      // reduce-scatter and all-reduce curves from 32 MiB to 16 GiB, 16 ring
      // channels of one queue pair (grid of 2026-12-04, mean |error|
      // all-reduce / all-gather / reduce-scatter: 5.3 / 3.3 / 3.6% at 7 us
      // and 23.5; 5.5 / 2.7 / 5.3% at 6.5 us; 5.6 / 5.3 / 4.1% at 7.5 us;
      // 24.2% and 30.1% for the two rings before, with a rate of 20 and no
      // cost; all with the ring step latency at 12 us, and 5.3 / 3.2 / 3.7%
      // after its refit to 8 us, above). The rate alone (23.5 is the NIC's share of two channels)
      // binds nowhere measured; the cost holds those rings near 320 GB/s of
      // busbw at every size from 4 GiB and bends them from 1 GiB down.
      // Held out: the B200 rings run with NCCL's settings (2-32 nodes, 4
      // nodes of another cluster), and where 2 queue pairs take the
      // messages in turn (docs/validation-more-curves.md). Why per queue
      // pair: that second cluster's 4-node rings went from 307 to 384 GB/s
      // when its run added NCCL_IB_QPS_PER_CONNECTION=2 with four other
      // settings (tests/validation/b200-qps.yaml; the reading was chosen
      // after seeing it).
      // RoCE (ethernet) takes InfiniBand's queue-pair rate and message
      // cost since 2026-12-06: the same ConnectX NIC and NCCL's same verbs
      // transport carry both, and with the cost only on InfiniBand RoCE
      // came out up to 1.6x faster on an identical fabric (a new user's
      // 16-node all-gather). Held out on the RoCE curves, all run with the
      // 4 queue pairs of Google's gIB settings: 10 rows moved, mean
      // |error| 11.58% to 11.57% (64 MiB Simple +18.5/+4.0% to +6.8/+0.5%,
      // LL128 at 1-8 MiB 1-4 points either way); the earlier 20 GB/s and
      // no cost had been kept when one queue pair made them 12.7% to 21.7%.
      {"infiniband", 0.94, 0, 0, 0, 0, 0, 2.5e-6, 8e-6, 23.5, 7e-6},
      {"ethernet", 0.94, 0, 0, 0, 0, 0, 2.5e-6, 12e-6, 23.5, 7e-6},
      // AWS EFA: one EFA NIC carries about 0.89 of its line rate in NCCL.
      // FITTED to two plateaus: ring all-reduce at 8 GiB on 4 and 8 AWS
      // p5.48xlarge nodes (8 H100, 32 x 100G EFA each), 356.99 and 355.36
      // GB/s busbw (crazyguitar/aws-gpu-communication-benchmark
      // data/nccl_all_reduce.csv, NCCL 2.27.7, 2025-10-14): 355.40 and
      // 355.41 at 0.89. Refitted on 2026-12-03 when SimGrid's ring
      // connections became FIFOs (docs/architecture.md), which brought
      // the rings to their link bound: 0.90 then gave 359.4 on both.
      // Step latency: each step of an NCCL connection over EFA costs 55 us
      // beyond NCCL's own network step latency. FITTED to the all-gather
      // curves of the same source (2-32 nodes, 32 MiB-2 GiB), whose time
      // exceeds the bandwidth line by about 10 us per ring step at every
      // node count; with 8 GPUs per node one step in eight crosses EFA
      // (docs/validation-efa.md). Grid of 2026-12-03, at 0.89 and with FIFO
      // connections, mean |error| over those curves: 12.4% at 45 us, 10.1%
      // at 50 and 55, 11.9% at 60, 14.0% at 65 (first fit: 7.8% at 55).
      // Held out: the all-reduce curves of the same source.
      // Proxy operation cost (p2p_op_cost): each network operation of
      // NCCL's proxy for a point-to-point part costs the rank 2.5 us.
      // FITTED to the all-to-all curves of the same source on 2, 4 and 8
      // nodes (32 MiB-2 GiB); held out: its 16- and 32-node all-to-all
      // curves (docs/validation-efa.md, "All-to-all and NCCL's proxy").
      // InfiniBand and RoCE take the same value (above): held out on a
      // 10-node H100 InfiniBand all-to-all, 10.5% to 1.9% mean |error|
      // (tests/validation/h100-10node-curves.yaml).
      // Plugin latency (plugin_latency): AWS's network plugin reports 75 us
      // to NCCL on p5 and p5e (aws-ofi-nccl 1.16.3 src/platform-aws.cpp,
      // the p5/p5e platform entry, and its default for platforms it does
      // not list; 35 us on p5en and p6), where NCCL's InfiniBand transport
      // reports 0 (src/transport/net_ib.cc). NCCL's model adds it to each
      // network step, twice under Simple, so NCCL keeps LL128 to larger
      // sizes over EFA. A sourced value, not fitted.
      {"efa", 0.89, 0, 0, 55e-6, 0, 0, 2.5e-6, 0, 0, 0, 75e-6},
      // PCIe Gen5 x16: NCCL models 48 of 63 GB/s (hardware.yaml pcie_x16_per_direction).
      {"pcie", 48.0 / 63.0},
      // NVLink-C2C (Grace<->GPU): measured 201 GB/s H2D of 450 GB/s
      // (hardware.yaml nvlink_c2c.measured_h2d_gb200) = 0.447.
      {"c2c", 201.0 / 450.0},
      // A class with no derating, for synthetic and test topologies.
      {"ideal", 1.0, 1.0},
  };
  return classes;
}

bool is_scale_out_class(std::string_view name) { return name == "infiniband" || name == "ethernet" || name == "efa"; }

const std::vector<MediumSpec>& builtin_media() {
  // Fibre: SMF-28 group index 1.4682 / c = 4.9 ns/m (hardware.yaml
  // propagation.fibre_ns_per_m); AOCs are fibre too.
  // ASSUMPTION (hardware.yaml: copper_dac_ns_per_m NOT FOUND): copper at
  // 4.4 ns/m, the mid-point of the 3.9-4.9 ns/m that velocity factors
  // 0.68-0.85 c give.
  // Reach: the longest cable of the medium at any rate; a cable's own reach
  // at its rate is its catalog part's (catalog/parts.yaml, cabling.h
  // CableChooser). Passive copper 3 m (NVIDIA LinkX 400G DAC, 1-3 m); active
  // copper 7 m (Credo AEC up to 7 m; NVIDIA's ACC 5 m); fibre with
  // transceivers 2 km (NVIDIA MMS4X50-NM 2xFR4, 2023-11); AOC 100 m
  // (ASSUMPTION: NOT FOUND). Override under media:.
  static const std::vector<MediumSpec> media{
      {"fibre", 4.9e-9, 2000.0}, {"aoc", 4.9e-9, 100.0},  {"aec", 4.4e-9, 7.0},
      {"dac", 4.4e-9, 3.0},      {"copper", 4.4e-9, 3.0},
  };
  return media;
}

Status read_link_classes(const MapReader& top, TopologySpec& spec) {
  if (!top.has("link_classes")) return Ok{};
  const YAML::Node classes = top.child("link_classes");
  if (!classes.IsMap()) return top.error_at("link_classes", "expected a map of class name: {efficiency: x}");
  for (const auto& kv : classes) {
    const std::string cls = kv.first.Scalar();
    MapReader entry(kv.second, top.file(), "link_classes." + cls);
    if (auto s = entry.check({"efficiency", "nvls_efficiency", "nvls_reduction", "nvls_chunk_cost", "step_latency",
                              "sharp_efficiency", "p2p_op_cost", "ring_step_latency", "qp_bw", "qp_msg_cost",
                              "plugin_latency"});
        !s)
      return s;
    // Start from the built-in class of that name, if any, so one field can be overridden alone.
    LinkClassSpec c = spec.link_classes.count(cls) ? spec.link_classes[cls] : LinkClassSpec{cls, 1.0, 0};
    if (entry.has("efficiency")) {
      auto eff = entry.number("efficiency");
      if (!eff) return eff.error();
      if (!(*eff > 0 && *eff <= 1)) {
        return entry.error_at("efficiency", fmt::format("expected a fraction in (0, 1], found {}", *eff));
      }
      c.efficiency = *eff;
    }
    if (entry.has("nvls_efficiency")) {
      auto eff = entry.number("nvls_efficiency");
      if (!eff) return eff.error();
      if (!(*eff >= 0 && *eff <= 1)) {
        return entry.error_at("nvls_efficiency", fmt::format("expected a fraction in [0, 1], found {}", *eff));
      }
      c.nvls_efficiency = *eff;
    }
    if (entry.has("sharp_efficiency")) {
      auto eff = entry.number("sharp_efficiency");
      if (!eff) return eff.error();
      if (!(*eff >= 0 && *eff <= 1)) {
        return entry.error_at("sharp_efficiency", fmt::format("expected a fraction in [0, 1], found {}", *eff));
      }
      c.sharp_efficiency = *eff;
    }
    if (entry.has("nvls_reduction")) {
      auto f = entry.number("nvls_reduction");
      if (!f) return f.error();
      if (!(*f >= 0 && *f <= 100)) {
        return entry.error_at(
            "nvls_reduction",
            fmt::format("expected a fraction of the line rate from 0 (not limited) to 100, found {}", *f));
      }
      c.nvls_reduction = *f;
    }
    // A duration field from 0 to `max_s` (`expected` names the range), into `out`.
    auto read_duration = [&entry](const char* key, double max_s, const char* expected, double& out) -> Status {
      if (!entry.has(key)) return Ok{};
      auto text = entry.scalar(key);
      if (!text) return text.error();
      auto d = units::parse_duration(*text);
      if (!d) return entry.error_at(key, d.error().message);
      if (!(d->seconds >= 0 && d->seconds <= max_s)) {
        return entry.error_at(key, fmt::format("expected {}, found {}", expected, units::format(*d)));
      }
      out = d->seconds;
      return Ok{};
    };
    if (auto st = read_duration("step_latency", 0.01, "a latency from 0 to 10 ms", c.step_latency_s); !st) return st;
    if (auto st = read_duration("ring_step_latency", 0.01, "a latency from 0 to 10 ms", c.ring_step_latency_s); !st)
      return st;
    if (auto st = read_duration("nvls_chunk_cost", 1e-4, "a time per chunk from 0 to 100 us", c.nvls_chunk_cost_s); !st)
      return st;
    if (auto st = read_duration("p2p_op_cost", 1e-4, "a time per operation from 0 to 100 us", c.p2p_op_cost_s); !st)
      return st;
    if (auto st = read_GBps(entry, "qp_bw", "queue pair", c.qp_rate_GBps); !st) return st;
    if (auto st = read_duration("qp_msg_cost", 1e-3, "a time per message from 0 to 1 ms", c.qp_msg_cost_s); !st)
      return st;
    if (auto st = read_duration("plugin_latency", 0.01, "a latency from 0 to 10 ms", c.plugin_latency_s); !st)
      return st;
    spec.link_classes[cls] = c;
  }
  return Ok{};
}

Status read_nccl_settings(const MapReader& top, TopologySpec& spec) {
  if (!top.has("nccl")) return Ok{};
  MapReader nccl(top.child("nccl"), top.file(), "nccl");
  if (!top.child("nccl").IsMap()) return top.error_at("nccl", "expected a map such as {pxn: false}");
  if (auto s = nccl.check({"pxn",
                           "collnet",
                           "nvls",
                           "p2p_channels",
                           "nchannels_per_net_peer",
                           "p2p_net_chunksize",
                           "p2p_per_channel_net_bw",
                           "nics_per_gpu",
                           "cross_nic",
                           "nvls_chunksize",
                           "nvlstree_max_chunksize",
                           "min_channels",
                           "min_ctas",
                           "max_channels",
                           "max_ctas",
                           "ring_channel_net_bw",
                           "tree_chain_channel_bw",
                           "ib_qps_per_connection",
                           "ib_ar_threshold",
                           "buffsize",
                           "host_cpu"});
      !s)
    return s;
  // Each setting, when given, into its field of spec.nccl.
  auto flag = [&nccl](const char* key, bool& out) -> Status {
    auto v = nccl.boolean(key, out);
    if (!v) return v.error();
    out = *v;
    return Ok{};
  };
  auto whole = [&nccl](const char* key, long long lo, long long hi, const char* what, int& out) -> Status {
    if (!nccl.has(key)) return Ok{};
    auto v = nccl.integer_in(key, lo, hi, what);
    if (!v) return v.error();
    out = *v;
    return Ok{};
  };
  for (auto st :
       {flag("pxn", spec.nccl.pxn), flag("collnet", spec.nccl.collnet), flag("nvls", spec.nccl.nvls),
        whole("p2p_channels", 0, 64, "NCCL's point-to-point channels (0: NCCL's own)", spec.nccl.p2p_channels),
        whole("nchannels_per_net_peer", 0, 64, "channels per network peer (0: NCCL's rule)",
              spec.nccl.nchannels_per_net_peer),
        whole("nics_per_gpu", 1, 64, "the NICs NCCL counts per GPU", spec.nccl.nics_per_gpu),
        whole("cross_nic", 0, 2, "NCCL_CROSS_NIC (2: NCCL's default)", spec.nccl.cross_nic),
        whole("min_channels", 0, 64, "NCCL_MIN_NCHANNELS (0: NCCL's count)", spec.nccl.min_channels),
        whole("min_ctas", 0, 64, "NCCL_MIN_CTAS (0: NCCL's count)", spec.nccl.min_ctas),
        whole("max_channels", 0, 64, "NCCL_MAX_NCHANNELS (0: NCCL's count)", spec.nccl.max_channels),
        whole("max_ctas", 0, 64, "NCCL_MAX_CTAS (0: NCCL's count)", spec.nccl.max_ctas),
        whole("ib_qps_per_connection", 1, 128, "NCCL_IB_QPS_PER_CONNECTION (NCCL's default 1)",
              spec.nccl.ib_qps_per_connection)})
    if (!st) return st;
  // NCCL_P2P_PER_CHANNEL_NET_BW: whole GB/s, as NCCL reads it.
  int per_channel = static_cast<int>(spec.nccl.p2p_per_channel_net_GBps);
  if (auto st = whole("p2p_per_channel_net_bw", 0, 10000, "whole GB/s per channel (0: no limit)", per_channel); !st)
    return st;
  spec.nccl.p2p_per_channel_net_GBps = per_channel;
  if (nccl.has("host_cpu")) {
    auto text = nccl.scalar("host_cpu");
    if (!text) return text.error();
    const std::string cpus[] = {"intel", "amd", "arm"};
    const auto it = std::find(std::begin(cpus), std::end(cpus), *text);
    if (it == std::end(cpus))
      return nccl.error_at("host_cpu", fmt::format("expected intel, amd or arm, found '{}'", *text));
    spec.nccl.host_cpu = static_cast<int>(it - std::begin(cpus));
  }
  if (auto st = read_GBps(nccl, "ring_channel_net_bw", "ring channel", spec.nccl.ring_channel_net_GBps); !st) return st;
  if (auto st = read_GBps(nccl, "tree_chain_channel_bw", "tree channel", spec.nccl.tree_chain_channel_GBps); !st)
    return st;
  // A size in bytes (or nccl-tests' 512K) from `lo` (0 or more) to 64 MiB.
  auto size = [&nccl](const char* key, double lo, const char* lo_text, double& out) -> Status {
    if (!nccl.has(key)) return Ok{};
    auto text = nccl.scalar(key);
    if (!text) return text.error();
    auto b = units::parse_size_arg(*text);
    if (!b) return nccl.error_at(key, b.error().message);
    if (!(b->count >= lo && b->count <= 64.0 * 1024 * 1024))
      return nccl.error_at(key, fmt::format("expected a size from {} to 64 MiB, found {}", lo_text, *text));
    out = b->count;
    return Ok{};
  };
  for (auto st : {size("p2p_net_chunksize", 2, "2 B", spec.nccl.p2p_net_chunksize),
                  size("nvls_chunksize", 4096, "4 KiB", spec.nccl.nvls_chunksize),
                  size("nvlstree_max_chunksize", 4096, "4 KiB", spec.nccl.nvlstree_max_chunksize),
                  size("buffsize", 65536, "64 KiB", spec.nccl.buffsize),
                  size("ib_ar_threshold", 0, "0 B", spec.nccl.ib_ar_threshold)})
    if (!st) return st;
  return Ok{};
}

}  // namespace collsim::config
