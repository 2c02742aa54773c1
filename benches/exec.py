#!/usr/bin/env python3
"""Pool execution overhead: 200 todos across 20 repositories with a blocker
web (todo i is blocked by todo i-20, and every 7th also by todo i-13), run by
`git coord sweep --label bench` on the local pool.

Two measurements, each on a fresh copy of the scenario, with the run record
and the line progress output (stdout is a pipe) included:

* overhead: command `true`, `--jobs 1`. The per-task cost beyond the
  commands is (wall - the time the same 200 `sh -c true` take when started
  one after the other directly) / 200.
* slots: command `sleep 0.2`, `--jobs 8`. The ideal wall time is
  max(critical path, total / 8); each checkout runs one task at a time, so
  the critical path is the longer of the blocker chain and the busiest
  checkout (10 tasks each).

Fails (exit 1) when a run crashes or does not succeed. Writes the table
between the `exec` markers of docs/PERFORMANCE.md.

    benches/exec.py BIN [--runs 3] [--doc docs/PERFORMANCE.md]
"""

import argparse
import datetime
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TODOS, REPOS, SLEEP = 200, 20, 0.2


def run(cmd, cwd, env, check=True):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({p.returncode}) in {cwd}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return p


def blockers(i):
    b = []
    if i > REPOS:
        b.append(i - REPOS)
    if i % 7 == 0 and i > 13:
        b.append(i - 13)
    return b


def critical_path():
    depth = {}
    for i in range(1, TODOS + 1):
        depth[i] = 1 + max((depth[j] for j in blockers(i)), default=0)
    return max(max(depth.values()), TODOS // REPOS)


def scenario(tmp, command):
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_COORD_NOW": "2026-03-01",
        "GIT_COORD_TRUST_ALL": "1",
        "NO_COLOR": "1",
    }
    repos = []
    for r in range(REPOS):
        d = tmp / f"r{r:02}"
        d.mkdir()
        run(["git", "init", "-q"], d, env)
        run(["git", "commit", "-q", "--allow-empty", "-m", "init"], d, env)
        repos.append(f"  - {{name: r{r:02}, path: ../r{r:02}}}\n")
    coord = tmp / "coord"
    (coord / "settings").mkdir(parents=True)
    (coord / "coordination" / "todos").mkdir(parents=True)
    (coord / "settings" / "ecosystem.yaml").write_text("repos:\n" + "".join(repos))
    (coord / "settings" / "coord.yaml").write_text(
        f"pool_execution_enabled: true\nactions:\n  test: \"{command}\"\npools:\n  local: {{max_parallel: 8}}\n"
    )
    for i in range(1, TODOS + 1):
        b = ", ".join(f"TODO-{j:03}" for j in blockers(i))
        (coord / "coordination" / "todos" / f"TODO-{i:03}.yaml").write_text(
            f"id: TODO-{i:03}\ntask: task {i}\nrepo: r{(i - 1) % REPOS:02}\nstatus: pending\n"
            f"labels: [bench]\nblocked_by: [{b}]\n"
        )
    run(["git", "init", "-q"], coord, env)
    run(["git", "add", "-A"], coord, env)
    run(["git", "commit", "-q", "-m", "scenario"], coord, env)
    return coord, env


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sweep(bin_, command, jobs):
    """(wall, CPU) of one sweep; CPU is the git-coord process and its commands."""
    with tempfile.TemporaryDirectory() as t:
        coord, env = scenario(Path(t), command)
        cpu0 = child_cpu()
        start = time.perf_counter()
        p = run([bin_, "sweep", "--label", "bench", "--jobs", str(jobs)], coord, env, check=False)
        wall = time.perf_counter() - start
        cpu = child_cpu() - cpu0
        first = p.stdout.splitlines()[0] if p.stdout else ""
        if p.returncode != 0 or "succeeded: 200 tasks" not in first:
            sys.exit(f"sweep failed ({p.returncode}): {first}\n{p.stderr[-3000:]}")
        return wall, cpu


