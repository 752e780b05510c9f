"""Many users at once: N concurrent gradio_client sessions, each training with its own settings.

Starts `python app.py` on a free loopback port (or uses --url), waits until it answers, then for
each N starts N threads at once; thread i opens its own Client and calls /train with distinct
settings (rank 1 + i % 8, seed 1000 + i, its own target layers and dataset), polling its job
against a deadline. Every result is checked against the settings that thread sent:
metrics["config"] must equal them and metrics["params"]["lora"]["trainable"] must equal
rank · Σ(d_in + d_out) over its target layers. Reports per N: completed, errors, wrong results,
p50/p95 latency (submit → final update) and wall time; for a server started here also its mean
CPU use in cores during the round and its RSS, threads and open file descriptors afterwards
(from /proc). Everything runs under one global deadline.

    python -m bench.load                 # N = 8, 16, 32 against a fresh `python app.py`
    python -m bench.load --n 4 --url http://127.0.0.1:7860
    python -m bench.load --quick         # N = 4 only
"""
from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from lora_demo.config import RunConfig, config_from_flat, flat_from_config

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = flat_from_config(RunConfig())
TARGET_SETS = (["fc1"], ["fc1", "fc2"], ["fc2", "fc3"])
DATASETS = ("moons", "circles")  # both have 2 classes, so the output layer is d_out = 2 for every session


def session_settings(i: int, base: dict | None = None) -> dict:
    """Distinct settings for session i, on top of base (default: the app's defaults)."""
    return dict(base or DEFAULTS, rank=1 + i % 8, seed=1000 + i, target_modules=TARGET_SETS[i % 3],
                dataset=DATASETS[i % 2])


def expected_trainable(settings: dict) -> int:
    """rank · Σ (d_in + d_out) over the target layers of a 2 → hidden → … → 2 network."""
    sizes = [2] + [settings["hidden_size"]] * settings["hidden_layers"] + [2]
    return sum(settings["rank"] * (sizes[int(t[2:]) - 1] + sizes[int(t[2:])]) for t in settings["target_modules"])


def proc_stats(pid: int | str = "self") -> dict:
    """Resident memory (MB), OS threads and open file descriptors of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    field = {line.split(":")[0]: line.split(":")[1].split() for line in status.splitlines()}
    return {"rss_mb": int(field["VmRSS"][0]) / 1024, "threads": int(field["Threads"][0]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def finish(job, deadline: float):
    """Poll a gradio_client job until done or the deadline (time.monotonic()); then its result."""
    while not job.done():
        if time.monotonic() > deadline:
            job.cancel()
            raise TimeoutError("no final update before the deadline")
        time.sleep(0.05)
    return job.result(timeout=5)


def client_for(url: str):
    from gradio_client import Client
    return Client(url, verbose=False, analytics_enabled=False)


def one_session(url: str, settings: dict, deadline: float, go: threading.Barrier) -> dict:
    """One user: connect, wait for the others, submit, wait for the final update, check the result."""
    out = {"settings": settings, "latency": None, "error": None, "wrong": None}
    try:
        client = client_for(url)
    except Exception as e:  # could not even connect; still release the others at the barrier
        go.wait(timeout=max(1.0, deadline - time.monotonic()))
        return dict(out, error=f"connect: {type(e).__name__}: {e}"[:300])
    try:
        go.wait(timeout=max(1.0, deadline - time.monotonic()))
        t0 = time.perf_counter()
        result = finish(client.submit(**settings, api_name="/train"), deadline)
        out["latency"] = time.perf_counter() - t0
        metrics = result[-1]
        problems = []
        if metrics["config"] != config_from_flat(settings).to_dict():
            problems.append(f"config {metrics['config']} is not the one sent")
        if metrics["params"]["lora"]["trainable"] != expected_trainable(settings):
            problems.append(f"trainable {metrics['params']['lora']['trainable']} != {expected_trainable(settings)}")
        out["wrong"] = "; ".join(problems) or None
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    finally:
        client.close()
    return out


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def run_load(url: str, n: int, seconds: float = 300.0, base: dict | None = None) -> dict:
    """N concurrent sessions with distinct settings; a summary plus every session's outcome."""
    deadline = time.monotonic() + seconds
    go = threading.Barrier(n)
    sessions: list[dict | None] = [None] * n

    def worker(i):
        sessions[i] = one_session(url, session_settings(i, base), deadline, go)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + 10)
    wall = time.perf_counter() - t0
    sessions = [s or {"error": "thread did not finish", "latency": None, "wrong": None} for s in sessions]
    latencies = [s["latency"] for s in sessions if s["latency"] is not None and not s["error"]]
    return {
        "n": n,
        "completed": sum(1 for s in sessions if s["latency"] is not None and not s["error"] and not s["wrong"]),
        "errors": sum(1 for s in sessions if s["error"]),
        "wrong": sum(1 for s in sessions if s["wrong"]),
        "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=None), "wall_s": wall,
        "problems": [s["error"] or s["wrong"] for s in sessions if s["error"] or s["wrong"]],
    }


