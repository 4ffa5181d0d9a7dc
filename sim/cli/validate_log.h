// `collsim validate --nccl-tests FILE`: one nccl-tests run's log (a user's
// own, or a published one) turned into a validation case, so that the
// simulated run is compared with it row by row, as the shipped tables are.
//
// What the log gives: the sizes and their out-of-place time and busbw, the
// data type and reduction, the ranks and the host each ran on, the GPU's
// name, the NCCL release (nccl-tests' nccl-library=, or NCCL's "NCCL
// version" INFO line), nccl-tests' -n and -z, its binary (2.16.7 on), and
// NCCL_ALGO, NCCL_PROTO and the other NCCL settings collsim models where
// NCCL's INFO lines report them (nccl_sets_of_log). What the user gives:
// the topology (--topology, with --set for NCCL settings the log does not
// print), the op where the log does not name its binary (--op),
// and where they differ from the log's, --nccl, --placement, --algo and
// --proto.
//
// Ranks to GPUs (named default, printed with the case): rank r runs on the
// next GPU of the NVLink domain of its host, hosts taken in order of their
// first rank, one host per domain (an HGX cluster: a node is a domain; an
// error when the topology has fewer domains than the log hosts, or a
// host's ranks do not fit). Grace-Blackwell GPUs (models gb200, gb300) are
// packed instead: a rack's NVLink domain holds 18 trays of 4 GPUs, each
// tray a host, filled in order (a run over 2 racks of 16 trays each is
// placed 18 + 14). --placement (e.g. domains:0, or gpus:0-7) states
// anything else.
#pragma once

#include <string>
#include <vector>

#include "sim/config/nccl_tests_log.h"
#include "sim/config/validation_file.h"
#include "sim/core/error.h"
#include "sim/topology/network.h"

namespace collsim::cli {

struct NcclTestsLogRequest {
  std::string log;                // the log's path
  std::string topology;           // --topology
  std::vector<std::string> sets;  // --set
  std::string op;                 // --op; empty: the binary the log names
  std::string algo;               // --algo: the run's NCCL_ALGO; empty: the log's (NCCL's INFO lines), else auto
  std::string proto;              // --proto: the run's NCCL_PROTO; empty: as algo
  std::string nccl;               // --nccl; empty: the log's
  std::string placement;          // --placement; empty: from the log's hosts (above)
  std::string metric = "time";    // --metric: time (us) or busbw (GB/s), out of place
};

// NCCL's settings the log reports (config::NcclTestsLog::nccl_settings)
// that collsim models, as the topology's --set entries, in the log's
// order: NCCL_BUFFSIZE, NCCL_IB_QPS_PER_CONNECTION, NCCL_IB_AR_THRESHOLD,
// NCCL_NVLS_ENABLE, NCCL_COLLNET_ENABLE, NCCL_PXN_DISABLE, NCCL_CROSS_NIC,
// NCCL_MIN_NCHANNELS, NCCL_MAX_NCHANNELS, NCCL_MIN_CTAS, NCCL_MAX_CTAS,
// NCCL_P2P_NET_CHUNKSIZE, NCCL_NCHANNELS_PER_NET_PEER,
// NCCL_P2P_PER_CHANNEL_NET_BW, NCCL_NVLS_CHUNKSIZE and
// NCCL_NVLSTREE_MAX_CHUNKSIZE (docs/topology-format.md, `nccl`). A field
// the user's --set also gives (or a --set of the whole `nccl` map) keeps
// the user's. `notes` says what was taken, what --set replaced and which
// NCCL_* settings collsim does not model (NCCL_ALGO and NCCL_PROTO are the
// case's algo and proto instead). Errors, at the log's line and column: a
// modelled setting that ranks report with two values, or whose value is
// not an integer (NCCL prints them as integers); settings collsim does not
// model may differ between ranks (a per-node NCCL_SOCKET_IFNAME).
struct LogNcclSettings {
  std::vector<std::string> sets;  // "nccl.buffsize=16777216"
  std::vector<SourceMark> marks;  // each entry's value in the log
  std::vector<std::string> notes;
};
Expected<LogNcclSettings> nccl_sets_of_log(const config::NcclTestsLog& log, const std::vector<std::string>& user_sets);

// An error of reading the topology with `settings.sets` that names one of
// them (as --set ENTRY) names the log's line and column instead; others
// pass unchanged.
Error at_log_setting(Error e, const LogNcclSettings& settings);

// The case for `request`, its topology already built into `network` (for
// the placement) with `settings` (above) before the user's --set. Errors
// name the flag, or the log's file:line:column.
Expected<config::ValidationCase> case_from_nccl_tests_log(const NcclTestsLogRequest& request,
                                                          const config::NcclTestsLog& log,
                                                          const topology::Network& network,
                                                          const LogNcclSettings& settings = {});

// "gpus:0-7,16-23" for GPUs in rank order (placement.h's gpus:LIST),
// consecutive runs as ranges.
std::string gpus_placement(const std::vector<int>& gpus);

}  // namespace collsim::cli
