#include "sim/collective/direct.h"

namespace collsim::collective {

Schedule direct_alltoall(int ranks, double bytes) {
  Schedule s = empty_schedule("alltoall", "direct", ranks, bytes, ranks * ranks);  // chunk src*p + dst
  s.point_to_point = true;
  s.all_pairs = true;  // expand() lists the transfers
  return s;
}

Schedule ring_sendrecv(int ranks, double bytes) {
  Schedule s = empty_schedule("sendrecv", "direct", ranks, bytes, ranks);  // chunk r = rank r's send buffer
  s.point_to_point = true;
  if (ranks < 2) return s;
  for (int r = 0; r < ranks; ++r) {
    Transfer t;
    t.src = r;
    t.dst = (r + 1) % ranks;
    t.bytes = bytes;
    t.chunk = r;
    t.action = Action::kCopy;
    s.transfers.push_back(t);
  }
  return s;
}

}  // namespace collsim::collective
