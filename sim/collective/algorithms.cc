#include "sim/collective/algorithms.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sim/collective/chain.h"
#include "sim/collective/direct.h"
#include "sim/collective/rhd.h"
#include "sim/collective/ring.h"

namespace collsim::collective {

std::vector<std::string> algorithms_for(Op op) {
  switch (op) {
    case Op::kAllReduce: return {"ring", "rhd"};
    case Op::kReduceScatter:
    case Op::kAllGather:
    case Op::kBroadcast:
    case Op::kReduce: return {"ring"};
    case Op::kAllToAll:
    case Op::kSendRecv: return {"direct"};
  }
  return {};
}

Expected<Schedule> build_schedule(Op op, const std::string& algo, int ranks, double bytes, int root) {
  if (root < 0 || root >= ranks) return make_error(fmt::format("root {} is not a rank (0-{})", root, ranks - 1));
  const auto available = algorithms_for(op);
  if (available.empty()) return make_error(fmt::format("{} is not implemented yet", op_name(op)));
  const std::string chosen = algo == "auto" ? available.front() : algo;
  if (chosen == "ring") {
    if (op == Op::kAllReduce) return ring_allreduce(ranks, bytes);
    if (op == Op::kReduceScatter) return ring_reducescatter(ranks, bytes);
    if (op == Op::kAllGather) return ring_allgather(ranks, bytes);
    if (op == Op::kBroadcast) return chain_broadcast(ranks, bytes, root);
    if (op == Op::kReduce) return chain_reduce(ranks, bytes, root);
  }
  if (chosen == "rhd" && op == Op::kAllReduce) return rhd_allreduce(ranks, bytes);
  if (chosen == "direct") {
    if (op == Op::kAllToAll) return direct_alltoall(ranks, bytes);
    if (op == Op::kSendRecv) return ring_sendrecv(ranks, bytes);
  }
  return make_error(fmt::format("no algorithm '{}' for {}; available: {}, auto", algo, op_name(op),
                                fmt::join(available, ", ")));
}

}  // namespace collsim::collective
