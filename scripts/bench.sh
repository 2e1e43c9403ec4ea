#!/usr/bin/env bash
# Benchmark: generate a bundle, then time (a) `vigil inspect` (read + type only), (b) `vigil check`
# (every shipped pack, JSON out) and (c) `vigil audit` (the packet, PDF included) on it, reporting
# wall time, records/s, peak memory and the ratios b/a and c/a.
#   scripts/bench.sh [EXAMS...]     (default 1000000; e.g. `scripts/bench.sh 100000` for a quick run,
#                                    `scripts/bench.sh 100000 1000000 3000000` for the growth table)
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
  last=$secs
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
