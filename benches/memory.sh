#!/usr/bin/env bash
# The memory benchmark (issue 13): event derivation, `events` for one
# entity, `trends` and the cost of the post-commit events hook, on the
# history benchmark repository (benches/gen_history.py, 2,000 commits over
# ~5,000 entity files); writes its table into docs/PERFORMANCE.md (between
# the memory-bench markers).
#
#   benches/memory.sh [RUNS]        (default 10 runs per command)
#
# Builds the release binary. A failing command fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 benches/memory_bench.py target/release/git-coord --runs "${1:-10}"