# ---------------------------------------------------------------- the app as a subprocess

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(timeout: float = 120.0) -> tuple[subprocess.Popen, str, float, Path]:
    """`python app.py` on a free loopback port; returns (process, url, seconds until / answered 200, log file)."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    log = Path(tempfile.mkstemp(prefix="lora-app-", suffix=".log")[1])
    t0 = time.perf_counter()
    with open(log, "wb") as f:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}; log: {log}\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                return proc, url, time.perf_counter() - t0, log
        except httpx.HTTPError:
            pass
        if time.perf_counter() - t0 > timeout:
            stop_app(proc)
            raise TimeoutError(f"app.py did not answer within {timeout:g} s; log: {log}")
        time.sleep(0.1)


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def fmt(x, spec=".2f") -> str:
    return "–" if x is None else format(x, spec)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[8, 16, 32], help="concurrent sessions per round")
    ap.add_argument("--url", help="an app already running (default: start `python app.py`)")
    ap.add_argument("--quick", action="store_true", help="one round with N = 4")
    ap.add_argument("--timeout", type=float, default=900.0, help="global deadline in seconds (default 900)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    a = ap.parse_args(argv)
    ns = [4] if a.quick else a.n
    end = time.monotonic() + a.timeout
    proc, url = None, a.url
    if url is None:
        proc, url, ready, log = start_app(timeout=min(120.0, a.timeout))
        print(f"app.py answered on {url} after {ready:.1f} s (log {log})", file=sys.stderr)
    rounds = []
    try:
        for n in ns:
            left = end - time.monotonic()
            if left <= 5:
                print(f"global timeout reached; N = {n} not run", file=sys.stderr)
                break
            cpu0 = cpu_seconds(proc.pid) if proc is not None else None
            r = run_load(url, n, seconds=left)
            if proc is not None:
                r["server_cores"] = (cpu_seconds(proc.pid) - cpu0) / r["wall_s"]  # mean cores busy in the round
                time.sleep(2)  # let finished requests release their resources
                r["server"] = proc_stats(proc.pid)
            rounds.append(r)
            print(f"N={n}: {r['completed']}/{n} completed, {r['errors']} errors, {r['wrong']} wrong, "
                  f"wall {r['wall_s']:.1f} s", file=sys.stderr, flush=True)
    finally:
        if proc is not None:
            stop_app(proc)
    if a.json:
        print(json.dumps({"url": url if a.url else "python app.py", "rounds": rounds}))
        return
    print("/train under load: N sessions at once, each with its own settings (app default size)")
    head = f"{'N':>4} {'completed':>10} {'errors':>7} {'wrong':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'wall s':>7}"
    if proc is not None:
        head += f" {'srv cores':>9} {'srv RSS MB':>10} {'threads':>8} {'fds':>5}"
    print(head)
    for r in rounds:
        line = (f"{r['n']:>4} {r['completed']:>10} {r['errors']:>7} {r['wrong']:>6} {fmt(r['p50_s']):>7} "
                f"{fmt(r['p95_s']):>7} {fmt(r['max_s']):>7} {r['wall_s']:>7.1f}")
        if "server" in r:
            s = r["server"]
            line += f" {r['server_cores']:>9.2f} {s['rss_mb']:>10.0f} {s['threads']:>8} {s['fds']:>5}"
        print(line)
        for p in r["problems"][:5]:
            print(f"       problem: {p}")


if __name__ == "__main__":
    main()
