#include "sim/report/topology_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/graph/graphviz.hpp>
#include <map>
#include <sstream>

#include "sim/report/bill_report.h"
#include "sim/report/json.h"
#include "sim/units/units.h"

namespace collsim::report {

namespace {

template <class Map>
std::string counts(const Map& m) {
  std::string out;
  for (const auto& [k, v] : m) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k, v);
  return out;
}

std::string gbps(double Bps) { return units::format(units::Rate{Bps}); }

}  // namespace

std::string format_topology_summary(const topology::TopologySummary& s) {
  std::string out;
  int devices = 0;
  for (const auto& [k, v] : s.devices_by_kind) devices += v;
  int links = 0;
  for (const auto& [k, v] : s.links_by_class) links += v;
  out += fmt::format("# collsim topo: {} ({})\n", s.name, s.file);
  out += fmt::format("devices      {} ({})\n", devices, counts(s.devices_by_kind));
  out += fmt::format("links        {} ({})\n", links, counts(s.links_by_class));
  out += fmt::format("GPUs         {} in {} NVLink domain{}\n", s.gpus, s.nvlink_domains,
                     s.nvlink_domains == 1 ? "" : "s");
  out += fmt::format("per GPU      NVLink {}, network {} (line rate, per direction)\n", gbps(s.gpu_nvlink_Bps),
                     gbps(s.gpu_network_Bps));
  out += fmt::format("bisection    {} (max flow at line rate, GPUs 0-{} to {}-{})\n", gbps(s.bisection_Bps),
                     s.gpus / 2 - 1, s.gpus / 2, s.gpus - 1);
  if (s.leaves > 0 && s.leaf_up_Bps > 0) {
    out += fmt::format("leaves       {} switch{} under the NICs: {} down, {} up (down:up {:.3g}:1)\n", s.leaves,
                       s.leaves == 1 ? "" : "es", gbps(s.leaf_down_Bps), gbps(s.leaf_up_Bps),
                       s.leaf_down_Bps / s.leaf_up_Bps);
  }
  if (s.diameter_sources >= s.gpus) {
    out += fmt::format("diameter     {} hops (GPU to GPU)\n", s.diameter_hops);
  } else {
    out += fmt::format("diameter     at least {} hops (GPU to GPU; routes from {} of the {} GPUs, evenly spread)\n",
                       s.diameter_hops, s.diameter_sources, s.gpus);
  }
  if (s.sharp_switches > 0) {
    out += fmt::format("in-network   {} logical {} (SHARP); NCCL CollNet {}\n", s.sharp_switches,
                       s.sharp_switches == 1 ? "switch reduces" : "switches reduce",
                       s.collnet ? "on (nccl.collnet)" : "off (nccl.collnet: false)");
  }
  if (s.failed.any()) {
    const auto& f = s.failed;
    out += "failures     " + f.text() + "\n";
    auto change = [](double now, double was) {
      return was > 0 ? fmt::format("{:+.1f}%", 100 * (now / was - 1)) : std::string("-");
    };
    out += fmt::format("             bisection {} (healthy {}, {})\n", gbps(s.bisection_Bps),
                       gbps(s.healthy_bisection_Bps), change(s.bisection_Bps, s.healthy_bisection_Bps));
    out += fmt::format("             lowest per GPU: NVLink {} at {} (healthy {}, {})", gbps(s.lowest_gpu_nvlink_Bps),
                       s.lowest_nvlink_gpu, gbps(s.healthy_gpu_nvlink_Bps),
                       change(s.lowest_gpu_nvlink_Bps, s.healthy_gpu_nvlink_Bps));
    if (s.healthy_gpu_network_Bps > 0) {
      out += fmt::format(", network {} at {} (healthy {}, {})", gbps(s.lowest_gpu_network_Bps), s.lowest_network_gpu,
                         gbps(s.healthy_gpu_network_Bps), change(s.lowest_gpu_network_Bps, s.healthy_gpu_network_Bps));
      if (!(s.lowest_gpu_network_Bps > 0)) out += ": it crosses the network through an NVLink peer's NIC";
    }
    out += "\n";
  }
  out += "checks       every GPU reaches every GPU; device names unique; racks one per slot; cables within reach\n";
  if (s.cables == 0) {
    out += "cables       none (no link has a medium)\n";
    return out;
  }
  out += fmt::format("cables       {}, {:.1f} m in all, longest {:.2f} m ({})\n", s.cables, s.cable_total_m,
                     s.cable_max_m, s.longest_cable);
  for (const auto& [medium, t] : s.cables_by_medium) {
    out += fmt::format("  {:<10} {:>6} cables {:>10.1f} m\n", medium, t.count, t.total_m);
  }
  out += "  by length ";
  for (const auto& bin : topology::cable_length_bins()) {
    if (auto it = s.cables_by_length_bin.find(bin); it != s.cables_by_length_bin.end()) {
      out += fmt::format(" {}: {}", bin, it->second);
    }
  }
  out += "\n";
  for (const auto& [cls, lat] : s.mean_cable_latency_s_by_class) {
    out += fmt::format("  {:<10} cable latency {} per link (mean, fixed part included)\n", cls,
                       units::format(units::Duration{lat}));
  }
  return out;
}

