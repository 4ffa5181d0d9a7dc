// Failure clocks of a training cluster's parts (issue 17): how often each
// kind of part interrupts a synchronous training job, scaled by how many of
// it the cluster has.
//
// Source of the default rates: Meta's Llama 3 405B pre-training, "The Llama
// 3 Herd of Models" (arXiv 2407.21783), Table 5: 419 unexpected
// interruptions of one 16,384-GPU job (2,048 servers of 8 H100, one 400G
// NIC per GPU) in a 54-day snapshot, by root cause, plus 47 planned ones.
// Each cause's count is divided by the number of parts of its kind in that
// job and by 54 days, giving a rate per part-hour. ASSUMPTIONS (what each
// cause scales with, which the paper does not say):
//   - GPU causes (faulty GPU, HBM3, SRAM, GSP, thermal, silent data
//     corruption) and software causes (software bug, NCCL watchdog,
//     dependency) scale with the GPUs: more ranks, more chances;
//   - host causes (maintenance, SSD, power supply, chassis, I/O board, CPU,
//     system memory) with the servers;
//   - NIC causes with the scale-out NICs, and network switch or cable
//     causes with them too (a Clos fabric's switch ports and cables grow in
//     proportion to its endpoints);
//   - planned interruptions are the job's (47 in 54 days at any size).
// A failed GPU, host or NIC takes its server (its blast radius, goodput.h)
// out of service until repaired; a switch or cable is routed around and a
// software failure takes nothing out.
#pragma once

#include <string>
#include <vector>

namespace collsim::goodput {

enum class Part { kGpu, kSoftware, kHost, kNic, kFabric };
const char* part_name(Part part);  // "GPU", "software", "host", "NIC", "fabric"

// The parts of the cluster the job runs on, counted.
struct ClusterCounts {
  int gpus = 0;
  int hosts = 0;  // servers (GB200: compute trays)
  int nics = 0;   // scale-out NIC ports
  int gpus_per_host = 0;
  int gpus_per_domain = 0;  // NVLink domain
};

struct FailureCause {
  std::string name;  // Table 5's root cause, e.g. "faulty GPU"
  Part part = Part::kGpu;
  int llama3_count = 0;      // interruptions in the 54-day snapshot
  double rate_per_hour = 0;  // for the cluster it was scaled to
  bool takes_hardware() const { return part == Part::kGpu || part == Part::kHost || part == Part::kNic; }
};

// The Llama 3 job's size and window, the denominators of the rates.
struct Llama3Job {
  static constexpr int kGpus = 16384, kHosts = 2048, kNics = 16384;
  static constexpr double kHours = 54 * 24;
  static constexpr int kUnexpected = 419, kPlanned = 47;
};

// Every cause of Table 5 with its rate for `counts`, each multiplied by
// `rate_scale` (1 = Llama 3's fleet; a what-if or a younger fleet's burn-in
// changes it). Preconditions: counts non-negative, rate_scale >= 0.
std::vector<FailureCause> failure_causes(const ClusterCounts& counts, double rate_scale = 1.0);

// Planned interruptions per hour of the job (Llama 3: 47 in 54 days).
double planned_rate_per_hour(double rate_scale = 1.0);

// GPUs per server by GPU model when the topology does not say: GB200 and
// GB300 compute trays hold 4 GPUs (NVIDIA GB200 NVL72: 18 trays of 4 GPUs
// and 2 Grace CPUs); HGX/DGX baseboards hold 8.
int default_gpus_per_host(const std::string& gpu_model);

}  // namespace collsim::goodput
