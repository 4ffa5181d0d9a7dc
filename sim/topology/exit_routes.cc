#include "sim/topology/exit_routes.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "sim/topology/routing_steps.h"

namespace collsim::topology {

// What a destination's inbound ball meets, found once per destination
// and read for every group: the sources whose balls it touches and the
// groups whose gateway it holds (two of each at most; more: `many`).
struct ExitRoutes::Meets {
  std::array<int, 2> sources{-1, -1}, exits{-1, -1};
  bool shared = false, many = false;
};

struct ExitRoutes::Storage {
  std::uint32_t epoch = 0;  // the last stamp handed out
  bool lent = false;
  std::vector<std::uint32_t> mark_stamp, stamp, exit_stamp;  // per state: a mark's, a search's, an exit's
  std::vector<std::uint32_t> pulled;       // per state: the search that found its predecessors from its in-arcs
  std::vector<std::uint32_t> chain_stamp;  // per state: the search its chain was found in
  std::vector<int> chain;                  // per state: ExitRoutes::chain_of's answer
  std::vector<int> mark, depth, exit_group;
  std::vector<int> order;  // per state: its place in the search's queue
  std::vector<double> width;
  std::vector<std::vector<Network::Arc>> parents;  // equal-cost widest predecessors, in the search's order
  std::vector<std::uint32_t> meets_stamp;          // per GPU
  std::vector<Meets> meets;
  void fit(std::size_t states, std::size_t gpus) {
    if (mark.size() >= states && meets.size() >= gpus && epoch < 0xfffffff0u) return;
    states = std::max(states, mark.size());
    gpus = std::max(gpus, meets.size());
    mark_stamp.assign(states, 0);
    stamp.assign(states, 0);
    exit_stamp.assign(states, 0);
    pulled.assign(states, 0);
    chain_stamp.assign(states, 0);
    chain.assign(states, -1);
    order.assign(states, 0);
    mark.assign(states, -1);
    depth.assign(states, 0);
    exit_group.assign(states, -1);
    width.assign(states, 0);
    parents.resize(states);
    meets_stamp.assign(gpus, 0);
    meets.assign(gpus, Meets{});
    epoch = 0;
  }
};

ExitRoutes::Storage& ExitRoutes::thread_storage() {
  thread_local Storage storage;
  return storage;
}

ExitRoutes::~ExitRoutes() {
  if (!own_) storage_->lent = false;
}

ExitRoutes::ExitRoutes(const Network& network, const std::vector<int>& sources)
    : network_(network), group_of_(sources.size(), -1) {
  if (thread_storage().lent) {
    own_ = std::make_unique<Storage>();
    storage_ = own_.get();
  } else {
    storage_ = &thread_storage();
    storage_->lent = true;
  }
  storage_->fit(static_cast<std::size_t>(network.num_states_), static_cast<std::size_t>(network.num_gpus()));
  id_ = ++storage_->epoch;
  std::map<std::pair<int, double>, int> group_at;  // (gateway state, width) -> group
  prefix_at_.assign(sources.size(), 0);
  prefix_n_.assign(sources.size(), 0);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const Network::Gateway& up = network.gateway(sources[i], true);
    if (up.state < 0) continue;
    auto [it, fresh] = group_at.try_emplace({up.state, up.width}, static_cast<int>(groups_.size()));
    if (fresh) {
      groups_.emplace_back();
      exit_state_.push_back(up.state);
      exit_width_.push_back(up.width);
    }
    group_of_[i] = it->second;
    groups_[static_cast<std::size_t>(it->second)].push_back(static_cast<int>(i));
    prefix_at_[i] = static_cast<int>(prefix_links_.size());
    prefix_n_[i] = static_cast<int>(up.links_n);
    const auto at = network.gateway_ints_.begin() + static_cast<std::ptrdiff_t>(up.links_at);
    prefix_links_.insert(prefix_links_.end(), at, at + static_cast<std::ptrdiff_t>(up.links_n));
  }
  // Every state of a member's outbound ball but its gateway, and the
  // member's own node, marked with the member (kShared: several).
  Storage& S = *storage_;
  auto mark_state = [&](int state, int i) {
    const auto k = static_cast<std::size_t>(state);
    if (S.mark_stamp[k] != id_) {
      S.mark_stamp[k] = id_;
      S.mark[k] = i;
    } else if (S.mark[k] != i) {
      S.mark[k] = kShared;
    }
  };
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const int g = group_of_[i];
    if (g < 0) continue;
    const Network::Gateway& up = network.gateway(sources[i], true);
    for (std::size_t k = 0; k < up.ball_n; ++k) {
      const int s = network.gateway_ints_[up.ball_at + k];
      if (s != exit_state_[static_cast<std::size_t>(g)]) mark_state(s, static_cast<int>(i));
    }
    mark_state(network.endpoint_node_[static_cast<std::size_t>(sources[i])], static_cast<int>(i));
  }
  for (std::size_t g = 0; g < exit_state_.size(); ++g) {  // a state that is two groups' gateway: kShared
    const auto k = static_cast<std::size_t>(exit_state_[g]);
    const bool fresh = S.exit_stamp[k] != id_;
    S.exit_stamp[k] = id_;
    S.exit_group[k] = fresh ? static_cast<int>(g) : kShared;
  }
}