def baseline():
    """200 `sh -c true` started one after the other, each in its own directory."""
    with tempfile.TemporaryDirectory() as t:
        cpu0 = child_cpu()
        start = time.perf_counter()
        for _ in range(TODOS):
            subprocess.run(["sh", "-c", "true"], cwd=t, stdin=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start, child_cpu() - cpu0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--doc", default=None)
    a = ap.parse_args()
    a.bin = str(Path(a.bin).resolve())
    over, slot, base, over_cpu, base_cpu = [], [], [], [], []
    load0 = os.getloadavg()[0]
    for _ in range(a.runs):
        w, c = baseline()
        base.append(w)
        base_cpu.append(c)
        w, c = sweep(a.bin, "true", 1)
        over.append(w)
        over_cpu.append(c)
        slot.append(sweep(a.bin, f"sleep {SLEEP}", 8)[0])
    ideal = max(critical_path() * SLEEP, TODOS * SLEEP / 8)
    per_task = [(w - b) / TODOS * 1000 for w, b in zip(over, base)]
    per_task_cpu = [(w - b) / TODOS * 1000 for w, b in zip(over_cpu, base_cpu)]
    load = os.getloadavg()[0]
    git = run(["git", "--version"], ".", os.environ).stdout.split()[-1]
    rows = [
        "| measurement | runs | median | min | max | budget |",
        "|---|---|---|---|---|---|",
        f"| `true` × 200, `--jobs 1`: wall | {a.runs} | {statistics.median(over):.2f} s | {min(over):.2f} s | {max(over):.2f} s | |",
        f"| 200 × `sh -c true` started directly | {a.runs} | {statistics.median(base):.2f} s | {min(base):.2f} s | {max(base):.2f} s | |",
        f"| scheduling overhead per task | {a.runs} | {statistics.median(per_task):.1f} ms | {min(per_task):.1f} ms | {max(per_task):.1f} ms | ≤ 5 ms |",
        f"| CPU per task beyond the commands (user + system) | {a.runs} | {statistics.median(per_task_cpu):.1f} ms | {min(per_task_cpu):.1f} ms | {max(per_task_cpu):.1f} ms | |",
        f"| `sleep {SLEEP}` × 200, `--jobs 8`: wall (ideal {ideal:.1f} s) | {a.runs} | {statistics.median(slot):.2f} s | {min(slot):.2f} s | {max(slot):.2f} s | ≤ {ideal * 1.2:.1f} s (+20 %) |",
    ]
    table = "\n".join(rows) + (
        f"\n\nGenerated by `benches/exec.sh` on {datetime.date.today()}: {Path(a.bin).parent.name} build, "
        f"{os.cpu_count()} cores, git {git}, load average {load0:.1f} at the start and {load:.1f} at the end "
        f"(the machine's other work competes for the same cores; the CPU row does not count waiting for a core, "
        f"but creating files costs more while other work deletes many: see below).\n"
    )
    print(table)
    if a.doc:
        doc = Path(a.doc)
        text = doc.read_text()
        block = f"<!-- exec:begin -->\n{table}<!-- exec:end -->"
        if "<!-- exec:begin -->" in text:
            text = re.sub(r"<!-- exec:begin -->.*?<!-- exec:end -->", lambda _: block, text, flags=re.S)
        else:
            text = text.rstrip("\n") + "\n\n## Pool execution\n\n" + EXPLAIN + "\n" + block + "\n"
        doc.write_text(text)


EXPLAIN = """`benches/exec.sh`: 200 todos across 20 repositories with a blocker web
(todo i waits for todo i-20, every 7th also for todo i-13), swept with
`git coord sweep --label bench` on the local pool, with the run record and
the line progress output included. The overhead per task is the wall time of
a `--jobs 1` sweep of `true` minus the time the same 200 `sh -c true` take
started directly, over 200; the CPU row is the same difference in CPU time
(git-coord and everything it started, against the 200 shells), which does
not count waiting for a core. Slot usage: a `--jobs 8` sweep of `sleep 0.2`
against max(critical path, total / 8) — each checkout runs one task at a
time, so the critical path is the longer of the blocker chain and the
busiest checkout (10 tasks).
"""

if __name__ == "__main__":
    main()
