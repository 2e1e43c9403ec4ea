#!/usr/bin/env bash
# Benchmark vigil against the targets of docs/performance.md, and against the query a data analyst
# would write instead (../shared/bench/peer_duckdb.py, DuckDB, 2 threads), from one run:
#
#   scripts/bench.sh [EXAMS...]      default 1000000; e.g. `scripts/bench.sh 100000` for a quick
#                                    run, `scripts/bench.sh 100000 1000000 3000000` for the table
#   YEAR=1 scripts/bench.sh          adds a network's year: 10,000,000 exams over 12 months
#   RUNS=5 (default)                 runs of inspect, check and the peer, alternated (A B C A B C),
#                                    medians reported; AUDIT_RUNS=3 (default) runs of audit
#
# Bundles are `vigil gen --exams N --seed 9` under target/bench/. The peer needs the Python
# package duckdb: it is installed into a virtual environment under target/bench/venv when it can
# be, and the script says so (and leaves the peer's figures out) when it cannot.
# Every figure is wall time of the whole process (median of RUNS) and its peak RSS
# (/usr/bin/time); records/s counts every record of the bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cargo build --release --quiet
bin="$root/target/release/vigil"
runs=${RUNS:-5}
audit_runs=${AUDIT_RUNS:-3}
peer_script="$root/../shared/bench/peer_duckdb.py"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"

# The peer's Python: a venv under target/bench with duckdb, made once.
peer_python=""
if [ ! -f "$peer_script" ]; then
    echo "peer: $peer_script not found; the peer's figures are left out"
elif python3 -c 'import duckdb' 2>/dev/null; then
    peer_python=python3
else
    venv="$root/target/bench/venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
        echo "peer: installing duckdb into $venv"
        if python3 -m venv "$venv" >/dev/null 2>&1 \
            && "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb >/dev/null 2>&1; then
            :
        else
            echo "peer: could not install duckdb (no network or no venv module); the peer's figures are left out"
        fi
    fi
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
        peer_python="$venv/bin/python"
    fi
fi
[ -z "$peer_python" ] || echo "peer: duckdb $("$peer_python" -c 'import duckdb; print(duckdb.__version__)') ($peer_python)"

sizes=("${@:-1000000}")
[ -z "${YEAR:-}" ] || sizes+=("10000000x12")
for size in "${sizes[@]}"; do
    exams=${size%x*}
    months=3
    [ "$size" = "$exams" ] || months=${size#*x}
    dir="$root/target/bench/gen-$exams-$months"
    if [ ! -f "$dir/bundle.toml" ]; then
        "$bin" gen --exams "$exams" --months "$months" --seed 9 --out "$dir" 2>/dev/null
    fi
    BIN="$bin" DIR="$dir" RUNS="$runs" AUDIT_RUNS="$audit_runs" PEER_PYTHON="$peer_python" \
        PEER="$peer_script" OUT="$root/target/bench" python3 - <<'EOF'
import json, os, statistics, subprocess, shutil

bin, d, out = os.environ["BIN"], os.environ["DIR"], os.environ["OUT"]
runs, audit_runs = int(os.environ["RUNS"]), int(os.environ["AUDIT_RUNS"])
peer_python, peer = os.environ["PEER_PYTHON"], os.environ["PEER"]

def timed(cmd):
    """Wall seconds and peak RSS (bytes) of one run, through /usr/bin/time."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall, rss = r.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) * 1024

inspect = json.loads(subprocess.run([bin, "inspect", d, "--format", "json"], check=True,
                                    capture_output=True, text=True).stdout)
records = inspect["records"]
size = sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(d) for f in fs)
print(f"\nbundle: {d}: {records:,} records, {size / 1e6:.0f} MB")

commands = {
    "inspect": [bin, "inspect", d, "--format", "json"],
    "check": [bin, "check", d, "--format", "json", "--as-of", "2026-04-02", "-o",
              os.path.join(out, "findings.json")],
}
if peer_python:
    commands["peer"] = [peer_python, peer, d, "2"]
got = {k: [] for k in commands}
for _ in range(runs):  # alternated: A B C A B C ...
    for k, cmd in commands.items():
        got[k].append(timed(cmd))
packet = os.path.join(out, "packet")
got["audit"] = []
for _ in range(audit_runs):
    shutil.rmtree(packet, ignore_errors=True)
    got["audit"].append(timed([bin, "audit", d, "--out", packet, "--as-of", "2026-04-02"]))

med = {k: statistics.median(w for w, _ in v) for k, v in got.items()}
rss = {k: max(r for _, r in v) for k, v in got.items()}
for k in got:
    walls = " ".join(f"{w:.2f}" for w, _ in got[k])
    print(f"{k:8} median {med[k]:6.2f} s  {records / med[k] / 1e6:5.2f}M records/s  "
          f"peak {rss[k] / 1e6:7.0f} MB ({rss[k] / records:4.0f} B/record)  runs: {walls}")

def target(what, value, goal, ok):
    print(f"  {'met    ' if ok else 'NOT met'}  {what}: {value} (target {goal})")

print("targets:")
target("check records/s", f"{records / med['check'] / 1e6:.2f}M", ">= 1.00M",
       records / med["check"] >= 1e6)
target("check / inspect", f"{med['check'] / med['inspect']:.2f}x", "<= 2x",
       med["check"] <= 2 * med["inspect"])
if "peer" in med:
    target("check / peer", f"{med['check'] / med['peer']:.2f}x", "<= 0.5x",
           med["check"] <= 0.5 * med["peer"])
target("check peak memory", f"{rss['check'] / records:.0f} B/record", "<= 400",
       rss["check"] <= 400 * records)
target("audit / inspect", f"{med['audit'] / med['inspect']:.2f}x", "<= 3x",
       med["audit"] <= 3 * med["inspect"])
if records >= 10_000_000:
    target("a year: check", f"{med['check']:.1f} s, {rss['check'] / 1e9:.1f} GB", "< 15 s, < 5 GB",
           med["check"] < 15 and rss["check"] < 5e9)
    target("a year: audit", f"{med['audit']:.1f} s", "< 25 s", med["audit"] < 25)
EOF
done
