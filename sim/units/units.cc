#include "sim/units/units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace collsim::units {
namespace {

struct UnitScale {
  std::string_view name;
  double scale;  // multiplier to the SI base unit
};

// K and SI's k both mean 1000 (kB, kb/s, kbps).
constexpr std::array kByteUnits{
    UnitScale{"B", 1.0},
    UnitScale{"KB", 1e3},
    UnitScale{"kB", 1e3},
    UnitScale{"MB", 1e6},
    UnitScale{"GB", 1e9},
    UnitScale{"TB", 1e12},
    UnitScale{"KiB", 1024.0},
    UnitScale{"MiB", 1048576.0},
    UnitScale{"GiB", 1073741824.0},
    UnitScale{"TiB", 1099511627776.0},
};
// Bits per second: b/s, or bps as network vendors write it (400Gbps = 400Gb/s).
constexpr std::array kRateUnits{
    UnitScale{"B/s", 1.0},      UnitScale{"KB/s", 1e3},        UnitScale{"kB/s", 1e3},
    UnitScale{"MB/s", 1e6},     UnitScale{"GB/s", 1e9},        UnitScale{"TB/s", 1e12},
    UnitScale{"KiB/s", 1024.0}, UnitScale{"MiB/s", 1048576.0}, UnitScale{"GiB/s", 1073741824.0},
    UnitScale{"b/s", 1.0 / 8},  UnitScale{"Kb/s", 1e3 / 8},    UnitScale{"kb/s", 1e3 / 8},
    UnitScale{"Mb/s", 1e6 / 8}, UnitScale{"Gb/s", 1e9 / 8},    UnitScale{"Tb/s", 1e12 / 8},
    UnitScale{"bps", 1.0 / 8},  UnitScale{"Kbps", 1e3 / 8},    UnitScale{"kbps", 1e3 / 8},
    UnitScale{"Mbps", 1e6 / 8}, UnitScale{"Gbps", 1e9 / 8},    UnitScale{"Tbps", 1e12 / 8},
};
constexpr std::array kFlopRateUnits{
    UnitScale{"FLOP/s", 1.0},   UnitScale{"GFLOP/s", 1e9},  UnitScale{"TFLOP/s", 1e12},
    UnitScale{"PFLOP/s", 1e15}, UnitScale{"EFLOP/s", 1e18},
};
constexpr std::array kDurationUnits{
    UnitScale{"s", 1.0},    UnitScale{"ms", 1e-3},  UnitScale{"us", 1e-6},  UnitScale{"ns", 1e-9},
    UnitScale{"ps", 1e-12}, UnitScale{"min", 60.0}, UnitScale{"h", 3600.0}, UnitScale{"d", 86400.0},
};
constexpr std::array kLengthUnits{
    UnitScale{"m", 1.0},
    UnitScale{"cm", 1e-2},
    UnitScale{"mm", 1e-3},
    UnitScale{"km", 1e3},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <std::size_t N>
std::string unit_list(const std::array<UnitScale, N>& units) {
  std::string out;
  for (const auto& u : units) {
    if (!out.empty()) out += ", ";
    out += u.name;
  }
  return out;
}

// Splits "  25.5 GB/s " into 25.5 and "GB/s".
struct NumberAndUnit {
  double number = 0;
  std::string_view unit;
};

Expected<NumberAndUnit> split_number(std::string_view text, std::string_view what) {
  const std::string_view s = trim(text);
  std::size_t pos = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
  while (pos < s.size() && (std::isdigit(static_cast<unsigned char>(s[pos])) || s[pos] == '.')) ++pos;
  // exponent: 1e9, 2.5E-3
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E') && pos + 1 < s.size() &&
      (std::isdigit(static_cast<unsigned char>(s[pos + 1])) || s[pos + 1] == '-' || s[pos + 1] == '+')) {
    ++pos;
    if (s[pos] == '-' || s[pos] == '+') ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  std::string_view digits = s.substr(0, pos);
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(value)) {
    return make_error(fmt::format("expected {} (a number followed by a unit), found '{}'", what, s));
  }
  return NumberAndUnit{value, trim(s.substr(pos))};
}

// The physical range of a kind of quantity, in base units: a value that is
// not 0 must have a magnitude from `smallest` to `largest` (named limits,
// far outside any real part, so that arithmetic on them stays finite: no
// rate of 1e308 TB/s that becomes inf, no 1e-300 FLOP/s that makes a step
// last forever).
struct Range {
  double smallest;
  double largest;
  const char* text;  // "from 1 B/s to 1 PB/s"
  const char* base;  // the base unit
};

template <std::size_t N>
Expected<double> parse_with(std::string_view text, const std::array<UnitScale, N>& units, std::string_view what,
                            const Range& range) {
  auto split = split_number(text, what);
  if (!split) return split.error();
  if (split->unit.empty()) {
    return make_error(fmt::format("'{}' has no unit: expected {} with one of: {}", trim(text), what, unit_list(units)));
  }
  for (const auto& u : units) {
    if (u.name != split->unit) continue;
    const double v = split->number * u.scale;
    const double magnitude = std::fabs(v);
    if (v != 0 && !(magnitude >= range.smallest && magnitude <= range.largest)) {
      return make_error(fmt::format("'{}' is {:g} {}, outside the range of {}: expected 0 or {}", trim(text), v,
                                    range.base, what, range.text));
    }
    return v;
  }
  return make_error(fmt::format("unknown unit '{}' in '{}': expected {} with one of: {}", split->unit, trim(text), what,
                                unit_list(units)));
}

// Picks the largest unit in which |value| >= 1 and prints up to 4 significant digits.
template <std::size_t N>
std::string format_with(double value, const std::array<UnitScale, N>& ordered_units) {
  const UnitScale* best = &ordered_units[0];
  for (const auto& u : ordered_units) {
    if (std::fabs(value) >= u.scale) best = &u;
  }
  return fmt::format("{:.4g} {}", value / best->scale, best->name);
}

// Text "<number><unit>" that parses back (number x scale, as parse_with
// computes it) to `value` bit for bit: in the unit format() would pick, with
// the fewest significant digits that round-trip and no exponent; else in
// the base unit (scale 1), whose shortest decimal always round-trips.
// REQUIRES: units ordered by scale, the base unit among them.
template <std::size_t N>
std::string format_exact_with(double value, const std::array<UnitScale, N>& units) {
  const UnitScale* pick = &units[0];
  const UnitScale* base = &units[0];
  for (const auto& u : units) {
    if (std::fabs(value) >= u.scale) pick = &u;
    if (u.scale == 1.0) base = &u;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    const std::string number = fmt::format("{:.{}g}", value / pick->scale, digits);
    if (number.find('e') != std::string::npos) continue;
    double back = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), back);
    if (ec == std::errc() && back * pick->scale == value) return number + std::string(pick->name);
  }
  return fmt::format("{}{}", value, base->name);
}

