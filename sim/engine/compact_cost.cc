#include "sim/engine/compact_cost.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace collsim::engine::detail {

// When each position's transfer of the last step finishes (schedule-relative
// seconds), given each position's start `g` and transfer time `c`.
std::vector<double> last_step_finish(const PlannedPass& pass, const std::vector<double>& g,
                                     const std::vector<double>& c) {
  const std::size_t p = c.size();
  const auto S = static_cast<std::size_t>(pass.steps);
  std::vector<double> f(p);
  if (!pass.in_order) {
    // prefix[k] = c_0 + ... + c_{k-1} over two turns of the ring.
    std::vector<double> prefix(2 * p + 1, 0.0);
    for (std::size_t k = 0; k < 2 * p; ++k) prefix[k + 1] = prefix[k] + c[k % p];
    const double turn = prefix[p];
    const std::size_t q = S / p, r = S % p;
    for (std::size_t i = 0; i < p; ++i) {
      const std::size_t end = i + 1 + p;  // positions end - r .. end - 1 of the doubled ring
      const double window = static_cast<double>(q) * turn + (prefix[end] - prefix[end - r]);
      const std::size_t first = (i + p - (S - 1) % p) % p;  // where the chunk ending here started
      f[i] = g[first] + window;
    }
    return f;
  }
  bool same_start = true;
  for (std::size_t i = 1; i < p && same_start; ++i) same_start = g[i] == g[0];
  if (same_start) {
    // Unrolled, f_{S-1}(i) = max over windows j..i (L = i - j + 1 <= S
    // positions, mod p) of g + (c_j + ... + c_i) + (S - L) x max(c_j..c_i): a
    // chain visits each position of its window and spends its extra steps
    // on the slowest. Windows longer than p (or past the first maximum)
    // never win, and within a stretch of equal maximum the shortest window
    // wins, so only "records" (positions slower than every one after them
    // up to i) are candidates: a monotonic deque over two turns of the ring.
    const std::size_t longest = std::min(S, p);
    std::vector<double> prefix(2 * p + 1, 0.0);
    for (std::size_t k = 0; k < 2 * p; ++k) prefix[k + 1] = prefix[k] + c[k % p];
    std::deque<std::size_t> records;  // positions of the doubled ring, c strictly decreasing front to back
    for (std::size_t k = 0; k < 2 * p; ++k) {
      while (!records.empty() && c[records.back() % p] <= c[k % p]) records.pop_back();
      records.push_back(k);
      while (k - records.front() + 1 > longest) records.pop_front();
      if (k < p) continue;
      double best = -std::numeric_limits<double>::infinity();
      for (std::size_t j : records) {
        const std::size_t L = k - j + 1;
        best = std::max(best, (prefix[k + 1] - prefix[j]) + static_cast<double>(S - L) * c[j % p]);
      }
      f[k - p] = g[0] + best;
    }
    return f;
  }
  for (std::size_t i = 0; i < p; ++i) f[i] = g[i] + c[i];
  std::vector<double> next(p);
  for (std::size_t step = 1; step < S; ++step) {
    const double* __restrict prev = f.data();
    const double* __restrict cost = c.data();
    double* __restrict out = next.data();
    out[0] = std::max(prev[p - 1], prev[0]) + cost[0];
    for (std::size_t i = 1; i < p; ++i) out[i] = std::max(prev[i - 1], prev[i]) + cost[i];  // vectorises
    f.swap(next);
  }
  return f;
}

double pass_chain_bound(const PlannedPass& pass, const std::vector<double>& c) {
  const std::size_t p = c.size();
  if (p == 0 || pass.steps <= 0) return 0;
  const auto S = static_cast<std::size_t>(pass.steps);
  std::vector<double> prefix(2 * p + 1, 0.0);
  for (std::size_t k = 0; k < 2 * p; ++k) prefix[k + 1] = prefix[k] + c[k % p];
  const std::size_t q = S / p, r = S % p;
  double window = 0;
  for (std::size_t end = p; end < 2 * p; ++end) window = std::max(window, prefix[end] - prefix[end - r]);
  return static_cast<double>(q) * prefix[p] + window;
}

