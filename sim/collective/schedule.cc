#include "sim/collective/schedule.h"

namespace collsim::collective {

double Schedule::total_bytes() const {
  double sum = 0;
  for (const auto& t : transfers) sum += t.bytes;
  return sum;
}

}  // namespace collsim::collective
