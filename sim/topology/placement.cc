#include "sim/topology/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <random>
#include <string_view>

namespace collsim::topology {

namespace {

// A whole number from `lo` to `hi`, or -1.
long long whole(std::string_view text, long long lo, long long hi) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return -1;
  return v;
}

// "0-3,7": the numbers listed, in order, each from 0 to `max`; nullopt if
// the list is empty or an item is not a number or a range A-B (A <= B).
std::optional<std::vector<long long>> numbers(std::string_view list, long long max) {
  std::vector<long long> out;
  if (list.empty()) return std::nullopt;
  for (std::string_view rest = list;;) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto dash = item.find('-');
    const long long a = whole(item.substr(0, dash), 0, max);
    const long long b = dash == std::string_view::npos ? a : whole(item.substr(dash + 1), 0, max);
    if (a < 0 || b < a) return std::nullopt;
    for (long long v = a; v <= b; ++v) out.push_back(v);
    if (comma == std::string_view::npos) return out;
    rest = rest.substr(comma + 1);
  }
}

// The first network switch on the route from `gpu` out of its NVLink
// domain (its leaf), or -1 on a single domain.
int leaf_of(const Network& network, int gpu) {
  const int domain = network.nvlink_domain_of(gpu);
  for (int other = 0; other < network.num_gpus(); ++other) {
    if (network.nvlink_domain_of(other) == domain) continue;
    for (int l : network.route(gpu, other)) {
      const auto& link = network.links()[static_cast<std::size_t>(l)];
      if (link.to_kind == config::DeviceKind::kSwitch) return link.to_node;
    }
    return -1;
  }
  return -1;
}

// topology-aware:N over the free GPUs of `domains` (each its free GPUs).
std::vector<int> topology_aware(const Network& network, const std::vector<std::vector<int>>& domains, long long n) {
  std::map<int, std::vector<std::size_t>> by_leaf;  // leaf -> domains behind it
  for (std::size_t d = 0; d < domains.size(); ++d)
    if (!domains[d].empty()) by_leaf[leaf_of(network, domains[d].front())].push_back(d);
  struct Group {
    long long free = 0;
    std::vector<std::size_t> domains;
  };
  std::vector<Group> groups;
  for (auto& [leaf, ds] : by_leaf) {
    Group g{0, ds};
    for (std::size_t d : ds) g.free += static_cast<long long>(domains[d].size());
    // The freest domains first, then in order: whole domains before partial ones.
    std::stable_sort(g.domains.begin(), g.domains.end(),
                     [&](std::size_t a, std::size_t b) { return domains[a].size() > domains[b].size(); });
    groups.push_back(std::move(g));
  }
  // Best fit: the group with the fewest free GPUs that holds all n; else the freest first.
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.free > b.free; });
  std::size_t best = groups.size();
  for (std::size_t k = 0; k < groups.size(); ++k)
    if (groups[k].free >= n && (best == groups.size() || groups[k].free < groups[best].free)) best = k;
  if (best < groups.size())
    std::rotate(groups.begin(), groups.begin() + static_cast<long>(best), groups.begin() + static_cast<long>(best) + 1);
  std::vector<int> out;
  for (const auto& g : groups)
    for (std::size_t d : g.domains)
      for (int gpu : domains[d])
        if (static_cast<long long>(out.size()) < n) out.push_back(gpu);
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const Network& network, const std::vector<int>& gpus) {
  std::map<int, int> per_domain;
  for (int g : gpus) ++per_domain[network.nvlink_domain_of(g)];
  int lo = gpus.empty() ? 0 : static_cast<int>(gpus.size()), hi = 0;
  for (const auto& [domain, n] : per_domain) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  const std::string share = per_domain.size() == 1 ? std::string("in one NVLink domain")
                            : lo == hi ? fmt::format("{} in each of {} NVLink domains", lo, per_domain.size())
                                       : fmt::format("in {} NVLink domains, {}-{} each", per_domain.size(), lo, hi);
  return fmt::format("{} of {} GPUs: {}", gpus.size(), network.num_gpus(), share);
}

}  // namespace

std::vector<std::vector<int>> domains_of(const Network& network) {
  std::map<int, std::size_t> index;
  std::vector<std::vector<int>> out;
  for (int g = 0; g < network.num_gpus(); ++g) {
    auto [it, fresh] = index.try_emplace(network.nvlink_domain_of(g), out.size());
    if (fresh) out.emplace_back();
    out[it->second].push_back(g);
  }
  return out;
}

bool placement_form_known(const std::string& spec) {
  const std::string form = spec.substr(0, spec.find(':'));
  if (spec == "all") return true;
  return spec.find(':') != std::string::npos &&
         (form == "packed" || form == "per-domain" || form == "spread" || form == "random" || form == "domains" ||
          form == "gpus" || form == "topology-aware");
}

