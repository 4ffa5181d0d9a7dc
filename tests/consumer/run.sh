#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds tests/consumer
# against it twice (CMake's find_package, and pkg-config with a plain g++)
# and runs both on topologies/hgx-h100.yaml: 8 H100, ring all-reduce at 8 GiB,
# where NVIDIA publishes ~370 GB/s busbw (docs/validation.md).
# usage: tests/consumer/run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$scratch/cmake" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake" >/dev/null
pc_dir=$(dirname "$(find "$scratch/prefix" -name collsim.pc)")
# shellcheck disable=SC2046
g++ -std=c++17 -o "$scratch/pkgconfig-consumer" "$src/tests/consumer/main.cc" \
  $(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs collsim) \
  -Wl,-rpath,"$(PKG_CONFIG_PATH="$pc_dir" pkg-config --variable=libdir collsim)"
check() {
  local out busbw
  out=$("$@" "$src/topologies/hgx-h100.yaml")
  busbw=${out##*: }
  echo "$1: $out"
  awk -v b="$busbw" 'BEGIN { exit !(b > 370 * 0.98 && b < 370 * 1.02) }'
}
check "$scratch/cmake/consumer"
check "$scratch/pkgconfig-consumer"
# Bad input: exit code 2 and the file position, as the command line.
set +e
"$scratch/cmake/consumer" "$src/tests/data/bad/negative_rate.yaml" 2>"$scratch/err"
rc=$?
set -e
grep -q "negative_rate.yaml:7:31" "$scratch/err"
[ "$rc" -eq 2 ]
echo "consumer projects: ok"
