#!/usr/bin/env python3
"""`git coord sync` under contention: N clones of one bare remote each make
five changes that collide with every other clone's (two issues, the second
depending on the first; two todos, blocked by the second issue and by the
first todo; a label on a shared issue), then all N run `sync` at the same
moment. Every clone but the first to push must fetch again, renumber its
four new entities (rewriting the references), merge and push again.

Measures the wall time from starting the N syncs to the last one finishing,
checks that everything landed (distinct IDs, references rewritten, every
label kept), and writes the results into the table between the
`sync-contention` markers of docs/PERFORMANCE.md.

    benches/sync_contention.py BIN [--clones 20] [--runs 3] [--doc docs/PERFORMANCE.md]

Run through benches/sync_contention.sh, which builds the release binary.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ECOSYSTEM = """repos:
  - name: oneiric
    path: ../oneiric
    role: config
roles:
  - name: config
"""


def run(cmd, cwd, env, check=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed in {cwd}:\n{p.stdout}{p.stderr}")
    return p.stdout


def scenario(bin_, clones, tmp):
    """Sets up the remote and the clones; returns the clone directories."""
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_COORD_NOW": "2026-03-01",
        "NO_COLOR": "1",
        "LANG": "C.UTF-8",
    }
    seed, bare = tmp / "seed", tmp / "origin.git"
    seed.mkdir()
    run(["git", "init", "-q", "-b", "main"], seed, env)
    (seed / "settings").mkdir()
    (seed / "settings/ecosystem.yaml").write_text(ECOSYSTEM)
    run([bin_, "create-issue", "--title", "Shared", "--repos", "oneiric"], seed, env)
    run(["git", "add", "-A"], seed, env)
    run(["git", "commit", "-q", "-m", "seed"], seed, env)
    run(["git", "init", "-q", "--bare", str(bare)], tmp, env)
    run(["git", "push", "-q", str(bare), "main"], seed, env)
    dirs = []
    for k in range(clones):
        d = tmp / f"clone{k}"
        run(["git", "clone", "-q", str(bare), str(d)], tmp, env)
        c = lambda *a: run([bin_, *a], d, env)
        c("create-issue", "--title", f"c{k} first", "--repos", "oneiric")
        c("create-issue", "--title", f"c{k} second", "--repos", "oneiric", "--depends-on", "ISSUE-002")
        c("create-todo", "--task", f"c{k} task", "--repo", "oneiric", "--blocked-by", "ISSUE-003")
        c("create-todo", "--task", f"c{k} follow", "--repo", "oneiric", "--blocked-by", "TODO-001")
        c("update-issue", "ISSUE-001", "--add-label", f"c{k}")
        dirs.append(d)
    return env, bare, dirs


def verify(bin_, env, bare, clones, tmp):
    check = tmp / "check"
    run(["git", "clone", "-q", str(bare), str(check)], tmp, env)
    issues = json.loads(run([bin_, "list-issues", "--format", "json"], check, env))
    todos = json.loads(run([bin_, "list-todos", "--format", "json"], check, env))
    assert len(issues) == 1 + 2 * clones, f"{len(issues)} issues"
    assert len(todos) == 2 * clones, f"{len(todos)} todos"
    by_title = {i["title"]: i for i in issues}
    by_task = {t["task"]: t for t in todos}
    ids = set()
    for k in range(clones):
        first, second = by_title[f"c{k} first"], by_title[f"c{k} second"]
        task, follow = by_task[f"c{k} task"], by_task[f"c{k} follow"]
        ids |= {first["id"], second["id"], task["id"], follow["id"]}
        assert second["dependencies"] == [first["id"]], second
        assert task["blocked_by"] == [second["id"]], task
        assert follow["blocked_by"] == [task["id"]], follow
    assert len(ids) == 4 * clones, "IDs are distinct"
    labels = set(by_title["Shared"]["labels"])
    assert labels == {f"c{k}" for k in range(clones)}, labels
    run([bin_, "lint"], check, env)


def one_run(bin_, clones):
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        env, bare, dirs = scenario(bin_, clones, tmp)
        start = time.monotonic()
        procs = [
            subprocess.Popen([bin_, "sync"], cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for d in dirs
        ]
        outs = [p.communicate() for p in procs]
        wall = time.monotonic() - start
        attempts = []
        for p, (out, err) in zip(procs, outs):
            if p.returncode != 0:
                sys.exit(f"a sync failed:\n{out}{err}")
            m = re.search(r"on attempt (\d+)", out)
            attempts.append(int(m.group(1)) if m else 1)
        verify(bin_, env, bare, clones, tmp)
        return wall, attempts


def write_table(doc, rows):
    text = doc.read_text()
    begin, end = "<!-- sync-contention:begin -->", "<!-- sync-contention:end -->"
    if begin not in text:
        sys.exit(f"{doc} has no {begin} marker")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(head + begin + "\n" + "\n".join(rows) + "\n" + end + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--clones", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--doc", type=Path)
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    walls, all_attempts = [], []
    for i in range(a.runs):
        wall, attempts = one_run(a.bin, a.clones)
        walls.append(wall)
        all_attempts.append(attempts)
        print(f"run {i + 1}: {wall:.1f} s, attempts per clone {sorted(attempts)}", flush=True)
    flat = [x for run_ in all_attempts for x in run_]
    median = statistics.median(walls)
    print(f"median {median:.1f} s (min {min(walls):.1f}, max {max(walls):.1f}, {a.runs} runs)")
    if a.doc:
        # For scale: one clone with the same five changes, nobody to race.
        alone = [one_run(a.bin, 1)[0] for _ in range(a.runs)]
        print(f"one clone alone: median {statistics.median(alone):.2f} s")
        git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1]
        rows = [
            "| clones × changes | runs | wall time, median | min | max | attempts per clone (mean / max) |",
            "|---|---|---|---|---|---|",
            f"| {a.clones} × 5 | {a.runs} | {median:.1f} s | {min(walls):.1f} s | {max(walls):.1f} s "
            f"| {statistics.mean(flat):.1f} / {max(flat)} |",
            f"| 1 × 5 (nobody to race) | {a.runs} | {statistics.median(alone):.2f} s | {min(alone):.2f} s "
            f"| {max(alone):.2f} s | 1 / 1 |",
            "",
            f"Generated by `benches/sync_contention.sh` on {datetime.date.today().isoformat()}: "
            f"release build, {os.cpu_count()} cores, git {git}, load average at the end "
            f"{os.getloadavg()[0]:.1f}.",
        ]
        write_table(a.doc, rows)


if __name__ == "__main__":
    main()
