#include "sim/topology/failures.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_map>

#include "sim/units/units.h"

namespace collsim::topology {

namespace {

// The links an entry selects, before its random share.
Expected<std::vector<std::size_t>> selected_links(const config::TopologySpec& spec, const config::FailureSpec& f,
                                                  const std::unordered_map<std::string, int>& index) {
  std::vector<std::size_t> links;
  auto device = [&](const std::string& key, const std::string& name) -> Expected<int> {
    const auto it = index.find(name);
    if (it == index.end()) return f.error_at(key, fmt::format("no device named '{}'", name));
    return it->second;
  };
  if (!f.device.empty()) {
    auto d = device("device", f.device);
    if (!d) return d.error();
    const auto kind = spec.devices[static_cast<std::size_t>(*d)].kind;
    if (!f.degrade && (kind == config::DeviceKind::kGpu || kind == config::DeviceKind::kCpu)) {
      return f.error_at("device",
                        fmt::format("'{}' is a {}: a job runs on every GPU of the topology, so a failed GPU is not "
                                    "modelled here (collsim goodput counts GPU failures); fail its NIC or links",
                                    f.device, config::to_string(kind)));
    }
    for (std::size_t i = 0; i < spec.links.size(); ++i)
      if (spec.links[i].a == *d || spec.links[i].b == *d) links.push_back(i);
  } else if (!f.from.empty()) {
    auto a = device("from", f.from);
    if (!a) return a.error();
    auto b = device("to", f.to);
    if (!b) return b.error();
    for (std::size_t i = 0; i < spec.links.size(); ++i) {
      const auto& l = spec.links[i];
      if ((l.a == *a && l.b == *b) || (l.a == *b && l.b == *a)) links.push_back(i);
    }
    if (links.empty()) return f.error_at("to", fmt::format("no link between '{}' and '{}'", f.from, f.to));
  } else {
    if (!spec.link_classes.count(f.link_class)) {
      std::string known;
      for (const auto& [name, cls] : spec.link_classes) known += (known.empty() ? "" : ", ") + name;
      return f.error_at("class", fmt::format("no link class '{}'; expected one of {}", f.link_class, known));
    }
    for (std::size_t i = 0; i < spec.links.size(); ++i)
      if (spec.links[i].link_class == f.link_class) links.push_back(i);
  }
  return links;
}

}  // namespace

Expected<LinkFailures> resolve_failures(const config::TopologySpec& spec) {
  LinkFailures out;
  out.rate_Bps.reserve(spec.links.size());
  for (const auto& l : spec.links) out.rate_Bps.push_back(l.rate_Bps);
  if (spec.failures.entries.empty()) return out;
  std::unordered_map<std::string, int> index;
  index.reserve(spec.devices.size());
  for (std::size_t i = 0; i < spec.devices.size(); ++i) index.emplace(spec.devices[i].name, static_cast<int>(i));
  const auto& entries = spec.failures.entries;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const auto& f = entries[e];
    auto links = selected_links(spec, f, index);
    if (!links) return links.error();
    if (f.fraction < 1) {  // a random share, reproducible from the seed and the entry's position
      std::mt19937_64 rng(spec.failures.seed * 1000003ULL + e);
      const auto take = static_cast<std::size_t>(std::llround(f.fraction * static_cast<double>(links->size())));
      for (std::size_t i = 0; i < take; ++i) {
        const auto j = std::uniform_int_distribution<std::size_t>(i, links->size() - 1)(rng);
        std::swap((*links)[i], (*links)[j]);
      }
      links->resize(take);
    }
    if (!f.device.empty() && !f.degrade) out.summary.devices_down.push_back(f.device);
    for (std::size_t i : *links) {
      const auto& l = spec.links[i];
      double rate = 0;
      if (f.degrade) {
        rate = f.rate_share > 0 ? l.rate_Bps * f.rate_share : f.rate_Bps;
        if (rate > l.rate_Bps * (1 + 1e-12)) {
          return f.error_at(
              "rate",
              fmt::format("a degraded rate of {} is above the rate of the link from '{}' to '{}' ({})",
                          units::format(units::Rate{rate}), spec.devices[static_cast<std::size_t>(l.a)].name,
                          spec.devices[static_cast<std::size_t>(l.b)].name, units::format(units::Rate{l.rate_Bps})));
        }
      }
      out.rate_Bps[i] = std::min(out.rate_Bps[i], rate);
    }
  }
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    if (out.rate_Bps[i] <= 0) {
      ++out.summary.links_down;
      ++out.summary.down_by_class[spec.links[i].link_class];
    } else if (out.rate_Bps[i] < spec.links[i].rate_Bps) {
      ++out.summary.links_degraded;
      ++out.summary.degraded_by_class[spec.links[i].link_class];
    }
  }
  return out;
}

}  // namespace collsim::topology
