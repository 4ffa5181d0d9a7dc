// SHARP aggregation trees for CollNetDirect (collective/collnet.h), from the
// topology. Rail c is the GPUs at position c of every NVLink domain the
// ranks span. Its tree is the union of the routes from each of them to the
// first (the anchor): with routes chosen by destination (D-mod-k,
// network.h), the routes into one GPU meet switch by switch, and every
// switch's parent is the next switch on the first route that reached it.
// The root is the switch the anchor's NIC is cabled to, where all the
// routes end; every tree edge carries each slice once each way, as SHARP's
// own trees do (a fat tree's spine is an inner node here).
#pragma once

#include <vector>

#include "sim/collective/algorithms.h"
#include "sim/collective/collnet.h"
#include "sim/core/error.h"
#include "sim/topology/network.h"

namespace collsim::engine {

// `gpus[r]`: the GPU endpoint of rank r. Errors (each a sentence naming what
// is missing): no switch that reduces (a link class with sharp_efficiency >
// 0), NVLink domains of different sizes, a route between two domains that
// crosses no switch, or a switch that does not reduce. (CollNetDirect's own
// limit, 8 GPUs per node, is the builder's: NVLS with CollNet has none.)
Expected<collective::CollNetParams> collnet_params(const topology::Network& network, const std::vector<int>& gpus);

// Sets params' collnet_enabled (the network's nccl.collnet) and either its
// trees (collnet_params) or why there are none (collnet_unavailable).
void set_collnet(collective::AlgoParams& params, const topology::Network& network, const std::vector<int>& gpus);

}  // namespace collsim::engine
