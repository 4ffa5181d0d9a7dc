#include "sim/topology/twins.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/topology/planes.h"

namespace collsim::topology {

namespace {

// What a switch looks like from its neighbours; twins have equal signatures.
struct Signature {
  config::DeviceKind kind;
  // (neighbour, efficiency, class) of every incident edge, sorted. Latency is
  // not part of it: cables to twin switches may differ in length.
  std::vector<std::tuple<Vertex, double, std::string>> ports;
  bool operator<(const Signature& o) const { return std::tie(kind, ports) < std::tie(o.kind, o.ports); }
};

// Ports of a vertex whose links failed: (neighbour, efficiency, class).
using LeftOut = std::vector<std::vector<std::tuple<Vertex, double, std::string>>>;

// Neighbours are named by their plane representative (planes.h), so a
// switch and its counterparts in the other planes have one signature. An
// NVSwitch's failed links count too: a GPU stripes over every NVSwitch chip
// it still reaches, so chips stay twins when one loses a GPU.
Signature signature_of(const Graph& g, Vertex v, const std::vector<Vertex>& rep, const LeftOut& left_out = {}) {
  Signature s{g[v].kind, {}};
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Link& l = g[*e];
    s.ports.emplace_back(rep[boost::target(*e, g)], l.efficiency, l.link_class);
  }
  if (g[v].kind == config::DeviceKind::kNvSwitch && v < left_out.size())
    for (const auto& [nb, eff, cls] : left_out[v]) s.ports.emplace_back(rep[nb], eff, cls);
  std::sort(s.ports.begin(), s.ports.end());
  s.ports.erase(std::unique(s.ports.begin(), s.ports.end()), s.ports.end());
  return s;
}

// Total rate from `v` to `neighbour` and its plane counterparts (parallel
// edges add up) and back.
std::pair<double, double> rates_between(const Graph& g, Vertex v, Vertex neighbour, const std::vector<Vertex>& rep) {
  double out = 0, in = 0;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
    if (rep[boost::target(*e, g)] == neighbour) out += g[*e].rate_Bps;
  for (auto [e, end] = boost::in_edges(v, g); e != end; ++e)
    if (rep[boost::source(*e, g)] == neighbour) in += g[*e].rate_Bps;
  return {out, in};
}

// Twins may merge only if each takes the same share of every neighbour's bandwidth.
bool shares_are_proportional(const Graph& g, const std::vector<Vertex>& twins, const std::vector<Vertex>& rep) {
  const Signature s = signature_of(g, twins.front(), rep);
  std::vector<double> first_share;
  for (std::size_t p = 0; p < s.ports.size(); ++p) {
    const Vertex nb = std::get<0>(s.ports[p]);
    double total = 0;
    std::vector<double> each;
    for (Vertex t : twins) {
      auto [out, in] = rates_between(g, t, nb, rep);
      if (std::fabs(out - in) > 1e-9 * std::max(out, in)) return false;  // asymmetric bundle
      each.push_back(out);
      total += out;
    }
    for (double& x : each) x /= total;
    if (p == 0) {
      first_share = each;
    } else {
      for (std::size_t i = 0; i < each.size(); ++i)
        if (std::fabs(each[i] - first_share[i]) > 1e-9) return false;
    }
  }
  return true;
}

// A NIC on a PCIe switch that joins several GPUs and NICs belongs to one
// GPU (NIC affinity): merging it with its twin would let one GPU use both.
bool has_nic_affinity(const Graph& g, Vertex v) {
  if (g[v].kind != config::DeviceKind::kNic) return false;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Vertex sw = boost::target(*e, g);
    if (g[sw].kind != config::DeviceKind::kPcieSwitch) continue;
    int gpus = 0, nics = 0;
    for (auto [f, fend] = boost::out_edges(sw, g); f != fend; ++f) {
      gpus += g[boost::target(*f, g)].kind == config::DeviceKind::kGpu;
      nics += g[boost::target(*f, g)].kind == config::DeviceKind::kNic;
    }
    if (gpus > 0 && nics > 0 && gpus + nics > 2) return true;
  }
  return false;
}

}  // namespace

std::string merged_name(const Graph& g, const std::vector<Vertex>& twins) {
  if (twins.size() == 1) return g[twins.front()].name;
  // A failed chip (every link down, so none in the graph) stays a member
  // (merge_twins) but carries nothing: counted apart.
  const auto up = std::count_if(twins.begin(), twins.end(), [&](Vertex v) { return boost::out_degree(v, g) > 0; });
  const std::string planes = static_cast<std::size_t>(up) == twins.size()
                                 ? fmt::format("{} planes", twins.size())
                                 : fmt::format("{} of {} planes up", up, twins.size());
  return fmt::format("{}..{} ({})", g[twins.front()].name, g[twins.back()].name, planes);
}

// Groups forwarding devices into twin sets (each signature computed once,
// neighbours named across fabric planes) and merges the twins that may be
// merged: the merged graph's nodes as lists of original vertices, and each
// vertex's node in `node_of`. NVSwitch twins always merge: a GPU stripes
// its NVLink traffic over every chip in proportion to its links' rates, so
// a degraded or failed link lowers the merged link's summed rate instead of
// leaving each GPU pair one chip (which cut an 8-H100 ring from 352 to 101
// GB/s for one link at 99%).
std::vector<std::vector<Vertex>> merge_twins(const Graph& g, const FailureSummary& failed, std::vector<int>& node_of) {
  const std::size_t n = boost::num_vertices(g);
  node_of.assign(n, -1);
  std::vector<std::vector<Vertex>> members;  // merged node -> original vertices
  const std::vector<Vertex> rep = plane_representatives(g);
  LeftOut left_out(failed.links_left_out.empty() ? 0 : n);
  for (const auto& [a, b, eff, cls] : failed.links_left_out) {
    const auto va = static_cast<Vertex>(a), vb = static_cast<Vertex>(b);
    if (va >= n || vb >= n) continue;
    left_out[va].emplace_back(vb, eff, cls);
    left_out[vb].emplace_back(va, eff, cls);
  }
  std::map<Signature, int> set_of_signature;
  std::vector<std::vector<Vertex>> twin_list;
  std::vector<int> twin_set(n, -1);
  for (Vertex v = 0; v < n; ++v) {
    if (!config::forwards_traffic(g[v].kind)) continue;
    auto [it, fresh] =
        set_of_signature.try_emplace(signature_of(g, v, rep, left_out), static_cast<int>(twin_list.size()));
    if (fresh) twin_list.emplace_back();
    twin_list[static_cast<std::size_t>(it->second)].push_back(v);
    twin_set[v] = it->second;
  }
  set_of_signature.clear();
  auto new_node = [&](std::vector<Vertex> vs) {
    for (Vertex v : vs) node_of[v] = static_cast<int>(members.size());
    members.push_back(std::move(vs));
  };
  for (Vertex v = 0; v < n; ++v) {
    if (node_of[v] >= 0) continue;
    if (!config::forwards_traffic(g[v].kind)) {
      new_node({v});
      continue;
    }
    const auto& twins = twin_list[static_cast<std::size_t>(twin_set[v])];
    const bool striped = g[v].kind == config::DeviceKind::kNvSwitch;
    if (twins.size() > 1 && (striped || shares_are_proportional(g, twins, rep)) && !has_nic_affinity(g, v)) {
      new_node(twins);
    } else {
      new_node({v});
    }
  }
  return members;
}

}  // namespace collsim::topology
