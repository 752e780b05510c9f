"""What this machine gives two processes over one, for the workers' own jobs, with no app around them.

The load benchmark's 1-vs-2-worker ratio can be no better than the machine's: two processes that share
nothing but the cores, the caches and the memory bus, each running default /train jobs as a worker does
(one torch thread, the worker's niceness, the pictures and figures included), against one process running
them alone. On this 2-vCPU virtual machine that figure moves with the machine's load from minute to minute,
so `bench.load` reads it inside each pair of rounds, next to the app's own ratio.

    python -m bench.ceiling            # 3 alternations of 1 process vs 2, 24 runs each
    ceiling(settings_list)             # {"one": runs/s, "two": runs/s, "ratio": two / one}
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time


def _runner(settings: list[dict], ready, go, results) -> None:
    """A worker-like process: set up as a worker is, wait for the start, run its share of the jobs, report the
    wall time and how many jobs reached their final update."""
    from lora_demo.fit import Guard
    from lora_demo.jobs.registry import run_job
    from lora_demo.workers.serve import become_worker
    become_worker()
    ready.put(True)
    go.wait()
    t0 = time.perf_counter()
    finals = 0
    for values in settings:  # a fresh seed each: every job pretrains and adapts, as in the load rounds
        finals += sum(update.final for update in run_job("train", values, "en", Guard()))
    results.put((time.perf_counter() - t0, finals))


def throughput(settings: list[dict], processes: int, context: str = "fork") -> float:
    """Runs per second with the jobs dealt round-robin to `processes` processes started at once. The
    benchmarks fork (nothing else runs in their process then); a process with threads of its own, such as a
    test run with the app inside it, should pass "spawn"."""
    ctx = mp.get_context(context)
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [settings[i::processes] for i in range(processes)]
    procs = [ctx.Process(target=_runner, args=(share, ready, go, results), daemon=True) for share in shares]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    reports = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    if sum(finals for _, finals in reports) != len(settings):
        raise RuntimeError(f"{len(settings)} jobs given, {sum(f for _, f in reports)} finished")
    return len(settings) / max(wall for wall, _ in reports)


def ceiling(settings: list[dict], two_first: bool = False) -> dict:
    """One process, then two (or two, then one) on the same jobs: their runs per second and the ratio."""
    rate = {}
    for k in ((2, 1) if two_first else (1, 2)):
        rate[k] = throughput(settings, k)
    return {"one": rate[1], "two": rate[2], "ratio": rate[2] / rate[1]}


def main(argv=None) -> None:
    from bench.load import session_settings
    ap = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=24, help="jobs per measurement (default 24)")
    ap.add_argument("--times", type=int, default=3, help="alternations (default 3)")
    a = ap.parse_args(argv)
    ratios = []
    for k in range(a.times):
        r = ceiling([session_settings(i, round_no=900 + k) for i in range(a.runs)], two_first=k % 2 == 1)
        ratios.append(r["ratio"])
        print(f"1 process {r['one']:.2f} runs/s, 2 processes {r['two']:.2f} runs/s: {r['ratio']:.2f}", flush=True)
    print(f"2 processes / 1, median of {a.times}: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
