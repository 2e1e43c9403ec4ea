#!/usr/bin/env bash
# Coverage-guided fuzzing of vigil's untrusted-input parsers with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds the targets of fuzz/ (nightly toolchain, cargo-fuzz installed when missing), seeds each
# corpus from fixtures/ and policies/ (fuzz/corpus/TARGET, kept between runs), and runs each
# target for SECONDS_PER_TARGET (default 60) on one core, with a 2 GB memory and a 10 s time
# limit per input. A crash, a hang or an out-of-memory leaves its input in fuzz/artifacts/TARGET
# and makes the script exit non-zero. docs/security.md, "Fuzzing", says what each target reads.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

seconds="${1:-60}"
shift || true
all=(records gzip time policy side_files verify)
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=("${all[@]}")

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain (rustup toolchain install nightly); cargo-fuzz needs it" >&2
    exit 2
fi
if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --quiet --locked cargo-fuzz
fi

# Seeds: the fixtures every test already reads. The first byte of records/gzip/side_files
# inputs picks the format, dataset or file kind (see each target).
seed() { # seed TARGET NAME PREFIX_BYTE FILE...
    local target="$1" name="$2" prefix="$3"
    shift 3
    local out="fuzz/corpus/$target/seed-$name"
    { [ -z "$prefix" ] || printf "\\x$(printf %02x "$prefix")"; cat "$@"; } >"$out"
}
datasets=(facilities practitioners exams sessions coverage reactions procedure_codes)
format_index() { case "$1" in *.csv*) echo 0 ;; *.ndjson* | *.jsonl*) echo 2 ;; *.json*) echo 1 ;; esac; }
dataset_index() {
    local base
    base="$(basename "$(dirname "$1")")/$(basename "$1")"
    for i in "${!datasets[@]}"; do
        case "$base" in *"${datasets[$i]}"*) echo "$i"; return ;; esac
    done
    echo 2 # exams/2026-01.csv and the like
}
for t in "${all[@]}"; do mkdir -p "fuzz/corpus/$t"; done
n=0
while IFS= read -r file; do
    n=$((n + 1))
    f="$(format_index "$file")"
    [ -n "$f" ] || continue
    case "$file" in
        *.gz)
            seed gzip "$n" "$f" "$file"
            ;;
        *)
            seed records "$n" $((f + 3 * $(dataset_index "$file"))) "$file"
            [ $((n % 5)) -ne 0 ] || { printf "\\x$(printf %02x "$f")"; gzip -c "$file"; } >"fuzz/corpus/gzip/seed-z$n"
            ;;
    esac
done < <(find fixtures/bundles -type f \( -name '*.csv*' -o -name '*.json*' -o -name '*.ndjson*' \) | sort)
for file in fixtures/bundles/*/bundle.toml; do
    n=$((n + 1))
    seed side_files "manifest$n" 2 "$file"
done
for file in fixtures/waivers/*.toml fixtures/waivers/network/*.toml; do
    [ -f "$file" ] || continue
    n=$((n + 1))
    seed side_files "waiver$n" 0 "$file"
done
for file in fixtures/packet/signed/findings.json fixtures/baselines/*.json; do
    n=$((n + 1))
    seed side_files "baseline$n" 1 "$file"
done
seed verify signed "" fixtures/packet/signed/manifest.json
for pack in policies/*/ fixtures/packs/*/; do
    script="$(find "$pack" -maxdepth 1 -name '*.rhai' | sort | head -n 1)"
    for version in "$pack"*.toml; do
        [ -f "$version" ] || continue
        n=$((n + 1))
        {
            sed -E 's/file = "[^"]*\.rhai"/file = "fuzz.rhai"/' "$version"
            if [ -n "$script" ]; then printf '\n#--rhai--\n'; cat "$script"; fi
        } >"fuzz/corpus/policy/seed-$n"
    done
done
for t in 2026-03-08T02:30:00 2026-11-01T01:30:00 2026-01-05T14:03:00Z 2026-01-05T14:03:00.125-05:00 \
    2026-01-05 '2026-01-05 14:03' +10000-01-01T00:00:00Z 9999-12-31T23:59:59-14:00 yes 007 1e3 'a;b;;c'; do
    n=$((n + 1))
    printf '%s' "$t" >"fuzz/corpus/time/seed-$n"
done

status=0
for target in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$target"
    echo "fuzz: $target for ${seconds}s ($(find "fuzz/corpus/$target" -type f | wc -l) inputs in the corpus)"
    if ! cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
        -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 >"fuzz/$target.log" 2>&1; then
        echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target, the log in fuzz/$target.log" >&2
        tail -n 30 "fuzz/$target.log" >&2
        status=1
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "fuzz/$target.log" | sed "s/^/fuzz: $target /" || true
    echo "fuzz: $target corpus now $(find "fuzz/corpus/$target" -type f | wc -l) inputs"
done
exit "$status"
