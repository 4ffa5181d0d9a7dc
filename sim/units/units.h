// Quantities with explicit units: parse what users write in files and on the
// command line ("25GB/s", "400Gb/s", "250ns", "3m", "1GiB") and print them back.
//
// Conventions (docs/topology-format.md, "Units"): GB/MB/KB are powers of ten, GiB/MiB/KiB
// powers of two; rates written in b/s are bits (400Gb/s = 50e9 bytes/s).
// Internally everything is SI base units in doubles: bytes, bytes/s, seconds, metres.
#pragma once

#include <string>
#include <string_view>

#include "sim/core/error.h"

namespace collsim::units {

struct Bytes {
  double count = 0;
};
struct Rate {
  double bytes_per_s = 0;
};
struct Duration {
  double seconds = 0;
};
struct Length {
  double metres = 0;
};
struct Power {  // "700W", "10.2kW", "1.5MW"
  double watts = 0;
};
struct FlopRate {  // floating-point operations per second: "989TFLOP/s"
  double flop_per_s = 0;
};

// Each parser requires a number followed by a unit (spaces allowed between),
// and accepts a leading sign so callers can report "must be positive" with
// the field's name. On failure the Error says what was expected and found.
Expected<Bytes> parse_bytes(std::string_view text);
Expected<Rate> parse_rate(std::string_view text);
Expected<Duration> parse_duration(std::string_view text);
Expected<Length> parse_length(std::string_view text);
Expected<FlopRate> parse_flop_rate(std::string_view text);
Expected<Power> parse_power(std::string_view text);

// nccl-tests' size syntax for -b/-e: a bare number is bytes, and the suffixes
// K, M, G in either case, T (which nccl-tests lacks) and KB/MB/GB... in our
// unit syntax are accepted. nccl-tests treats K/M/G as powers of two (1M = 1m
// = 1048576; its parsesize), so do we; "1MB" stays 1e6, where nccl-tests,
// reading only its first letter, runs 1M (is_decimal_size_unit lets a
// command warn about it).
Expected<Bytes> parse_size_arg(std::string_view text);
// Whether `text` is a size in a decimal unit nccl-tests would read as its
// power of two instead (KB, MB, GB).
bool is_decimal_size_unit(std::string_view text);

// Human-readable output with the unit chosen by magnitude: "1.5 GiB",
// "450 GB/s", "250 ns", "3 m". Precision: up to 4 significant digits.
// A share from 0 to 1, written as a percentage ("1%", "80%") or a number
// ("0.01"); the error names what was expected and found.
Expected<double> parse_share(std::string_view text);

std::string format(Bytes b);
std::string format(Rate r);
std::string format(Duration d);
std::string format(Length l);
// The shortest text that parses back to exactly the same double (for
// generated files: `collsim topo --expand`): "50GB/s", "150ns",
// "16.666666666666668GB/s" or whatever unit keeps 50e9 / 3 exact.
std::string format_exact(Rate r);
std::string format_exact(Duration d);
std::string format(FlopRate f);

}  // namespace collsim::units
