#!/usr/bin/env bash
# Every output vigil writes, for one binary, into one folder: so a refactor can prove that it
# changed no byte (`scripts/outputs.sh compare` does the whole before/after comparison).
#
#   scripts/outputs.sh write VIGIL OUT_DIR [BUNDLE...]
#       runs VIGIL on each bundle (default: the demo and a generated 100k-exam bundle) in every
#       format of check, inspect, audit (packet, plain and redacted with a fixed salt), diff,
#       and the policy tools, and writes what each printed (stdout, stderr, exit code) into OUT_DIR.
#   scripts/outputs.sh compare [REV]
#       builds REV (default: HEAD) in a worktree under target/ and the working tree, writes both
#       sets of outputs and compares them byte for byte; exits 1 on any difference.
#       BEFORE_BIN=path/to/vigil skips building REV and uses that binary as "before".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# One command: its stdout, stderr and exit code, under a name.
run() {
    local out=$1 name=$2; shift 2
    local code=0
    "$@" >"$out/$name.out" 2>"$out/$name.err" || code=$?
    echo "$code" >"$out/$name.code"
}

write_one() { # vigil, out dir, bundle
    local vigil=$1 out=$2 bundle=$3
    local as_of=2026-04-02T00:00:00Z
    mkdir -p "$out"
    for f in text json junit sarif github ndjson; do
        run "$out" "check-$f" "$vigil" check "$bundle" --as-of "$as_of" --format "$f"
    done
    run "$out" check-fail-on-none "$vigil" check "$bundle" --as-of "$as_of" --fail-on none
    run "$out" inspect-text "$vigil" inspect "$bundle"
    run "$out" inspect-json "$vigil" inspect "$bundle" --format json
    run "$out" audit "$vigil" audit "$bundle" --out "$out/packet" --as-of "$as_of" --fail-on none
    run "$out" audit-redacted "$vigil" audit "$bundle" --out "$out/packet-redacted" \
        --as-of "$as_of" --fail-on none --redact --redact-salt fixed-salt
    run "$out" verify "$vigil" verify "$out/packet"
    if [ -f "$root/fixtures/waivers/all.toml" ] && [ "$bundle" = "$root/fixtures/bundles/demo" ]; then
        run "$out" check-waivers "$vigil" check "$bundle" --as-of "$as_of" --format json \
            --waivers "$root/fixtures/waivers/all.toml"
        run "$out" check-baseline "$vigil" check "$bundle" --as-of "$as_of" --format sarif \
            --baseline "$out/packet/findings.json"
    fi
    run "$out" diff "$vigil" diff "$out/packet/findings.json" "$out/packet-redacted/findings.json" --fail-on none
    run "$out" diff-json "$vigil" diff "$out/packet/findings.json" "$out/packet-redacted/findings.json" \
        --format json --fail-on none
    # The signature and the packet id depend on a random key: only the unsigned packet is kept.
}

write_all() { # vigil, out dir, bundles...
    local vigil=$1 out=$2; shift 2
    rm -rf "$out"; mkdir -p "$out"
    local bundles=("$@")
    if [ ${#bundles[@]} -eq 0 ]; then
        local gen="$root/target/outputs/gen-100000"
        if [ ! -f "$gen/bundle.toml" ]; then
            "$vigil" gen --exams 100000 --seed 9 --out "$gen" 2>/dev/null
        fi
        bundles=("$root/fixtures/bundles/demo" "$gen")
    fi
    for b in "${bundles[@]}"; do
        write_one "$vigil" "$out/$(basename "$b")" "$b"
    done
    local p="$out/policy"; mkdir -p "$p"
    run "$p" lint "$vigil" policy lint builtin
    run "$p" test "$vigil" policy test builtin --junit "$p/test-junit.xml"
    run "$p" catalog-md "$vigil" policy catalog
    run "$p" catalog-html "$vigil" policy catalog --format html
    run "$p" diff "$vigil" policy diff cms-direct-supervision@1.0.0 cms-direct-supervision@2.0.0
    run "$p" diff-json "$vigil" policy diff acr-contrast-supervision@1.0.0 acr-contrast-supervision@2.0.0 --format json
    run "$p" diff-impact "$vigil" policy diff cms-direct-supervision@1.0.0 cms-direct-supervision@2.0.0 \
        --impact "$root/fixtures/bundles/demo"
    for rule in SUP-001 RXN-002 BEN-001 DQ-005; do
        run "$p" "explain-$rule" "$vigil" explain "$rule"
        run "$p" "explain-$rule-json" "$vigil" explain "$rule" --format json
    done
    run "$p" schema "$vigil" schema policy
    run "$p" lint-fixture "$vigil" policy lint "$root/fixtures/packs/lint_unused_param"
    run "$p" check-bad-pack "$vigil" check "$root/fixtures/bundles/minimal" --policies "$root/fixtures/packs/err_unknown_param"
    # Paths of this run's folder are not part of the output.
    grep -rlF "$out" "$out" 2>/dev/null | while read -r f; do
        sed -i "s#$out#OUT#g" "$f"
    done
}

case "${1:-}" in
write)
    shift
    write_all "$@"
    ;;
compare)
    rev=${2:-HEAD}
    before_bin=${BEFORE_BIN:-}
    if [ -z "$before_bin" ]; then
        base="$root/target/outputs/base"
        git worktree remove --force "$base" 2>/dev/null || true
        rm -rf "$base"
        git worktree add --detach "$base" "$rev" >/dev/null
        (cd "$base" && CARGO_TARGET_DIR="$root/target/outputs/base-target" cargo build --release --quiet)
        git worktree remove --force "$base"
        before_bin="$root/target/outputs/base-target/release/vigil"
    fi
    cargo build --release --quiet
    write_all "$before_bin" "$root/target/outputs/before"
    write_all "$root/target/release/vigil" "$root/target/outputs/after"
    if diff -r "$root/target/outputs/before" "$root/target/outputs/after" >"$root/target/outputs/diff.txt"; then
        echo "outputs: byte-identical ($(find "$root/target/outputs/after" -type f | wc -l) files)"
    else
        echo "outputs: DIFFERENT (see target/outputs/diff.txt)"
        head -40 "$root/target/outputs/diff.txt"
        exit 1
    fi
    ;;
*)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
