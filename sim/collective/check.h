// Symbolic execution of a schedule: instead of numbers, every buffer holds
// the set of ranks whose contribution it contains. A schedule is correct for
// all-reduce when, at the end, every rank holds every chunk with each rank's
// contribution exactly once.
#pragma once

#include "sim/collective/schedule.h"
#include "sim/core/error.h"

namespace collsim::collective {

// Executes the transfers in order (they are topologically sorted) and checks
// the all-reduce postcondition. The Error says which rank, chunk and slice is
// wrong and how.
Status check_allreduce(const Schedule& s);

}  // namespace collsim::collective
