#!/usr/bin/env bash
# Clean build time of the generated example: a fresh target directory, dependencies included,
# then the time to rebuild after touching one generated model module. Prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
export CARGO_TARGET_DIR="$target"
cargo fetch --quiet
t0=$(date +%s.%N)
cargo build --quiet -p blog
t1=$(date +%s.%N)
touch generated-example/src/models/post.rs
cargo build --quiet -p blog
t2=$(date +%s.%N)
cargo build --quiet --release -p blog
t3=$(date +%s.%N)
printf 'generated-example clean debug build (with dependencies): %.1f s\n' "$(echo "$t1 - $t0" | bc)"
printf 'rebuild after touching src/models/post.rs:               %.1f s\n' "$(echo "$t2 - $t1" | bc)"
printf 'release build (dependencies rebuilt for release):        %.1f s\n' "$(echo "$t3 - $t2" | bc)"
printf 'on %s cores\n' "$(nproc)"
