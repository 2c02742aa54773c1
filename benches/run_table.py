#!/usr/bin/env python3
"""Writes the core and graph tables of docs/PERFORMANCE.md from the
hyperfine results `benches/run.sh` leaves in target/bench/*.json, between
the markers of each table, so no figure is copied by hand.

    benches/run_table.py [core|graph|all]
"""

import datetime
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "PERFORMANCE.md"
RESULTS = HERE.parent / "target" / "bench"

# (result name, command as shown, budget in ms, what it does)
TABLES = {
    "core": [
        ("list-issues-pending-json", "`list-issues --status pending --format json`", 80,
         "plain list: the kind's rows brought up to date, then one query on the index (docs/ARCHITECTURE.md rule 9)"),
        ("show-issue", "`show-issue ISSUE-1234`", 15,
         "the entity and its relations: every kind brought up to date (a file anywhere may mention it; one `stat` per file without the monitor), then its neighbourhood"),
        ("create-issue-20-branches", "`create-issue` with 20 branches", 60,
         "ID allocation reads each branch's `coordination/issues` tree with gix (remembered per tree ID)"),
        ("lint", "`lint` (all 10,000 entities)", 300, "every check, including cycles"),
    ],
    "graph": [
        ("ready", "`ready`", 100, "issues and todos from their graph rows; one traversal per candidate"),
        ("status", "`status` (ecosystem)", 150, "all kinds; one graph build"),
        ("roadmap", "`roadmap`", 150, "plans and todos; critical path by one longest-path pass"),
        ("lint-cycles", "`lint` with the cycle check", 300, "Kosaraju SCC (iterative: a 5,000-long chain does not overflow the stack)"),
    ],
}


def table(name):
    lines = [f"<!-- run-bench-{name}:begin -->", ""]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"Measured {now} by `benches/run.sh {name}` on {platform.machine()}, {os.cpu_count()} cores, "
                 f"release build, no file-system monitor (every file's stamp checked); hyperfine medians.")
    lines.append("")
    lines.append("| command | budget | median | min | max | result | what it does |")
    lines.append("|---|---|---|---|---|---|---|")
    for key, shown, budget, note in TABLES[name]:
        path = RESULTS / f"{key}.json"
        if not path.exists():
            raise SystemExit(f"no result for {key} ({path}): run benches/run.sh {name} first")
        r = json.loads(path.read_text())["results"][0]
        med, lo, hi = r["median"] * 1000, r["min"] * 1000, r["max"] * 1000
        verdict = "met" if med <= budget else "**not met**"
        lines.append(f"| {shown} | ≤ {budget} ms | {med:.1f} ms | {lo:.1f} ms | {hi:.1f} ms | {verdict} | {note} |")
    lines.append("")
    lines.append(f"<!-- run-bench-{name}:end -->")
    return "\n".join(lines)


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    text = DOCS.read_text()
    for name in TABLES:
        if what not in (name, "all"):
            continue
        begin, end = f"<!-- run-bench-{name}:begin -->", f"<!-- run-bench-{name}:end -->"
        if begin not in text or end not in text:
            raise SystemExit(f"docs/PERFORMANCE.md has no {begin} … {end} markers")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + table(name) + tail
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
