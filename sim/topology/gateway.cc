// Gateways: routes composed at the edge of a host (network.h, "Gateways").
//
// Why the composed route is route_pair's. Take the forward search from GPU
// `src` over routing states, as route_pair does. Let g be the only state
// at depth k with a successor at depth k + 1, reached by one path (one arc
// per hop), and B_src the states at depth <= k. On a fewest-hop path
// longer than k hops, the k-th state has its successor at depth k + 1: it
// is g. Every fewest-hop path to a state outside B_src therefore starts
// with the one path to g. The same holds backward into `dst` (h, B_dst; `ends`
// over-approximates the non-forwarding nodes, such as `src`, that could
// step into B_dst). If B_src and B_dst are disjoint and src is not in
// `ends`, every fewest-hop src -> dst path is the prefix, a fewest-hop
// g -> h path and the suffix, and every such concatenation is one: a
// fewest-hop g -> h path never re-enters B_src (it would then not be
// fewest-hop from src). Along the middle, a state's width is the smaller
// of the prefix's width and its width from g, so a search from g that
// starts at the prefix's width finds the same equal-cost predecessors, in
// the same order (the full replay visits g's successors just as a replay
// from g does). Prefix and suffix offer one choice per hop, so D-mod-k
// spends no digit there, and walking the middle from h back to g with the
// destination's number picks what the full walk picks. If the two balls
// share only g = h, every path is prefix + suffix. A destination inside
// B_src is walked over the search's own predecessors: at depth <= k they
// depend only on states at smaller depths, so they are bfs()'s.
//
// What it buys: on a three-tier fabric the DAG between two leaves in
// different pods has every core switch on it; it is searched once per pair
// of leaves instead of once per pair of GPUs.
#include <algorithm>
#include <limits>
#include <span>

#include "sim/topology/network.h"
#include "sim/topology/routing_steps.h"