PassTimes alpha_beta_times(const PlannedSchedule& s, const std::vector<double>& route_rate) {
  PassTimes times;
  for (const auto& phase : s.phases) {
    times.emplace_back();
    for (const auto& pass : phase) {
      std::vector<double> c(pass.rank.size());
      for (std::size_t i = 0; i < c.size(); ++i) {
        const double cap = i < pass.max_rate_Bps.size() ? pass.max_rate_Bps[i] : 0;
        c[i] = pass.latency_s[i] +
               pass.slice_bytes[i] / capped_rate(route_rate[static_cast<std::size_t>(pass.route[i])], cap);
      }
      times.back().push_back(std::move(c));
    }
  }
  return times;
}

void cost_compact(const Plan& plan, const PlannedSchedule& s, const PassTimes& times, std::vector<double>& link_bytes,
                  ScheduleResult& r) {
  std::vector<double> ready(static_cast<std::size_t>(s.ranks), s.launch_latency_s), sent = ready;
  double makespan = s.launch_latency_s;
  std::vector<int> users(plan.num_links(), 0), touched;  // transfers of one step per link
  for (std::size_t ph = 0; ph < s.phases.size(); ++ph) {
    const auto& phase = s.phases[ph];
    const std::vector<double> ready0 = ready, sent0 = sent;
    for (int l : touched) users[static_cast<std::size_t>(l)] = 0;
    touched.clear();
    r.shared_links |= count_step_link_users(plan, phase, users, touched);
    for (std::size_t pi = 0; pi < phase.size(); ++pi) {
      const auto& pass = phase[pi];
      if (pass.steps == 0) continue;
      const std::size_t p = pass.rank.size();
      std::vector<double> g(p);
      const std::vector<double>& c = times[ph][pi];
      for (std::size_t i = 0; i < p; ++i) {
        const auto rank = static_cast<std::size_t>(pass.rank[i]);
        g[i] = std::max(ready0[rank], sent0[rank]);
      }
      std::vector<double> f = last_step_finish(pass, g, c);
      // A connection under a rate cap (window, channel share, NCCL channels)
      // moves all its steps' slices at most at that rate, however the chain
      // of steps around the ring averages its positions' times, after its
      // first step's latency (a FIFO connection's later steps overlap
      // theirs, as on SimGrid: a longer cable still adds once).
      for (std::size_t i = 0; i < p && i < pass.max_rate_Bps.size(); ++i) {
        if (pass.max_rate_Bps[i] > 0)
          f[i] = std::max(
              f[i], g[i] + pass.latency_s[i] + pass.steps * pass.slices * pass.slice_bytes[i] / pass.max_rate_Bps[i]);
      }
      for (std::size_t i = 0; i < p; ++i) {
        makespan = std::max(makespan, f[i]);
        sent[static_cast<std::size_t>(pass.rank[i])] = f[i];
        ready[static_cast<std::size_t>(pass.rank[(i + 1) % p])] = f[i];
        const double bytes = pass.slice_bytes[i] * pass.slices * pass.steps;
        for (int l : plan.routes[static_cast<std::size_t>(pass.route[i])].links)
          link_bytes[static_cast<std::size_t>(l)] += bytes;
        r.bytes_sent += bytes;
        r.bytes_received += bytes;
      }
    }
  }
  r.time_s = makespan;
}

