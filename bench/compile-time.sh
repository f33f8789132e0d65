#!/usr/bin/env bash
# Compile cost of generated crates by model count, on synthetic manifests of every shape
# (`gqlauto::synth`). For each size: `cargo check`, a debug build and the rebuild after touching one
# model module, a release build, the peak memory of the compiler and the release binary's size.
# Dependencies are built once first, so every figure is the generated crate's own cost.
#
#   bench/compile-time.sh [SIZE...]          default sizes: 30 100 200 500
#   RELEASE_UP_TO=100 bench/compile-time.sh  release builds only up to that size (default: all)
#   DEBUG_UP_TO=200 bench/compile-time.sh    debug builds likewise
#   COMPILE_BENCH_TARGET=DIR                 the shared target directory (default: target/compile-bench)
#
# Prints one table row per size, ready for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(30 100 200 500)
release_up_to=${RELEASE_UP_TO:-1000000}
debug_up_to=${DEBUG_UP_TO:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARGO_TERM_COLOR=never
cargo build --quiet --release -p gqlauto --bin gqlauto --example synth_manifest
gqlauto="$PWD/target/release/gqlauto"
synth="$PWD/target/release/examples/synth_manifest"
# One target directory for every generated crate (each has its own package name).
export CARGO_TARGET_DIR="${COMPILE_BENCH_TARGET:-$PWD/target/compile-bench}"

# `timed LABEL cmd...`: runs cmd, sets $secs (wall) and $peak (peak RSS of the biggest process, MiB).
timed() {
    local out="$work/time"
    /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    read -r secs kb <"$out"
    peak=$((kb / 1024))
}

generate() { # generate N DIR
    "$synth" "$1" 1 >"$work/m$1.yaml"
    "$gqlauto" generate "$work/m$1.yaml" --out "$2" >/dev/null
    cp Cargo.lock "$2/"
}

# Dependencies, for both profiles, through the smallest crate.
generate 2 "$work/deps"
(cd "$work/deps" && cargo build --quiet && cargo build --quiet --release && cargo check --quiet)

printf '| models | generated lines | cargo check | debug build | rebuild after touching one model | release build | peak compiler memory | release binary |\n'
printf '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for n in "${sizes[@]}"; do
    dir="$work/c$n"
    generate "$n" "$dir"
    lines=$(cat "$dir"/src/*.rs "$dir"/src/*/*.rs | wc -l)
    cd "$dir"
    timed cargo check --quiet; check=$secs; mem=$peak
    debug="skipped"; rebuild="skipped"
    if [ "$n" -le "$debug_up_to" ]; then
        timed cargo build --quiet; debug="$secs s"; [ "$peak" -gt "$mem" ] && mem=$peak
        touch src/models/invoice1.rs
        timed cargo build --quiet; rebuild="$secs s"
    fi
    release="skipped"; size="–"
    if [ "$n" -le "$release_up_to" ]; then
        timed cargo build --quiet --release; release="$secs s"; [ "$peak" -gt "$mem" ] && mem=$peak
        bin=$(sed -n 's/^name = "\(.*\)"/\1/p' Cargo.toml | head -1)
        size="$(( $(stat -c %s "$CARGO_TARGET_DIR/release/$bin") / 1048576 )) MiB"
    fi
    cd - >/dev/null
    printf '| %s | %s | %s s | %s | %s | %s | %s MiB | %s |\n' "$n" "$lines" "$check" "$debug" "$rebuild" "$release" "$mem" "$size"
    rm -rf "$dir"
done
printf '\non %s cores, %s\n' "$(nproc)" "$(rustc --version)"
