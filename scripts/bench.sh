#!/usr/bin/env bash
# Benchmark: generate a bundle, then time `vigil inspect` (read + type only) and `vigil check`
# (every shipped pack, JSON out) on it, reporting wall time, records/s and peak memory.
#   scripts/bench.sh [EXAMS]     (default 1000000; use 100000 for a quick run)
set -euo pipefail
cd "$(dirname "$0")/.."
exams="${1:-1000000}"
dir="target/bench/gen-$exams"
cargo build --release --quiet
bin=target/release/vigil
if [ ! -f "$dir/bundle.toml" ]; then
  start=$(date +%s.%N)
  "$bin" gen --exams "$exams" --seed 1 --out "$dir"
  echo "gen: $(echo "$(date +%s.%N) - $start" | bc) s"
fi
records=$("$bin" inspect "$dir" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
echo "bundle: $dir, $exams exams, $records records, $(du -sh "$dir" | cut -f1)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

measure() { # name, command...
  local name=$1; shift
  local log; log=$(mktemp)
  local start end
  start=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
  else
    "$@" >/dev/null 2>"$log" || true
  fi
  end=$(date +%s.%N)
  local secs; secs=$(echo "$end - $start" | bc)
  local rss; rss=$(grep -m1 'Maximum resident set size' "$log" | awk '{print $NF}')
  printf '%-8s %8.2f s  %12.0f records/s  peak RSS %s MB\n' "$name" "$secs" "$(echo "$records / $secs" | bc -l)" \
    "$([ -n "$rss" ] && echo $((rss / 1024)) || echo '?')"
  rm -f "$log"
}
measure inspect "$bin" inspect "$dir" --format json
measure check "$bin" check "$dir" --format json --as-of 2026-04-02 -o target/bench/findings.json
