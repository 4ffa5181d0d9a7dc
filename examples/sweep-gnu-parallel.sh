#!/usr/bin/env bash
# A study split into N shards, launched by GNU parallel, then merged: the
# pattern for spreading a sweep over cores or machines with a launcher you
# already have (add --sshlogin host1,host2 to parallel for other machines
# sharing this directory). Each shard writes its own results directory;
# re-running the script simulates only what is missing.
#   examples/sweep-gnu-parallel.sh STUDY.yaml OUT_DIR [SHARDS]
#   COLLSIM=path/to/collsim overrides the binary (default: build/collsim).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 STUDY.yaml OUT_DIR [SHARDS]" >&2; exit 2; }
study=$1 out=$2 shards=${3:-4}
collsim=${COLLSIM:-build/collsim}
command -v parallel >/dev/null || { echo "$0: GNU parallel is not installed (Debian: apt-get install parallel)" >&2; exit 2; }

# One process per shard, each simulating its points one at a time. A shard
# whose points fail exits 1; merge what there is anyway and report it after.
status=0
parallel --will-cite --halt never --line-buffer \
  "$collsim" sweep "$study" --jobs 1 --shard {}/"$shards" --out "$out/shard-{}" ::: $(seq 1 "$shards") || status=$?
"$collsim" sweep --merge "$out"/shard-* --out "$out/merged"
exit "$status"
