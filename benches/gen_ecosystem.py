#!/usr/bin/env python3
"""Generate a large, realistic coordination ecosystem for benchmarks.

Writes a git repository with one YAML file per entity (default 2,500 issues,
plans, todos and dependencies: 10,000 entities), a registry of repos and roles,
a small legacy `coordination:` section, and N extra branches (each with one
commit of its own) so ID allocation has real branch trees to read.

--graph adds a realistic web of blocked_by links between todos (acyclic)
and one blocking chain 5,000 long (ISSUE-k -> TODO-k -> ISSUE-k+1 -> ...),
with a third of its issues resolved so that some todos are ready.

Deterministic: the same arguments give the same files.
"""

import argparse
import os
import random
import subprocess
from pathlib import Path

STATUSES_ISSUE = ["pending", "in_progress", "blocked", "resolved", "closed"]
STATUSES_TODO = ["pending", "pending", "pending", "in_progress", "blocked", "completed", "cancelled"]
STATUSES_PLAN = ["draft", "active", "active", "on_hold", "completed"]
STATUSES_MS = ["pending", "in_progress", "completed"]
STATUSES_DEP = ["satisfied", "satisfied", "unsatisfied", "unknown", "deprecated"]
PRIORITIES = ["critical", "high", "medium", "medium", "low"]
TYPES = ["runtime", "development", "mcp", "test", "documentation"]
PEOPLE = ["les", "ana", "bo", "chen", "dee", None]
WORDS = "memory pool routing config lifecycle search index cache schema docs api cli tests migration release".split()


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ylist(items, indent=""):
    if not items:
        return "[]"
    return "\n" + "".join(f"{indent}- {x}\n" for x in items).rstrip("\n")


