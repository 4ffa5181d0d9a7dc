#include "sim/units/units.h"

#include <gtest/gtest.h>

namespace collsim::units {
namespace {

TEST(Units, RatesInBytesAndBits) {
  EXPECT_DOUBLE_EQ(parse_rate("25GB/s")->bytes_per_s, 25e9);
  EXPECT_DOUBLE_EQ(parse_rate("900GB/s")->bytes_per_s, 900e9);
  // 400 Gb/s is 50 GB/s: rates in b/s are bits.
  EXPECT_DOUBLE_EQ(parse_rate("400Gb/s")->bytes_per_s, 50e9);
  // Vendors write bits per second as bps: 400Gbps = 400Gb/s, 100Mbps = 12.5 MB/s.
  EXPECT_DOUBLE_EQ(parse_rate("400Gbps")->bytes_per_s, 50e9);
  EXPECT_DOUBLE_EQ(parse_rate("100Mbps")->bytes_per_s, 12.5e6);
  // SI writes kilo as k; K is accepted too.
  EXPECT_DOUBLE_EQ(parse_rate("64kbps")->bytes_per_s, 8e3);
  EXPECT_DOUBLE_EQ(parse_rate("64kb/s")->bytes_per_s, 8e3);
  EXPECT_DOUBLE_EQ(parse_rate("64Kbps")->bytes_per_s, 8e3);
  EXPECT_DOUBLE_EQ(parse_rate("2kB/s")->bytes_per_s, 2e3);
  EXPECT_FALSE(parse_rate("400GBps").ok());  // not bits, and not B/s's spelling either
  EXPECT_DOUBLE_EQ(parse_rate(" 1.5 TB/s ")->bytes_per_s, 1.5e12);
  EXPECT_DOUBLE_EQ(parse_rate("1GiB/s")->bytes_per_s, 1073741824.0);
}

TEST(Units, SizesDurationsLengths) {
  EXPECT_DOUBLE_EQ(parse_bytes("1GiB")->count, 1073741824.0);
  EXPECT_DOUBLE_EQ(parse_bytes("1GB")->count, 1e9);
  EXPECT_DOUBLE_EQ(parse_bytes("3kB")->count, 3e3);
  EXPECT_DOUBLE_EQ(parse_bytes("512KiB")->count, 524288.0);
  EXPECT_DOUBLE_EQ(parse_duration("1us")->seconds, 1e-6);
  EXPECT_DOUBLE_EQ(parse_duration("250ns")->seconds, 250e-9);
  EXPECT_DOUBLE_EQ(parse_duration("1.5ms")->seconds, 1.5e-3);
  EXPECT_DOUBLE_EQ(parse_length("3m")->metres, 3.0);
  EXPECT_DOUBLE_EQ(parse_length("50cm")->metres, 0.5);
  EXPECT_DOUBLE_EQ(parse_duration("1e-6s")->seconds, 1e-6);
}

TEST(Units, MissingOrWrongUnitIsAnError) {
  auto missing = parse_rate("25");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("has no unit"), std::string::npos);
  auto wrong = parse_rate("25GB");  // a size, not a rate
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("unknown unit 'GB'"), std::string::npos);
  EXPECT_FALSE(parse_duration("3m").ok());  // metres are not a duration
  EXPECT_FALSE(parse_length("3 parsecs").ok());
  EXPECT_FALSE(parse_bytes("GB").ok());
  EXPECT_FALSE(parse_bytes("").ok());
}

TEST(Units, NegativeNumbersParseSoCallersCanNameTheField) {
  EXPECT_DOUBLE_EQ(parse_rate("-25GB/s")->bytes_per_s, -25e9);
}

TEST(Units, NcclTestsSizeArgumentsArePowersOfTwo) {
  EXPECT_DOUBLE_EQ(parse_size_arg("1M")->count, 1048576.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("8G")->count, 8589934592.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("64K")->count, 65536.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("1000")->count, 1000.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("1MB")->count, 1e6);
  EXPECT_DOUBLE_EQ(parse_size_arg("1MiB")->count, 1048576.0);
  EXPECT_FALSE(parse_size_arg("1X").ok());
  // nccl-tests' parsesize (src/common.cu) takes either case: 1m = 1M.
  EXPECT_DOUBLE_EQ(parse_size_arg("1m")->count, 1048576.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("2g")->count, 2147483648.0);
  EXPECT_DOUBLE_EQ(parse_size_arg("1.5k")->count, 1536.0);
  // The error lists nccl-tests' suffixes with the units.
  EXPECT_NE(parse_size_arg("1X").error().message.find("K, M, G in either case"), std::string::npos);
  // A decimal unit, which nccl-tests would read as its power of two.
  EXPECT_TRUE(is_decimal_size_unit("1MB"));
  EXPECT_TRUE(is_decimal_size_unit("1kB"));  // SI's k, read as 1000 too
  EXPECT_TRUE(is_decimal_size_unit("2 GB"));
  EXPECT_FALSE(is_decimal_size_unit("1M"));
  EXPECT_FALSE(is_decimal_size_unit("1MiB"));
  EXPECT_FALSE(is_decimal_size_unit("garbage"));
  EXPECT_FALSE(is_decimal_size_unit("1TB"));  // nccl-tests refuses T: no reading to warn about
}

TEST(Units, FormatPicksAReadableUnitAndRoundTrips) {
  EXPECT_EQ(format(Rate{450e9}), "450 GB/s");
  EXPECT_EQ(format(Duration{250e-9}), "250 ns");
  EXPECT_EQ(format(Bytes{1073741824.0}), "1 GiB");
  EXPECT_EQ(format(Length{3.0}), "3 m");
  for (double r : {1e3, 25e9, 3.2e12}) {
    auto back = parse_rate(format(Rate{r}));
    ASSERT_TRUE(back.ok());
    EXPECT_NEAR(back->bytes_per_s, r, r * 1e-3);
  }
}

}  // namespace
}  // namespace collsim::units

namespace collsim::units {
namespace {

TEST(Units, ExactFormatReadsBackBitForBit) {
  for (double r : {50e9, 50e9 / 3, 400e9 / 8 / 7, 121e9, 0.0, 1.0, 12.5e9}) {
    auto back = parse_rate(format_exact(Rate{r}));
    ASSERT_TRUE(back.ok()) << format_exact(Rate{r});
    EXPECT_EQ(back->bytes_per_s, r) << format_exact(Rate{r});
  }
  for (double d : {150e-9, 250e-9, 0.1e-6, 0.0, 4.9e-9 * 37, 1.5}) {
    auto back = parse_duration(format_exact(Duration{d}));
    ASSERT_TRUE(back.ok()) << format_exact(Duration{d});
    EXPECT_EQ(back->seconds, d) << format_exact(Duration{d});
  }
  EXPECT_EQ(format_exact(Rate{50e9}), "50GB/s");  // the largest exact unit
}

TEST(Units, PowerInWattsKilowattsAndMegawatts) {
  EXPECT_DOUBLE_EQ(parse_power("700W")->watts, 700);
  EXPECT_DOUBLE_EQ(parse_power("10.2kW")->watts, 10200);
  EXPECT_DOUBLE_EQ(parse_power("1.5 MW")->watts, 1.5e6);
  EXPECT_DOUBLE_EQ(parse_power("0W")->watts, 0);
  EXPECT_NE(parse_power("700").error().message.find("has no unit"), std::string::npos);
  EXPECT_NE(parse_power("7kw").error().message.find("unknown unit 'kw'"), std::string::npos);
}

}  // namespace
}  // namespace collsim::units