const ExitRoutes::Meets& ExitRoutes::meets(int dst) const {
  Storage& S = *storage_;
  const auto d = static_cast<std::size_t>(dst);
  if (S.meets_stamp[d] == id_) return S.meets[d];
  S.meets_stamp[d] = id_;
  Meets& m = S.meets[d];
  m = Meets{};
  auto add = [&](std::array<int, 2>& to, int x) {
    if (to[0] == x || to[1] == x) return;
    if (to[0] < 0) {
      to[0] = x;
    } else if (to[1] < 0) {
      to[1] = x;
    } else {
      m.many = true;
    }
  };
  auto touch = [&](int state) {
    const int who = mark(state);
    if (who == kShared) m.shared = true;
    if (who >= 0) add(m.sources, who);
  };
  const Network::Gateway& down = network_.gateway(dst, false);
  touch(network_.endpoint_node_[d]);
  for (std::size_t k = 0; k < down.ball_n; ++k) {
    const int s = network_.gateway_ints_[down.ball_at + k];
    touch(s);
    const auto ks = static_cast<std::size_t>(s);
    if (S.exit_stamp[ks] == id_) {
      if (S.exit_group[ks] == kShared) m.many = true;
      add(m.exits, S.exit_group[ks]);
    }
  }
  for (std::size_t k = 0; k < down.ends_n; ++k) touch(network_.gateway_ints_[down.ends_at + k]);
  return m;
}

std::size_t ExitRoutes::count_groups(const Network& network, const std::vector<int>& sources, std::size_t* ungrouped) {
  std::vector<std::pair<int, double>> exits;
  *ungrouped = 0;
  for (int src : sources) {
    const Network::Gateway& up = network.gateway(src, true);
    if (up.state < 0) {
      ++*ungrouped;
    } else {
      exits.emplace_back(up.state, up.width);
    }
  }
  std::sort(exits.begin(), exits.end());
  return static_cast<std::size_t>(std::unique(exits.begin(), exits.end()) - exits.begin());
}

int ExitRoutes::mark(int s) const {
  const auto k = static_cast<std::size_t>(s);
  return storage_->mark_stamp[k] == id_ ? storage_->mark[k] : -1;
}

std::span<const int> ExitRoutes::prefix(int i) const {
  const auto k = static_cast<std::size_t>(i);
  return {prefix_links_.data() + prefix_at_[k], static_cast<std::size_t>(prefix_n_[k])};
}

bool ExitRoutes::tail_into(int g, int dst, int excluded, std::vector<int>* tail) const {
  tail->clear();
  TailParts& parts = scratch_parts_;
  if (!tail_parts(g, dst, excluded, &parts)) return false;
  if (parts.chain >= 0) {
    const auto chain = chain_links(parts.chain);
    tail->insert(tail->end(), chain.begin(), chain.end());
  }
  tail->insert(tail->end(), parts.chosen.rbegin(), parts.chosen.rend());
  tail->insert(tail->end(), parts.into.begin(), parts.into.end());
  return true;
}