void cost_repeated(const Plan& plan, const PlannedSchedule& s, const std::vector<double>& alone_s,
                   const std::vector<double>& period_s, std::vector<double>& link_bytes, ScheduleResult& r) {
  const std::size_t n = s.transfers.size();
  // Where each transfer's connection was last used: earlier in its copy
  // (queue_after), or, heading its queue, the previous copy's last of it.
  const std::vector<int> tail = collective::queue_tails(s.transfers);
  // What one copy reads, packed (the transfers and their deps' own arrays
  // are 5x the bytes, and a copy of a 131,072-GPU NVLSTree slice streams
  // all of it: memory bandwidth sets the time): per transfer its own
  // time from ready (route latency + flow), its period, the transfer it
  // queues behind (>= 0: in this copy; -1 - j: transfer j of the previous
  // copy) and its deps, CSR.
  std::vector<double> own(n);
  std::vector<int> behind(n), dep_begin(n + 1), deps;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = s.transfers[i];
    own[i] = t.route_latency_s + alone_s[i];
    behind[i] = t.queue_after >= 0 ? t.queue_after : -1 - tail[i];
    dep_begin[i] = static_cast<int>(deps.size());
    deps.insert(deps.end(), t.deps.begin(), t.deps.end());
  }
  dep_begin[n] = static_cast<int>(deps.size());
  // The last copy is the channel's remainder (last_copy_fraction of every
  // transfer's bytes): its flows and periods scale by it, its latencies do
  // not. Copies 0 .. whole - 1 are identical.
  const double last = s.last_copy_fraction;
  const int whole = last < 1 ? s.repeats - 1 : s.repeats;
  std::vector<double> finish(n, s.launch_latency_s), previous(n, s.launch_latency_s);
  const bool one_per_connection =
      std::all_of(s.transfers.begin(), s.transfers.end(), [](const auto& t) { return t.queue_after < 0; });
  // Copy 0, then (`moves` > 0) the copy `moves` later: a transfer finishes
  // after its deps in its copy and its own time, or `moves` periods after
  // the copy before reached it. `from` and `into` may be the same vector.
  auto copy_pass = [&](const std::vector<double>& from, std::vector<double>& into, double moves) {
    for (std::size_t i = 0; i < n; ++i) {
      double ready = s.launch_latency_s;
      for (int d = dep_begin[i]; d < dep_begin[i + 1]; ++d)
        ready = std::max(ready, into[static_cast<std::size_t>(deps[static_cast<std::size_t>(d)])]);
      into[i] = moves > 0 ? std::max(ready + own[i], from[i] + moves * period_s[i]) : ready + own[i];
    }
  };
  if (one_per_connection) {
    // Each transfer is its connection's only one in a copy (trees, chains):
    // a path through the copies follows deps within a copy and moves to the
    // next copy only at one transfer (its connection), gaining its period.
    // Among identical copies the longest makes all its moves at one
    // transfer (the total is linear in how they are spread, so one of
    // longest period on its chain), so the last whole copy's finishes come
    // from two passes, in O(transfers + deps) instead of copies times that:
    // copy 0, then every transfer either whole - 1 periods after copy 0
    // reached it or after its deps. Equal to the recurrence below.
    copy_pass(finish, finish, 0);
    if (whole > 1) {
      copy_pass(finish, previous, whole - 1);
      finish.swap(previous);
    }
  }
  // The remainder copy after the last whole copy, whose finishes are
  // `base`: its flows and periods scale by `last`, its latencies do not.
  // Writes its finishes to `rest` and returns the latest.
  auto remainder = [&](const std::vector<double>& base, std::vector<double>& rest) {
    double latest = s.launch_latency_s;
    rest.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      double ready = s.launch_latency_s;
      for (int d = dep_begin[i]; d < dep_begin[i + 1]; ++d)
        ready = std::max(ready, rest[static_cast<std::size_t>(deps[static_cast<std::size_t>(d)])]);
      const int b = behind[i];
      const double before = b >= 0 ? rest[static_cast<std::size_t>(b)] : base[static_cast<std::size_t>(-1 - b)];
      rest[i] = std::max(ready + own[i] - (1 - last) * alone_s[i], before + last * period_s[i]);
      latest = std::max(latest, rest[i]);
    }
    return latest;
  };
  // Steady state, checked every few copies with both sides of the answer:
  // no transfer's finish grows by more per copy than the most any grew in
  // the last copy (the copies' map is monotone and moves by at most a
  // uniform shift of its input), so the last copy ends by
  //   upper = the latest finish now + copies left x that growth;
  // and a path that circles one connection's queue once per copy left
  // (gaining its transfers' periods) and then runs on within the last
  // copy (`after`: the longest path from a transfer to its copy's end)
  // ends at
  //   lower = the queue's last finish now + copies left x the queue's
  //           periods + after.
  // When the two meet (the slowest queue sets the pace and the latest
  // finish comes from it), that is the time, without the copies left.
  // With a remainder to run after them, the last whole copy's finishes are
  // bounded too: each transfer's at most `that growth` per copy left above
  // its finish now, and at least its queue's periods per copy left (a
  // queue's member waits for the previous copy's tail and its own
  // periods). The remainder run from both must meet as well.
  std::vector<double> after, cycle, queue_cycle, high, low, rest_high, rest_low;
  double extra = 0;       // what the copies not run add
  double cut_short = -1;  // the makespan, when copies and remainder were cut short
  for (int k = 0; k < whole && !one_per_connection; ++k) {
    if (k >= 3 && (k & 3) == 3) {
      if (after.empty()) {
        after.assign(n, 0.0);
        cycle.assign(n, 0.0);
        for (std::size_t i = n; i-- > 0;) {
          const double through = own[i] + after[i];
          for (int d = dep_begin[i]; d < dep_begin[i + 1]; ++d) {
            double& a = after[static_cast<std::size_t>(deps[static_cast<std::size_t>(d)])];
            a = std::max(a, through);
          }
          if (behind[i] >= 0) {
            double& a = after[static_cast<std::size_t>(behind[i])];
            a = std::max(a, period_s[i] + after[i]);
          }
        }
        for (std::size_t i = 0; i < n; ++i)
          cycle[i] = period_s[i] + (behind[i] >= 0 ? cycle[static_cast<std::size_t>(behind[i])] : 0.0);
        if (last < 1) {  // each transfer's whole queue's periods (queue_tails names the tail for heads only)
          std::vector<int> queue_tail(n);
          queue_cycle.resize(n);
          for (std::size_t i = 0; i < n; ++i) {
            queue_tail[i] = behind[i] >= 0 ? queue_tail[static_cast<std::size_t>(behind[i])] : -1 - behind[i];
            queue_cycle[i] = cycle[static_cast<std::size_t>(queue_tail[i])];
          }
        }
      }
      const double left = whole - k;
      double growth = 0, latest = 0, lower = 0;
      for (std::size_t i = 0; i < n; ++i) {
        growth = std::max(growth, finish[i] - previous[i]);
        latest = std::max(latest, finish[i]);
        if (behind[i] < 0) {  // a queue's head: its last transfer is -1 - behind
          const auto last_of_queue = static_cast<std::size_t>(-1 - behind[i]);
          lower = std::max(lower, finish[last_of_queue] + left * cycle[last_of_queue] + after[last_of_queue]);
        }
      }
      const double upper = latest + left * growth;
      if (upper - lower <= 1e-14 * upper) {
        if (last >= 1) {
          extra = upper - latest;
          break;
        }
        high.resize(n);
        low.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          high[i] = finish[i] + left * growth;
          low[i] = finish[i] + left * queue_cycle[i];
        }
        const double most = remainder(high, rest_high), least = remainder(low, rest_low);
        if (most - least <= 1e-14 * most) {
          cut_short = std::max(upper, most);
          break;
        }
      }
    }
    finish.swap(previous);
    const double* __restrict prev = previous.data();
    double* __restrict f = finish.data();
    for (std::size_t i = 0; i < n; ++i) {
      double ready = s.launch_latency_s;
      for (int d = dep_begin[i]; d < dep_begin[i + 1]; ++d)
        ready = std::max(ready, f[deps[static_cast<std::size_t>(d)]]);
      const double alone = ready + own[i];
      const int b = behind[i];
      if (b >= 0) {
        f[i] = std::max(alone, f[b] + period_s[i]);
      } else {
        f[i] = k == 0 ? alone : std::max(alone, prev[-1 - b] + period_s[i]);
      }
    }
  }
  double makespan = s.launch_latency_s;
  for (std::size_t i = 0; i < n; ++i) makespan = std::max(makespan, finish[i]);
  if (cut_short >= 0) {
    makespan = cut_short;
  } else if (last < 1) {
    makespan = std::max(makespan, remainder(finish, previous));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto& t = s.transfers[i];
    const double bytes = t.bytes * (whole + (last < 1 ? last : 0));
    for (int l : plan.routes[static_cast<std::size_t>(t.route)].links) link_bytes[static_cast<std::size_t>(l)] += bytes;
    r.bytes_sent += bytes;
    r.bytes_received += bytes;
  }
  r.time_s = makespan + extra;
}

}  // namespace collsim::engine::detail
