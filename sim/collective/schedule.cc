#include "sim/collective/schedule.h"

#include <algorithm>
#include <cmath>

namespace collsim::collective {

int QueuedAppender::add(int stream, Transfer t) {
  auto [it, first] = last_.try_emplace({stream, t.src, t.dst}, -1);
  t.queue_after = it->second;
  it->second = static_cast<int>(s_.transfers.size());
  s_.transfers.push_back(std::move(t));
  return it->second;
}

Schedule empty_schedule(std::string op, std::string algo, int ranks, double bytes, int chunks) {
  Schedule s;
  s.op = std::move(op);
  s.algo = std::move(algo);
  s.ranks = ranks;
  s.bytes = bytes;
  s.chunks = chunks;
  return s;
}

int piece_count(double bytes, double min_piece_bytes, int max_pieces) {
  return std::clamp(static_cast<int>(std::ceil(bytes / min_piece_bytes)), 1, std::max(1, max_pieces));
}

std::vector<std::vector<int>> group_by_domain(const std::vector<int>& domain_of_rank) {
  std::vector<int> ids;
  std::vector<std::vector<int>> members;
  for (int r = 0; r < static_cast<int>(domain_of_rank.size()); ++r) {
    auto it = std::find(ids.begin(), ids.end(), domain_of_rank[r]);
    if (it == ids.end()) {
      ids.push_back(domain_of_rank[r]);
      members.emplace_back();
      it = ids.end() - 1;
    }
    members[it - ids.begin()].push_back(r);
  }
  return members;
}

double Schedule::total_bytes() const {
  double sum = 0;
  for (const auto& t : transfers) sum += t.bytes;
  return sum;
}

}  // namespace collsim::collective
