#!/usr/bin/env bash
# The performance table of docs/performance.md: wall time and peak RSS of
# collsim on growing clusters, each case capped (default 60 s, 16 GiB) so the
# table shows where each backend stops. Prints Markdown.
#   scripts/bench_table.sh [collsim binary]      (default build/collsim)
#   BENCH_TIMEOUT=120 BENCH_MEM_GB=20 scripts/bench_table.sh
set -uo pipefail
declare -A stop_simgrid=()
cd "$(dirname "$0")/.."
bin=${1:-build/collsim}
timeout_s=${BENCH_TIMEOUT:-60}
mem_gb=${BENCH_MEM_GB:-16}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Clusters beyond the shipped files: the 131,072-GPU file's fabric at other sizes.
big=topologies/h100-ib400-16384node.yaml

# One row: GPUs, operation, backend, then the collsim arguments. Memory is
# capped with ulimit -v (address space), time with timeout.
row() {
  local gpus=$1 what=$2 backend=$3; shift 3
  ( ulimit -v $((mem_gb * 1024 * 1024)); exec /usr/bin/time -o "$scratch/time" -f '%e %M' \
      timeout "$timeout_s" "$bin" "$@" ) >/dev/null 2>"$scratch/err"
  local rc=$? wall rss
  read -r wall rss < <(tail -1 "$scratch/time")
  if [ "$rc" = 0 ]; then
    printf '| %s | %s | %s | %.1f | %d |\n' "$gpus" "$what" "$backend" "$wall" "$((rss / 1024))"
  elif [ "$rc" = 124 ]; then
    printf '| %s | %s | %s | stopped at %s s | %d |\n' "$gpus" "$what" "$backend" "$timeout_s" "$((rss / 1024))"
  else
    printf '| %s | %s | %s | failed after %.0f s: %s | %d |\n' "$gpus" "$what" "$backend" "$wall" \
      "$(grep -v '^Command' "$scratch/err" | tail -1 | cut -c1-50)" "$((rss / 1024))"
  fi
}

echo "| GPUs | operation | backend | wall (s) | peak RSS (MB) |"
echo "|---:|---|---|---:|---:|"
for backend in analytical simgrid; do
  for t in "72 topologies/gb200-nvl72.yaml" "576 topologies/gb200-nvl72-8rack.yaml" \
           "1024 topologies/h100-ib400-128node.yaml" "4096 topologies/h100-ib400-512node.yaml" \
           "9216 topologies/gb200-nvl72-128rack.yaml" "32768 $big --set cluster.nodes=4096" "131072 $big"; do
    set -- $t
    gpus=$1; shift
    for algo in ring hier; do
      [ "$gpus" = 72 ] && [ "$algo" = hier ] && continue  # one NVLink domain: hier is the ring
      # SimGrid past a minute on smaller clusters is not worth trying bigger ones.
      if [ "$backend" = simgrid ] && [ -n "${stop_simgrid[$algo]:-}" ]; then
        printf '| %s | all-reduce 1 GiB, %s | simgrid | not tried (stopped on fewer GPUs) | |\n' "$gpus" "$algo"
        continue
      fi
      line=$(row "$gpus" "all-reduce 1 GiB, $algo" "$backend" collective -t "$@" -b 1G -e 1G --algo "$algo" \
             --proto Simple --backend "$backend")
      echo "$line"
      case "$line" in *stopped*|*failed*) [ "$backend" = simgrid ] && stop_simgrid[$algo]=1 ;; esac
    done
  done
done
for backend in analytical simgrid; do
  row 576 "training step, Llama-3 405B (no what-ifs)" "$backend" run -t topologies/gb200-nvl72-8rack.yaml \
    -w workloads/llama3-405b.yaml --what-if off --backend "$backend"
done
row 16384 "training step, Llama-3 405B, Meta's TP8 PP16 DP128 (no what-ifs)" analytical run -t "$big" \
  --set cluster.nodes=2048 -w workloads/llama3-405b-16k.yaml --what-if off --backend analytical
# Pipelines (one slice repeated): NCCL's tree and NVLSTree across nodes.
for backend in analytical simgrid; do
  for t in "4096 topologies/h100-ib400-512node.yaml" "9216 topologies/gb200-nvl72-128rack.yaml"; do
    set -- $t
    gpus=$1; shift
    for algo in tree nvlstree; do
      row "$gpus" "all-reduce 1 GiB, $algo" "$backend" collective -t "$@" -b 1G -e 1G --algo "$algo" \
        --proto Simple --backend "$backend"
    done
  done
done
# The same at 131,072 GPUs (analytical), and the tuner's default there:
# what NCCL's model would run (NVLSTree there).
for algo in tree nvlstree; do
  row 131072 "all-reduce 1 GiB, $algo" analytical collective -t "$big" -b 1G -e 1G --algo "$algo" --proto Simple \
    --backend analytical
done
row 131072 "all-reduce 1 GiB, auto (NCCL's choice)" analytical collective -t "$big" -b 1G -e 1G \
  --backend analytical
# All-to-all (direct, every pair at once): 32 and 128 HGX H100 nodes.
for backend in analytical simgrid; do
  for gpus in 256 1024; do
    row "$gpus" "all-to-all 128 MiB" "$backend" collective -t topologies/h100-ib400-128node.yaml --ranks "$gpus" \
      --op alltoall -b 128M -e 128M --backend "$backend"
  done
done
# All-to-all at 1 GiB in all-pairs form (analytical): 4,096 H100, 9,216
# GB200, 8,192, 16,384, 32,768 and 131,072 H100 (1,024 to 16,384 nodes of
# the big fabric).
row 4096 "all-to-all 1 GiB" analytical collective -t topologies/h100-ib400-512node.yaml --op alltoall -b 1G -e 1G \
  --backend analytical
row 9216 "all-to-all 1 GiB" analytical collective -t topologies/gb200-nvl72-128rack.yaml --op alltoall -b 1G -e 1G \
  --backend analytical
for nodes in 1024 2048 4096 16384; do
  row $((nodes * 8)) "all-to-all 1 GiB" analytical collective -t "$big" --set cluster.nodes=$nodes --op alltoall \
    -b 1G -e 1G --backend analytical
done
