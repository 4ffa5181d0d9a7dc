// Collectives where every transfer is independent:
//   all-to-all (direct): every rank sends its S/p block for each peer to that
//     peer at once; the network's max-min sharing decides who waits. Built
//     in all-pairs form (Schedule::all_pairs); expand() lists the transfers.
//   send/recv: as nccl-tests' sendrecv, rank r sends S bytes to r+1 and
//     receives from r-1, all at once.
#pragma once

#include "sim/collective/schedule.h"

namespace collsim::collective {

Schedule direct_alltoall(int ranks, double bytes);
Schedule ring_sendrecv(int ranks, double bytes);

}  // namespace collsim::collective
