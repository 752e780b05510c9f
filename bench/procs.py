"""The app as a subprocess, and what its whole process tree uses: the web process, the forkserver and
every worker, read from /proc (Linux).

    proc, url, seconds = start_app(env={"LORA_WORKERS": "2"})
    tree_stats(proc.pid)   # RSS, CPU seconds, fds, threads, process count of the whole tree
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children(p)
    return found


def proc_stats(pid: int | str = "self") -> dict:
    """Resident memory (MB), OS threads, open file descriptors and CPU seconds of one process."""
    status = Path(f"/proc/{pid}/status").read_text()
    field = {line.split(":")[0]: line.split(":")[1].split() for line in status.splitlines() if ":" in line}
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return {"rss_mb": int(field["VmRSS"][0]) / 1024, "threads": int(field["Threads"][0]),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "cpu_s": (int(stat[11]) + int(stat[12])) / TICK}


def tree_stats(pid: int) -> dict:
    """Sums over the process tree; processes that end while being read are skipped."""
    total = {"rss_mb": 0.0, "threads": 0, "fds": 0, "cpu_s": 0.0, "processes": 0}
    for p in tree(pid):
        try:
            s = proc_stats(p)
        except (OSError, IndexError, KeyError):
            continue
        for k in ("rss_mb", "threads", "fds", "cpu_s"):
            total[k] += s[k]
        total["processes"] += 1
    return total


def start_app(env: dict | None = None, timeout: float = 120.0, wait_workers: bool = True):
    """`python app.py` on a free loopback port. Returns (process, url, seconds to the first 200 on /, log path).
    With wait_workers, also waits until a tiny /train call succeeds (the workers are up)."""
    port = free_port()
    full_env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
                    GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", **(env or {}))
    log = Path(tempfile.mkstemp(prefix="lora-app-", suffix=".log")[1])
    t0 = time.perf_counter()
    with open(log, "wb") as f:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=f, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}; log: {log}\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.perf_counter() - t0 > timeout:
            stop_app(proc)
            raise TimeoutError(f"app.py did not answer within {timeout:g} s; log: {log}")
        time.sleep(0.1)
    first_200 = time.perf_counter() - t0
    if wait_workers:
        wait_for_workers(url, timeout)
    return proc, url, first_200, log


def wait_for_workers(url: str, timeout: float = 120.0) -> float:
    """Seconds until a tiny run through /train completes (the worker processes are up)."""
    from gradio_client import Client

    from lora_demo.links import DEFAULTS
    t0 = time.perf_counter()
    client = Client(url, verbose=False, analytics_enabled=False)
    try:
        job = client.submit(**dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10), api_name="/train")
        while not job.done():
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("the workers did not answer")
            time.sleep(0.05)
        job.result(timeout=5)
    finally:
        client.close()
    return time.perf_counter() - t0


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