// Named physical ranges (issue 21): a byte to an exabyte; 1 B/s to
// 1 PB/s (a link or HBM: today's fastest are a few TB/s); 1 FLOP/s to
// 1e21 FLOP/s (a GPU: today's reach 1e16); 1e-15 s to 1e9 s (a
// femtosecond to 30 years: latencies, compute times, failure intervals);
// 1 um to 1e7 m (cable lengths, floor distances).
constexpr Range kSizeRange{1e-3, 1e18, "from 0.001 B to 1e18 B (an exabyte)", "B"};
constexpr Range kRateRange{1.0, 1e15, "from 1 B/s to 1e15 B/s (1 PB/s)", "B/s"};
constexpr Range kFlopRateRange{1.0, 1e21, "from 1 FLOP/s to 1e21 FLOP/s", "FLOP/s"};
constexpr Range kDurationRange{1e-15, 1e9, "from 1e-15 s to 1e9 s (about 30 years)", "s"};
constexpr Range kLengthRange{1e-6, 1e7, "from 1e-6 m to 1e7 m (10,000 km)", "m"};
constexpr std::array kPowerUnits{UnitScale{"W", 1.0}, UnitScale{"kW", 1e3}, UnitScale{"MW", 1e6}};
constexpr Range kPowerRange{1e-3, 1e10, "from 1 mW to 10 GW", "W"};

constexpr std::array kOrderedRateUnits{
    UnitScale{"B/s", 1.0},  UnitScale{"KB/s", 1e3},  UnitScale{"MB/s", 1e6},
    UnitScale{"GB/s", 1e9}, UnitScale{"TB/s", 1e12},
};

}  // namespace

Expected<Bytes> parse_bytes(std::string_view text) {
  auto v = parse_with(text, kByteUnits, "a size", kSizeRange);
  if (!v) return v.error();
  return Bytes{*v};
}

