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

// The GPUs of each NVLink domain, domains in order of their first GPU.
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

std::string describe(const Network& network, const std::vector<int>& gpus) {
  std::map<int, int> per_domain;
  for (int g : gpus) ++per_domain[network.nvlink_domain_of(g)];
  int lo = gpus.empty() ? 0 : static_cast<int>(gpus.size()), hi = 0;
  for (const auto& [domain, n] : per_domain) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  const std::string share = lo == hi ? fmt::format("{} in each of {} NVLink domains", lo, per_domain.size())
                                     : fmt::format("in {} NVLink domains, {}-{} each", per_domain.size(), lo, hi);
  return fmt::format("{} of {} GPUs: {}", gpus.size(), network.num_gpus(), share);
}

}  // namespace

bool placement_form_known(const std::string& spec) {
  const std::string form = spec.substr(0, spec.find(':'));
  if (spec == "all") return true;
  return spec.find(':') != std::string::npos && (form == "packed" || form == "per-domain" || form == "spread" ||
                                                 form == "random" || form == "domains" || form == "gpus");
}

Expected<Placement> place(const Network& network, const std::string& spec) {
  const int n_gpus = network.num_gpus();
  const auto colon = spec.find(':');
  const std::string form = spec.substr(0, colon);
  const std::string_view arg =
      colon == std::string::npos ? std::string_view() : std::string_view(spec).substr(colon + 1);
  auto bad = [&](const std::string& why) { return make_error(fmt::format("--placement: {}, found '{}'", why, spec)); };
  Placement p;
  if (form == "all" && colon == std::string::npos) {
    for (int g = 0; g < n_gpus; ++g) p.gpus.push_back(g);
  } else if (form == "packed" || form == "spread" || form == "random") {
    const std::string_view count = arg.substr(0, form == "random" ? arg.find(':') : std::string_view::npos);
    const long long n = whole(count, 1, n_gpus);
    if (n < 0) return bad(fmt::format("{}:N needs N a whole number from 1 to {} (the topology's GPUs)", form, n_gpus));
    if (form == "packed") {
      for (int g = 0; g < n; ++g) p.gpus.push_back(g);
    } else if (form == "spread") {
      const auto domains = domains_of(network);
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
      std::vector<int> all(static_cast<std::size_t>(n_gpus));
      for (int g = 0; g < n_gpus; ++g) all[static_cast<std::size_t>(g)] = g;
      std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
      std::shuffle(all.begin(), all.end(), rng);
      p.gpus.assign(all.begin(), all.begin() + n);
      std::sort(p.gpus.begin(), p.gpus.end());
    }
  } else if (form == "per-domain") {
    const auto domains = domains_of(network);
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
