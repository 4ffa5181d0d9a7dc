// Recursive halving-doubling all-reduce (Rabenseifner; MPICH's
// allreduce_intra_reduce_scatter_allgather, formulas.md
// allreduce_rabenseifner_*): a reduce-scatter by recursive halving, then an
// all-gather by recursive doubling, among p' = the largest power of two <= p
// ranks. With p not a power of two, the r = p - p' extra ranks first fold
// their whole buffer into ranks 0..r-1 and get the result back at the end.
//
// On an idle non-blocking switch (derived from the steps):
//   power of two:  2 lg(p) a + 2 ((p-1)/p) n b            (formulas.md, exactly)
//   otherwise:     (2 lg(p') + 2) a + (2 ((p'-1)/p') + 2) n b
// MPICH's own comment writes (p-1)/p for the second case, an approximation.
#pragma once

#include "sim/collective/schedule.h"

namespace collsim::collective {

// REQUIRES: ranks >= 1, bytes >= 0.
Schedule rhd_allreduce(int ranks, double bytes);

}  // namespace collsim::collective
