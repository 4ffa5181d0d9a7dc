// Which algorithms implement which operation, and building their schedules.
// The CLI and future workload compiler go through here, never to a specific
// algorithm's header.
#pragma once

#include <string>
#include <vector>

#include "sim/collective/collnet.h"
#include "sim/collective/direct.h"
#include "sim/collective/nccl_tuner.h"
#include "sim/collective/nvls.h"
#include "sim/collective/ops.h"
#include "sim/collective/schedule.h"
#include "sim/core/error.h"

namespace collsim::collective {

// One row per (operation, algorithm) collsim implements; the CLI's lists,
// checks and the tuner's candidate sets all come from this table.
struct AlgorithmInfo {
  Op op;
  const char* name;  // as --algo takes it
  // NCCL itself runs it for this op (NCCL_ALGO Ring, Tree, NVLS, NVLSTree, PAT; its
  // point-to-point sends for all-to-all and send/recv). hier and rhd are
  // textbook algorithms NCCL does not run (research comparisons).
  bool nccl;
};
const std::vector<AlgorithmInfo>& algorithm_table();

// Whether `algo`'s transfers for `op` depend on the protocol it is built
// for: the tree and the ring's broadcast and reduce chains pipeline in
// NCCL's unit of each protocol (tree.h TreeOptions::protocol, chain.h
// ChainOptions::protocol); every other algorithm moves the same transfers
// whatever the protocol, so one build serves all its protocol candidates.
bool transfers_depend_on_protocol(Op op, const std::string& algo);

// Algorithm names for `op`, in order of preference (first = default).
std::vector<std::string> algorithms_for(Op op);
// The subset NCCL would run for `op` (the tuner's default candidates), in
// the same order; never empty.
std::vector<std::string> nccl_algorithms_for(Op op);

// Builds `algo` for `op`; "auto" picks the default. Error for an algorithm
// that does not exist for this op (listing the ones that do).
struct AlgoParams {
  int root = 0;                  // broadcast and reduce
  bool one_way = false;          // sendrecv of 2 ranks: rank 0 to rank 1 only (workload::CommCall::one_way)
  double nvls_efficiency = 0;    // of the GPU<->NVSwitch links; 0 = no in-switch reduction
  double nvls_chunk_cost_s = 0;  // of the same links (nvls.h NvlsChunking); 0 = none
  // NCCL_NVLS_CHUNKSIZE and NCCL_NVLSTREE_MAX_CHUNKSIZE in bytes
  // (config::NcclSpec, nvls.h NvlsChunkSettings); 0 = NCCL's own.
  NvlsChunkSettings nvls_chunk_settings{};
  Protocol protocol = Protocol::kNone;  // costs the engine adds (protocol.h)
  // NVLink domain of each rank (any id; equal = same NVSwitch); empty = all
  // in one. Rings get one channel per GPU of a domain when there are several
  // (ring.h rings_over_domains); NVLS needs exactly one.
  std::vector<int> domain_of_rank;
  // Per rank: its GPU reaches the fabric through a NIC of its own and is
  // the first rank on that NIC (engine/nccl_system.h nic_owners; empty: all
  // are), and whether NCCL's PXN is on (config::NcclSpec::pxn). Rings
  // across domains enter and leave them only there (ring.h); trees, NVLSTree
  // and CollNet keep their heads there.
  std::vector<char> rank_on_network;
  bool pxn = true;
  // The GPU model of the ranks (gpu_models.h names; empty: none named), for
  // NCCL's per-generation choices (nvls.h nccl_nvls_tree_chunking).
  std::string gpu_model;
  // CollNetDirect's aggregation trees (engine/sharp.h collnet_params), or
  // why there are none (then collnetdirect cannot run); and whether NCCL's
  // CollNet is enabled (config::NcclSpec::collnet: `auto` tries it only then).
  CollNetParams collnet;
  std::string collnet_unavailable = "collnetdirect needs the fabric's SHARP trees, which were not computed here";
  bool collnet_enabled = false;
  // NCCL's NVLS enabled (config::NcclSpec::nvls): a choice skips nvls and
  // nvlstree otherwise.
  bool nvls_enabled = true;
  // The NCCL release modelled (`--nccl`): its per-size choices where they
  // changed between releases (nvls.h nccl_nvls_tree_chunking).
  NcclRelease nccl = kDefaultNcclRelease;
  // NCCL's point-to-point split and its proxy's cost per operation (direct.h),
  // for all-to-all and send/recv.
  NcclP2pSetup p2p;
  // What one NCCL ring channel moves through the network, wire bytes/s
  // (protocol.h ring_channel_net_GBps); 0: no limit.
  double ring_channel_net_Bps = 0;
  // What each network message of a ring channel costs it: the link class's
  // qp_msg_cost over the connection's queue pairs (protocol.h
  // ring_channel_message_rate_Bps); 0: nothing.
  double ring_channel_msg_cost_s = 0;
  // NCCL_IB_AR_THRESHOLD (config::NcclSpec::ib_ar_threshold): only messages
  // larger than this pay that cost.
  double ring_channel_ar_threshold_bytes = kNcclIbArThresholdBytes;
  // NCCL_BUFFSIZE in bytes (config::NcclSpec::buffsize): the Simple tree's
  // chunk is one slot of it (tree.h).
  double nccl_buffsize = kNcclDefaultBuffsize;
  // NCCL's view of the ranks' nodes, for `auto`'s choice (nccl_tuner.h); a
  // GPU model NCCL's tables lack: the tuner simulates every candidate.
  NcclSystem nccl_system;
};

// Why nvls cannot run across NVLink domains here (the tuner's and the builder's word).
extern const char* const kNvlsAcrossDomains;

Expected<Schedule> build_schedule(Op op, const std::string& algo, int ranks, double bytes,
                                  const AlgoParams& params = {});

}  // namespace collsim::collective
