// A collective compiled into data: a DAG of point-to-point transfers between
// ranks. Schedules never call an engine; any backend can run them, and the
// symbolic checker can execute them on symbolic data to prove they compute the
// operation they claim.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "sim/collective/protocol.h"

namespace collsim::collective {

// What the receiver does with the bytes: add them into its copy of the chunk
// (reduce) or overwrite its copy (copy). The reduction is fused into the
// receive, as NCCL's kernels do; its compute time is not modelled (HBM
// bandwidth far exceeds link bandwidth).
enum class Action { kReduce, kCopy };

struct Transfer {
  int src = 0;       // rank
  int dst = 0;       // rank
  double bytes = 0;  // payload
  int chunk = 0;     // the first of the operation's data chunks this carries
  int chunk_count = 1;  // it carries chunks [chunk, chunk + chunk_count)
  int slice = 0;     // which slice of that chunk (pipelining)
  Action action = Action::kCopy;
  // Indices of transfers that must have arrived before this one can start.
  std::vector<int> deps;
  // FIFO on a connection: this transfer's bytes enter the network only after
  // transfer `queue_after` (an earlier one on the same src->dst connection)
  // has finished; its latency still overlaps. -1: no queueing.
  int queue_after = -1;
};

struct Schedule {
  std::string op;    // nccl-tests name: "allreduce", ...
  std::string algo;  // "ring", ...
  int ranks = 0;
  double bytes = 0;  // the size nccl-tests prints: the whole buffer per rank
  int chunks = 0;    // how many data chunks the buffer is split into
  int root = 0;      // for rooted operations (broadcast, reduce)
  // In-network participants (the NVSwitch in NVLS) as ranks
  // ranks .. ranks + helper_ranks - 1: they start with no data and owe none.
  int helper_ranks = 0;
  // Protocol costs the engine adds (protocol.h); kNone = the network alone.
  Protocol protocol = Protocol::kNone;
  LatencyFamily latency_family = LatencyFamily::kRing;
  std::vector<Transfer> transfers;  // topologically ordered: deps point backwards

  double total_bytes() const;
};

// Appends transfers that queue in order (Transfer::queue_after) behind the
// previous one of the same stream on the same connection. Streams are the
// algorithm's independent channels (NVLS stages, the two trees, hier phases):
// different streams never wait for each other.
class QueuedAppender {
 public:
  explicit QueuedAppender(Schedule& s) : s_(s) {}
  // Returns the new transfer's index.
  int add(int stream, Transfer t);

 private:
  Schedule& s_;
  std::map<std::tuple<int, int, int>, int> last_;  // (stream, src, dst) -> transfer
};

// A schedule with its identity filled in and no transfers yet.
Schedule empty_schedule(std::string op, std::string algo, int ranks, double bytes, int chunks);

// How many pieces to cut `bytes` into: pieces of at least `min_piece_bytes`,
// but no more than `max_pieces` (and at least one).
int piece_count(double bytes, double min_piece_bytes, int max_pieces);

// Ranks grouped by domain id: ranks in rank order inside a group, groups in
// order of their first rank.
std::vector<std::vector<int>> group_by_domain(const std::vector<int>& domain_of_rank);

}  // namespace collsim::collective