std::string topology_json(const topology::TopologySummary& s, const topology::BillOfMaterials& bom) {
  JsonWriter w;
  w.begin_object();
  w.key("name").value(s.name);
  w.key("devices").begin_object();
  for (const auto& [k, v] : s.devices_by_kind) w.key(k).value(static_cast<double>(v));
  w.end_object();
  w.key("links").begin_object();
  for (const auto& [k, v] : s.links_by_class) w.key(k).value(static_cast<double>(v));
  w.end_object();
  w.key("gpus").value(static_cast<double>(s.gpus));
  w.key("nvlink_domains").value(static_cast<double>(s.nvlink_domains));
  w.key("gpu_nvlink_GBps").value(s.gpu_nvlink_Bps / 1e9);
  w.key("gpu_network_GBps").value(s.gpu_network_Bps / 1e9);
  w.key("bisection_GBps").value(s.bisection_Bps / 1e9);
  w.key("leaves").value(static_cast<double>(s.leaves));
  w.key("leaf_down_GBps").value(s.leaf_down_Bps / 1e9);
  w.key("leaf_up_GBps").value(s.leaf_up_Bps / 1e9);
  w.key("diameter_hops").value(static_cast<double>(s.diameter_hops));
  w.key("diameter_sources").value(static_cast<double>(s.diameter_sources));
  w.key("sharp_switches").value(static_cast<double>(s.sharp_switches));
  if (s.failed.any()) {
    w.key("failures").begin_object();
    w.key("cables_down").value(static_cast<double>(s.failed.cables_down));
    w.key("cables_degraded").value(static_cast<double>(s.failed.cables_degraded));
    w.key("links_down").value(static_cast<double>(s.failed.links_down));
    w.key("devices_down").begin_array();
    for (const auto& d : s.failed.devices_down) w.value(d);
    w.end_array();
    w.key("bisection_Bps").value(s.bisection_Bps).key("healthy_bisection_Bps").value(s.healthy_bisection_Bps);
    w.key("lowest_nvlink_gpu").value(s.lowest_nvlink_gpu).key("lowest_gpu_nvlink_Bps").value(s.lowest_gpu_nvlink_Bps);
    w.key("healthy_gpu_nvlink_Bps").value(s.healthy_gpu_nvlink_Bps);
    w.key("lowest_network_gpu")
        .value(s.lowest_network_gpu)
        .key("lowest_gpu_network_Bps")
        .value(s.lowest_gpu_network_Bps);
    w.key("healthy_gpu_network_Bps").value(s.healthy_gpu_network_Bps);
    w.end_object();
  }
  w.key("collnet").value(s.collnet);
  w.key("cables").begin_object();
  w.key("count").value(static_cast<double>(s.cables));
  w.key("total_m").value(s.cable_total_m);
  w.key("max_m").value(s.cable_max_m);
  w.key("by_medium").begin_object();
  for (const auto& [m, t] : s.cables_by_medium) {
    w.key(m).begin_object().key("count").value(static_cast<double>(t.count)).key("total_m").value(t.total_m);
    w.end_object();
  }
  w.end_object();
  w.key("by_length").begin_object();
  for (const auto& [bin, n] : s.cables_by_length_bin) w.key(bin).value(static_cast<double>(n));
  w.end_object();
  w.key("mean_latency_ns_by_class").begin_object();
  for (const auto& [cls, lat] : s.mean_cable_latency_s_by_class) w.key(cls).value(lat * 1e9);
  w.end_object();
  w.end_object();
  write_bill_json(w, bom);
  w.end_object();
  return w.str() + "\n";
}

std::string topology_dot(const topology::Topology& topo) {
  // An undirected copy: one edge per cable, not one per direction, carrying its label.
  struct EdgeLabel {
    std::string text;
  };
  using Undirected = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property, EdgeLabel>;
  const auto& g = topo.graph;
  Undirected u(boost::num_vertices(g));
  for (auto [e, end] = boost::edges(g); e != end; ++e) {
    if (boost::source(*e, g) > boost::target(*e, g)) continue;
    const auto& l = g[*e];
    std::string label = fmt::format("{} {}", l.link_class, gbps(l.rate_Bps));
    if (!l.medium.empty()) label += fmt::format(" {:.1f}m {}", l.length_m, l.medium);
    boost::add_edge(boost::source(*e, g), boost::target(*e, g), EdgeLabel{label}, u);
  }
  std::vector<std::string> names;
  for (auto [v, end] = boost::vertices(g); v != end; ++v) {
    names.push_back(fmt::format("{} ({})", g[*v].name, config::to_string(g[*v].kind)));
  }
  std::ostringstream out;
  boost::write_graphviz(
      out, u, boost::make_label_writer(names.data()),
      [&](std::ostream& os, const Undirected::edge_descriptor& e) { os << "[label=\"" << u[e].text << "\"]"; });
  return out.str();
}

std::string format_gpu_models(const config::TopologySpec& spec) {
  std::map<std::string, int> count;
  for (const auto& d : spec.devices)
    if (d.kind == config::DeviceKind::kGpu && !d.model.empty()) ++count[d.model];
  std::string out;
  for (const auto& [name, n] : count) {
    const auto& m = spec.gpu_models.at(name);
    std::string rates;
    for (const auto& [p, peak] : m.peak_flop_per_s) {
      auto ceiling = m.mamf_flop_per_s.find(p);
      rates += fmt::format("{}{} {}", rates.empty() ? "" : ", ", p, units::format(units::FlopRate{peak}));
      if (ceiling != m.mamf_flop_per_s.end())
        rates += fmt::format(" (matmul {})", units::format(units::FlopRate{ceiling->second}));
    }
    out += fmt::format("GPU model    {} x {}: {}; HBM {} at {}\n", name, n, rates,
                       m.hbm_bytes > 0 ? units::format(units::Bytes{m.hbm_bytes}) : "unknown",
                       m.hbm_Bps > 0 ? units::format(units::Rate{m.hbm_Bps}) : "unknown");
  }
  return out;
}

}  // namespace collsim::report
