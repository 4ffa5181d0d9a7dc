#include "sim/topology/failures.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <unordered_map>

#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"

namespace collsim::topology {

namespace {

// The links an entry selects, before its random share.
Expected<std::vector<std::size_t>> selected_links(const config::TopologySpec& spec, const config::FailureSpec& f,
                                                  const std::unordered_map<std::string, int>& index) {
  std::vector<std::size_t> links;
  auto device = [&](const std::string& key, const std::string& name) -> Expected<int> {
    const auto it = index.find(name);
    if (it == index.end()) {
      std::vector<std::string_view> names;
      names.reserve(spec.devices.size());
      for (const auto& d : spec.devices) names.emplace_back(d.name);
      std::string msg = fmt::format("no device named '{}'", name);
      if (auto near = config::closest_match(name, names)) msg += fmt::format(" (did you mean '{}'?)", *near);
      return f.error_at(key, msg);
    }
    return it->second;
  };
  if (!f.device.empty()) {
    auto d = device("device", f.device);
    if (!d) return d.error();
    const auto kind = spec.devices[static_cast<std::size_t>(*d)].kind;
    if (!f.degrade && (kind == config::DeviceKind::kGpu || kind == config::DeviceKind::kCpu)) {
      return f.error_at("device", fmt::format("'{}' is a {}: failed GPUs and CPUs are not modelled in a collective or "
                                              "a step; run on the GPUs left instead (--placement gpus:LIST, as a "
                                              "job drained of it would), or fail its NIC or links (collsim goodput "
                                              "counts GPU failures)",
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
  if (!f.tier.empty()) {  // switch to switch (fabric) or not (edge)
    auto is_switch = [&](int d) {
      return spec.devices[static_cast<std::size_t>(d)].kind == config::DeviceKind::kSwitch;
    };
    std::erase_if(links, [&](std::size_t i) {
      const bool fabric = is_switch(spec.links[i].a) && is_switch(spec.links[i].b);
      return fabric != (f.tier == "fabric");
    });
  }
  return links;
}

}  // namespace

std::string FailureSummary::text() const {
  auto by = [](const std::map<std::string, int>& m) {
    std::string out;
    for (const auto& [k, v] : m) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k, v);
    return out.empty() ? out : " (" + out + ")";
  };
  std::string out = fmt::format("{} cable{} down{}, {} degraded{}", cables_down, cables_down == 1 ? "" : "s",
                                by(down_by_class), cables_degraded, by(degraded_by_class));
  if (!devices_down.empty()) out += fmt::format("; devices down: {}", fmt::join(devices_down, ", "));
  return out;
}

Expected<LinkFailures> resolve_failures(const config::TopologySpec& spec) {
  LinkFailures out;
  out.rate_Bps.reserve(spec.links.size());
  for (const auto& l : spec.links) out.rate_Bps.push_back(l.rate_Bps);
  if (spec.failures.entries.empty()) return out;
  std::unordered_map<std::string, int> index;
  index.reserve(spec.devices.size());
  for (std::size_t i = 0; i < spec.devices.size(); ++i) index.emplace(spec.devices[i].name, static_cast<int>(i));
  std::map<std::size_t, std::vector<double>> lane_rate;  // the links touched: each cable's rate
  const auto& entries = spec.failures.entries;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    const auto& f = entries[e];
    auto links = selected_links(spec, f, index);
    if (!links) return links.error();
    std::vector<std::pair<std::size_t, int>> cables;
    for (std::size_t i : *links)
      for (int k = 0; k < spec.links[i].lanes; ++k) cables.emplace_back(i, k);
    if (cables.empty()) {
      return f.error_at(f.tier.empty() ? "class" : "tier",
                        f.tier.empty() ? fmt::format("no link of class '{}' in this topology", f.link_class)
                                       : fmt::format("no {} link of the selection in this topology", f.tier));
    }
    if (f.fraction < 1) {  // a random share, reproducible from the seed and the entry's position
      std::mt19937_64 rng(spec.failures.seed * 1000003ULL + e);
      const auto take = static_cast<std::size_t>(std::llround(f.fraction * static_cast<double>(cables.size())));
      if (take == 0 && f.fraction > 0) {
        return f.error_at("fraction", fmt::format("{:g}% of the {} selected cables is none: give at least {:.3g}%",
                                                  100 * f.fraction, cables.size(), 50.0 / cables.size()));
      }
      for (std::size_t i = 0; i < take; ++i) {
        const auto j = std::uniform_int_distribution<std::size_t>(i, cables.size() - 1)(rng);
        std::swap(cables[i], cables[j]);
      }
      cables.resize(take);
    }
    if (!f.device.empty() && !f.degrade && f.fraction >= 1 &&
        std::find(out.summary.devices_down.begin(), out.summary.devices_down.end(), f.device) ==
            out.summary.devices_down.end()) {
      out.summary.devices_down.push_back(f.device);
    }
    for (auto [i, k] : cables) {
      const auto& l = spec.links[i];
      const double per_cable = l.rate_Bps / l.lanes;
      auto& lanes = lane_rate[i];
      if (lanes.empty()) lanes.assign(static_cast<std::size_t>(l.lanes), per_cable);
      double rate = 0;
      if (f.degrade) {
        rate = f.rate_share > 0 ? per_cable * f.rate_share : f.rate_Bps;
        if (rate > per_cable * (1 + 1e-12)) {
          return f.error_at(
              "rate",
              fmt::format("a degraded rate of {} is above the rate of a cable from '{}' to '{}' ({})",
                          units::format(units::Rate{rate}), spec.devices[static_cast<std::size_t>(l.a)].name,
                          spec.devices[static_cast<std::size_t>(l.b)].name, units::format(units::Rate{per_cable})));
        }
      }
      lanes[static_cast<std::size_t>(k)] = std::min(lanes[static_cast<std::size_t>(k)], rate);
    }
  }
  for (const auto& [i, lanes] : lane_rate) {
    const auto& l = spec.links[i];
    const double per_cable = l.rate_Bps / l.lanes;
    double sum = 0;
    for (double r : lanes) {
      sum += r;
      if (r <= 0) {
        ++out.summary.cables_down;
        ++out.summary.down_by_class[l.link_class];
      } else if (r < per_cable * (1 - 1e-12)) {
        ++out.summary.cables_degraded;
        ++out.summary.degraded_by_class[l.link_class];
      }
    }
    out.rate_Bps[i] = sum;
    if (sum <= 0) ++out.summary.links_down;
  }
  return out;
}

}  // namespace collsim::topology
