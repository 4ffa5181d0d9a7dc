#include "sim/collective/check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace collsim::collective {

namespace {

using Contributions = std::vector<bool>;  // [rank] = contains that rank's data

// The chunk count an op's schedule must use; 0 = any (the op treats every
// chunk alike, so algorithms may cut the buffer as they like).
int chunks_for(Op op, int p) {
  switch (op) {
    case Op::kAllToAll:
      return p * p;
    case Op::kSendRecv:
      return p;
    default:
      return 0;
  }
}

// Reduce-scatter and all-gather own chunks by rank: chunk k is rank k mod p's
// (channels cut each rank's part into pieces: chunk c * p + r is piece c).
bool chunks_owned_by_rank(Op op) { return op == Op::kReduceScatter || op == Op::kAllGather; }

// Which rank's data a chunk starts as, on rank r; -1 if r does not hold it.
int initial_owner(Op op, int p, int root, int r, int chunk) {
  switch (op) {
    case Op::kBroadcast:
      return r == root ? r : -1;
    case Op::kReduce:
    case Op::kAllReduce:
    case Op::kReduceScatter:
      return r;
    case Op::kAllGather:
      return chunk % p == r ? r : -1;
    case Op::kSendRecv:
      return chunk == r ? r : -1;
    case Op::kAllToAll:
      return chunk / p == r ? r : -1;
    default:
      return -1;
  }
}

// The contents rank r must end with for `chunk`, or nullopt if unconstrained.
std::optional<Contributions> expected_final(Op op, int p, int root, int r, int chunk) {
  Contributions all(p, true), none(p, false);
  auto only = [&](int who) {
    Contributions c = none;
    c[who] = true;
    return c;
  };
  switch (op) {
    case Op::kAllReduce:
      return all;
    case Op::kBroadcast:
      return only(root);
    case Op::kReduce:
      return r == root ? std::optional(all) : std::nullopt;
    case Op::kReduceScatter:
      return chunk % p == r ? std::optional(all) : std::nullopt;
    case Op::kAllGather:
      return only(chunk % p);
    case Op::kAllToAll:
      return chunk % p == r ? std::optional(only(chunk / p)) : std::nullopt;
    case Op::kSendRecv: {
      const int left = (r - 1 + p) % p;
      return chunk == left ? std::optional(only(left)) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string describe(const Contributions& c) {
  std::vector<int> ranks;
  for (std::size_t r = 0; r < c.size(); ++r)
    if (c[r]) ranks.push_back(static_cast<int>(r));
  return fmt::format("{{{}}}", fmt::join(ranks, ","));
}

// Answers "must transfer `earlier` have arrived before `later` starts?" by
// walking `later`'s dependencies backwards. Dependencies point to lower
// indices, so nothing below `earlier` needs a visit.
class HappensBefore {
 public:
  explicit HappensBefore(const Schedule& s) : s_(s), stamp_(s.transfers.size(), 0) {}

  bool operator()(int earlier, int later) {
    if (earlier < 0) return true;  // initial data: there before anything
    if (earlier >= later) return false;
    ++query_;
    stack_.assign(1, later);
    while (!stack_.empty()) {
      const int t = stack_.back();
      stack_.pop_back();
      for (int d : s_.transfers[t].deps) {
        if (d == earlier) return true;
        if (d < earlier || stamp_[d] == query_) continue;
        stamp_[d] = query_;
        stack_.push_back(d);
      }
    }
    return false;
  }

 private:
  const Schedule& s_;
  std::vector<unsigned> stamp_;
  unsigned query_ = 0;
  std::vector<int> stack_;
};

// What is known of one piece of one rank's buffer.
struct Piece {
  Contributions data;
  int copy_writer = -1;             // last transfer that overwrote it; -1 = initial contents
  std::vector<int> reduce_writers;  // transfers that added into it since then
  std::vector<int> readers;         // transfers that sent it since then
};

}  // namespace

Status check_schedule(Op op, const Schedule& compact_or_explicit) {
  if (compact_or_explicit.compact() || compact_or_explicit.repeated() || compact_or_explicit.all_pairs)
    return check_schedule(op, expand(compact_or_explicit));
  const Schedule& s = compact_or_explicit;
  const int p = s.ranks;
  const int everyone = p + s.helper_ranks;  // helpers (e.g. the NVSwitch) hold no data at first, owe none at the end
  if (s.root < 0 || s.root >= p) return make_error(fmt::format("root {} is not a rank (0-{})", s.root, p - 1));
  const int chunks = chunks_for(op, p) > 0 ? chunks_for(op, p) : s.chunks;
  if (chunks < 1 || s.chunks != chunks)
    return make_error(
        fmt::format("{} on {} ranks needs {} chunks, the schedule has {}", op_name(op), p, chunks, s.chunks));
  if (chunks_owned_by_rank(op) && chunks % p != 0) {
    return make_error(
        fmt::format("{} on {} ranks needs a multiple of {} chunks, the schedule has {}", op_name(op), p, p, chunks));
  }
  int slices = 1;
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    const Transfer& t = s.transfers[i];
    if (t.src < 0 || t.src >= everyone || t.dst < 0 || t.dst >= everyone || t.src == t.dst) {
      return make_error(
          fmt::format("transfer {} goes from rank {} to rank {} (ranks 0-{})", i, t.src, t.dst, everyone - 1));
    }
    if (t.chunk < 0 || t.chunk_count < 1 || t.chunk + t.chunk_count > chunks) {
      return make_error(
          fmt::format("transfer {} names chunks {}-{} of 0-{}", i, t.chunk, t.chunk + t.chunk_count - 1, chunks - 1));
    }
    for (int d : t.deps)
      if (d < 0 || d >= static_cast<int>(i)) {
        return make_error(fmt::format("transfer {} depends on {}, not before it", i, d));
      }
    if (t.queue_after >= static_cast<int>(i)) {
      return make_error(fmt::format("transfer {} queues after {}, not before it", i, t.queue_after));
    }
    slices = std::max(slices, t.slice + 1);
  }
  // state[rank][chunk * slices + slice]
  std::vector<std::vector<Piece>> state(everyone);
  for (int r = 0; r < everyone; ++r) {
    state[r].assign(static_cast<std::size_t>(chunks) * slices, Piece{Contributions(p, false), -1, {}, {}});
    for (int c = 0; c < chunks && r < p; ++c) {
      const int owner = initial_owner(op, p, s.root, r, c);
      if (owner < 0) continue;
      for (int sl = 0; sl < slices; ++sl) state[r][static_cast<std::size_t>(c) * slices + sl].data[owner] = true;
    }
  }
  // Transfers run in index order here, but only dependencies order them in
  // a real run: every read and write must be ordered after the writes (and,
  // for writes, the reads) of the same piece that came before it.
  HappensBefore ordered(s);
  auto apply = [&](const Transfer& t, int id, int chunk) -> Status {
    const std::size_t i = static_cast<std::size_t>(id);
    const std::size_t piece = static_cast<std::size_t>(chunk) * slices + t.slice;
    Piece& in = state[t.src][piece];
    Piece& out = state[t.dst][piece];
    if (std::none_of(in.data.begin(), in.data.end(), [](bool b) { return b; })) {
      return make_error(fmt::format("transfer {} ({} -> {}) sends chunk {} slice {}, which rank {} does not hold", i,
                                    t.src, t.dst, chunk, t.slice, t.src));
    }
    // A read must come after every write before it; additions commute, so
    // they need no order among themselves, but an overwrite needs everything.
    std::vector<int> writers = in.reduce_writers;
    writers.push_back(in.copy_writer);
    for (int w : writers) {
      if (!ordered(w, id)) {
        return make_error(
            fmt::format("transfer {} ({} -> {}) sends chunk {} slice {} without depending on transfer "
                        "{}, which wrote it",
                        i, t.src, t.dst, chunk, t.slice, w));
      }
    }
    std::vector<int> before = out.readers;
    before.push_back(out.copy_writer);
    if (t.action == Action::kCopy) before.insert(before.end(), out.reduce_writers.begin(), out.reduce_writers.end());
    for (int b : before) {
      if (!ordered(b, id)) {
        return make_error(
            fmt::format("transfer {} ({} -> {}) writes chunk {} slice {} unordered with transfer {}, "
                        "which also reads or writes it",
                        i, t.src, t.dst, chunk, t.slice, b));
      }
    }
    in.readers.push_back(id);
    if (t.action == Action::kCopy) {
      out.data = in.data;
      out.copy_writer = id;
      out.reduce_writers.clear();
      out.readers.clear();
    } else {
      for (int r = 0; r < p; ++r) {
        if (in.data[r] && out.data[r]) {
          return make_error(fmt::format("transfer {} ({} -> {}) adds rank {}'s contribution to chunk {} slice {} twice",
                                        i, t.src, t.dst, r, chunk, t.slice));
        }
        out.data[r] = out.data[r] || in.data[r];
      }
      out.reduce_writers.push_back(id);
    }
    return Ok{};
  };
  for (std::size_t i = 0; i < s.transfers.size(); ++i) {
    const Transfer& t = s.transfers[i];
    for (int chunk = t.chunk; chunk < t.chunk + t.chunk_count; ++chunk) {
      if (Status st = apply(t, static_cast<int>(i), chunk); !st) return st;
    }
  }
  for (int r = 0; r < p; ++r) {
    for (std::size_t piece = 0; piece < state[r].size(); ++piece) {
      const int chunk = static_cast<int>(piece / slices);
      const auto want = expected_final(op, p, s.root, r, chunk);
      if (want && *want != state[r][piece].data) {
        return make_error(fmt::format("{}: after the schedule rank {} holds {} in chunk {} slice {}, expected {}",
                                      op_name(op), r, describe(state[r][piece].data), chunk, piece % slices,
                                      describe(*want)));
      }
    }
  }
  return Ok{};
}

}  // namespace collsim::collective
