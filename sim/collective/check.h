// Symbolic execution of a schedule: instead of numbers, every buffer piece
// holds the set of ranks whose data it contains. Running the transfers in
// order and comparing the final state with the operation's definition proves
// a schedule computes what it claims, independently of how many bytes it moves.
#pragma once

#include "sim/collective/ops.h"
#include "sim/collective/schedule.h"
#include "sim/core/error.h"

namespace collsim::collective {

// Chunk numbering the checker expects for each op (p ranks):
//   allreduce: any number of chunks.
//   reducescatter, allgather: a multiple of p chunks; chunk k belongs to rank
//     k mod p (channels: chunk c * p + r is channel c's piece of rank r's
//     part). Reduce-scatter leaves each rank's chunks fully reduced on it;
//     all-gather starts with them on it and ends with all of them everywhere.
//   sendrecv: p chunks, chunk r is rank r's input.
//   alltoall: chunk s*p + d is the block rank s sends to rank d.
// Errors say which rank, chunk and slice is wrong, or which transfer sent
// data its source did not hold, or counted a contribution twice.
Status check_schedule(Op op, const Schedule& s);

inline Status check_allreduce(const Schedule& s) { return check_schedule(Op::kAllReduce, s); }

}  // namespace collsim::collective
