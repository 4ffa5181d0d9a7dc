#include "sim/engine/sharp.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "sim/collective/ring.h"
#include "sim/engine/nccl_system.h"

namespace collsim::engine {

Expected<collective::CollNetParams> collnet_params(const topology::Network& network, const std::vector<int>& gpus) {
  collective::CollNetParams out;
  if (!network.has_sharp()) {
    return make_error(
        "collnetdirect needs fabric switches that reduce in the network (SHARP): give the fabric's link class a "
        "sharp_efficiency above 0");
  }
  std::vector<int> domain_of_rank;
  for (int g : gpus) domain_of_rank.push_back(network.nvlink_domain_of(g));
  const auto domains = collective::group_by_domain(domain_of_rank);
  if (domains.size() < 2) return out;  // one domain: no network part
  const std::size_t g = domains.front().size();
  for (const auto& d : domains) {
    if (d.size() != g) {
      return make_error(
          fmt::format("collnetdirect needs the same number of GPUs in every NVLink domain ({} and {})", g, d.size()));
    }
  }
  // A rail per local index whose GPU has a NIC in every domain (failed
  // NICs: CollNetParams::positions), as NCCL's heads are one per NIC.
  const auto kept = collective::networked_positions(domain_of_rank, nic_owners(network, gpus), false);
  if (kept.empty()) return make_error("collnetdirect needs a local GPU index with a live NIC on every node");
  if (kept.size() < g) out.positions = kept;
  for (const auto& d : domains)
    out.domain_nvswitch.push_back(network.nvswitch_endpoint_near(gpus[static_cast<std::size_t>(d.front())]));
  const auto& links = network.links();
  const auto& names = network.endpoints();
  std::unordered_map<int, int> helper_of_endpoint;
  double efficiency = std::numeric_limits<double>::infinity();
  for (const std::size_t c : kept) {
    collective::CollNetRail rail;
    std::unordered_map<int, int> index_of_node;  // merged-graph node -> tree switch
    auto switch_at = [&](int node) -> int {
      auto [it, fresh] = index_of_node.try_emplace(node, static_cast<int>(rail.parent.size()));
      if (fresh) {
        const int e = network.sharp_endpoint_of_node(node);
        auto [h, new_helper] = helper_of_endpoint.try_emplace(e, static_cast<int>(out.helper_endpoint.size()));
        if (new_helper) out.helper_endpoint.push_back(e);
        rail.helper.push_back(h->second);
        rail.parent.push_back(-1);
      }
      return it->second;
    };
    const int anchor = gpus[static_cast<std::size_t>(domains.front()[c])];
    int root = -1;
    rail.entry.assign(domains.size(), -1);
    for (std::size_t d = 1; d < domains.size(); ++d) {
      const int member = gpus[static_cast<std::size_t>(domains[d][c])];
      std::vector<int> path;  // the switches from member to anchor
      for (int l : network.route(member, anchor)) {
        const auto& link = links[static_cast<std::size_t>(l)];
        if (link.sharp_efficiency > 0) efficiency = std::min(efficiency, link.sharp_efficiency);
        if (link.to_kind != config::DeviceKind::kSwitch) continue;
        if (network.sharp_endpoint_of_node(link.to_node) < 0) {
          return make_error(
              fmt::format("the route from {} to {} crosses a switch that does not reduce (link {}: "
                          "its class {} has no sharp_efficiency)",
                          names[static_cast<std::size_t>(member)], names[static_cast<std::size_t>(anchor)],
                          network.link_name(l), link.link_class));
        }
        path.push_back(link.to_node);
      }
      if (path.empty()) {
        return make_error(fmt::format("the route from {} to {} crosses no fabric switch to reduce in",
                                      names[static_cast<std::size_t>(member)],
                                      names[static_cast<std::size_t>(anchor)]));
      }
      if (root < 0) root = switch_at(path.back());
      if (index_of_node.count(path.back()) == 0 || switch_at(path.back()) != root) {
        return make_error(
            fmt::format("the routes to {} do not meet in one switch", names[static_cast<std::size_t>(anchor)]));
      }
      rail.entry[d] = switch_at(path.front());
      for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        const int k = switch_at(path[i]);
        if (k == root || rail.parent[static_cast<std::size_t>(k)] >= 0) break;  // joins the tree here
        rail.parent[static_cast<std::size_t>(k)] = switch_at(path[i + 1]);
      }
    }
    rail.entry[0] = root;  // the anchor is cabled to the root
    out.rails.push_back(std::move(rail));
  }
  out.efficiency = std::isfinite(efficiency) ? efficiency : 1.0;
  return out;
}

void set_collnet(collective::AlgoParams& params, const topology::Network& network, const std::vector<int>& gpus) {
  params.collnet_enabled = network.collnet_enabled();
  if (auto trees = collnet_params(network, gpus)) {
    params.collnet = std::move(*trees);
    params.collnet_unavailable.clear();
  } else {
    params.collnet_unavailable = trees.error().message;
  }
}

}  // namespace collsim::engine
