#!/usr/bin/env bash
# Times `git coord check-deps` on loopback (see benches/check_deps.py):
# 50 dependencies (25 versions from local provider repos, 25 health checks
# answering after 100 ms) and 20 health checks to a port that never answers.
#
#   benches/check_deps.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
export GIT_COORD_NOW=2026-03-01 NO_COLOR=1 GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
exec python3 benches/check_deps.py "$PWD/target/release/git-coord" "${1:-20}"
