#include "sim/collective/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>

#include "sim/collective/nccl_tables.h"

namespace collsim::collective {

namespace {

constexpr double kUs = 1e-6;

// Indexed [protocol - 1] = LL, LL128, Simple (NCCL tuning.cc baseLat).
constexpr std::array<double, 3> kBaseRing{6.6, 14.0, 8.4};
constexpr std::array<double, 3> kBaseTree{6.8, 14.0, 8.4};
// NCCL tuning.cc hwLat, [hop kind][protocol].
constexpr std::array<std::array<double, 3>, 3> kHwRing{{{0.6, 1.9, 3.4}, {1.0, 2.5, 5.7}, {2.7, 4.0, 14.0}}};
constexpr std::array<std::array<double, 3>, 3> kHwTree{{{0.6, 1.25, 4.0}, {1.0, 1.9, 4.0}, {5.0, 8.5, 14.0}}};
constexpr std::array<std::array<double, 3>, 3> kHwNvls{{{0, 0, 25.0}, {0, 0, 0}, {0, 0, 18.0}}};
// NCCL 2.30.7 src/graph/tuning.cc hwLatencies, NVLSTree column: NVLink 25,
// network 20.9 us (Simple only).
constexpr std::array<std::array<double, 3>, 3> kHwNvlsTree{{{0, 0, 25.0}, {0, 0, 0}, {0, 0, 20.9}}};
// NCCL 2.30.7 src/graph/tuning.cc, PAT (Simple only; protocol.h): base
// latency, hwLatencies by hop kind (divided by 3.5 in its latency formula),
// the per-rank linear term and the bandwidth factor.
constexpr double kBasePat = 8.0;
constexpr std::array<double, 3> kHwPat{4.0, 4.0, 14.0};
constexpr double kPatLogDivisor = 3.5;
constexpr double kPatPerRank = 2.8;
constexpr double kPatBandwidthFactor = 0.75;
// NCCL 2.30.7 src/graph/tuning.cc, CollNetDirect Simple (protocol.h).
constexpr double kCollNetNet = 31.0;
constexpr double kCollNetNvlink = 3.7;
// NCCL src/include/device.h: LL lines are 16 B with 8 B of data;
// LL128 lines are 128 B with 120 B of data.
constexpr std::array<double, 3> kPayload{0.5, 120.0 / 128.0, 1.0};
// NCCL's default buffer per channel connection, in wire bytes (protocol.h).
constexpr std::array<double, 3> kWindow{8.0 * 512 * 8 * 16, 120.0 * 640 * 8 * 8, 4194304.0};

// protocol.h's ASSUMPTION for the tree's and NVLSTree's caps: NCCL runs
// min(GPUs per NVLink domain, 32) channels of them.
double nccl_tree_channels(int gpus_per_domain) { return std::min(gpus_per_domain, 32); }

}  // namespace

double ring_protocol_cap_Bps(Protocol protocol, std::string_view gpu_model, int nodes, int channels,
                             NcclRelease release, std::optional<NcclHost> host) {
  if (protocol != Protocol::kLL || channels < 1) return 0;
  return ll_max_GBps(gpu_model, nodes, release, host) * 1e9 / channels;
}

double ring_channel_net_GBps(double setting, double qp_rate_GBps, int qps) {
  return setting >= 0 ? setting : qp_rate_GBps * std::max(1, qps);
}

double ring_step_messages(Protocol protocol, double wire_bytes, double window_bytes, int slots_per_message) {
  const double slot = window_bytes / 8;  // NCCL_STEPS
  if (!(wire_bytes > 0) || !(slot > 0)) return 1;
  if (protocol != Protocol::kSimple || slots_per_message == 1) return std::max(1.0, std::ceil(wire_bytes / slot));
  const double chunk = 4 * slot;  // 2 slices of 2 slots
  const double full = std::floor(wire_bytes / chunk);
  const double rest = wire_bytes - full * chunk;
  // A chunk's slices are half of it each, at least slot / 16: a rest up to
  // that is one slice.
  const double last = rest > 0 ? (rest <= slot / 16 ? 1 : 2) : 0;
  return std::max(1.0, 2 * full + last);
}

double ring_step_costly_messages(Protocol protocol, double wire_bytes, double window_bytes, int slots_per_message,
                                 double threshold_bytes) {
  const double slot = window_bytes / 8;  // NCCL_STEPS
  auto costly = [threshold_bytes](double message) { return message > threshold_bytes ? 1.0 : 0.0; };
  if (!(wire_bytes > 0) || !(slot > 0)) return 0;
  if (protocol != Protocol::kSimple || slots_per_message == 1) {
    const double full = std::floor(wire_bytes / slot);
    return full * costly(slot) + costly(wire_bytes - full * slot);
  }
  const double chunk = 4 * slot;  // 2 slices of 2 slots (ring_step_messages)
  const double full = std::floor(wire_bytes / chunk);
  const double rest = wire_bytes - full * chunk;
  // The last chunk's first slice is half of it, at least a sixteenth of a
  // slot (prims_simple.h), its second slice the rest (maybe none).
  const double first = std::min(rest, std::max(rest / 2, slot / 16));
  return 2 * full * costly(2 * slot) + costly(first) + costly(rest - first);
}

double ring_channel_message_rate_Bps(Protocol protocol, double wire_bytes, double window_bytes, double channel_Bps,
                                     double msg_cost_s, int slots_per_message, double ar_threshold_bytes) {
  if (!(msg_cost_s > 0) || !(channel_Bps > 0) || !(wire_bytes > 0) || !(window_bytes > 0)) return channel_Bps;
  const double messages =
      ring_step_costly_messages(protocol, wire_bytes, window_bytes, slots_per_message, ar_threshold_bytes);
  return channel_Bps * wire_bytes / (wire_bytes + messages * msg_cost_s * channel_Bps);
}

std::vector<int> nccl_published_patches(int minor) {
  // NVIDIA/nccl's release tags v2.18.1-1 to v2.30.7-1.
  static const std::vector<std::vector<int>> kPatches{{1, 3, 5, 6}, {1, 3, 4}, {3, 5},   {5},          {3},
                                                      {4},          {3},       {1},      {2, 3, 5, 6}, {3, 5, 6, 7},
                                                      {3, 7, 9},    {2, 3, 7}, {3, 4, 7}};
  if (minor < 18 || minor > 30) return {};
  return kPatches[static_cast<std::size_t>(minor - 18)];
}

Expected<NcclRelease> parse_nccl_release(std::string_view text) {
  // MAJOR.MINOR, then optionally .PATCH and -PACKAGE (NCCL's tags: 2.27.3-1).
  NcclRelease r{-1, -1};
  std::size_t i = 0;
  auto number = [&](int& out) {
    const std::size_t start = i;
    long v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 4) v = v * 10 + (text[i++] - '0');
    if (i == start) return false;
    out = static_cast<int>(v);
    return true;
  };
  int package = 0;
  r.patch = -1;
  bool ok = number(r.major) && i < text.size() && text[i++] == '.' && number(r.minor);
  if (ok && i < text.size() && text[i] == '.') ok = (++i, number(r.patch));
  if (r.patch < 0) {
    // The series' first published release (NVIDIA/nccl's tags).
    const auto published = nccl_published_patches(r.major == 2 ? r.minor : -1);
    r.patch = published.empty() ? 0 : published.front();
  }
  if (ok && i < text.size() && text[i] == '-') ok = (++i, number(package));
  ok = ok && i == text.size();
  if (!ok) return make_error(fmt::format("expected an NCCL release such as 2.27 or 2.27.3-1, found '{}'", text));
  // Outside the releases read, an answer would be another release's tables
  // under this one's name: refused, naming the range.
  if (r.major != 2 || r.minor < 18 || kDefaultNcclRelease < r)
    return make_error(fmt::format("NCCL {}: collsim has NCCL's tuning tables from 2.18 to {} (the newest read)", text,
                                  to_string(kDefaultNcclRelease)));
  return r;
}

