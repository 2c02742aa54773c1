#!/usr/bin/env bash
# The index benchmark (issue 12): git-coord at 100,000 and 10,000 entities,
# cold and warm, against Taskwarrior in the same run; writes the table into
# docs/PERFORMANCE.md (between the index-bench markers).
#
#   benches/index.sh [RUNS]        (default 10 runs per command)
#
# Installs Taskwarrior (and GNU time, for peak memory) with apt when missing, builds the release binary,
# generates both data sets itself. A crashing or failing command fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v task >/dev/null || { apt-get update -qq && apt-get install -y -qq taskwarrior; }
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --locked --quiet
exec python3 benches/index_bench.py target/release/git-coord --runs "${1:-10}" ${BENCH_SIZES:+--sizes "$BENCH_SIZES"}
