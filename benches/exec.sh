#!/usr/bin/env bash
# Pool execution overhead and slot usage (see benches/exec.py): 200 todos of
# `true` / `sleep 0.2` across 20 repositories with a blocker web. Writes the
# table into docs/PERFORMANCE.md; fails when a run crashes.
#
#   benches/exec.sh [RUNS]          (GIT_COORD_BIN=… to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GIT_COORD_BIN:-}" ]; then
    cargo build --release --quiet
    GIT_COORD_BIN="$PWD/target/release/git-coord"
fi
exec python3 benches/exec.py "$GIT_COORD_BIN" --runs "${1:-3}" --doc docs/PERFORMANCE.md