Expected<Rate> parse_rate(std::string_view text) {
  auto v = parse_with(text, kRateUnits, "a rate", kRateRange);
  if (!v) return v.error();
  return Rate{*v};
}

Expected<FlopRate> parse_flop_rate(std::string_view text) {
  auto v = parse_with(text, kFlopRateUnits, "a compute rate", kFlopRateRange);
  if (!v) return v.error();
  return FlopRate{*v};
}

Expected<double> parse_share(std::string_view text) {
  std::string t(trim(text));
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  const double share = percent ? v / 100 : v;
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v) || share < 0 || share > 1) {
    return make_error(fmt::format("expected a share from 0 to 100% (such as 1% or 0.01), found '{}'", trim(text)));
  }
  return share;
}

Expected<Duration> parse_duration(std::string_view text) {
  auto v = parse_with(text, kDurationUnits, "a duration", kDurationRange);
  if (!v) return v.error();
  return Duration{*v};
}

Expected<Length> parse_length(std::string_view text) {
  auto v = parse_with(text, kLengthUnits, "a length", kLengthRange);
  if (!v) return v.error();
  return Length{*v};
}

Expected<Power> parse_power(std::string_view text) {
  auto v = parse_with(text, kPowerUnits, "a power", kPowerRange);
  if (!v) return v.error();
  return Power{*v};
}

Expected<Bytes> parse_size_arg(std::string_view text) {
  auto split = split_number(text, "a size");
  if (!split) return split.error();
  constexpr std::array kNcclSuffixes{
      UnitScale{"", 1.0},           UnitScale{"K", 1024.0},          UnitScale{"M", 1048576.0},
      UnitScale{"G", 1073741824.0}, UnitScale{"T", 1099511627776.0},
  };
  // nccl-tests reads k, m, g as K, M, G (its parsesize).
  std::string unit(split->unit);
  if (unit.size() == 1) unit[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
  for (const auto& u : kNcclSuffixes) {
    if (u.name == unit) return Bytes{split->number * u.scale};
  }
  auto bytes = parse_bytes(text);
  if (!bytes) {
    return make_error(
        fmt::format("{}; or K, M, G in either case (powers of two, as nccl-tests), and T", bytes.error().message));
  }
  return bytes;
}

bool is_decimal_size_unit(std::string_view text) {
  auto split = split_number(text, "a size");
  if (!split) return false;
  const std::string_view u = split->unit;
  return u == "KB" || u == "kB" || u == "MB" || u == "GB";
}

std::string format(Bytes b) {
  constexpr std::array kOrdered{
      UnitScale{"B", 1.0},
      UnitScale{"KiB", 1024.0},
      UnitScale{"MiB", 1048576.0},
      UnitScale{"GiB", 1073741824.0},
      UnitScale{"TiB", 1099511627776.0},
  };
  return format_with(b.count, kOrdered);
}

std::string format(Rate r) { return format_with(r.bytes_per_s, kOrderedRateUnits); }

std::string format_exact(Rate r) { return format_exact_with(r.bytes_per_s, kOrderedRateUnits); }

std::string format(FlopRate f) {
  constexpr std::array kOrdered{
      UnitScale{"FLOP/s", 1.0},   UnitScale{"GFLOP/s", 1e9},  UnitScale{"TFLOP/s", 1e12},
      UnitScale{"PFLOP/s", 1e15}, UnitScale{"EFLOP/s", 1e18},
  };
  return format_with(f.flop_per_s, kOrdered);
}

std::string format(Duration d) {
  constexpr std::array kOrdered{
      UnitScale{"ps", 1e-12}, UnitScale{"ns", 1e-9}, UnitScale{"us", 1e-6}, UnitScale{"ms", 1e-3}, UnitScale{"s", 1.0},
  };
  return format_with(d.seconds, kOrdered);
}

std::string format_exact(Duration d) {
  constexpr std::array kOrdered{
      UnitScale{"ps", 1e-12}, UnitScale{"ns", 1e-9}, UnitScale{"us", 1e-6}, UnitScale{"ms", 1e-3}, UnitScale{"s", 1.0},
  };
  return format_exact_with(d.seconds, kOrdered);
}

std::string format(Length l) {
  constexpr std::array kOrdered{UnitScale{"mm", 1e-3}, UnitScale{"cm", 1e-2}, UnitScale{"m", 1.0},
                                UnitScale{"km", 1e3}};
  return format_with(l.metres, kOrdered);
}

}  // namespace collsim::units