bool ExitRoutes::tail_parts(int g, int dst, int excluded, TailParts* parts) const {
  parts->chosen.clear();
  parts->chain = -1;
  parts->into = {};
  bool meets_exit = false;
  if (!composes(g, dst, excluded, &meets_exit)) return false;
  return composed_parts(g, dst, meets_exit, parts);
}

bool ExitRoutes::composes(int g, int dst, int excluded, bool* meets_exit) const {
  const Network::Gateway& down = network_.gateway(dst, false);
  if (down.state < 0) return false;
  const int exit = exit_state_[static_cast<std::size_t>(g)];
  *meets_exit = false;
  const Meets& summary = meets(dst);
  if (!summary.many) {  // what the ball checks below find, read from the destination's summary
    if (summary.shared) return false;
    for (int who : summary.sources)
      if (who >= 0 && who != excluded && group_of_[static_cast<std::size_t>(who)] == g) return false;
    *meets_exit = summary.exits[0] == g || summary.exits[1] == g;
    return true;
  }
  auto clashes = [&](int state) {
    const int who = mark(state);
    return who == kShared || (who >= 0 && who != excluded && group_of_[static_cast<std::size_t>(who)] == g);
  };
  // dst inside a member's ball: that member's route stays in its host.
  if (clashes(network_.endpoint_node_[static_cast<std::size_t>(dst)])) return false;
  for (std::size_t k = 0; k < down.ball_n; ++k) {
    const int s = network_.gateway_ints_[down.ball_at + k];
    if (s == exit) {
      *meets_exit = true;
    } else if (clashes(s)) {
      return false;
    }
  }
  for (std::size_t k = 0; k < down.ends_n; ++k)
    if (clashes(network_.gateway_ints_[down.ends_at + k])) return false;
  return true;
}

bool ExitRoutes::composed_parts(int g, int dst, bool meets_exit, TailParts* parts) const {
  // The balls share the gateway or nothing, for every member alike
  // (Network::gateway_route's two composed cases).
  const Network::Gateway& down = network_.gateway(dst, false);
  const int exit = exit_state_[static_cast<std::size_t>(g)];
  if (meets_exit) {
    if (down.state != exit) return false;
  } else {
    if (!reach(g, down.state)) return false;
    // D-mod-k over the search, as Network::middle_into walks its DAG: a
    // pick at every state with several predecessors, until the rest is
    // one path (where the walk would only ever take the first).
    std::size_t digits = network_.ecmp_number(dst);
    int v = down.state;
    int chain = chain_of(v);
    while (chain < 0) {
      const auto& options = storage_->parents[static_cast<std::size_t>(v)];
      const Network::Arc& pick = options[digits % options.size()];
      digits /= options.size();
      parts->chosen.push_back(pick.link);
      v = pick.to;
      chain = chain_of(v);
    }
    parts->chain = chain;
  }
  parts->into = {network_.gateway_ints_.data() + down.links_at, down.links_n};
  ++network_.route_stats_.composed;
  return true;
}

int ExitRoutes::chain_of(int v) const {
  Storage& S = *storage_;
  auto at = [](auto& a, int i) -> auto& { return a[static_cast<std::size_t>(i)]; };
  // Climb while one predecessor leads on and the answer is not known.
  climb_.clear();
  int u = v;
  int known = -1;
  while (at(S.chain_stamp, u) != search_id_) {
    const auto& options = at(S.parents, u);
    if (u == queue_.front()) {  // the search's start: the empty chain
      at(S.chain_stamp, u) = search_id_;
      at(S.chain, u) = static_cast<int>(chain_at_.size());
      chain_at_.push_back(static_cast<int>(chain_links_.size()));
      chain_n_.push_back(0);
      break;
    }
    if (options.size() != 1) {
      at(S.chain_stamp, u) = search_id_;
      at(S.chain, u) = -1;
      break;
    }
    climb_.push_back(u);
    u = options.front().to;
  }
  known = at(S.chain, u);
  // Back down: each state's chain is its predecessor's and one link.
  for (auto it = climb_.rbegin(); it != climb_.rend(); ++it) {
    const int w = *it;
    at(S.chain_stamp, w) = search_id_;
    if (known >= 0) {
      const auto k = static_cast<std::size_t>(known);
      const int from = chain_at_[k], n = chain_n_[k];
      known = static_cast<int>(chain_at_.size());
      chain_at_.push_back(static_cast<int>(chain_links_.size()));
      chain_n_.push_back(n + 1);
      for (int i = 0; i < n; ++i) chain_links_.push_back(chain_links_[static_cast<std::size_t>(from + i)]);
      chain_links_.push_back(at(S.parents, w).front().link);
    }
    at(S.chain, w) = known;
  }
  return at(S.chain, v);
}