def title(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()


def date(rng, year=2026):
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--per-kind", type=int, default=2500)
    ap.add_argument("--repos", type=int, default=50)
    ap.add_argument("--branches", type=int, default=20)
    ap.add_argument("--graph", action="store_true", help="blocked_by web + a 5,000-long chain")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    root = Path(a.dir)
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty")
    n = a.per_kind
    repos = [f"repo-{i:03d}" for i in range(a.repos)]
    for d in ["issues", "plans", "todos", "dependencies"]:
        (root / "coordination" / d).mkdir(parents=True, exist_ok=True)
    (root / "settings").mkdir(parents=True, exist_ok=True)

    eco = ["repos:"]
    for i, r in enumerate(repos):
        eco += [f"  - name: {r}", f"    nickname: r{i}", f"    path: ../{r}", f"    role: role-{i % 5}", f"    tags: [t{i % 7}]"]
    eco += ["roles:"] + [f"  - name: role-{i}\n    description: Role {i}" for i in range(5)]
    eco += ["coordination:", "  issues:", "    - id: LEGACY-1", "      title: Legacy", "      repos: [repo-000]"]
    (root / "settings/ecosystem.yaml").write_text("\n".join(eco).replace("LEGACY-1", "ISSUE-%03d" % (n + 100)) + "\n")

    chain = a.graph
    for i in range(1, n + 1):
        deps = []
        if not chain and i > 10 and rng.random() < 0.2:
            deps = [f"ISSUE-{rng.randint(1, i - 1):03d}"]
        body = [
            f"id: ISSUE-{i:03d}",
            f"title: {q(title(rng))}",
            f"description: {q('Details for issue ' + str(i))}",
            # In the chain a third of the issues are resolved: the chain stays
            # 5,000 long, but the todos behind resolved issues become ready work.
            f"status: {rng.choice(STATUSES_ISSUE) if not chain else ('resolved' if rng.random() < 0.33 else 'pending')}",
            f"priority: {rng.choice(PRIORITIES)}",
            "severity: normal",
            f"repos:{ylist(rng.sample(repos, rng.randint(1, 3)))}",
            f"created: {date(rng)}",
            f"updated: {date(rng)}",
        ]
        if deps:
            body.append(f"dependencies:{ylist(deps)}")
        who = rng.choice(PEOPLE)
        if who:
            body.append(f"assignee: {who}")
        body.append(f"labels:{ylist(rng.sample(WORDS, 2))}")
        (root / f"coordination/issues/ISSUE-{i:03d}.yaml").write_text("\n".join(body) + "\n")

    ms = 0
    for i in range(1, n + 1):
        body = [
            f"id: PLAN-{i:03d}",
            f"title: {q(title(rng))}",
            f"status: {rng.choice(STATUSES_PLAN)}",
            f"repos:{ylist(rng.sample(repos, 2))}",
            f"created: {date(rng)}",
            f"target: {date(rng, 2027)}",
            "milestones:",
        ]
        for _ in range(2):
            ms += 1
            body += [f"- id: MILESTONE-{ms:03d}", f"  name: {q(title(rng))}", f"  due: {date(rng, 2027)}", f"  status: {rng.choice(STATUSES_MS)}"]
        (root / f"coordination/plans/PLAN-{i:03d}.yaml").write_text("\n".join(body) + "\n")

    for i in range(1, n + 1):
        blocked = []
        blocking = []
        if chain:
            blocked = [f"ISSUE-{i:03d}"]
            if i < n:
                blocking = [f"ISSUE-{i + 1:03d}"]
            if i > 20 and rng.random() < 0.3:
                blocked.append(f"TODO-{rng.randint(1, i - 1):03d}")
        elif i > 5 and rng.random() < 0.4:
            blocked = [f"TODO-{rng.randint(1, i - 1):03d}" for _ in range(rng.randint(1, 2))]
        plan = rng.randint(1, n)
        body = [
            f"id: TODO-{i:03d}",
            f"task: {q(title(rng))}",
            f"repo: {rng.choice(repos)}",
            f"status: {rng.choice(STATUSES_TODO) if not chain else 'pending'}",
            f"priority: {rng.choice(PRIORITIES)}",
            f"created: {date(rng)}",
            f"estimated_hours: {rng.choice([1, 2, 4, 8, 16, 24])}",
        ]
        if blocked:
            body.append(f"blocked_by:{ylist(sorted(set(blocked)))}")
        if blocking:
            body.append(f"blocking:{ylist(blocking)}")
        who = rng.choice(PEOPLE)
        if who:
            body.append(f"assignee: {who}")
        body += [f"plan_id: PLAN-{plan:03d}", f"milestone_id: MILESTONE-{2 * plan - 1:03d}"]
        (root / f"coordination/todos/TODO-{i:03d}.yaml").write_text("\n".join(body) + "\n")

    for i in range(1, n + 1):
        c, p = rng.sample(repos, 2)
        body = [
            f"id: DEP-{i:03d}",
            f"consumer: {c}",
            f"provider: {p}",
            f"type: {rng.choice(TYPES)}",
            f"version_constraint: {q('>=' + str(rng.randint(0, 3)) + '.' + str(rng.randint(0, 9)) + '.0')}",
            f"status: {rng.choice(STATUSES_DEP)}",
            f"created: {date(rng)}",
        ]
        (root / f"coordination/dependencies/DEP-{i:03d}.yaml").write_text("\n".join(body) + "\n")

    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_AUTHOR_DATE="2026-03-01T10:00:00+00:00", GIT_COMMITTER_DATE="2026-03-01T10:00:00+00:00")
    git = lambda *args: subprocess.run(["git", *args], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "benchmark ecosystem")
    for b in range(1, a.branches + 1):
        git("checkout", "-q", "-b", f"feature-{b}")
        extra = n + 100 + b
        (root / f"coordination/issues/ISSUE-{extra:03d}.yaml").write_text(
            f"id: ISSUE-{extra:03d}\ntitle: Branch {b}\nstatus: pending\npriority: low\nrepos: [repo-000]\n")
        git("add", "-A")
        git("commit", "-q", "-m", f"branch {b}")
        git("checkout", "-q", "main")
    print(f"generated {4 * n} entities, {a.branches} branches in {root}")


if __name__ == "__main__":
    main()
