// Placement: which of a cluster's GPUs a job runs on, in rank order.
//
// Real runs rarely use every GPU: a benchmark on GB200 NVL72 racks commonly
// uses 64 of each rack's 72 GPUs (16 of 18 compute trays), and a shared
// cluster hands a job a subset. A placement names the subset:
//   all              every GPU, in the topology's order (the default);
//   packed:N         the first N GPUs (what --ranks N means);
//   per-domain:K     the first K GPUs (by position) of every NVLink domain;
//   spread:N         N GPUs taken round-robin over the NVLink domains (one
//                    per domain, then a second per domain, ...);
//   random:N[:SEED]  N GPUs drawn uniformly at random (seed 1 by default);
//   domains:LIST     every GPU of the NVLink domains listed (whole racks
//                    on NVL72, whole nodes on HGX), numbered in order of
//                    their first GPU: "0-3,6";
//   gpus:LIST        the GPUs listed, in that order: numbers and ranges,
//                    "0-63,72-135";
//   topology-aware:N N GPUs under as few leaf switches and NVLink domains
//                    as can hold them: the fullest-fitting group of
//                    domains behind one leaf (the first network switch on
//                    their GPUs' routes out), filled domain by domain, the
//                    freest domains first; when no leaf holds N, the leaves
//                    with the most free GPUs first.
// With other jobs on the cluster (`busy`), packed, spread, random,
// per-domain and topology-aware take only free GPUs; the lists take what
// they name (the caller refuses an overlap).
// Ranks follow the GPUs' order in the topology (their index), except for
// an explicit list, whose order is the rank order. NVLink domains are
// Network::nvlink_domain_of's; GPUs are numbered as `collsim topo` lists
// them (endpoint order).
#pragma once

#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/topology/network.h"

namespace collsim::topology {

struct Placement {
  std::vector<int> gpus;  // rank -> GPU endpoint
  // "512 of 576 GPUs: 64 in each of 8 NVLink domains" (or "... in 8 NVLink
  // domains, 60-68 each" when uneven).
  std::string where;
  bool everything = false;  // every GPU, in order
};

// Errors (bad input): an unknown form, a count that is not a whole number
// from `min_gpus` (a collective's 2) to the GPUs there are, a domain with fewer than K GPUs, a GPU
// out of range or listed twice. The message names the form expected and
// what was found; the caller names its input (a flag, a file's field).
// `busy`: per GPU, nonzero when another job holds it (empty: all free).
Expected<Placement> place(const Network& network, const std::string& spec, const std::vector<char>& busy = {},
                          int min_gpus = 1);

// The GPUs of each NVLink domain, domains in order of their first GPU.
std::vector<std::vector<int>> domains_of(const Network& network);

// The forms, for messages; and whether `spec` names one (before a network
// is at hand to check its numbers: a study's values).
inline constexpr const char* kPlacementForms =
    "all, packed:N, per-domain:K, spread:N, random:N[:SEED], topology-aware:N, domains:LIST or gpus:LIST";
bool placement_form_known(const std::string& spec);

}  // namespace collsim::topology
