#!/usr/bin/env bash
# The Django blog benchmark: seeds a Django project's SQLite database (bench/django: 2,000 authors,
# 20,000 posts with ~500-byte bodies, 100,000 comments, 50 tags; Django's own tables and indexes),
# imports it with `gqlauto init --from-django`, generates and builds the server in release mode,
# and measures it beside strawberry-graphql-django and graphene-django (pinned in
# bench/django/requirements-*.txt, each in a virtualenv under target/) on the same file.
# Extra arguments go to the driver, e.g. `--seconds 5 --clients 16 --only Q3`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="${TMPDIR:-/tmp}/gqlauto-django-bench"
for peer in strawberry graphene; do
  [ -x "target/$peer-venv/bin/python" ] || python3 -m venv "target/$peer-venv"
  "target/$peer-venv/bin/pip" install --quiet --disable-pip-version-check -r "bench/django/requirements-$peer.txt"
done
python="$root/target/strawberry-venv/bin/python"

mkdir -p "$work"
db="$work/blog.db"
rm -f "$db" "$db-wal" "$db-shm"
(cd bench/django && BENCH_DB="$db" "$python" manage.py migrate --verbosity 0 && BENCH_DB="$db" "$python" manage.py seed)

cargo build --quiet --release -p gqlauto
# The manifest is named after its directory, and the crate after the manifest: `djangoblog`,
# a name no other crate built in the shared target directory has.
rm -f "$work/djangoblog/gqlauto.yaml"
BENCH_DB="$db" target/release/gqlauto init "$work/djangoblog" --from-django bench/django --settings blogbench.settings --python "$python"
target/release/gqlauto generate "$work/djangoblog/gqlauto.yaml" --out "$work/djangoblog/server"
# The generated crate lives outside this workspace; its build shares the workspace's target dir.
CARGO_TARGET_DIR="$root/target" cargo build --quiet --release --manifest-path "$work/djangoblog/server/Cargo.toml"
CARGO_TARGET_DIR="$root/target" cargo build --quiet --release --manifest-path bench/Cargo.toml

exec target/release/django-peers --server target/release/djangoblog --project bench/django --db "$db" \
  --strawberry "$root/target/strawberry-venv/bin/python" --graphene "$root/target/graphene-venv/bin/python" "$@"
