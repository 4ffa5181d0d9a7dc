#include "sim/goodput/failure_rates.h"

#include <array>

namespace collsim::goodput {

namespace {

struct PublishedCause {
  const char* name;
  Part part;
  int count;
};

// "The Llama 3 Herd of Models" (arXiv 2407.21783), Table 5, counts (the
// paper's percentage column does not equal count / 419; the counts do sum
// to 419).
constexpr std::array<PublishedCause, 18> kLlama3Causes{{
    {"faulty GPU", Part::kGpu, 148},
    {"GPU HBM3 memory", Part::kGpu, 72},
    {"software bug", Part::kSoftware, 54},
    {"network switch or cable", Part::kFabric, 35},
    {"host maintenance", Part::kHost, 32},
    {"GPU SRAM memory", Part::kGpu, 19},
    {"GPU system processor", Part::kGpu, 17},
    {"NIC", Part::kNic, 7},
    {"NCCL watchdog timeout", Part::kSoftware, 7},
    {"silent data corruption", Part::kGpu, 6},
    {"GPU thermal interface or sensor", Part::kGpu, 6},
    {"SSD", Part::kHost, 3},
    {"power supply", Part::kHost, 3},
    {"server chassis", Part::kHost, 2},
    {"I/O expansion board", Part::kHost, 2},
    {"dependency", Part::kSoftware, 2},
    {"CPU", Part::kHost, 2},
    {"system memory", Part::kHost, 2},
}};

// Parts of each kind in the Llama 3 job and in `counts`.
double llama3_parts(Part part) {
  switch (part) {
    case Part::kGpu:
    case Part::kSoftware:
      return Llama3Job::kGpus;
    case Part::kHost:
      return Llama3Job::kHosts;
    case Part::kNic:
    case Part::kFabric:
      return Llama3Job::kNics;
  }
  return 1;
}

double cluster_parts(Part part, const ClusterCounts& c) {
  switch (part) {
    case Part::kGpu:
    case Part::kSoftware:
      return c.gpus;
    case Part::kHost:
      return c.hosts;
    case Part::kNic:
    case Part::kFabric:
      return c.nics;
  }
  return 0;
}

}  // namespace

const char* part_name(Part part) {
  switch (part) {
    case Part::kGpu:
      return "GPU";
    case Part::kSoftware:
      return "software";
    case Part::kHost:
      return "host";
    case Part::kNic:
      return "NIC";
    case Part::kFabric:
      return "fabric";
  }
  return "?";
}

std::vector<FailureCause> failure_causes(const ClusterCounts& counts, double rate_scale) {
  std::vector<FailureCause> causes;
  causes.reserve(kLlama3Causes.size());
  for (const auto& p : kLlama3Causes) {
    const double per_part_hour = p.count / (llama3_parts(p.part) * Llama3Job::kHours);
    causes.push_back({p.name, p.part, p.count, per_part_hour * cluster_parts(p.part, counts) * rate_scale});
  }
  return causes;
}

double planned_rate_per_hour(double rate_scale) { return Llama3Job::kPlanned / Llama3Job::kHours * rate_scale; }

int default_gpus_per_host(const std::string& gpu_model) {
  return gpu_model.rfind("gb200", 0) == 0 || gpu_model.rfind("gb300", 0) == 0 ? 4 : 8;
}

}  // namespace collsim::goodput
