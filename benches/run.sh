#!/usr/bin/env bash
# Times whole git-coord commands on a generated 10,000-entity ecosystem
# (benches/gen_ecosystem.py) with hyperfine, and prints medians.
#
#   benches/run.sh [core|graph|all]      (default: all)
#
# Needs hyperfine (apt-get install hyperfine) and python3. Builds the release
# binary first. Results are written to target/bench/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
bin=$PWD/target/release/git-coord
out=$PWD/target/bench
mkdir -p "$out"
eco=$(mktemp -d)/eco
graph=$(mktemp -d)/eco
trap 'rm -rf "$(dirname "$eco")" "$(dirname "$graph")"' EXIT
export GIT_COORD_NOW=2026-03-01 NO_COLOR=1

median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['median']*1000:.1f} ms (min {r['min']*1000:.1f}, max {r['max']*1000:.1f}, {len(r['times'])} runs)\")" "$1"; }

bench() { # name dir command...
    local name=$1 dir=$2; shift 2
    hyperfine --style none --warmup 3 --runs "${RUNS:-30}" --export-json "$out/$name.json" \
        --command-name "$name" "cd $dir && $*" >/dev/null 2>&1
    printf '%-40s %s\n' "$name" "$(median "$out/$name.json")"
}

if [[ $what == core || $what == all ]]; then
    python3 benches/gen_ecosystem.py "$eco" >/dev/null
    echo "core: 10,000 entities (2,500 per kind), 20 branches"
    bench list-issues-pending-json "$eco" "$bin list-issues --status pending --format json >/dev/null"
    bench show-issue "$eco" "$bin show-issue ISSUE-1234 >/dev/null"
    bench create-issue-20-branches "$eco" "$bin create-issue --title Bench --repos repo-001 >/dev/null"
    bench lint "$eco" "$bin lint >/dev/null || true"
fi
if [[ $what == graph || $what == all ]]; then
    python3 benches/gen_ecosystem.py --graph "$graph" >/dev/null
    echo "graph: 10,000 entities with a blocked_by web and a 5,000-long chain"
    for cmd in ready status roadmap; do
        if "$bin" "$cmd" --help >/dev/null 2>&1; then
            bench "$cmd" "$graph" "$bin $cmd >/dev/null"
        fi
    done
    bench lint-cycles "$graph" "$bin lint >/dev/null || true"
fi
# The tables in docs/PERFORMANCE.md are written from these results.
[[ ${NO_DOCS:-} == 1 ]] || python3 benches/run_table.py "$what"
