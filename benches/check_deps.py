#!/usr/bin/env python3
"""Benchmark of `git coord check-deps` on loopback (issue 4).

Generates, in a temp directory:
  * 25 provider git repositories (Cargo.toml at HEAD for 13, release tags only
    for 12) and 25 dependencies with a version constraint on them;
  * 25 dependencies with a health check on a local HTTP server that answers
    200 after 100 ms;
  * a second ecosystem of 20 dependencies whose health check points at a port
    that accepts connections and never answers.
Serves both ports from this process (threads) and times the release binary
with hyperfine. Usage: benches/check_deps.py BIN [RUNS]
"""

import http.server
import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time


class Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.1)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b.invalid",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b.invalid")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)


def ecosystem(base, name, repos, deps):
    eco = os.path.join(base, name)
    os.makedirs(os.path.join(eco, "settings"))
    os.makedirs(os.path.join(eco, "coordination", "dependencies"))
    git(eco, "init", "-q", "-b", "main")
    lines = ["repos:", "  - name: app", "    path: ."]
    for r in repos:
        lines += [f"  - name: {r}", f"    path: ../{r}"]
    lines += ["  - name: service"]
    with open(os.path.join(eco, "settings", "ecosystem.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for i, body in enumerate(deps, 1):
        dep_id = f"DEP-{i:03}"
        with open(os.path.join(eco, "coordination", "dependencies", f"{dep_id}.yaml"), "w") as f:
            f.write(f"id: {dep_id}\nconsumer: app\n{body}")
    return eco


def main():
    binary = sys.argv[1]
    runs = sys.argv[2] if len(sys.argv) > 2 else "20"
    base = tempfile.mkdtemp(prefix="check-deps-bench-")
    slow = Server(("127.0.0.1", 0), Slow)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    # Listens (the kernel completes handshakes into the backlog) but never accepts.
    never = socket.socket()
    never.bind(("127.0.0.1", 0))
    never.listen(256)
    slow_port, never_port = slow.server_address[1], never.getsockname()[1]

    repos, deps = [], []
    for i in range(1, 26):
        name = f"lib-{i:02}"
        path = os.path.join(base, name)
        os.makedirs(path)
        git(path, "init", "-q", "-b", "main")
        if i % 2:
            with open(os.path.join(path, "Cargo.toml"), "w") as f:
                f.write(f'[package]\nname = "{name}"\nversion = "1.{i}.0"\n')
        else:
            with open(os.path.join(path, "README"), "w") as f:
                f.write("tags only\n")
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "init")
        if not i % 2:
            for t in ("v0.9.0", f"v1.{i}.0", "v1.0.0-rc.1"):
                git(path, "tag", t)
        repos.append(name)
        deps.append(f'provider: {name}\nversion_constraint: ">=1.0, <2"\nstatus: unknown\n')
    for i in range(25):
        deps.append(f"provider: service\nstatus: unknown\nvalidation:\n"
                    f"  health_check: http://127.0.0.1:{slow_port}/health/{i}\n")
    mixed = ecosystem(base, "mixed", repos, deps)
    hang = ecosystem(base, "hang", [], [
        f"provider: service\nstatus: unknown\nvalidation:\n  health_check: http://127.0.0.1:{never_port}/h{i}\n"
        for i in range(20)])

    # Sanity: the mixed run is all satisfied, the hanging run all unsatisfied.
    for eco, key, want in ((mixed, "satisfied", 50), (hang, "unsatisfied", 20)):
        out = subprocess.run([binary, "check-deps", "--format", "json", "--timeout", "1"],
                             cwd=eco, capture_output=True, text=True)
        got = json.loads(out.stdout)["summary"][key]
        assert got == want, f"{eco}: {key}={got}, expected {want}\n{out.stdout[:2000]}"

    out_dir = os.path.join(os.getcwd(), "target", "bench")
    os.makedirs(out_dir, exist_ok=True)
    cases = [
        ("check-deps-50-mixed", mixed, f"{binary} check-deps >/dev/null"),
        ("check-deps-50-mixed-jobs-25", mixed, f"{binary} check-deps --jobs 25 >/dev/null"),
        ("check-deps-20-hanging-timeout-1s-jobs-8", hang, f"{binary} check-deps --timeout 1 >/dev/null || true"),
        ("check-deps-20-hanging-timeout-1s-jobs-20", hang,
         f"{binary} check-deps --timeout 1 --jobs 20 >/dev/null || true"),
    ]
    for name, eco, cmd in cases:
        n = runs if "mixed" in name else "5"
        export = os.path.join(out_dir, f"{name}.json")
        subprocess.run(["hyperfine", "--style", "none", "--warmup", "1", "--runs", n, "--export-json", export,
                        "--command-name", name, f"cd {eco} && {cmd}"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = json.load(open(export))["results"][0]
        print(f"{name:45} median {r['median'] * 1000:7.1f} ms (min {r['min'] * 1000:.1f}, "
              f"max {r['max'] * 1000:.1f}, {len(r['times'])} runs)")
    subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    main()
