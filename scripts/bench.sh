#!/usr/bin/env bash
# Benchmark: generate a bundle, then time (a) `vigil inspect` (read + type only), (b) `vigil check`
# (every shipped pack, JSON out) and (c) `vigil audit` (the packet, PDF included) on it, reporting
# wall time, records/s, peak memory and the ratios b/a and c/a.
#   scripts/bench.sh [EXAMS...]     (default 1000000; e.g. `scripts/bench.sh 100000` for a quick run,
#                                    `scripts/bench.sh 100000 1000000 3000000` for the growth table)
# Each command runs RUNS times (default 3); the best wall time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/vigil
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
for exams in "${@:-1000000}"; do
dir="target/bench/gen-$exams"
if [ ! -f "$dir/bundle.toml" ]; then
  start=$(date +%s.%N)
  "$bin" gen --exams "$exams" --seed 1 --out "$dir"
  echo "gen: $(echo "$(date +%s.%N) - $start" | bc) s"
fi
records=$("$bin" inspect "$dir" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
echo "bundle: $dir, $exams exams, $records records, $(du -sh "$dir" | cut -f1)"

measure() { # name, command...: the best wall time of $RUNS runs (this VM's first touches of
  # memory vary by seconds between runs; the best run is the least disturbed), with the user CPU
  # time of that run and the highest peak RSS of all runs.
  local name=$1; shift
  local log; log=$(mktemp)
  local best="" best_user="" rss_max=0
  for _ in $(seq "${RUNS:-3}"); do
    local start end secs user rss
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
      /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
    else
      "$@" >/dev/null 2>"$log" || true
    fi
    end=$(date +%s.%N)
    secs=$(echo "$end - $start" | bc)
    user=$(grep -m1 'User time' "$log" | awk '{print $NF}')
    rss=$(grep -m1 'Maximum resident set size' "$log" | awk '{print $NF}')
    if [ -n "$rss" ] && [ "$rss" -gt "$rss_max" ]; then rss_max=$rss; fi
    if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc)" = 1 ]; then best=$secs; best_user=${user:-?}; fi
  done
  printf '%-8s %8.2f s  %12.0f records/s  user CPU %6s s  peak RSS %s MB\n' "$name" "$best" \
    "$(echo "$records / $best" | bc -l)" "$best_user" "$((rss_max / 1024))"
  rm -f "$log"
  last=$best
}
measure inspect "$bin" inspect "$dir" --format json
a=$last
measure check "$bin" check "$dir" --format json --as-of 2026-04-02 -o target/bench/findings.json
b=$last
rm -rf target/bench/packet
measure audit "$bin" audit "$dir" --out target/bench/packet --as-of 2026-04-02
c=$last
printf 'ratios   b/a %.2f   c/a %.2f\n\n' "$(echo "$b / $a" | bc -l)" "$(echo "$c / $a" | bc -l)"
done
