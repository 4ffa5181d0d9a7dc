#include "sim/goodput/goodput.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <random>

namespace collsim::goodput {

double young_interval(double save_s, double mtbf_s) { return std::sqrt(2 * save_s * mtbf_s); }

double daly_interval(double save_s, double mtbf_s) {
  if (save_s >= 2 * mtbf_s) return mtbf_s;
  const double x = save_s / (2 * mtbf_s);
  return std::sqrt(2 * save_s * mtbf_s) * (1 + std::sqrt(x) / 3 + x / 9) - save_s;
}

double expected_segment_time(double segment_s, double recovery_s, double rate_per_s) {
  if (rate_per_s <= 0) return segment_s;
  return std::exp(rate_per_s * recovery_s) * std::expm1(rate_per_s * segment_s) / rate_per_s;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct RunTotals {
  double wall = 0;
  std::array<double, 6> time{};  // by RunState
  double& operator[](RunState s) { return time[static_cast<std::size_t>(s)]; }
  std::vector<int> by_cause;
  int planned = 0;
  bool finished = true;
};

// One run's state: the clock, where its time went, the units in repair.
class Run {
 public:
  Run(const GoodputParams& p, const std::vector<double>& cumulative, double fail_rate, std::mt19937_64& rng,
      std::vector<RunSpan>* timeline)
      : p_(p),
        cumulative_(cumulative),
        fail_rate_(fail_rate / 3600),
        plan_rate_(p.planned_per_hour / 3600),
        rng_(rng),
        timeline_(timeline) {
    end_ = p.horizon_s > 0 ? p.horizon_s : kWallCapFactor * p.target_train_s;
    totals_.by_cause.assign(p.causes.size(), 0);
  }

  RunTotals go(double interval) {
    const bool to_target = p_.horizon_s <= 0;
    double committed = 0;
    // Absolute times of the next interruptions; Poisson clocks are
    // memoryless, so they are drawn again only after one fired.
    double next_fail = t_ + draw(fail_rate_), next_plan = t_ + draw(plan_rate_);
    while (t_ < end_) {
      // Whole segments (work and save) before the next interruption or the
      // run's end, at once; a run to a target leaves its last one (no save).
      const double segment = interval + p_.save_s;
      double k = std::floor((std::min({next_fail, next_plan, end_}) - t_) / segment);
      if (to_target) k = std::min(k, std::ceil((p_.target_train_s - committed) / interval) - 1);
      if (k > 0) {
        for (double j = 0; timeline_ != nullptr && j < k && timeline_->size() < kTimelineSpans; ++j) {
          record(t_ + j * segment, t_ + j * segment + interval, RunState::kTrain);
          record(t_ + j * segment + interval, t_ + (j + 1) * segment, RunState::kCheckpoint);
        }
        t_ += k * segment;
        totals_[RunState::kTrain] += k * interval;
        totals_[RunState::kCheckpoint] += k * p_.save_s;
        committed += k * interval;
      }
      const double work = to_target ? std::min(interval, p_.target_train_s - committed) : interval;
      const bool last = to_target && work >= p_.target_train_s - committed;
      const double save = last ? 0 : p_.save_s;
      const double fail = next_fail - t_, plan = next_plan - t_;
      const double hit = std::min(fail, plan);
      if (hit >= work + save || t_ + hit >= end_) {  // the segment completes (or the run ends first)
        if (!spend(work, RunState::kTrain) || !spend(save, RunState::kCheckpoint)) break;
        committed += work;
        if (last) break;
        continue;
      }
      if (plan < fail) {  // planned: finish the work done (and any save in progress) with a save
        const double done = std::min(hit, work);
        if (!spend(done, RunState::kTrain) || !spend(p_.save_s, RunState::kCheckpoint)) break;
        committed += done;
        ++totals_.planned;
      } else {
        if (!spend(hit, RunState::kLost)) break;
        if (!fail_part()) break;
      }
      if (!recover()) break;
      next_fail = t_ + draw(fail_rate_);
      next_plan = t_ + draw(plan_rate_);
    }
    totals_.wall = t_;
    totals_.finished = !to_target || committed >= p_.target_train_s * (1 - 1e-12);
    return totals_;
  }

 private:
  double draw(double rate) { return rate > 0 ? std::exponential_distribution<double>(rate)(rng_) : kInf; }

  // Advances the clock by d into `bucket`, up to the run's end; false when
  // the end was reached.
  bool spend(double d, RunState state) {
    const double room = end_ - t_;
    const double used = std::min(d, room);
    record(t_, t_ + used, state);
    totals_[state] += used;
    t_ += used;
    return d < room;
  }

  // The first run's timeline (GoodputResult::timeline), adjacent spans of
  // one state merged, at most kTimelineSpans.
  void record(double t0, double t1, RunState state) {
    if (timeline_ == nullptr || !(t1 > t0)) return;
    if (!timeline_->empty() && timeline_->back().state == state && timeline_->back().t1 == t0) {
      timeline_->back().t1 = t1;
    } else if (timeline_->size() < kTimelineSpans) {
      timeline_->push_back({t0, t1, state});
    }
  }

  // An unexpected interruption now: counts its cause and, when a part of a
  // server failed, takes a unit for repair and waits for a free one.
  bool fail_part() {
    const double u = std::uniform_real_distribution<double>(0, cumulative_.back())(rng_);
    const auto cause =
        static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    const std::size_t c = std::min(cause, cumulative_.size() - 1);
    ++totals_.by_cause[c];
    if (p_.spares < 0 || !p_.causes[c].takes_hardware()) return true;
    while (!in_repair_.empty() && in_repair_.top() <= t_) in_repair_.pop();
    in_repair_.push(t_ + p_.repair_s);
    if (static_cast<int>(in_repair_.size()) <= p_.spares) return true;
    const double back = in_repair_.top();  // the first unit back replaces the failed one
    in_repair_.pop();
    return spend(back - t_, RunState::kWait);
  }

  // Restart and load; a failure during either starts them again.
  bool recover() {
    for (;;) {
      const double fail = draw(fail_rate_);
      if (fail >= p_.restart_s + p_.load_s)
        return spend(p_.restart_s, RunState::kRestart) && spend(p_.load_s, RunState::kLoad);
      if (!spend(std::min(fail, p_.restart_s), RunState::kRestart)) return false;
      if (fail > p_.restart_s && !spend(fail - p_.restart_s, RunState::kLoad)) return false;
      if (!fail_part()) return false;
    }
  }

  const GoodputParams& p_;
  const std::vector<double>& cumulative_;
  double fail_rate_, plan_rate_;  // per second
  std::mt19937_64& rng_;
  std::vector<RunSpan>* timeline_;
  double t_ = 0, end_ = 0;
  RunTotals totals_;
  std::priority_queue<double, std::vector<double>, std::greater<>> in_repair_;
};

Quantiles quantiles(std::vector<double>& v) {
  Quantiles q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;  // infinite when a run never finished
  q.mean = sum / static_cast<double>(v.size());
  auto at = [&](double f) { return v[static_cast<std::size_t>(std::floor(f * static_cast<double>(v.size() - 1)))]; };
  q.p10 = at(0.1);
  q.p50 = at(0.5);
  q.p90 = at(0.9);
  return q;
}

}  // namespace

double expected_events(const GoodputParams& p) {
  double per_hour = p.planned_per_hour;
  for (const auto& c : p.causes) per_hour += c.rate_per_hour;
  const double wall = p.horizon_s > 0 ? p.horizon_s : kWallCapFactor * p.target_train_s;
  return per_hour / 3600 * wall * std::max(1, p.samples);
}

GoodputResult simulate_goodput(const GoodputParams& p, const std::function<void(int, int)>& progress) {
  GoodputResult r;
  std::vector<double> cumulative;
  double rate = 0;  // per hour
  for (const auto& c : p.causes) cumulative.push_back(rate += c.rate_per_hour);
  r.mtbi_s = rate > 0 ? 3600 / rate : kInf;
  r.young_s = young_interval(p.save_s, r.mtbi_s);
  r.daly_s = daly_interval(p.save_s, r.mtbi_s);
  double interval = p.interval_s > 0 ? p.interval_s : r.daly_s;
  if (!std::isfinite(interval)) interval = p.horizon_s > 0 ? p.horizon_s : p.target_train_s;
  r.interval_s = std::max(1.0, std::ceil(interval / p.step_s - 1e-9)) * p.step_s;
  if (cumulative.empty()) cumulative.push_back(0);

  std::mt19937_64 rng(p.seed);
  r.interruptions.assign(p.causes.size(), 0);
  std::vector<double> walls;
  const int n = std::max(1, p.samples);
  for (int i = 0; i < n; ++i) {
    Run run(p, cumulative, rate, rng, i == 0 ? &r.timeline : nullptr);
    const RunTotals t = run.go(r.interval_s);
    const double train = t.time[0];
    r.ettr_samples.push_back(t.wall > 0 ? train / t.wall : 0);
    if (p.horizon_s <= 0) walls.push_back(t.finished ? t.wall : kInf);  // unfinished: beyond the cap
    if (!t.finished) ++r.unfinished;
    r.train_s += t.time[0] / n;
    r.checkpoint_s += t.time[1] / n;
    r.lost_s += t.time[2] / n;
    r.restart_s += t.time[3] / n;
    r.load_s += t.time[4] / n;
    r.wait_s += t.time[5] / n;
    for (std::size_t c = 0; c < t.by_cause.size(); ++c) r.interruptions[c] += static_cast<double>(t.by_cause[c]) / n;
    r.planned += static_cast<double>(t.planned) / n;
    if (progress && (i + 1) % 256 == 0) progress(i + 1, n);
  }
  r.ettr = quantiles(r.ettr_samples);
  r.wall_s = quantiles(walls);
  return r;
}

}  // namespace collsim::goodput
