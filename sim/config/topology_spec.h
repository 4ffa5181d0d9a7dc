// A topology file after parsing and validation: plain data, fully expanded
// (every device and every link listed), every entry remembering where in the
// file it came from. Units are SI (bytes/s, seconds, metres).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace collsim::config {

enum class DeviceKind { kGpu, kCpu, kNic, kNvSwitch, kPcieSwitch, kSwitch };

// Whether traffic between two other devices may pass through this kind.
// GPUs and CPUs are endpoints: NVLink peer traffic never detours via a CPU.
bool forwards_traffic(DeviceKind kind);
const char* to_string(DeviceKind kind);

struct DeviceSpec {
  std::string name;  // unique, e.g. "gpu3"
  DeviceKind kind = DeviceKind::kGpu;
  SourceMark declared_at;
};

// Per-link-class physical parameters (see link_classes.h for the defaults).
struct LinkClassSpec {
  std::string name;
  double efficiency = 1.0;  // achievable fraction of line rate for collective traffic
  // For GPU<->NVSwitch links: the further fraction in-switch reduction (NVLS)
  // achieves; 0 = the switch cannot reduce.
  double nvls_efficiency = 0;
};

// One full-duplex cable (or bundle of `lanes` parallel links) between two
// devices. rate_Bps is per direction for the whole bundle, before efficiency.
struct LinkSpec {
  int a = -1;  // index into TopologySpec::devices
  int b = -1;
  double rate_Bps = 0;
  int lanes = 1;
  double latency_s = 0;  // fixed part + length x propagation delay
  double length_m = 0;   // 0 when the file gives no length
  std::string medium;    // empty when no length given
  std::string link_class;
  double efficiency = 1.0;  // resolved: link override, else its class's
  double nvls_efficiency = 0;  // its class's
  SourceMark declared_at;
};

struct TopologySpec {
  std::string name;
  std::string file;
  std::vector<DeviceSpec> devices;
  std::vector<LinkSpec> links;
  std::map<std::string, LinkClassSpec> link_classes;  // built-ins merged with the file's
};

}  // namespace collsim::config
