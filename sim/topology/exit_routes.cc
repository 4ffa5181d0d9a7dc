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
  std::vector<int> mark, depth, exit_group;
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
  const Network::Gateway& down = network_.gateway(dst, false);
  if (down.state < 0) return false;
  const int exit = exit_state_[static_cast<std::size_t>(g)];
  bool meets_exit = false;
  const Meets& summary = meets(dst);
  if (!summary.many) {  // what the ball checks below find, read from the destination's summary
    if (summary.shared) return false;
    for (int who : summary.sources)
      if (who >= 0 && who != excluded && group_of_[static_cast<std::size_t>(who)] == g) return false;
    return composed_tail(g, dst, summary.exits[0] == g || summary.exits[1] == g, tail);
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
      meets_exit = true;
    } else if (clashes(s)) {
      return false;
    }
  }
  for (std::size_t k = 0; k < down.ends_n; ++k)
    if (clashes(network_.gateway_ints_[down.ends_at + k])) return false;
  return composed_tail(g, dst, meets_exit, tail);
}

bool ExitRoutes::composed_tail(int g, int dst, bool meets_exit, std::vector<int>* tail) const {
  // The balls share the gateway or nothing, for every member alike
  // (Network::gateway_route's two composed cases).
  const Network::Gateway& down = network_.gateway(dst, false);
  const int exit = exit_state_[static_cast<std::size_t>(g)];
  if (meets_exit) {
    if (down.state != exit) return false;
  } else {
    if (!reach(g, down.state)) return false;
    // D-mod-k over the search, as Network::middle_into walks its DAG.
    network_.walk_ecmp(
        down.state, network_.ecmp_number(dst),
        [&](int v) {  // the gateway has no predecessors: the walk ends there
          const auto& p = storage_->parents[static_cast<std::size_t>(v)];
          return std::span<const Network::Arc>(p.data(), p.size());
        },
        tail);
    std::reverse(tail->begin(), tail->end());
  }
  const auto at = network_.gateway_ints_.begin() + static_cast<std::ptrdiff_t>(down.links_at);
  tail->insert(tail->end(), at, at + static_cast<std::ptrdiff_t>(down.links_n));
  ++network_.route_stats_.composed;
  return true;
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
    at(S.width, start) = exit_width_[static_cast<std::size_t>(g)];
    at(S.parents, start).clear();
    level_begin_ = 0;
    level_end_ = 1;
  }
  // Levels are expanded whole, so every state reached has all its
  // predecessors (they are one level up).
  while (at(S.stamp, goal) != search_id_) {
    if (level_begin_ == level_end_) return false;
    for (std::size_t i = level_begin_; i < level_end_; ++i) {
      const int su = queue_[i];
      const int du = at(S.depth, su);
      network_.for_each_next(su, start, true, [&](int t, int link) {
        if (at(S.stamp, t) != search_id_) {
          at(S.stamp, t) = search_id_;
          at(S.depth, t) = du + 1;
          at(S.parents, t).clear();
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

}  // namespace collsim::topology
