#!/usr/bin/env bash
# Times the history commands on a generated repository with 2,000 commits
# touching coordination data over ~5,600 entity files (benches/gen_history.py),
# with hyperfine, and prints medians.
#
#   benches/history.sh
#
# Needs hyperfine and python3. Builds the release binary first. Results are
# written to target/bench/history-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
bin=$PWD/target/release/git-coord
out=$PWD/target/bench
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export NO_COLOR=1
repo=$tmp/repo
python3 benches/gen_history.py "$repo"

median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['median']*1000:.1f} ms (min {r['min']*1000:.1f}, max {r['max']*1000:.1f}, {len(r['times'])} runs)\")" "$1"; }
bench() { # name command...
    local name=$1; shift
    hyperfine --style none --warmup 2 --runs "${RUNS:-15}" --export-json "$out/history-$name.json" \
        --command-name "$name" "cd $repo && $*" >/dev/null 2>&1
    printf '%-32s %s\n' "$name" "$(median "$out/history-$name.json")"
}

bench log "$bin log >/dev/null"
bench log-one-issue "$bin log ISSUE-0042 >/dev/null"
bench log-json "$bin log --format json >/dev/null"
bench diff-500-commits "$bin diff HEAD~500..HEAD >/dev/null"
bench diff-500-markdown "$bin diff HEAD~500..HEAD --format markdown >/dev/null"

# The merge driver on one realistic file (an issue edited on both sides):
# a clean field-level merge, and one with a conflicting field.
m=$tmp/merge
mkdir -p "$m"
git -C "$repo" show HEAD~600:coordination/issues/ISSUE-0042.yaml >"$m/base"
sed 's/^status: .*/status: in_progress/; s/^  line 1$/  line 1, clarified/' "$m/base" >"$m/ours"
sed 's/^priority: .*/priority: high/; s/^repos:$/labels_extra: [perf]\nrepos:/' "$m/base" >"$m/theirs"
sed 's/^status: .*/status: blocked/' "$m/theirs" >"$m/theirs-conflict"
bench merge-driver "cp $m/ours $m/work && $bin merge-driver $m/base $m/work $m/theirs coordination/issues/ISSUE-0042.yaml"
bench merge-driver-conflict "cp $m/ours $m/work && { $bin merge-driver $m/base $m/work $m/theirs-conflict x 2>/dev/null; true; }"