std::string to_string(NcclRelease release) {
  return fmt::format("{}.{}.{}", release.major, release.minor, release.patch);
}

NcclTreeChannelCaps nccl_tree_channel_caps(std::string_view gpu_model, int nodes, NcclRelease release) {
  const NcclArch arch = nccl_arch(gpu_model);
  if (arch == NcclArch::kUnknown || nodes < 1) return {};
  const NcclTables t = nccl_tables(arch, release);
  const std::size_t column = nccl_node_column(nodes);
  return {t.tree[column], t.tree_ll128[column]};
}

double tree_protocol_cap_Bps(Protocol protocol, std::string_view gpu_model, int nodes, int gpus_per_domain,
                             NcclRelease release, std::optional<NcclHost> host, int graph_channels) {
  if (protocol == Protocol::kNone || gpus_per_domain < 1 || nodes < 1) return 0;
  const NcclTreeChannelCaps caps = nccl_tree_channel_caps(gpu_model, nodes, release);
  if (caps.simple == 0) return 0;
  const double channels = std::max<double>(graph_channels, nccl_tree_channels(gpus_per_domain));
  double bus = channels * caps.simple;
  if (protocol == Protocol::kLL128) bus = std::min(bus, channels * caps.ll128);
  if (protocol == Protocol::kLL) {
    const double ll = ll_max_GBps(gpu_model, nodes, release, host);
    if (ll > 0) bus = std::min(bus, ll);
  }
  return 0.5 * bus * 1e9;
}

