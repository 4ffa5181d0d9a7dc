#include "sim/topology/planes.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace collsim::topology {

namespace {

// One end of a link as seen from a switch: (neighbour label, direction,
// class id, efficiency, rate). Direction 0 = out of the switch, 1 = into it.
using Port = std::tuple<long long, int, int, double, double>;

bool is_fabric_switch(const Graph& g, Vertex v) { return g[v].kind == config::DeviceKind::kSwitch; }

// The ports of `v`, each neighbour named by `label(neighbour)`, sorted.
template <typename Label>
std::vector<Port> ports_of(const Graph& g, Vertex v, const std::unordered_map<std::string, int>& class_id,
                           Label&& label) {
  std::vector<Port> ports;
  for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
    const Link& l = g[*e];
    ports.emplace_back(label(boost::target(*e, g)), 0, class_id.at(l.link_class), l.efficiency, l.rate_Bps);
  }
  for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
    const Link& l = g[*e];
    ports.emplace_back(label(boost::source(*e, g)), 1, class_id.at(l.link_class), l.efficiency, l.rate_Bps);
  }
  std::sort(ports.begin(), ports.end());
  return ports;
}

// Whether `a` and `b` are joined by a link.
bool adjacent(const Graph& g, Vertex a, Vertex b) {
  for (auto [e, end] = boost::out_edges(a, g); e != end; ++e)
    if (boost::target(*e, g) == b) return true;
  return false;
}

// Pairs each switch of `members` (a candidate copy) with a switch of the
// first copy of its colour, in rep: first the colours that occur once,
// then, until nothing changes, a switch with the first free switch of its
// colour adjacent to the counterparts of all its paired neighbours (so
// copies declared in another order still pair up), the rest in vertex
// order. The caller checks the result is an isomorphism.
void pair_with_first(const Graph& g, const std::vector<Vertex>& members,
                     const std::map<int, std::vector<Vertex>>& first_by_colour, const std::vector<int>& colour,
                     std::vector<Vertex>& rep) {
  std::vector<bool> paired(boost::num_vertices(g), false), taken(boost::num_vertices(g), false);
  auto pair = [&](Vertex v, Vertex c) {
    rep[v] = c;
    paired[v] = taken[c] = true;
  };
  for (Vertex v : members) {
    const auto& candidates = first_by_colour.at(colour[v]);
    if (candidates.size() == 1) pair(v, candidates.front());
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (Vertex v : members) {
      if (paired[v]) continue;
      for (Vertex c : first_by_colour.at(colour[v])) {
        if (taken[c]) continue;
        bool consistent = true;
        for (auto [e, end] = boost::out_edges(v, g); e != end && consistent; ++e) {
          const Vertex u = boost::target(*e, g);
          if (is_fabric_switch(g, u) && paired[u]) consistent = adjacent(g, c, rep[u]);
        }
        if (!consistent) continue;
        pair(v, c);
        progress = true;
        break;
      }
    }
  }
  std::map<int, std::size_t> next;  // per colour: the next candidate to try
  for (Vertex v : members) {
    if (paired[v]) continue;
    const auto& candidates = first_by_colour.at(colour[v]);
    std::size_t& i = next[colour[v]];
    while (i < candidates.size() && taken[candidates[i]]) ++i;
    if (i < candidates.size()) pair(v, candidates[i]);
  }
}

}  // namespace

std::vector<Vertex> plane_representatives(const Graph& g) {
  const std::size_t n = boost::num_vertices(g);
  std::vector<Vertex> rep(n);
  std::iota(rep.begin(), rep.end(), Vertex{0});

  // 1. Components of the fabric switches, linked through each other only.
  std::vector<int> component(n, -1);
  std::vector<std::vector<Vertex>> components;
  for (Vertex s = 0; s < n; ++s) {
    if (!is_fabric_switch(g, s) || component[s] >= 0) continue;
    const int c = static_cast<int>(components.size());
    components.emplace_back();
    std::vector<Vertex> stack{s};
    component[s] = c;
    while (!stack.empty()) {
      const Vertex v = stack.back();
      stack.pop_back();
      components[static_cast<std::size_t>(c)].push_back(v);
      for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
        const Vertex t = boost::target(*e, g);
        if (is_fabric_switch(g, t) && component[t] < 0) {
          component[t] = c;
          stack.push_back(t);
        }
      }
    }
  }
  if (components.size() < 2) return rep;
  for (auto& members : components) std::sort(members.begin(), members.end());

  // 2. Colour refinement of the switches; other devices are labels of their own.
  std::unordered_map<std::string, int> class_id;
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    class_id.try_emplace(g[*e].link_class, static_cast<int>(class_id.size()));
  std::vector<int> colour(n, 0);
  auto label = [&](Vertex v) -> long long {
    return is_fabric_switch(g, v) ? colour[v] : -1 - static_cast<long long>(v);
  };
  std::size_t colours = 1;
  for (;;) {
    std::map<std::pair<int, std::vector<Port>>, int> next_id;
    std::vector<int> next(n, 0);
    for (const auto& members : components) {
      for (Vertex v : members) {
        auto key = std::make_pair(colour[v], ports_of(g, v, class_id, label));
        next[v] = next_id.try_emplace(std::move(key), static_cast<int>(next_id.size())).first->second;
      }
    }
    colour.swap(next);
    if (next_id.size() == colours) break;  // stable: no class split this round
    colours = next_id.size();
  }

  // 3. Components with the same colours are candidate copies of one plane;
  //    pair their switches colour by colour, in vertex order.
  std::map<std::vector<int>, std::vector<int>> copies;  // sorted colours -> components
  for (std::size_t c = 0; c < components.size(); ++c) {
    std::vector<int> key;
    for (Vertex v : components[c]) key.push_back(colour[v]);
    std::sort(key.begin(), key.end());
    copies[key].push_back(static_cast<int>(c));
  }
  auto identity_label = [](Vertex v) { return static_cast<long long>(v); };
  for (const auto& [key, comps] : copies) {
    if (comps.size() < 2) continue;
    const auto& first = components[static_cast<std::size_t>(comps.front())];
    std::map<int, std::vector<Vertex>> first_by_colour;
    for (Vertex v : first) first_by_colour[colour[v]].push_back(v);
    for (std::size_t k = 1; k < comps.size(); ++k) {
      pair_with_first(g, components[static_cast<std::size_t>(comps[k])], first_by_colour, colour, rep);
    }
    // 4. Keep the pairing only if it is an isomorphism of these components.
    auto mapped = [&](Vertex v) { return static_cast<long long>(rep[v]); };
    bool isomorphic = true;
    for (std::size_t k = 1; k < comps.size() && isomorphic; ++k) {
      for (Vertex v : components[static_cast<std::size_t>(comps[k])]) {
        if (ports_of(g, v, class_id, mapped) != ports_of(g, rep[v], class_id, identity_label)) {
          isomorphic = false;
          break;
        }
      }
    }
    if (!isomorphic) {
      for (int c : comps)
        for (Vertex v : components[static_cast<std::size_t>(c)]) rep[v] = v;
    }
  }
  return rep;
}

}  // namespace collsim::topology
