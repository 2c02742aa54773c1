#!/usr/bin/env bash
# `git coord sync` under contention (see benches/sync_contention.py): 20
# clones × 5 colliding changes, all syncing at the same moment against one
# bare remote. Writes the wall time into docs/PERFORMANCE.md.
#
#   benches/sync_contention.sh [RUNS] [CLONES]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
exec python3 benches/sync_contention.py "$PWD/target/release/git-coord" \
    --runs "${1:-3}" --clones "${2:-20}" --doc docs/PERFORMANCE.md
