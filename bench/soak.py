"""Many runs and many sessions: does the app's process tree (web process, forkserver, workers) grow?

Against `python app.py` (or the process tree of this process, for the in-process check in the tests):
  --runs N      N calls of /train in a row through one gradio_client session
  --sessions M  M new sessions (a new client each), one /train call each
Samples the whole tree: resident memory (sum of RSS, and of PSS, which counts pages the forked workers
share only once), open file descriptors, threads and processes, after a warm-up and at the end (once idle
threads have had time to exit). Limits (the hardening issue): RSS growth ≤ 50 MB over 500 runs in one
session and ≤ 100 MB over 1,000 sessions; no leaked processes; fds and threads back within a small slack.

    python -m bench.soak [--runs 500] [--sessions 1000] [--small] [--json]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

from bench.load import client_for, finish
from bench.procs import start_app, stop_app, tree
from lora_demo.links import DEFAULTS

RUNS_LIMIT_MB = 50.0
SESSIONS_LIMIT_MB = 100.0
RSS_LIMIT_MB = RUNS_LIMIT_MB
FD_SLACK = 3
THREAD_SLACK = 3
SMALL = dict(DEFAULTS, n_samples=80, pretrain_steps=20, adapt_steps=20)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sample(pid: int | None = None) -> dict:
    """The process tree of pid (default: this process) summed: RSS, PSS, fds, threads, processes."""
    gc.collect()
    pids = tree(pid or os.getpid())
    out = {"rss_mb": 0.0, "pss_mb": 0.0, "fds": 0, "threads": 0, "processes": 0}
    each = []
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
            fields = {line.split(":")[0]: line.split(":")[1].split() for line in status.splitlines() if ":" in line}
            rss = int(fields["VmRSS"][0]) / 1024
            out["rss_mb"] += rss
            out["threads"] += int(fields["Threads"][0])
            out["fds"] += len(os.listdir(f"/proc/{p}/fd"))
            out["pss_mb"] += _pss_mb(p)
            out["processes"] += 1
            each.append((p, _role(p, pid or os.getpid()), round(rss)))
        except (OSError, KeyError, IndexError):
            continue
    return dict(out, each=each)


def _role(p: int, root: int) -> str:
    """web (the app), forkserver, worker or other, from the process's command line."""
    if p == root:
        return "web"
    cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    if "forkserver" in cmd:
        parent = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]
        return "forkserver" if int(parent) == root else "worker"
    return "resource tracker" if "resource_tracker" in cmd else "other"


def settle(pid: int | None, base: dict, seconds: float) -> dict:
    """Sample until fds and threads are back within the slack of base, or seconds have passed."""
    end = time.monotonic() + seconds
    while True:
        now = sample(pid)
        back = now["fds"] - base["fds"] <= FD_SLACK and now["threads"] - base["threads"] <= THREAD_SLACK
        if back or time.monotonic() > end:
            return now
        time.sleep(0.5)


def fresh(settings: dict, i: int) -> dict:
    """Run i's settings: its own seed, so that every run trains (a worker answers a repeated job from memory)."""
    return dict(settings, seed=i)


def growth(base: dict, end: dict) -> dict:
    return {k: end[k] - base[k] for k in base if k != "each"}


def soak(url: str, runs: int, settings: dict, warmup: int = 5, every: int = 25, settle_s: float = 15.0,
         per_run_s: float = 90.0, pid: int | None = None, log=None) -> dict:
    """runs calls of /train in a row through one session, after warmup calls."""
    client = client_for(url)
    errors, samples = [], []
    try:
        for k in range(warmup):
            finish(client.submit(**fresh(settings, 10_000 + k), api_name="/train"), time.monotonic() + per_run_s)
        base = sample(pid)
        samples.append(dict(base, run=0))
        t0 = time.perf_counter()
        for i in range(1, runs + 1):
            try:
                finish(client.submit(**fresh(settings, i), api_name="/train"), time.monotonic() + per_run_s)
            except Exception as e:
                errors.append(f"run {i}: {type(e).__name__}: {e}"[:200])
            if i % every == 0 or i == runs:
                samples.append(dict(sample(pid), run=i))
                if log:
                    s = samples[-1]
                    log(f"run {i:>4}: RSS {s['rss_mb']:.0f} MB (PSS {s['pss_mb']:.0f}), fds {s['fds']}, "
                        f"threads {s['threads']}, processes {s['processes']}, {time.perf_counter() - t0:.0f} s")
        elapsed = time.perf_counter() - t0
    finally:
        client.close()
    end = settle(pid, base, settle_s)
    return {"runs": runs, "errors": errors, "elapsed_s": elapsed, "baseline": base, "end": end,
            "growth": growth(base, end), "samples": samples}


