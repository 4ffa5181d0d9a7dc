// Internal to sim/workload: the workload file reader behind
// load_workload_text (workload_spec.h), shared by workload_file.cc (the
// file, model, parallelism, batch) and workload_sections.cc (precision,
// compute, memory, communication). Include workload_spec.h instead.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "sim/config/yaml_fields.h"
#include "sim/units/units.h"
#include "sim/workload/workload_spec.h"

namespace collsim::workload::detail {

using config::MapReader;

class Reader {
 public:
  explicit Reader(WorkloadSpec& w) : w_(w) {}

  // Named limit: a count in a workload (layers, seq_len, a degree, a batch)
  // is at most 1e9, far above any real one, so products of them stay exact.
  static constexpr long long kMaxWhole = 1'000'000'000;

  // A positive whole number; `fallback` when absent and fallback > 0 (else required).
  Expected<int> positive_int(const MapReader& m, std::string_view key, int fallback = 0) {
    remember(m, key);
    if (!m.has(key)) {
      if (fallback > 0) return fallback;
      return m.error_at(key, "missing: expected a positive whole number");
    }
    auto v = m.integer(key);
    if (!v) return v.error();
    if (*v <= 0 || *v > kMaxWhole) {
      return m.error_at(key, fmt::format("expected a whole number from 1 to {}, found {}", kMaxWhole, *v));
    }
    return static_cast<int>(*v);
  }
  Expected<int> nonnegative_int(const MapReader& m, std::string_view key, int fallback) {
    remember(m, key);
    if (!m.has(key)) return fallback;
    auto v = m.integer(key);
    if (!v) return v.error();
    if (*v < 0 || *v > kMaxWhole) {
      return m.error_at(key, fmt::format("expected a whole number from 0 to {}, found {}", kMaxWhole, *v));
    }
    return static_cast<int>(*v);
  }
  Expected<bool> boolean(const MapReader& m, std::string_view key, bool fallback) {
    remember(m, key);
    return m.boolean(key, fallback);
  }
  template <class Parse>
  Expected<double> quantity(const MapReader& m, std::string_view key, Parse parse, double fallback) {
    remember(m, key);
    auto v = m.optional_scalar(key);
    if (!v) return v.error();
    if (!*v) return fallback;
    auto q = parse(**v);
    if (!q) return m.error_at(key, q.error().message);
    if (!(*q > 0)) return m.error_at(key, fmt::format("expected a positive value, found '{}'", **v));
    return *q;
  }
  Expected<double> precision(const MapReader& m, std::string_view key, double fallback) {
    remember(m, key);
    auto v = m.optional_scalar(key);
    if (!v) return v.error();
    if (!*v) return fallback;
    static const std::vector<std::pair<std::string, double>> kTypes{{"fp32", 4}, {"tf32", 4}, {"bf16", 2},
                                                                    {"fp16", 2}, {"fp8", 1},  {"fp4", 0.5}};
    for (const auto& [name, bytes] : kTypes)
      if (**v == name) return bytes;
    return m.error_at(key, fmt::format("expected fp32, bf16, fp16, fp8 or fp4, found '{}'", **v));
  }

  Status model(const MapReader& m);  // workload_file.cc

  Status check_uneven_stages(const MapReader& m);  // workload_file.cc

  Status parallelism(const MapReader& m);  // workload_file.cc

  Status batch(const MapReader& m);  // workload_file.cc

  Status precision(const MapReader& m);  // workload_sections.cc

  Expected<double> fraction(const MapReader& m, std::string_view key, double lo, double hi, double fallback);

  Status compute(const MapReader& m);  // workload_sections.cc

  Status memory(const MapReader& m);  // workload_sections.cc

  Status communication(const MapReader& m);  // workload_sections.cc

  Status read(const YAML::Node& root, const std::string& file);  // workload_file.cc

 private:
  void remember(const MapReader& m, std::string_view key) { w_.marks[m.field(key)] = m.mark_of(key); }
  WorkloadSpec& w_;
};

}  // namespace collsim::workload::detail
