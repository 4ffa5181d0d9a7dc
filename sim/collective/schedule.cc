#include "sim/collective/schedule.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <unordered_map>

namespace collsim::collective {

int QueuedAppender::add(int stream, Transfer t) {
  const int next = static_cast<int>(s_.transfers.size());
  auto [last, fresh] = last_.try_emplace(IntTriple{stream, t.src, t.dst}, next);
  t.queue_after = fresh ? -1 : *last;
  *last = next;
  s_.transfers.push_back(std::move(t));
  return next;
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

ChunkPieces chunk_pieces(double bytes, double chunk_bytes, int max_pieces) {
  const double whole = bytes / chunk_bytes;
  ChunkPieces p;
  const double count = std::max(1.0, std::ceil(whole * (1 - 1e-9)));
  if (count > std::max(1, max_pieces)) {
    p.count = std::max(1, max_pieces);
    p.piece = p.last = bytes / p.count;
    return p;
  }
  p.count = static_cast<int>(count);
  if (p.count == 1) {
    p.piece = p.last = bytes;
    return p;
  }
  p.piece = chunk_bytes;
  p.last = bytes - (p.count - 1) * chunk_bytes;
  if (p.last >= chunk_bytes) p.piece = p.last = bytes / p.count;  // a hair above whole chunks: equal
  return p;
}

std::vector<std::vector<int>> group_by_domain(const std::vector<int>& domain_of_rank) {
  std::unordered_map<int, std::size_t> group_of;  // domain id -> index in members
  std::vector<std::vector<int>> members;
  for (int r = 0; r < static_cast<int>(domain_of_rank.size()); ++r) {
    auto [it, fresh] = group_of.try_emplace(domain_of_rank[r], members.size());
    if (fresh) members.emplace_back();
    members[it->second].push_back(r);
  }
  return members;
}

double Schedule::transfer_count() const {
  double n = static_cast<double>(transfers.size()) * std::max(1, repeats);
  if (all_pairs) n += static_cast<double>(ranks) * (ranks - 1);
  for (const auto& phase : ring_phases)
    for (const RingPass& pass : phase) n += static_cast<double>(pass.order.size()) * pass.steps * pass.slices;
  return n;
}

double Schedule::total_bytes() const {
  double sum = 0;
  for_each_connection_bytes(*this, [&](int, int, double bytes) { sum += bytes; });
  return sum;
}

namespace {

int mod(int a, int m) { return ((a % m) + m) % m; }

}  // namespace

void append_ring_phases(Schedule& s, const std::vector<std::vector<RingPass>>& phases, int first_stream,
                        QueuedAppender& queued, bool fifo_rings) {
  // Per rank: its last arrival and its own last send so far (-1: none).
  std::vector<int> ready(static_cast<std::size_t>(s.ranks), -1), sent(static_cast<std::size_t>(s.ranks), -1);
  for (std::size_t ph = 0; ph < phases.size(); ++ph) {
    const std::vector<int> ready0 = ready, sent0 = sent;  // the state every pass of this phase starts from
    for (const RingPass& pass : phases[ph]) {
      const int p = static_cast<int>(pass.order.size());
      const int slices = pass.slices;
      // This pass's previous step, per position and slice (indices into s.transfers).
      std::vector<int> prev(static_cast<std::size_t>(p) * slices, -1), cur(prev.size(), -1);
      for (int step = 0; step < pass.steps; ++step) {
        for (int pos = 0; pos < p; ++pos) {
          for (int slice = 0; slice < slices; ++slice) {
            Transfer t;
            t.src = pass.order[pos];
            t.dst = pass.order[mod(pos + 1, p)];
            t.bytes = pass.block_bytes / slices;
            const int block = mod(pos - step + pass.shift, p);
            t.chunk = pass.first_chunk + (pass.blocks_by_rank ? pass.order[block] : block) * pass.stride;
            t.chunk_count = pass.width;
            t.slice = slice;
            t.action = step < pass.reduce_steps ? Action::kReduce : Action::kCopy;
            if (step == 0) {
              const int r = ready0[static_cast<std::size_t>(t.src)], w = sent0[static_cast<std::size_t>(t.src)];
              if (r >= 0) t.deps.push_back(r);
              if (w >= 0 && w != r) t.deps.push_back(w);
            } else {
              const int arrival = prev[static_cast<std::size_t>(mod(pos - 1, p) * slices + slice)];
              const int own = prev[static_cast<std::size_t>(pos * slices + slice)];
              t.deps.push_back(arrival);
              if (pass.in_order && own != arrival) t.deps.push_back(own);
            }
            int id;
            if (pass.in_order) {  // one FIFO per connection and phase, as NCCL's per-peer queues
              id = queued.add(first_stream + static_cast<int>(ph), std::move(t));
            } else {
              // With fifo_rings one FIFO per connection of the pass: a
              // step's bytes wait for the previous step's (slices of one
              // step still share it); else slices, steps and channels
              // share their connection max-min fairly.
              if (fifo_rings && step > 0) t.queue_after = prev[static_cast<std::size_t>(pos * slices + slice)];
              id = static_cast<int>(s.transfers.size());
              s.transfers.push_back(std::move(t));
            }
            cur[static_cast<std::size_t>(pos * slices + slice)] = id;
          }
        }
        std::swap(prev, cur);
      }
      if (pass.steps == 0) continue;
      for (int pos = 0; pos < p; ++pos) {
        const int last = prev[static_cast<std::size_t>(pos * slices + slices - 1)];
        sent[static_cast<std::size_t>(pass.order[pos])] = last;
        ready[static_cast<std::size_t>(pass.order[mod(pos + 1, p)])] = last;
      }
    }
  }
}

const Schedule& body_of(const std::vector<Schedule>& list, std::size_t k) {
  const int of = list[k].transfers_of;
  return of >= 0 ? list[static_cast<std::size_t>(of)] : list[k];
}

Schedule materialize(const std::vector<Schedule>& list, std::size_t k) {
  if (list[k].transfers_of < 0) return list[k];
  Schedule out = body_of(list, k);
  out.protocol = list[k].protocol;
  return out;
}

Schedule protocol_variant(Schedule& s, int index, Protocol protocol) {
  // Every field but the transfers and ring phases: those are set aside
  // while the rest is copied, then put back.
  std::vector<Transfer> transfers = std::move(s.transfers);
  std::vector<std::vector<RingPass>> phases = std::move(s.ring_phases);
  Schedule out = s;
  s.transfers = std::move(transfers);
  s.ring_phases = std::move(phases);
  out.protocol = protocol;
  out.transfers_of = s.transfers_of >= 0 ? s.transfers_of : index;
  return out;
}

Schedule expand(const Schedule& s, bool fifo_rings) {
  if (s.repeated()) {
    Schedule out = s;
    out.repeats = 1;
    out.repeat_chunk_step = 0;
    const std::size_t n = s.transfers.size();
    const std::vector<int> tail = queue_tails(s.transfers);
    out.transfers.reserve(n * static_cast<std::size_t>(s.repeats));
    out.last_copy_fraction = 1;
    for (int k = 1; k < s.repeats; ++k) {
      const int base = k * static_cast<int>(n);
      for (std::size_t i = 0; i < n; ++i) {
        Transfer t = s.transfers[i];
        t.chunk += k * s.repeat_chunk_step;
        if (k + 1 == s.repeats) t.bytes *= s.last_copy_fraction;  // the remainder
        for (int& d : t.deps) d += base;
        t.queue_after = t.queue_after >= 0 ? t.queue_after + base : base - static_cast<int>(n) + tail[i];
        out.transfers.push_back(std::move(t));
      }
    }
    return out;
  }
  Schedule out = s;
  if (s.all_pairs) {
    out.all_pairs = false;
    out.transfers.reserve(static_cast<std::size_t>(s.transfer_count()));
    for (int src = 0; src < s.ranks; ++src) {
      // Nearest peer to the right first, as NCCL's p2p loops go, so that
      // not every rank targets rank 0 first.
      for (int k = 1; k < s.ranks; ++k) {
        Transfer t;
        t.src = src;
        t.dst = (src + k) % s.ranks;
        t.bytes = s.bytes / s.ranks;
        t.chunk = src * s.ranks + t.dst;
        out.transfers.push_back(t);
      }
    }
    return out;
  }
  if (!s.compact()) return out;
  out.ring_phases.clear();
  out.transfers.reserve(static_cast<std::size_t>(s.transfer_count()));
  QueuedAppender queued(out);
  append_ring_phases(out, s.ring_phases, 0, queued, fifo_rings);
  return out;
}

}  // namespace collsim::collective
