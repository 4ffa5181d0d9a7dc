#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running collsim.
#   scripts/quickstart.sh demo   install what is missing, build, run the default scenario
#   scripts/quickstart.sh test   install what is missing, build, run the whole test suite
#                                (and the fuzz harnesses for 30 s each when clang is installed)
# Idempotent: packages already installed and an existing build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-demo}
case "$mode" in
  demo|test) ;;
  *) echo "usage: scripts/quickstart.sh demo|test" >&2; exit 2 ;;
esac

packages=(cmake g++ make pkg-config libsimgrid-dev libboost-graph-dev libyaml-cpp-dev
          libspdlog-dev libfmt-dev googletest libgtest-dev libbenchmark-dev
          pybind11-dev python3-dev help2man libgoogle-perftools-dev)
# The tests open the HTML reports in a real browser (headless), run the
# GNU parallel sweep example, test the Python module with pytest and check
# the C++ formatting (clang-format).
if [ "$mode" = test ]; then packages+=(chromium parallel python3-pytest clang-format); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

jobs=$(nproc 2>/dev/null || echo 2)
echo "== building (Release) in build/" >&2
# The Python module is built for Debian's python3 (the one python3-pytest
# and pybind11-dev serve), not another python3 earlier on the PATH.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPYTHON_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j"$jobs" >&2

if [ "$mode" = demo ]; then
  # The default scenario: one Llama-3 405B training step on eight GB200 NVL72
  # racks (576 GPUs): step time, where it goes, and what an upgrade would buy.
  exec build/collsim run --topology topologies/gb200-nvl72-8rack.yaml --workload workloads/llama3-405b.yaml
else
  ctest --test-dir build --output-on-failure -j"$jobs"
  # The readers' fuzz harnesses (tests/fuzz, docs/fuzzing.md), 30 s each,
  # when clang is installed; COLLSIM_FUZZ_SECONDS=0 skips them.
  fuzz_seconds=${COLLSIM_FUZZ_SECONDS:-30}
  if [ "$fuzz_seconds" = 0 ]; then
    echo "== fuzzing skipped (COLLSIM_FUZZ_SECONDS=0)" >&2
  elif bash scripts/fuzz.sh --available; then
    echo "== fuzzing the readers, ${fuzz_seconds} s each (scripts/fuzz.sh, build-fuzz/)" >&2
    bash scripts/fuzz.sh "$fuzz_seconds"
  else
    echo "== fuzzing skipped: it needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)" >&2
  fi
fi
