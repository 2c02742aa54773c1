#!/usr/bin/env python3
"""The memory benchmark (see benches/memory.sh): times, on the history
benchmark repository,

- the first event derivation (`events rebuild`: every commit),
- an incremental update after one new commit (`events ID` right after it),
- `events ID` for one entity with nothing new,
- `trends` over the whole history (JSON),
- what the post-commit events hook adds to `git commit`, with the memory
  service (a webhook on 127.0.0.1) up and down: the median of `git commit`
  with the hooks installed minus the median without,

and writes the table into docs/PERFORMANCE.md between the memory-bench
markers (unless --no-docs).
"""

import argparse
import fcntl
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "PERFORMANCE.md"
BEGIN = "<!-- memory-bench:begin -->"
END = "<!-- memory-bench:end -->"
BUDGETS = {
    "first derivation (events rebuild)": 3000,
    "incremental after one commit": 100,
    "events for one entity": 50,
    "trends over everything": 300,
    "post-commit hook added, service up": 30,
    "post-commit hook added, service down": 30,
}


def run(argv, cwd, env):
    start = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - start) * 1000
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {p.returncode}:\n{p.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def measure(name, argv, cwd, env, runs, prepare=None, after=None):
    times = []
    for _ in range(runs + 1):  # the first is a warm-up
        if prepare:
            prepare()
        times.append(run(argv, cwd, env))
        if after:
            after()
    times = times[1:]
    med = statistics.median(times)
    print(f"  {name:<44} {med:8.1f} ms (min {min(times):.1f}, max {max(times):.1f})", flush=True)
    return med, min(times), max(times)


class Ok(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    bin_ = str(Path(args.bin).resolve())
    work = Path(tempfile.mkdtemp(prefix="git-coord-memory-bench-"))
    repo = work / "repo"
    print("generating the history repository (2,000 commits)...", flush=True)
    subprocess.run([sys.executable, str(HERE / "gen_history.py"), str(repo)], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, GIT_COORD_NOW="2025-04-01", NO_COLOR="1",
               GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.com")
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL)
    db = repo / ".git" / "git-coord"
    rows = []

    runs = args.runs
    rows.append(("first derivation (events rebuild)", measure("first derivation (events rebuild)", [bin_, "events", "rebuild"], repo, env, max(3, runs // 3))))
    todo = sorted((repo / "coordination" / "todos").glob("*.yaml"))[7]
    counter = [0]

    def one_commit():
        counter[0] += 1
        text = todo.read_text()
        lines = [l for l in text.splitlines() if not l.startswith("assignee:")]
        lines.append(f"assignee: bench{counter[0]}")
        todo.write_text("\n".join(lines) + "\n")
        git("add", "-A")
        git("commit", "-q", "-m", f"bench {counter[0]}")

    tid = todo.stem
    rows.append(("incremental after one commit", measure("incremental after one commit", [bin_, "events", tid, "--format", "json"], repo, env, runs, prepare=one_commit)))
    rows.append(("events for one entity", measure("events for one entity", [bin_, "events", tid, "--format", "json"], repo, env, runs)))
    rows.append(("trends over everything", measure("trends over everything", [bin_, "trends", "--since", "2024-12-01", "--format", "json"], repo, env, runs)))

    # The hook: git commit with and without the events hooks.
    def edit_and_add():
        counter[0] += 1
        text = todo.read_text()
        lines = [l for l in text.splitlines() if not l.startswith("assignee:")]
        lines.append(f"assignee: hook{counter[0]}")
        todo.write_text("\n".join(lines) + "\n")
        git("add", "-A")

    lock = db / "events-hook.lock"

    def settle():
        # Let the background pass start, then wait for it to finish.
        time.sleep(0.3)
        if lock.exists():
            with open(lock, "a") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                fcntl.flock(f, fcntl.LOCK_UN)

    commit = ["git", "commit", "-q", "-m", "hook bench"]
    base = measure("git commit without hooks", commit, repo, env, runs, prepare=edit_and_add)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    up = server.server_address[1]
    with socketless_port() as down:
        for label, port in (("up", up), ("down", down)):
            settings = repo / "settings" / "coord.yaml"
            settings.write_text(f"memory_enabled: true\nmemory:\n  ref: main\n  webhook:\n    url: http://127.0.0.1:{port}/events\n")
            git("add", "-A")
            git("commit", "-q", "-m", f"memory {label}")
            run([bin_, "hook", "install", "--events"], repo, env)
            run([bin_, "events", "status"], repo, env)
            settle()
            with_hook = measure(f"git commit with the hooks, service {label}", commit, repo, env, runs, prepare=edit_and_add, after=settle)
            added = tuple(w - base[0] for w in with_hook)
            rows.append((f"post-commit hook added, service {label}", added))
            run([bin_, "hook", "uninstall", "--events"], repo, env)
    server.shutdown()
    status = subprocess.run([bin_, "events", "status"], cwd=repo, env=env, capture_output=True, text=True).stdout
    print(status)

    failed = [n for n, (med, _, _) in rows if med > BUDGETS[n]]
    table = ["| measurement | median | min | max | budget |", "|---|---:|---:|---:|---:|"]
    for n, (med, lo, hi) in rows:
        table.append(f"| {n} | {med:.1f} ms | {lo:.1f} | {hi:.1f} | ≤ {BUDGETS[n]} ms{' **over**' if med > BUDGETS[n] else ''} |")
    cpu = os.cpu_count()
    body = (f"\n{runs} runs each (3+ for the first derivation), release build, {cpu} cores, "
            f"`benches/memory.sh` on {time.strftime('%Y-%m-%d')}; \"hook added\" rows are the median "
            f"`git commit` with the events hooks minus the median without ({base[0]:.1f} ms); "
            f"min/max there are of the with-hooks runs minus that median.\n\n" + "\n".join(table) + "\n\n")
    if not args.no_docs:
        text = DOCS.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            DOCS.write_text(head + BEGIN + "\n" + body + END + tail)
    print("\n".join(table))
    if failed:
        print("over budget: " + ", ".join(failed), file=sys.stderr)


class socketless_port:
    """A port nothing listens on (bound then closed)."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *a):
        return False


if __name__ == "__main__":
    main()