std::optional<double> cta_chain_GBps(Protocol protocol, std::string_view gpu_model, NcclRelease release,
                                     double setting_GBps) {
  if (protocol == Protocol::kNone || protocol == Protocol::kLL) return std::nullopt;
  if (setting_GBps >= 0) return setting_GBps;
  const NcclTreeChannelCaps caps = nccl_tree_channel_caps(gpu_model, 1, release);
  if (caps.simple == 0) return std::nullopt;
  return 0.5 * (protocol == Protocol::kLL128 ? std::min(caps.simple, caps.ll128) : caps.simple);
}

std::optional<double> ring_chain_channel_Bps(Protocol protocol, std::string_view gpu_model, double ctas,
                                             NcclRelease release, double setting_GBps) {
  if (!(ctas > 0)) return std::nullopt;
  const auto per_cta = cta_chain_GBps(protocol, gpu_model, release, setting_GBps);
  if (!per_cta) return std::nullopt;
  return *per_cta * 1e9 * ctas;
}

std::optional<double> tree_chain_channel_Bps(Protocol protocol, std::string_view gpu_model, int gpus_per_domain,
                                             double busy, NcclRelease release, double setting_GBps,
                                             int graph_channels) {
  if (gpus_per_domain < 1 || !(busy > 0)) return std::nullopt;
  const auto found = cta_chain_GBps(protocol, gpu_model, release, setting_GBps);
  if (!found) return std::nullopt;
  const double per_cta = *found;
  // The busy CTAs of a graph channel share its perCh / 2: all of them run
  // at perCh / 4, at most half of them at perCh / 2 (per_cta) each.
  const double shared = std::min(1.0, 0.5 / std::min(busy, 1.0));
  const double channels = std::max<double>(graph_channels, nccl_tree_channels(gpus_per_domain));
  return per_cta * shared * 1e9 * channels / gpus_per_domain;
}

double nvls_tree_protocol_cap_Bps(std::string_view gpu_model, int nodes, int gpus_per_domain, int ranks,
                                  NcclRelease release) {
  const NcclArch arch = nccl_arch(gpu_model);
  if (arch == NcclArch::kUnknown || nodes < 2 || gpus_per_domain < 1 || ranks < 2) return 0;
  // Before 2.28.3 NCCL's model had no NVLSTree cap, but its kernel had the
  // limit: the first release's table stands for it (protocol.h).
  const NcclRelease first_table{2, 28, 3};
  const NcclTables t = nccl_tables(arch, release < first_table ? first_table : release);
  const double per_channel = t.nvls_tree[nccl_node_column(nodes)];
  if (per_channel <= 0) return 0;
  const double bus = nccl_tree_channels(gpus_per_domain) * per_channel;
  return bus * ranks / (2.0 * (ranks - 1)) * 1e9;
}

bool protocol_supported(LatencyFamily family, Protocol protocol) {
  const bool simple_only = family == LatencyFamily::kNvls || family == LatencyFamily::kNvlsTree ||
                           family == LatencyFamily::kPat || family == LatencyFamily::kCollNet;
  return !simple_only || protocol == Protocol::kSimple || protocol == Protocol::kNone;
}