std::span<const int> ExitRoutes::chain_links(int chain) const {
  const auto k = static_cast<std::size_t>(chain);
  return {chain_links_.data() + chain_at_[k], static_cast<std::size_t>(chain_n_[k])};
}

bool ExitRoutes::reach(int g, int goal) const {
  Storage& S = *storage_;
  auto at = [](auto& v, int i) -> auto& { return v[static_cast<std::size_t>(i)]; };
  const int start = exit_state_[static_cast<std::size_t>(g)];
  if (search_group_ != g) {
    search_group_ = g;
    search_id_ = ++S.epoch;
    queue_.assign(1, start);
    at(S.stamp, start) = search_id_;
    at(S.depth, start) = 0;
    at(S.order, start) = 0;
    chain_at_.clear();
    chain_n_.clear();
    chain_links_.clear();
    at(S.width, start) = exit_width_[static_cast<std::size_t>(g)];
    at(S.parents, start).clear();
    level_begin_ = 0;
    level_end_ = 1;
  }
  // Levels are expanded whole, so every state reached has all its
  // predecessors (they are one level up).
  while (at(S.stamp, goal) != search_id_) {
    if (at(S.pulled, goal) == search_id_) return true;
    if (level_begin_ == level_end_) return false;
    if (pull(goal)) return true;
    for (std::size_t i = level_begin_; i < level_end_; ++i) {
      const int su = queue_[i];
      const int du = at(S.depth, su);
      network_.for_each_next(su, start, true, [&](int t, int link) {
        if (at(S.stamp, t) != search_id_) {
          at(S.stamp, t) = search_id_;
          at(S.depth, t) = du + 1;
          at(S.parents, t).clear();
          at(S.order, t) = static_cast<int>(queue_.size());
          queue_.push_back(t);
        } else if (at(S.depth, t) != du + 1) {
          return;
        }
        routing_detail::relax_widest(at(S.parents, t), at(S.width, t), Network::Arc{su, link}, at(S.width, su),
                                     network_.links_[static_cast<std::size_t>(link)].rate_Bps);
      });
    }
    level_begin_ = level_end_;
    level_end_ = queue_.size();
  }
  return true;
}

bool ExitRoutes::pull(int goal) const {
  Storage& S = *storage_;
  auto at = [](auto& v, int i) -> auto& { return v[static_cast<std::size_t>(i)]; };
  const int start = queue_.front();
  const int level = at(S.depth, queue_[level_begin_]);
  // Every state within `level` hops is stamped and `goal` is not, so it
  // lies one level further if a state of the deepest level steps to it.
  // Expanding that level would relax those steps in queue order, and each
  // state's in its order of out-arcs, which its in-arcs keep (network.h).
  pulled_.clear();
  network_.for_each_prev(goal, start, true, [&](int su, int link) {
    if (at(S.stamp, su) == search_id_ && at(S.depth, su) == level)
      pulled_.push_back({at(S.order, su), Network::Arc{su, link}});
  });
  if (pulled_.empty()) return false;
  std::stable_sort(pulled_.begin(), pulled_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto& parents = at(S.parents, goal);
  parents.clear();
  for (const auto& [place, arc] : pulled_)
    routing_detail::relax_widest(parents, at(S.width, goal), arc, at(S.width, arc.to),
                                 network_.links_[static_cast<std::size_t>(arc.link)].rate_Bps);
  at(S.pulled, goal) = search_id_;
  return true;
}

}  // namespace collsim::topology
