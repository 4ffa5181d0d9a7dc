#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz for a bounded time each
# (issue 21). Needs Debian's clang and libclang-rt-14-dev.
#   scripts/fuzz.sh [SECONDS_PER_HARNESS]   (default 30)
# Builds build-fuzz/ (clang, ASan + UBSan), seeds each harness's corpus
# from the shipped files, and fails on the first crash, leak, timeout or
# out-of-memory (the reproducer is left in build-fuzz/fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLLSIM_FUZZ=ON \
  -DCOLLSIM_TESTS=OFF -DCOLLSIM_BENCH=OFF -DCOLLSIM_WERROR=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
out=build-fuzz/fuzz
seed() {  # seed DIR FILES...: a corpus directory holding copies of FILES
  local dir=$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do cp -f "$f" "$dir/" 2>/dev/null || true; done
}
# The shipped topologies up to a few hundred GPUs (a 131,072-GPU build takes
# minutes under the sanitizers: past libFuzzer's timeout).
seed "$out/corpus-topology" topologies/{hgx-h100,hgx-b200,dgx-a100,gb200-nvl72,h100-ib400-4node,dgx-a100-hdr200-4node}.yaml \
  tests/data/topologies/*.yaml tests/data/bad/*.yaml tests/validation/topologies/*.yaml
seed "$out/corpus-workload" workloads/*.yaml tests/data/workloads/*.yaml
seed "$out/corpus-study" examples/studies/*.yaml tests/data/studies/*.yaml
mkdir -p "$out/corpus-set" "$out/corpus-units"
printf 'cluster.nodes=4' >"$out/corpus-set/nodes"
printf 'cluster.fabric.planes=2' >"$out/corpus-set/planes"
printf 'description=[1, {a: 2}]' >"$out/corpus-set/list"
for q in 1GiB 400Gb/s 250ns 3m 989TFLOP/s 32M; do printf '%s' "$q" >"$out/corpus-units/$(echo "$q" | tr '/' '_')"; done
for reader in topology workload study set units; do
  echo "fuzzing the $reader reader for ${seconds} s"
  (cd "$out" && ./"fuzz_$reader" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "corpus-$reader" 2>"fuzz_$reader.log") || {
    tail -40 "$out/fuzz_$reader.log"
    echo "fuzz_$reader found a failure: see $out/fuzz_$reader.log" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|cov:" "$out/fuzz_$reader.log" | tail -2
done
