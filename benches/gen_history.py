#!/usr/bin/env python3
"""Generate a git repository with a long coordination history, for the
history benchmarks (log, log ID, diff, merge driver).

The first commit holds 5,000 entity files (2,000 issues, 2,500 todos, 300
plans, 200 dependencies); then N commits (default 2,000) each change one to
three entities the way people do — status moves, labels, assignees, edited
descriptions, new todos — with increasing dates and a few authors. Written
with `git fast-import`, so it takes seconds. Deterministic.

    benches/gen_history.py DIR [--commits N] [--fast-import-pack]
"""

import argparse
import random
import subprocess
from pathlib import Path

PEOPLE = [("Ann Lee", "ann@example.com"), ("Bo Chen", "bo@example.com"), ("Dee Rao", "dee@example.com")]
ISSUE_ST = ["pending", "in_progress", "blocked", "resolved"]
TODO_ST = ["pending", "in_progress", "blocked", "completed"]
LABELS = ["api", "breaking", "docs", "perf", "security", "ux"]
WORDS = "memory pool routing config lifecycle search index cache schema docs api cli tests migration".split()


def issue(i, st, labels, assignee, desc):
    s = f"id: ISSUE-{i:04d}\ntitle: {WORDS[i % len(WORDS)]} issue {i}\n"
    s += f"description: |\n" + "".join(f"  {l}\n" for l in desc)
    s += f"status: {st}\npriority: medium\nseverity: normal\nrepos:\n- repo-{i % 40:03d}\n"
    s += "created: 2025-01-01\nupdated: 2025-01-01\n"
    if assignee:
        s += f"assignee: {assignee}\n"
    if labels:
        s += "labels:\n" + "".join(f"- {l}\n" for l in labels)
    return s


def todo(i, st, blocked_by):
    s = f"id: TODO-{i:04d}\ntask: {WORDS[i % len(WORDS)]} task {i}\nrepo: repo-{i % 40:03d}\nstatus: {st}\n"
    s += "priority: medium\ncreated: 2025-01-01\nupdated: 2025-01-01\nestimated_hours: 4\n"
    if blocked_by:
        s += "blocked_by:\n" + "".join(f"- {b}\n" for b in blocked_by)
    return s


def plan(i):
    s = f"id: PLAN-{i:04d}\ntitle: plan {i}\nstatus: active\nrepos:\n- repo-{i % 40:03d}\n"
    s += "created: 2025-01-01\nupdated: 2025-01-01\nmilestones:\n"
    for m in range(2):
        s += f"- id: MILESTONE-{i * 2 + m:04d}\n  name: step {m}\n  status: pending\n  due: 2026-06-01\n"
    return s


def dep(i):
    return (
        f"id: DEP-{i:04d}\nconsumer: repo-{i % 40:03d}\nprovider: repo-{(i + 1) % 40:03d}\ntype: runtime\n"
        f"version_constraint: '>=1.0'\nstatus: satisfied\ncreated: 2025-01-01\nupdated: 2025-01-01\n"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--commits", type=int, default=2000)
    ap.add_argument("--fast-import-pack", action="store_true", help="keep fast-import's pack (no repack)")
    a = ap.parse_args()
    rnd = random.Random(7)
    root = Path(a.dir)
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)

    issues = {i: dict(st="pending", labels=[], assignee=None, desc=[f"line {k}" for k in range(4)]) for i in range(1, 2001)}
    todos = {i: dict(st="pending", blocked_by=[]) for i in range(1, 2501)}
    eco = "repos:\n" + "".join(f"- name: repo-{r:03d}\n  path: ../repo-{r:03d}\n" for r in range(40))

    out = []
    mark = [0]

    def blob(text):
        mark[0] += 1
        data = text.encode()
        out.append(b"blob\nmark :%d\ndata %d\n" % (mark[0], len(data)) + data + b"\n")
        return mark[0]

    def commit(msg, when, who, files, first=False):
        name, email = who
        m = msg.encode()
        head = b"commit refs/heads/main\n"
        head += b"author %s <%s> %d +0000\n" % (name.encode(), email.encode(), when)
        head += b"committer %s <%s> %d +0000\n" % (name.encode(), email.encode(), when)
        head += b"data %d\n" % len(m) + m + b"\n"
        if first:
            head += b"deleteall\n"
        out.append(head + b"".join(b"M 100644 :%d %s\n" % (mk, p.encode()) for p, mk in files) + b"\n")

    t0 = 1735689600  # 2025-01-01
    files = [("settings/ecosystem.yaml", blob(eco))]
    for i, s in issues.items():
        files.append((f"coordination/issues/ISSUE-{i:04d}.yaml", blob(issue(i, **s))))
    for i, s in todos.items():
        files.append((f"coordination/todos/TODO-{i:04d}.yaml", blob(todo(i, **s))))
    for i in range(1, 301):
        files.append((f"coordination/plans/PLAN-{i:04d}.yaml", blob(plan(i))))
    for i in range(1, 201):
        files.append((f"coordination/dependencies/DEP-{i:04d}.yaml", blob(dep(i))))
    commit("Initial coordination data", t0, PEOPLE[0], files, first=True)

    next_todo = 2501
    for c in range(1, a.commits + 1):
        when = t0 + c * 3600
        who = PEOPLE[c % len(PEOPLE)]
        changed = []
        for _ in range(rnd.randint(1, 3)):
            r = rnd.random()
            if r < 0.5:
                i = rnd.randint(1, 2000)
                s = issues[i]
                kind = rnd.random()
                if kind < 0.5:
                    s["st"] = rnd.choice(ISSUE_ST)
                elif kind < 0.7:
                    l = rnd.choice(LABELS)
                    s["labels"] = [x for x in s["labels"] if x != l] if l in s["labels"] else s["labels"] + [l]
                elif kind < 0.85:
                    s["assignee"] = rnd.choice(["ann", "bo", "dee", None])
                else:
                    s["desc"][rnd.randrange(4)] = f"edited in commit {c}"
                changed.append((f"coordination/issues/ISSUE-{i:04d}.yaml", blob(issue(i, **s))))
            elif r < 0.85:
                i = rnd.randint(1, next_todo - 1)
                s = todos[i]
                if rnd.random() < 0.7:
                    s["st"] = rnd.choice(TODO_ST)
                else:
                    s["blocked_by"] = sorted(set(s["blocked_by"] + [f"ISSUE-{rnd.randint(1, 2000):04d}"]))
                changed.append((f"coordination/todos/TODO-{i:04d}.yaml", blob(todo(i, **s))))
            else:
                todos[next_todo] = dict(st="pending", blocked_by=[f"ISSUE-{rnd.randint(1, 2000):04d}"])
                changed.append((f"coordination/todos/TODO-{next_todo:04d}.yaml", blob(todo(next_todo, **todos[next_todo]))))
                next_todo += 1
        commit(f"coordination update {c}", when, who, changed)

    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(out), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, check=True)
    if not a.fast_import_pack:
        # Repack as a clone would receive it (fast-import's own pack chains
        # deltas oldest-first, which no fetched repository has).
        subprocess.run(["git", "repack", "-adq"], cwd=root, check=True)
    print(f"{root}: {a.commits + 1} commits, {2000 + next_todo - 1 + 300 + 200} entity files")


if __name__ == "__main__":
    main()
