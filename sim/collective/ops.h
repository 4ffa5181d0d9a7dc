// Collective operations as nccl-tests defines them: names and the bus
// bandwidth factor (formulas.md, "nccl-tests bandwidth definitions").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace collsim::collective {

enum class Op { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kBroadcast, kReduce, kSendRecv };

// An op by name: "allreduce", ..., or as nccl-tests names its binary
// ("all_reduce_perf", "all_reduce_perf_mpi", "all_reduce": the suffix and
// underscores dropped). Nothing for other names.
std::optional<Op> parse_op(std::string_view name);
std::string_view op_name(Op op);
const std::vector<Op>& all_ops();

// busbw = algbw x factor, with n ranks. allreduce: 2(n-1)/n; allgather,
// reducescatter, alltoall: (n-1)/n; broadcast, reduce, sendrecv: 1.
double busbw_factor(Op op, int ranks);

// nccl-tests' timed iterations, its -n (src/common.cu `iters`, 20 by
// default): what a validation case's time is measured over unless it says
// (`iters:`), and the most collsim replays (`--iters`, engine/nccl_tests_loop.h;
// a named limit on the replay's work).
inline constexpr int kNcclTestsDefaultIters = 20;
inline constexpr int kMaxNcclTestsIters = 10000;

// Whether NCCL runs `op` on its point-to-point transport (all-to-all and
// send/recv are grouped sends and receives), where PXN applies.
inline bool is_point_to_point(Op op) { return op == Op::kAllToAll || op == Op::kSendRecv; }

// Whether `op` reduces (takes a reduction operator: nccl-tests' redop column).
inline bool reduces(Op op) { return op == Op::kAllReduce || op == Op::kReduceScatter || op == Op::kReduce; }
// Whether nccl-tests prints (and, with -o all, loops over) a reduction for
// `op`: the reducing collectives and sendrecv, whose test loops over ops
// like them (its sendrecv.cu).
inline bool takes_redop(Op op) { return reduces(op) || op == Op::kSendRecv; }
// Whether `op` has a root (nccl-tests' root column; -r all loops over it).
inline bool rooted(Op op) { return op == Op::kBroadcast || op == Op::kReduce; }

}  // namespace collsim::collective
