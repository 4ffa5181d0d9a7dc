// CollNetDirect (NCCL_ALGO CollNetDirect, NCCL_COLLNET_ENABLE=1): all-reduce
// with in-network reduction on InfiniBand switches (SHARP), as NCCL runs it
// across nodes of up to 8 GPUs (NCCL 2.30.7 src/device/all_reduce.h,
// runCollNetDirect; src/enqueue.cc limits it to 8 local GPUs). With g GPUs
// per NVLink domain, local GPU c of every domain owns portion c (n/g bytes):
//   1. every other GPU of its domain sends it portion c, which it adds to
//      its own ("direct": no chain);
//   2. it sends the domain's sum up the switches' aggregation tree of rail c
//      (the GPUs c of every domain): each switch adds what its children sent
//      and passes one sum to its parent; the root's sum comes back down the
//      same tree, each switch copying it to its children;
//   3. it sends the result to every other GPU of its domain.
// Per GPU: 2 (g-1) n / g over NVLink each way, n / g through its NIC each
// way, and n / g on each tree edge each way: on an idle fabric with NVLink
// rate B_nvl and NIC rate B_nic, t -> n max(2 (g-1) / (g B_nvl),
// 1 / (g B_nic)) for large n (pipelined slices), tested. Switches
// aggregate at line rate (ASSUMPTION: SHARP's streaming aggregation keeps
// up with its ports; NOT FOUND as a published rate).
//
// The tree itself comes from the topology (engine/sharp.h): the builder
// takes it as helper ranks (the switches) and their parents.
#pragma once

#include <vector>

#include "sim/collective/schedule.h"

namespace collsim::collective {

// One rail's aggregation tree, over helper ranks (switches).
struct CollNetRail {
  std::vector<int> helper;  // per tree switch: its helper index (0-based: rank = ranks + index)
  std::vector<int> parent;  // per tree switch: its parent's index in this rail, -1 for the root
  std::vector<int> entry;   // per domain (group_by_domain order): the tree switch its GPU sends to
};

struct CollNetParams {
  std::vector<CollNetRail> rails;  // one per local GPU index; empty when one domain
  // The local index of each rail's GPU, which owns its portion; empty: rail
  // c is GPU c's. Failed NICs leave out the GPUs without one (NCCL's heads,
  // one per NIC; engine/sharp.h).
  std::vector<std::size_t> positions;
  std::vector<int> helper_endpoint;  // per helper: its network endpoint (Schedule::helper_endpoint)
  // Per domain (group_by_domain order): its NVSwitch endpoint, -1 when it
  // has none (NVLS with CollNet needs one everywhere).
  std::vector<int> domain_nvswitch;
  double efficiency = 1.0;  // the tree's links' sharp_efficiency: tree transfers carry bytes / it
  // Named defaults, as the tree's (tree.h): slices of 512 KiB and the
  // remainder, at most 64 per portion, one slice repeated (false: written out).
  double min_slice_bytes = 512.0 * 1024;
  int max_slices = 64;
  bool pipelined = true;
};

// REQUIRES: ranks >= 1, bytes >= 0, every domain the same size, and, with
// several domains, one rail per local GPU index (or per entry of
// `positions`) whose `entry` covers them.
Schedule collnet_direct_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank,
                                  const CollNetParams& params);

// NVLS with CollNet (NCCL_ALGO NVLS across nodes, which NCCL runs only with
// CollNet on: src/enqueue.cc): NVLS inside each NVLink domain, SHARP
// between them. GPU c of each domain owns portion c:
//   1. the domain's NVSwitch reduce-loads portion c from its g GPUs and
//      returns the sum to GPU c (nvls.h);
//   2. GPU c sends it up rail c's aggregation tree and gets the result
//      back (as collnetdirect);
//   3. GPU c multicast-stores the result through the NVSwitch to all g.
// Per GPU over NVLink: n + n/g up and n/g + n down (NVLS's), through its NIC
// n/g each way. NCCL's latency: NVLS's 25 us plus one network latency,
// 18 us (protocol.h). REQUIRES: as collnet_direct_allreduce, several
// domains, a domain_nvswitch for each, 0 < nvls_efficiency <= 1.
Schedule nvls_collnet_allreduce(int ranks, double bytes, const std::vector<int>& domain_of_rank, double nvls_efficiency,
                                const CollNetParams& params);

}  // namespace collsim::collective