def sessions(url: str, n: int, settings: dict, warmup: int = 5, every: int = 100, settle_s: float = 15.0,
             pid: int | None = None, log=None) -> dict:
    """n sessions, one run each (a new client per session)."""
    for k in range(warmup):
        c = client_for(url)
        finish(c.submit(**fresh(settings, 10_000 + k), api_name="/train"), time.monotonic() + 90)
        c.close()
    base = sample(pid)
    errors, samples = [], [dict(base, session=0)]
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        client = client_for(url)
        try:
            finish(client.submit(**fresh(settings, i), api_name="/train"), time.monotonic() + 90)
        except Exception as e:
            errors.append(f"session {i}: {type(e).__name__}: {e}"[:200])
        finally:
            client.close()
        if i % every == 0 or i == n:
            samples.append(dict(sample(pid), session=i))
            if log:
                s = samples[-1]
                log(f"session {i:>5}: RSS {s['rss_mb']:.0f} MB (PSS {s['pss_mb']:.0f}), fds {s['fds']}, "
                    f"threads {s['threads']}, {time.perf_counter() - t0:.0f} s")
    end = settle(pid, base, settle_s)
    return {"sessions": n, "errors": errors, "elapsed_s": time.perf_counter() - t0, "baseline": base, "end": end,
            "growth": growth(base, end), "samples": samples}


def report(name: str, r: dict, limit: float) -> str:
    g, b, e = r["growth"], r["baseline"], r["end"]
    ok = g["rss_mb"] <= limit and g["processes"] <= 0 and g["fds"] <= FD_SLACK and g["threads"] <= THREAD_SLACK
    per = "; ".join(f"{role} {mb} MB" for _, role, mb in e["each"])
    return (f"{name}: RSS {b['rss_mb']:.0f} → {e['rss_mb']:.0f} MB ({g['rss_mb']:+.1f}, limit {limit:g}); "
            f"PSS {b['pss_mb']:.0f} → {e['pss_mb']:.0f} MB ({g['pss_mb']:+.1f}); fds {g['fds']:+d}; "
            f"threads {g['threads']:+d}; processes {b['processes']} → {e['processes']}; "
            f"{len(r['errors'])} errors; {r['elapsed_s']:.0f} s — {'ok' if ok else 'EXCEEDED'}\n"
            f"   each process at the end: {per}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--small", action="store_true", help="80 samples, 20 + 20 steps for the runs too")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    proc, url, _, log_path = start_app()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    result = {}
    pids = tree(proc.pid)
    try:
        if a.runs:
            result["runs"] = soak(url, a.runs, SMALL if a.small else DEFAULTS, every=max(1, a.runs // 10),
                                  pid=proc.pid, log=log)
        if a.sessions:
            result["sessions"] = sessions(url, a.sessions, SMALL, every=max(1, a.sessions // 10), pid=proc.pid,
                                          log=log)
    finally:
        pids = sorted(set(pids) | set(tree(proc.pid)))
        stop_app(proc)
        deadline = time.monotonic() + 15  # workers notice the closed pipe and exit; init reaps the orphans
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.5)
        result["left_behind"] = [p for p in pids if _alive(p)]
        log_path.unlink(missing_ok=True)
    if a.json:
        print(json.dumps(result))
        return
    if "runs" in result:
        print(report(f"{a.runs} runs in one session", result["runs"], RUNS_LIMIT_MB))
    if "sessions" in result:
        print(report(f"{a.sessions} sessions, one run each", result["sessions"], SESSIONS_LIMIT_MB))
    print(f"processes left after the app stopped: {len(result['left_behind'])}")


if __name__ == "__main__":
    main()
