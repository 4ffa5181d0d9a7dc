#!/usr/bin/env bash
# Opens collsim's HTML reports and topology SVG in a real browser (Debian's
# chromium, headless) and checks that they rendered: the DOM after loading has
# every chart and the headline numbers the CLI printed, the browser logged no
# console error and refused no resource, and a screenshot has content.
#   check_reports.sh COLLSIM_BINARY SOURCE_DIR OUT_DIR
set -euo pipefail
bin=$1 src=$2 out=$3
fail() { echo "FAIL: $*" >&2; exit 1; }

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "no chromium on PATH: install Debian's chromium package (scripts/quickstart.sh test does)"
rm -rf "$out" && mkdir -p "$out"
cd "$src"

# One browser run: $1 = file to load, $2 = what (dom or png), rest = extra flags.
open_in_browser() {
  local file=$1 what=$2; shift 2
  local flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run
               --user-data-dir="$out/profile" --enable-logging=stderr --v=0 --hide-scrollbars "$@")
  if [ "$what" = dom ]; then
    timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$file" >"$file.dom" 2>"$file.log" \
      || fail "chromium could not load $file (see $file.log)"
  else
    timeout 120 "$browser" "${flags[@]}" --window-size=1040,2400 --screenshot="$file.png" "file://$file" \
      >/dev/null 2>>"$file.log" || fail "chromium could not screenshot $file"
  fi
  # Console messages are logged as CONSOLE(...); a blocked load as "Refused to".
  if grep -E "CONSOLE|Uncaught|Refused to" "$file.log"; then fail "$file: the browser logged errors (above)"; fi
}

expect_in() {  # file, then strings the DOM must contain
  local file=$1; shift
  for s in "$@"; do grep -qF -- "$s" "$file.dom" || fail "$file: the rendered page lacks '$s'"; done
}

# 1. The training-step report.
"$bin" run --topology topologies/h100-ib400-4node.yaml --workload tests/data/workloads/small-4node.yaml \
  --backend analytical --html "$out/step.html" >"$out/step.txt"
step=$(awk '/^step time/ {print $3 " " $4}' "$out/step.txt")
[ -n "$step" ] || fail "no step time in the text report"
open_in_browser "$out/step.html" dom
expect_in "$out/step.html" 'data-chart="breakdown"' 'data-chart="timeline"' 'data-chart="link-heat-map"' \
  'data-chart="what-if"' 'data-chart="floor-plan' "<div class=\"v\">$step</div>" '<rect' \
  'cost per million tokens'
open_in_browser "$out/step.html" png
size=$(stat -c %s "$out/step.html.png")
[ "$size" -gt 50000 ] || fail "the step report's screenshot is $size bytes: nothing rendered?"

# 2. The collective report, with the published NVLS measurements.
"$bin" collective --topology topologies/hgx-h100.yaml -b 1M -e 8G --algo nvls --proto Simple \
  --html "$out/nvls.html" >"$out/nvls.txt"
open_in_browser "$out/nvls.html" dom
expect_in "$out/nvls.html" 'data-chart="busbw"' 'measured: h100-8gpu-nvls' '<polyline'
open_in_browser "$out/nvls.html" png

# 3. The topology drawing (an SVG document).
"$bin" topo topologies/gb200-nvl72-8rack.yaml --svg "$out/topo.svg" >/dev/null
open_in_browser "$out/topo.svg" dom
expect_in "$out/topo.svg" 'data-chart="floor-plan"' 'data-chart="tiers"' '576 x gpu' 'class="medium-key"'

# 4. The goodput report.
"$bin" goodput --topology topologies/gb200-nvl72-8rack.yaml --workload workloads/llama3-405b.yaml --step-time 17s \
  --samples 200 --spares 1 --html "$out/goodput.html" >"$out/goodput.txt"
ettr=$(awk '/^ETTR/ {print $3}' "$out/goodput.txt" | tr -d ,)
[ -n "$ettr" ] || fail "no ETTR in the goodput text report"
open_in_browser "$out/goodput.html" dom
expect_in "$out/goodput.html" 'data-chart="time"' 'data-chart="ettr-cdf"' 'data-chart="causes"' 'data-chart="what-if"' \
  'data-chart="timeline"' "<div class=\"v\">$ettr</div>"

echo "ok: step report ($step), collective report, topology drawing, goodput report rendered in $("$browser" --version 2>/dev/null | head -1)"
