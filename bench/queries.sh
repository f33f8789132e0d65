#!/usr/bin/env bash
# Query benchmark: builds the generated example and the benchmark tools in release mode (sharing
# the workspace's target directory), then seeds 10,000 authors / 100,000 posts / 500,000 comments
# and prints requests/s, latency percentiles and SQL statements per request for each query.
# Extra arguments go to the load generator, e.g. `--seconds 5 --clients 4 --authors 1000`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p blog
CARGO_TARGET_DIR="$PWD/target" cargo build --quiet --release --manifest-path bench/Cargo.toml
exec target/release/gqlauto-bench --server target/release/blog --reference target/release/reference "$@"