Expected<Placement> place(const Network& network, const std::string& spec, const std::vector<char>& busy,
                          int min_gpus) {
  const int n_gpus = network.num_gpus();
  auto is_free = [&](int g) { return busy.empty() || !busy[static_cast<std::size_t>(g)]; };
  std::vector<int> free;  // in order
  for (int g = 0; g < n_gpus; ++g)
    if (is_free(g)) free.push_back(g);
  const int n_free = static_cast<int>(free.size());
  // The free GPUs of each NVLink domain.
  auto free_domains = [&] {
    auto ds = domains_of(network);
    for (auto& d : ds) d.erase(std::remove_if(d.begin(), d.end(), [&](int g) { return !is_free(g); }), d.end());
    return ds;
  };
  const auto colon = spec.find(':');
  const std::string form = spec.substr(0, colon);
  const std::string_view arg =
      colon == std::string::npos ? std::string_view() : std::string_view(spec).substr(colon + 1);
  auto bad = [&](const std::string& why) { return make_error(fmt::format("{}, found '{}'", why, spec)); };
  Placement p;
  if (form == "all" && colon == std::string::npos) {
    for (int g = 0; g < n_gpus; ++g) p.gpus.push_back(g);
  } else if (form == "packed" || form == "spread" || form == "random" || form == "topology-aware") {
    const std::string_view count = arg.substr(0, form == "random" ? arg.find(':') : std::string_view::npos);
    const long long n = whole(count, min_gpus, n_free);
    if (n_free == 0) return bad(fmt::format("no GPU is free: other jobs hold all {}", n_gpus));
    if (n < 0) {
      return bad(
          n_free == n_gpus
              ? fmt::format("{}:N needs N a whole number from {} to {} (the topology's GPUs)", form, min_gpus, n_gpus)
              : fmt::format("{}:N needs N a whole number from {} to {} (the GPUs other jobs leave free, of {})", form,
                            min_gpus, n_free, n_gpus));
    }
    if (form == "packed") {
      p.gpus.assign(free.begin(), free.begin() + n);
    } else if (form == "topology-aware") {
      p.gpus = topology_aware(network, free_domains(), n);
    } else if (form == "spread") {
      const auto domains = free_domains();
      for (std::size_t k = 0; static_cast<long long>(p.gpus.size()) < n; ++k)
        for (const auto& d : domains)
          if (k < d.size() && static_cast<long long>(p.gpus.size()) < n) p.gpus.push_back(d[k]);
      std::sort(p.gpus.begin(), p.gpus.end());
    } else {
      long long seed = 1;
      if (const auto second = arg.find(':'); second != std::string_view::npos) {
        seed = whole(arg.substr(second + 1), 0, 1LL << 62);
        if (seed < 0) return bad("random:N:SEED needs SEED a whole number >= 0");
      }
      std::vector<int> all = free;
      std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
      std::shuffle(all.begin(), all.end(), rng);
      p.gpus.assign(all.begin(), all.begin() + n);
      std::sort(p.gpus.begin(), p.gpus.end());
    }
  } else if (form == "per-domain") {
    auto domains = free_domains();  // those with a free GPU
    domains.erase(std::remove_if(domains.begin(), domains.end(), [](const auto& d) { return d.empty(); }),
                  domains.end());
    std::size_t smallest = domains.empty() ? 0 : domains.front().size();
    for (const auto& d : domains) smallest = std::min(smallest, d.size());
    const long long k = whole(arg, 1, static_cast<long long>(smallest));
    if (k < 0) {
      return bad(
          fmt::format("per-domain:K needs K a whole number from 1 to {} (the GPUs of the smallest of the {} "
                      "NVLink domains)",
                      smallest, domains.size()));
    }
    for (const auto& d : domains) p.gpus.insert(p.gpus.end(), d.begin(), d.begin() + k);
    std::sort(p.gpus.begin(), p.gpus.end());
  } else if (form == "domains") {
    const auto domains = domains_of(network);
    const auto picked = numbers(arg, static_cast<long long>(domains.size()) - 1);
    if (!picked) {
      return bad(
          fmt::format("domains:LIST needs NVLink domain numbers or ranges A-B (A <= B) from 0 to {}, "
                      "separated by commas",
                      domains.size() - 1));
    }
    std::vector<char> taken(domains.size(), 0);
    for (long long d : *picked) {
      if (taken[static_cast<std::size_t>(d)]) return bad(fmt::format("NVLink domain {} is listed twice", d));
      taken[static_cast<std::size_t>(d)] = 1;
      const auto& gs = domains[static_cast<std::size_t>(d)];
      p.gpus.insert(p.gpus.end(), gs.begin(), gs.end());
    }
  } else if (form == "gpus") {
    const auto picked = numbers(arg, n_gpus - 1);
    if (!picked) {
      return bad(fmt::format("gpus:LIST needs GPU numbers or ranges A-B (A <= B) from 0 to {}, separated by commas",
                             n_gpus - 1));
    }
    std::vector<char> taken(static_cast<std::size_t>(n_gpus), 0);
    for (long long g : *picked) {
      if (taken[static_cast<std::size_t>(g)]) return bad(fmt::format("GPU {} is listed twice", g));
      taken[static_cast<std::size_t>(g)] = 1;
      p.gpus.push_back(static_cast<int>(g));
    }
  } else {
    return bad(fmt::format("expected {}", kPlacementForms));
  }
  p.everything = static_cast<int>(p.gpus.size()) == n_gpus && std::is_sorted(p.gpus.begin(), p.gpus.end());
  p.where = describe(network, p.gpus);
  return p;
}

}  // namespace collsim::topology
