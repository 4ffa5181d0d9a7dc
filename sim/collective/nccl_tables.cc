#include "sim/collective/nccl_tables.h"

namespace collsim::collective {

namespace {

// src/graph/search.cc speed arrays (GB/s), by the first tag that carries them.
// Volta and Ampere: unchanged from 2.18 to 2.30.7.
constexpr double kIntra[] = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
constexpr double kInter[] = {48, 30, 28, 24, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3, 2.4, 1.2, 0.24, 0.12};
// Hopper: 2.18.3, 2.19.1 (50 added), 2.21.5 (11 added); inter 2.18.3, then
// 2.19.3 (22 added).
constexpr double kIntraSm90V218[] = {60, 40, 30, 24, 20, 15, 12, 6, 3};
constexpr double kIntraSm90V219[] = {60, 50, 40, 30, 24, 20, 15, 12, 6, 3};
constexpr double kIntraSm90[] = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
constexpr double kInterSm90V218[] = {48, 45, 42, 40, 30, 24, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
constexpr double kInterSm90[] = {48, 45, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
// Blackwell (sm100, from 2.25.1): intra 2.25.1, 2.27.3 (18 added), 2.29.2
// (45 added); inter 2.25.1, 2.27.3 (47.9 first), 2.27.5 (48, 45.1), 2.27.6
// (96 first), 2.29.7 (80 added), 2.30.3 (86 added).
constexpr double kIntraSm100V225[] = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19};
constexpr double kIntraSm100V227[] = {90, 80, 70, 60, 50, 40, 30, 24, 20, 19, 18};
constexpr double kIntraSm100[] = {90, 80, 70, 60, 50, 45, 40, 30, 24, 20, 19, 18};
constexpr double kInterSm100V2273[] = {47.9, 45, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
constexpr double kInterSm100V2275[] = {48, 45.1, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
constexpr double kInterSm100V2276[] = {96, 48, 45.1, 42, 40, 30, 24, 22, 20, 17.5, 15, 12, 6, 3, 2.4, 1.2, 0.24, 0.12};
constexpr double kInterSm100V2297[] = {96,   80, 48, 45.1, 42, 40,  30,  24,   22,  20,
                                       17.5, 15, 12, 6,    3,  2.4, 1.2, 0.24, 0.12};
constexpr double kInterSm100[] = {96, 86,   80, 48, 45.1, 42, 40,  30,  24,   22,
                                  20, 17.5, 15, 12, 6,    3,  2.4, 1.2, 0.24, 0.12};

bool before(NcclRelease r, int minor, int patch) { return r < NcclRelease{2, minor, patch}; }

}  // namespace

NcclArch nccl_arch(std::string_view m) {
  if (m == "v100") return NcclArch::kVolta;
  if (m == "a100") return NcclArch::kAmpere;
  if (m == "h100" || m == "h200") return NcclArch::kHopper;
  if (m == "b200" || m == "b300" || m == "gb200" || m == "gb300") return NcclArch::kBlackwell;
  return NcclArch::kUnknown;
}

NcclHost nccl_host(std::string_view m) {
  if (m == "a100") return NcclHost::kAmd;
  if (m == "gb200" || m == "gb300") return NcclHost::kArm;
  return NcclHost::kIntel;
}

NcclTables nccl_tables(NcclArch arch, NcclRelease r) {
  NcclTables t;
  t.nvls_efficiency_model = !before(r, 28, 3);
  t.nvls_tree_net_latency_us = before(r, 19, 0) ? 19.0 : before(r, 28, 9) ? 14.0 : 20.9;
  t.nvls_tree_correction = !before(r, 29, 2);
  switch (arch) {
    case NcclArch::kUnknown:
      return {};
    case NcclArch::kVolta:
      t.speeds_intra = kIntra, t.speeds_inter = kInter;
      t.tree = {26.5, 18.5, 10.0}, t.tree_ll128 = {20, 20, 20}, t.ring_ll128 = {20, 20, 20};
      t.ll_max_one_node = 39.0;
      return t;
    case NcclArch::kAmpere:
      t.speeds_intra = kIntra, t.speeds_inter = kInter;
      t.tree = {24.0, 23.6, 17.8}, t.tree_ll128 = {20, 20, 20}, t.ring_ll128 = {20, 20, 20};
      t.ll_max_one_node = 87.7;
      return t;
    case NcclArch::kHopper:
      break;
    case NcclArch::kBlackwell:
      if (before(r, 25, 0)) break;  // searched and tuned as Hopper
      t.speeds_intra = before(r, 27, 3)   ? std::span<const double>(kIntraSm100V225)
                       : before(r, 29, 2) ? std::span<const double>(kIntraSm100V227)
                                          : kIntraSm100;
      t.speeds_inter = before(r, 27, 3)   ? std::span<const double>(kInterSm90)
                       : before(r, 27, 5) ? std::span<const double>(kInterSm100V2273)
                       : before(r, 27, 6) ? std::span<const double>(kInterSm100V2275)
                       : before(r, 29, 7) ? std::span<const double>(kInterSm100V2276)
                       : before(r, 30, 3) ? std::span<const double>(kInterSm100V2297)
                                          : kInterSm100;
      if (before(r, 28, 0)) {
        t.tree = {2 * 38.7, 2 * 41.4, 2 * 36.0}, t.tree_ll128 = {2 * 36.7, 2 * 36.7, 2 * 29.0};
      } else {
        t.tree = {70.0, 42.8, 24.0}, t.tree_ll128 = {55.6, 31.67, 20.0};
      }
      t.ring_ll128 = before(r, 28, 7)   ? std::array<double, 3>{2 * 36.7, 2 * 36.7, 2 * 36.7}
                     : before(r, 29, 2) ? std::array<double, 3>{2 * 36.7, 34.6, 2 * 36.7}
                     : before(r, 29, 7) ? std::array<double, 3>{34.5, 34.6, 34.5}
                                        : std::array<double, 3>{40.0, 40.0, 40.0};
      t.nvls_tree = {0, 96.0, before(r, 28, 9) ? 43.1 : before(r, 30, 3) ? 43.8 : 80.0};
      t.nvls_efficiency = 0.74;
      t.ll_max_one_node = 2 * 141.0;
      return t;
  }
  // Hopper (and Blackwell before 2.25).
  t.speeds_intra = before(r, 19, 1)   ? std::span<const double>(kIntraSm90V218)
                   : before(r, 21, 5) ? std::span<const double>(kIntraSm90V219)
                                      : kIntraSm90;
  t.speeds_inter = before(r, 19, 3) ? std::span<const double>(kInterSm90V218) : kInterSm90;
  t.tree = {38.7, 41.4, 36.0}, t.tree_ll128 = {36.7, 36.7, 29.0}, t.ring_ll128 = {36.7, 36.7, 36.7};
  t.nvls_tree = {0, 57.7, 45.5};
  t.nvls_efficiency = 0.85;
  t.ll_max_one_node = 141.0;
  return t;
}

double nccl_nvlink_GBps_per_link(NcclArch arch) {
  switch (arch) {
    case NcclArch::kUnknown:
      return 0;
    case NcclArch::kVolta:
    case NcclArch::kAmpere:
      return 20.0;
    case NcclArch::kHopper:
      return 20.6;
    case NcclArch::kBlackwell:
      return 40.1;
  }
  return 0;
}

NcclHost nccl_host(std::string_view gpu_model, std::optional<NcclHost> host) {
  return host ? *host : nccl_host(gpu_model);
}

std::optional<NcclHost> nccl_host_setting(int host_cpu) {
  if (host_cpu < 0 || host_cpu > 2) return std::nullopt;
  return static_cast<NcclHost>(host_cpu);
}

double ll_max_GBps(std::string_view gpu_model, int nodes, NcclRelease release, std::optional<NcclHost> host) {
  const NcclArch arch = nccl_arch(gpu_model);
  if (arch == NcclArch::kUnknown) return 0;
  if (nodes <= 1) return nccl_tables(arch, release).ll_max_one_node;
  const bool amd = nccl_host(gpu_model, host) == NcclHost::kAmd;
  if (nodes == 2) return amd ? 22.5 : 39.0;
  return amd ? 19.0 : 20.4;
}

}  // namespace collsim::collective