namespace collsim::topology {

namespace {

// How far a gateway search looks: past this many hops, or once a level has
// more states that forward than this, the host is left behind (a leaf
// switch's uplinks). States that do not forward (the GPUs around an NVL72
// rack's NVSwitch: 71 at depth 2) are never expanded and do not count.
// Bounds only the work, not the result.
constexpr int kMaxGatewayDepth = 8;
constexpr std::size_t kMaxGatewayFrontier = 32;
// Cached middle DAGs are dropped together past this many entries (states
// plus predecessors, 8-12 bytes each); the routes stay the same.
constexpr std::size_t kMiddleCacheEntries = std::size_t{4} << 20;

}  // namespace

Network::Gateway Network::find_gateway(int gpu, bool outbound) const {
  Scratch& S = scratch_;
  const std::uint32_t mark = new_mark();
  const int origin = endpoint_node_[gpu];
  auto at = [](auto& v, int i) -> auto& { return v[static_cast<std::size_t>(i)]; };
  // Breadth-first from the GPU, in the full search's order: states in visit
  // order, each with one predecessor (index, link), its number of
  // fewest-hop paths (capped at 2) and (outbound) its width and equal-cost
  // widest predecessors, as bfs() computes them.
  auto& visited = S.visited;
  auto& paths = S.paths;
  auto& pred = S.pred;
  auto& widths = S.widths;
  auto& options = S.options;
  visited.assign(1, origin);
  paths.assign(1, 1);
  pred.assign(1, {0, -1});
  widths.assign(1, std::numeric_limits<double>::infinity());
  if (options.empty()) options.emplace_back();
  options[0].clear();
  at(S.stamp_f, origin) = mark;
  at(S.dist_f, origin) = 0;
  at(S.dist_b, origin) = 0;  // index in `visited`
  std::size_t begin = 0, end = 1, gate = 0, ball_end = 0;
  for (int depth = 1; depth <= kMaxGatewayDepth + 1; ++depth) {
    // Expand the states at depth - 1; the ones with a successor at `depth`
    // are the only ones a longer fewest-hop path can pass through there.
    // Once the new level is past the frontier bound the search stops after
    // this level, so its states are no longer recorded: only whether each
    // state of this level has a successor there still counts.
    std::size_t productive = 0, last = 0, forwarding = 0;
    bool overflow = false;
    for (std::size_t i = begin; i < end; ++i) {
      bool produced = false;
      auto step = [&](int t, int link) {
        if (overflow) {
          produced = produced || at(S.stamp_f, t) != mark || at(S.dist_f, t) == depth;
          return;
        }
        std::size_t j;
        if (at(S.stamp_f, t) != mark) {
          const bool forwards = node_forwards_[static_cast<std::size_t>(node_of_state(t))];
          if (forwards && ++forwarding > kMaxGatewayFrontier) {
            overflow = produced = true;
            return;
          }
          at(S.stamp_f, t) = mark;
          at(S.dist_f, t) = depth;
          j = visited.size();
          at(S.dist_b, t) = static_cast<int>(j);
          visited.push_back(t);
          paths.push_back(paths[i]);
          pred.emplace_back(i, link);
          widths.push_back(0);
          if (options.size() <= j) options.emplace_back();
          options[j].clear();
        } else if (at(S.dist_f, t) == depth) {
          j = static_cast<std::size_t>(at(S.dist_b, t));
          paths[j] = std::min(2, paths[j] + paths[i]);
        } else {
          return;
        }
        produced = true;
        if (outbound) {
          routing_detail::relax_widest(options[j], widths[j], Arc{visited[i], link}, widths[i],
                                       links_[static_cast<std::size_t>(link)].rate_Bps);
        }
      };
      if (outbound) {
        for_each_next(visited[i], origin, true, step);
      } else {
        for_each_prev(visited[i], -1, true, step);
      }
      if (produced) {
        ++productive;
        last = i;
      }
    }
    if (depth > 1 && productive == 1 && paths[last] == 1) {
      gate = last;
      ball_end = end;
    } else if (ball_end > 0 && productive > 1) {
      break;  // past the host: routes fan out here (a deeper gateway would only be reused more)
    }
    begin = end;
    end = visited.size();
    if (overflow || begin == end) break;
  }
  Gateway gw;
  if (ball_end == 0) return gw;
  auto& ints = gateway_ints_;
  gw.state = visited[gate];
  gw.width = std::numeric_limits<double>::infinity();
  gw.links_at = ints.size();
  for (std::size_t j = gate; j != 0; j = pred[j].first) {
    ints.push_back(pred[j].second);
    gw.width = std::min(gw.width, links_[static_cast<std::size_t>(pred[j].second)].rate_Bps);
  }
  gw.links_n = ints.size() - gw.links_at;
  const auto from = [&](std::size_t at_) { return ints.begin() + static_cast<std::ptrdiff_t>(at_); };
  if (outbound) std::reverse(from(gw.links_at), ints.end());  // inbound: already gateway -> GPU
  gw.ball_at = ints.size();
  gw.ball_n = ball_end;
  ints.insert(ints.end(), visited.begin(), visited.begin() + static_cast<std::ptrdiff_t>(ball_end));
  std::sort(from(gw.ball_at), ints.end());
  if (outbound) {
    gw.order_at = ints.size();
    ints.insert(ints.end(), visited.begin(), visited.begin() + static_cast<std::ptrdiff_t>(ball_end));
    gw.firsts_at = ints.size();
    for (std::size_t j = 0; j < ball_end; ++j) {
      ints.push_back(static_cast<int>(gateway_arcs_.size()));
      gateway_arcs_.insert(gateway_arcs_.end(), options[j].begin(), options[j].end());
    }
    ints.push_back(static_cast<int>(gateway_arcs_.size()));
  } else {
    gw.ends_at = ints.size();
    const int gate_depth = at(S.dist_f, gw.state);
    for (std::size_t j = 0; j < ball_end; ++j) {
      if (at(S.dist_f, visited[j]) >= gate_depth) continue;
      const int v = node_of_state(visited[j]), entered_from = via_of_state(visited[j]);
      for (const Arc& arc : in_arcs_[static_cast<std::size_t>(v)])
        if ((entered_from < 0 || arc.to == entered_from) && !node_forwards_[static_cast<std::size_t>(arc.to)])
          ints.push_back(arc.to);
    }
    std::sort(from(gw.ends_at), ints.end());
    ints.erase(std::unique(from(gw.ends_at), ints.end()), ints.end());
    gw.ends_n = ints.size() - gw.ends_at;
  }
  return gw;
}

const Network::Gateway& Network::gateway(int gpu, bool outbound) const {
  if (gateway_known_.empty()) {
    gateway_out_.resize(static_cast<std::size_t>(num_gpus_));
    gateway_in_.resize(static_cast<std::size_t>(num_gpus_));
    gateway_known_.assign(2 * static_cast<std::size_t>(num_gpus_), false);
  }
  const auto g = static_cast<std::size_t>(gpu);
  auto& slot = outbound ? gateway_out_[g] : gateway_in_[g];
  if (!gateway_known_[2 * g + (outbound ? 0 : 1)]) {
    slot = find_gateway(gpu, outbound);
    gateway_known_[2 * g + (outbound ? 0 : 1)] = true;
  }
  return slot;
}

bool Network::gateway_route(int src, int dst, std::vector<int>* out) const {
  const Gateway& up = gateway(src, true);
  if (up.state < 0) return false;
  auto ints = [&](std::size_t at, std::size_t n) { return std::span<const int>(gateway_ints_.data() + at, n); };
  // Inside src's ball: bfs()'s own predecessors, walked as walk_back does.
  const auto order = ints(up.order_at, up.ball_n);
  const int dst_node = endpoint_node_[dst];
  if (std::find(order.begin(), order.end(), dst_node) != order.end()) {
    const auto firsts = ints(up.firsts_at, up.ball_n + 1);
    out->clear();
    walk_ecmp(
        dst_node, ecmp_number(dst),
        [&](int v) {
          const auto k = static_cast<std::size_t>(std::find(order.begin(), order.end(), v) - order.begin());
          return std::span<const Arc>(gateway_arcs_.data() + firsts[k], gateway_arcs_.data() + firsts[k + 1]);
        },
        out);
    std::reverse(out->begin(), out->end());
    ++route_stats_.in_host;
    return true;
  }
  const Gateway& down = gateway(dst, false);
  if (down.state < 0) return false;
  const auto ends = ints(down.ends_at, down.ends_n);
  if (std::binary_search(ends.begin(), ends.end(), endpoint_node_[src])) return false;
  const auto up_ball = ints(up.ball_at, up.ball_n), down_ball = ints(down.ball_at, down.ball_n);
  std::size_t shared = 0;
  int shared_state = -1;
  for (auto a = up_ball.begin(), b = down_ball.begin(); a != up_ball.end() && b != down_ball.end();) {
    if (*a < *b) {
      ++a;
    } else if (*b < *a) {
      ++b;
    } else {
      ++shared;
      shared_state = *a;
      ++a;
      ++b;
    }
  }
  const auto up_links = ints(up.links_at, up.links_n), down_links = ints(down.links_at, down.links_n);
  if (shared == 1 && shared_state == up.state && up.state == down.state) {
    out->assign(up_links.begin(), up_links.end());
    out->insert(out->end(), down_links.begin(), down_links.end());
    ++route_stats_.composed;
    return true;
  }
  if (shared != 0) return false;

  out->assign(up_links.begin(), up_links.end());
  if (!middle_into(up.state, down.state, up.width, dst, out)) {
    out->clear();
    return false;
  }
  out->insert(out->end(), down_links.begin(), down_links.end());
  ++route_stats_.composed;
  return true;
}

bool Network::middle_into(int from, int to, double width, int dst, std::vector<int>* out) const {
  const MiddleKey key{from, to, width};
  auto it = middle_cache_.find(key);
  if (it == middle_cache_.end()) {
    if (!search_dag(from, to, width, true)) return false;
    MiddleDag dag;
    dag.states = scratch_.queue;
    std::sort(dag.states.begin(), dag.states.end());
    dag.first.reserve(dag.states.size() + 1);
    for (int s : dag.states) {
      dag.first.push_back(static_cast<int>(dag.parents.size()));
      const auto& p = scratch_.parents[static_cast<std::size_t>(s)];
      dag.parents.insert(dag.parents.end(), p.begin(), p.end());
    }
    dag.first.push_back(static_cast<int>(dag.parents.size()));
    if (middle_cache_entries_ > kMiddleCacheEntries) {
      middle_cache_.clear();
      middle_cache_entries_ = 0;
    }
    middle_cache_entries_ += dag.states.size() + dag.parents.size();
    it = middle_cache_.emplace(key, std::move(dag)).first;
  }
  // D-mod-k over the middle, as walk_back does over a whole route.
  const MiddleDag& dag = it->second;
  const std::size_t middle_at = out->size();
  walk_ecmp(
      to, ecmp_number(dst),
      [&](int v) {  // the DAG's start (`from`) has no predecessors: the walk ends there
        const auto k =
            static_cast<std::size_t>(std::lower_bound(dag.states.begin(), dag.states.end(), v) - dag.states.begin());
        return std::span<const Arc>(dag.parents.data() + dag.first[k], dag.parents.data() + dag.first[k + 1]);
      },
      out);
  std::reverse(out->begin() + static_cast<std::ptrdiff_t>(middle_at), out->end());
  return true;
}

}  // namespace collsim::topology
