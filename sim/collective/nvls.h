// In-switch all-reduce (NVLS, NVLink SHARP) on one NVSwitch domain, as NCCL
// runs it: the buffer is split into p portions; GPU c owns portion c.
//   1. reduce-load: the switch reads portion c from every GPU (each GPU
//      sends n/p per portion, n in all) and adds them up;
//   2. the switch returns the sum of portion c to GPU c;
//   3. multicast store: GPU c writes the sum once to the switch, which
//      copies it to all p GPUs.
// Per GPU: n + n/p up and n/p + n down, so on an idle switch with per-GPU
// rate B: t = a + n (1 + 1/p) / B, busbw = 2(p-1)/(p+1) B.
// The switch takes part as helper rank p. `efficiency` is the link class's
// nvls_efficiency (NCCL's nvlsEfficiency): every transfer occupies its links
// for bytes / efficiency.
#pragma once

#include "sim/collective/schedule.h"

namespace collsim::collective {

// Pipelining: each portion is cut into slices and every stage's transfers
// queue in order per connection, so loads of slice j+1 overlap the multicast
// of slice j. The fill costs about 1/slices of the transfer time.
struct NvlsOptions {
  // Named defaults: slices of at least 512 KiB (NCCL Simple's step,
  // nccl-model.md) and at most 32 per portion, bounding the flow count
  // (2 p^2 x slices) while keeping the fill under ~3%.
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 32;
};

// REQUIRES: ranks >= 1, bytes >= 0, 0 < efficiency <= 1.
Schedule nvls_allreduce(int ranks, double bytes, double efficiency, const NvlsOptions& options = {});

}  // namespace collsim::collective
