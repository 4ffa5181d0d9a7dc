#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz for a bounded time each
# (issue 21). Needs Debian's clang and libclang-rt-14-dev.
#   scripts/fuzz.sh [SECONDS_PER_HARNESS]   (default 30)
#   scripts/fuzz.sh --available             exit 0 when clang can build them
# Builds the harnesses alone in build-fuzz/ (clang, ASan + UBSan, only the
# readers' library instrumented), seeds each harness's corpus from the
# shipped files, runs as many harnesses at once as there are cores, and
# fails on any crash, leak, timeout or out-of-memory (the reproducer is left
# in build-fuzz/fuzz/, its log in build-fuzz/fuzz/fuzz_READER.log).
set -euo pipefail
cd "$(dirname "$0")/.."

available() {  # clang++ with libFuzzer's runtime (libclang-rt-14-dev)
  command -v clang++ >/dev/null 2>&1 || return 1
  local probe
  probe=$(mktemp -d)
  printf '#include <cstddef>\n#include <cstdint>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
    >"$probe/p.cc"
  local rc=0
  clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cc" -o "$probe/p" >/dev/null 2>&1 || rc=1
  rm -rf "$probe"
  return $rc
}
if [ "${1:-}" = --available ]; then available; exit; fi

seconds=${1:-30}
readers=(topology workload study set units nccl_tests_log)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOLLSIM_FUZZ=ON -DCOLLSIM_PYTHON=OFF \
  -DCOLLSIM_TESTS=OFF -DCOLLSIM_BENCH=OFF -DCOLLSIM_WERROR=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${readers[@]/#/fuzz_}" >/dev/null
out=build-fuzz/fuzz
seed() {  # seed DIR FILES...: a corpus directory holding copies of FILES
  local dir=$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do cp -f "$f" "$dir/" 2>/dev/null || true; done
}
# The shipped topologies up to a few thousand GPUs (the harness builds at
# most 30,000 devices: see tests/fuzz/topology_fuzz.cc).
seed "$out/corpus-topology" topologies/{hgx-h100,hgx-b200,dgx-a100,gb200-nvl72,gb200-nvl72-8rack,h100-ib400-4node,dgx-a100-hdr200-4node}.yaml \
  tests/data/topologies/*.yaml tests/data/bad/*.yaml tests/validation/topologies/*.yaml
seed "$out/corpus-workload" workloads/*.yaml tests/data/workloads/*.yaml
seed "$out/corpus-study" examples/studies/*.yaml tests/data/studies/*.yaml
seed "$out/corpus-nccl_tests_log" tests/data/nccl_tests/*.log
mkdir -p "$out/corpus-set" "$out/corpus-units"
printf 'cluster.nodes=4' >"$out/corpus-set/nodes"
printf 'cluster.fabric.planes=2' >"$out/corpus-set/planes"
printf 'description=[1, {a: 2}]' >"$out/corpus-set/list"
for q in 1GiB 400Gb/s 250ns 3m 989TFLOP/s 32M; do printf '%s' "$q" >"$out/corpus-units/$(echo "$q" | tr '/' '_')"; done

run_one() {  # run_one READER: fuzz it; its log in $out/fuzz_READER.log
  (cd "$out" && ./"fuzz_$1" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "corpus-$1" >"fuzz_$1.log" 2>&1)
}
echo "fuzzing ${readers[*]} for ${seconds} s each, $(nproc) at a time" >&2
failed=()
pids=()
names=()
for reader in "${readers[@]}"; do
  run_one "$reader" &
  pids+=($!)
  names+=("$reader")
  if [ ${#pids[@]} -ge "$(nproc)" ]; then
    wait "${pids[0]}" || failed+=("${names[0]}")
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for k in "${!pids[@]}"; do wait "${pids[$k]}" || failed+=("${names[$k]}"); done
for reader in "${readers[@]}"; do
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$out/fuzz_$reader.log" | grep -oE "[0-9]+$" || echo "?")
  cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$out/fuzz_$reader.log" | tail -1 || echo "cov: ?")
  echo "  $reader: $execs inputs, $cov" >&2
done
if [ ${#failed[@]} -gt 0 ]; then
  for reader in "${failed[@]}"; do
    tail -30 "$out/fuzz_$reader.log" >&2
    echo "fuzz_$reader found a failure: see $out/fuzz_$reader.log" >&2
  done
  exit 1
fi