ProtocolCosts protocol_costs(LatencyFamily family, Protocol protocol, HopKind hop) {
  if (protocol == Protocol::kNone) return {};
  const int p = static_cast<int>(protocol) - 1;
  const int h = static_cast<int>(hop);
  switch (family) {
    case LatencyFamily::kRing:
      return {kBaseRing[p] * kUs, kHwRing[h][p] * kUs, kPayload[p], kWindow[p]};
    case LatencyFamily::kTree:
      return {kBaseTree[p] * kUs, kHwTree[h][p] * kUs, kPayload[p], kWindow[p]};
    // NCCL models NVLS latency as one intra-node latency for the whole
    // collective, replacing the base: charge it once, at launch; across
    // nodes (NVLS with CollNet, collnet.h) plus one network latency (NCCL:
    // intraLat + interLat when nNodes > 1). NVLS moves data through
    // multicast memory, not buffered connections: no window.
    case LatencyFamily::kNvls:
      return {(hop == HopKind::kNet ? kHwNvls[0][p] + kHwNvls[2][p] : kHwNvls[h][p]) * kUs, 0, kPayload[p], 0};
    // NVLSTree: the in-node NVLS latency once (at launch) and the network
    // latency per tree level, up and down (NCCL: intraLat + 2 log2(nNodes)
    // interLat). Its network hops use buffered connections.
    case LatencyFamily::kNvlsTree:
      return {kHwNvlsTree[0][p] * kUs, hop == HopKind::kNet ? kHwNvlsTree[2][p] * kUs : 0, kPayload[p],
              hop == HopKind::kNet ? kWindow[p] : 0};
    case LatencyFamily::kCollNet:
      return {kCollNetNet * kUs, hop == HopKind::kNet ? 0 : kCollNetNvlink * kUs, kPayload[p],
              hop == HopKind::kNet ? kWindow[p] : 0};
    case LatencyFamily::kPat:
      return {kBasePat * kUs, kHwPat[static_cast<std::size_t>(h)] / kPatLogDivisor * kUs,
              kPayload[p] * kPatBandwidthFactor, kWindow[p], kPatPerRank * kUs};
  }
  return {};
}

std::optional<Protocol> parse_protocol(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "ll") return Protocol::kLL;
  if (lower == "ll128") return Protocol::kLL128;
  if (lower == "simple") return Protocol::kSimple;
  if (lower == "none") return Protocol::kNone;
  return std::nullopt;
}

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kNone:
      return "none";
    case Protocol::kLL:
      return "LL";
    case Protocol::kLL128:
      return "LL128";
    case Protocol::kSimple:
      return "Simple";
  }
  return "?";
}

bool is_nccl_list(std::string_view list) {
  return list.find(',') != std::string_view::npos || (!list.empty() && list.front() == '^');
}

std::vector<std::string> nccl_list_names(std::string_view list) {
  std::vector<std::string> names;
  std::size_t from = !list.empty() && list.front() == '^' ? 1 : 0;
  while (from <= list.size()) {
    const std::size_t comma = std::min(list.find(',', from), list.size());
    names.emplace_back(list.substr(from, comma - from));
    from = comma + 1;
  }
  return names;
}

Expected<std::vector<Protocol>> protocol_candidates(const std::string& name) {
  if (name == "auto") return std::vector{Protocol::kLL, Protocol::kLL128, Protocol::kSimple};
  if (is_nccl_list(name)) {
    // NCCL_PROTO's lists: "LL,LL128", or "^LL128" for all but those.
    const bool except = name.front() == '^';
    std::vector<Protocol> named;
    for (const auto& one : nccl_list_names(name)) {
      const auto p = parse_protocol(one);
      if (!p || *p == Protocol::kNone)
        return make_error(
            fmt::format("unknown protocol '{}' in '{}': expected a list of LL, LL128, Simple (as "
                        "NCCL_PROTO: 'LL,LL128', or '^LL128' for all but those)",
                        one, name));
      named.push_back(*p);
    }
    std::vector<Protocol> out;
    for (auto p : {Protocol::kLL, Protocol::kLL128, Protocol::kSimple})
      if ((std::find(named.begin(), named.end(), p) != named.end()) != except) out.push_back(p);
    if (out.empty()) return make_error(fmt::format("'{}' leaves no protocol: expected LL, LL128 or Simple", name));
    return out;
  }
  auto p = parse_protocol(name);
  if (!p) return make_error(fmt::format("unknown protocol '{}': expected auto, LL, LL128, Simple or none", name));
  return std::vector{*p};
}

}  // namespace collsim::collective
