#include "sim/collective/ops.h"

#include <string>

namespace collsim::collective {

const std::vector<Op>& all_ops() {
  static const std::vector<Op> ops{Op::kAllReduce, Op::kAllGather, Op::kReduceScatter, Op::kAllToAll,
                                   Op::kBroadcast, Op::kReduce,    Op::kSendRecv};
  return ops;
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kAllReduce:
      return "allreduce";
    case Op::kAllGather:
      return "allgather";
    case Op::kReduceScatter:
      return "reducescatter";
    case Op::kAllToAll:
      return "alltoall";
    case Op::kBroadcast:
      return "broadcast";
    case Op::kReduce:
      return "reduce";
    case Op::kSendRecv:
      return "sendrecv";
  }
  return "?";
}

std::optional<Op> parse_op(std::string_view name) {
  for (std::string_view suffix : {"_perf_mpi", "_perf"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      name.remove_suffix(suffix.size());
      break;
    }
  }
  std::string plain;
  for (char c : name)
    if (c != '_') plain += c;
  for (Op op : all_ops())
    if (op_name(op) == plain) return op;
  return std::nullopt;
}

double busbw_factor(Op op, int ranks) {
  const double n = ranks;
  switch (op) {
    case Op::kAllReduce:
      return 2.0 * (n - 1) / n;
    case Op::kAllGather:
    case Op::kReduceScatter:
    case Op::kAllToAll:
      return (n - 1) / n;
    case Op::kBroadcast:
    case Op::kReduce:
    case Op::kSendRecv:
      return 1.0;
  }
  return 1.0;
}

}  // namespace collsim::collective
