// `collsim validate --nccl-tests FILE`: one nccl-tests run's log (a user's
// own, or a published one) turned into a validation case, so that the
// simulated run is compared with it row by row, as the shipped tables are.
//
// What the log gives: the sizes and their out-of-place time and busbw, the
// data type and reduction, the ranks and the host each ran on, the GPU's
// name, the NCCL release (nccl-tests' nccl-library=, or NCCL's "NCCL
// version" INFO line) and nccl-tests' -n. What the user gives: the
// topology (--topology, with --set for the run's NCCL settings), the op
// (--op: the log does not name its binary), and where they differ from the
// log's, --nccl and --placement.
//
// Ranks to GPUs (named default, printed with the case): rank r runs on the
// next GPU of the NVLink domain of its host, hosts taken in order of their
// first rank; one host per domain (an HGX cluster: a node is a domain)
// while there are as many domains as hosts and each host's ranks fit its
// domain, else the hosts packed into the domains in order. Grace-Blackwell
// GPUs (models gb200, gb300) are always packed: a rack's NVLink domain
// holds 18 trays of 4 GPUs, each tray a host. --placement (e.g. domains:0,
// or gpus:0-7) states anything else.
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
  std::string op;                 // --op
  std::string algo = "auto";      // --algo: the run's NCCL_ALGO
  std::string proto = "auto";     // --proto: the run's NCCL_PROTO
  std::string nccl;               // --nccl; empty: the log's
  std::string placement;          // --placement; empty: from the log's hosts (above)
  std::string metric = "time";    // --metric: time (us) or busbw (GB/s), out of place
};

// The case for `request`, its topology already built into `network` (for
// the placement). Errors name the flag, or the log's file:line:column.
Expected<config::ValidationCase> case_from_nccl_tests_log(const NcclTestsLogRequest& request,
                                                          const config::NcclTestsLog& log,
                                                          const topology::Network& network);

// "gpus:0-7,16-23" for GPUs in rank order (placement.h's gpus:LIST),
// consecutive runs as ranges.
std::string gpus_placement(const std::vector<int>& gpus);

}  // namespace collsim::cli
