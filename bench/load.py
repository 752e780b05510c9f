"""A room pressing Train at once: N browser tabs (bench.page), released together, against `python app.py`.

Session i has its own settings (rank 1 + i mod 8, seed 1000 + 1000 · round + i, its own target layers and dataset;
default size otherwise) and its own address (an X-Forwarded-For from this machine, which the app's
server resolves like a proxy's), so the app sees N different users. Every result is checked against
the settings its session sent: the returned config must equal them and the trainable count must equal
rank · Σ(d_in + d_out) over the session's target layers; anything else is a crossed result.

Every tab opens the page first (its config and load event, as a browser does); then all click Train at once.
Per N: completed, errors, crossed, p50/p95/max latency (click → final update), runs per second (N over
the time to the last result), the mean cores the app's whole process tree used from the clicks to the last
result (and, "+clients", with this process's N tabs added: they run on the same cores), and the tree's RSS
afterwards. Then the scaling ratio: two apps side by side, one with 1 worker and one with 2, take the same room
in turn, pair after pair (1 then 2, then 2 then 1, ...; both rounds of a pair send the same settings). This
machine's speed drifts by tens of percent within minutes, so a ratio is read within a pair, never across them;
the reported ratio is the median of the pairs'. An idle app costs the other next to nothing. After each pair,
bench.ceiling measures the machine's own ratio in the same minutes: two bare processes running the room's jobs
against one, no app around them; the app's ratio can be no better.

    python -m bench.load                         # N = 8, 32, 50 and the 1-vs-2-worker comparison (3 pairs)
    python -m bench.load --n --pairs 5           # only the comparison, five pairs
    python -m bench.load --n 8 --scaling-n 0     # one round, no comparison
    python -m bench.load --url http://127.0.0.1:7860 --n 4
    python -m bench.load --same --n 50 --scaling-n 0  # a room pressing Train on the defaults: one job, 50 times
    python -m bench.load --adapters --n 50 --scaling-n 0  # the same data and seed, 50 different adapters
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import statistics
import sys
import time

import httpx

from bench.ceiling import ceiling
from bench.page import Page, Tab

from bench.procs import proc_stats, start_app, stop_app, tree_stats
from lora_demo.config import FLAT_FIELDS, config_from_flat
from lora_demo.links import DEFAULTS

TARGET_SETS = (["fc1"], ["fc2"], ["fc2", "fc3"])
DATASETS = ("moons", "circles")  # both have 2 classes, so the output layer is d_out = 2 for every session


def session_settings(i: int, base: dict | None = None, round_no: int = 0, adapters: bool = False) -> dict:
    """Distinct settings for session i of a round, on top of base (default: the app's defaults). The seed
    differs in every round too: a worker answers a job it has done from memory, and a round must train.
    adapters: everyone keeps the default data and seed and picks their own adapter (rank, α, layers), the
    workshop's "now try your own rank": every run adapts, but they share one pretrained base."""
    if adapters:
        return dict(base or DEFAULTS, rank=1 + i % 8, alpha=float(1 + (i + 50 * round_no) % 250),
                    target_modules=TARGET_SETS[i % 3])
    return dict(base or DEFAULTS, rank=1 + i % 8, seed=1000 + 1000 * round_no + i, target_modules=TARGET_SETS[i % 3],
                dataset=DATASETS[i % 2])


def session_address(i: int) -> str:
    return f"9.{(i // 250) % 250}.{i % 250}.{1 + i % 7}"


def expected_trainable(settings: dict) -> int:
    """rank · Σ (d_in + d_out) over the target layers of a 2 → hidden → … → 2 network."""
    sizes = [2] + [settings["hidden_size"]] * settings["hidden_layers"] + [2]
    return sum(settings["rank"] * (sizes[int(t[2:]) - 1] + sizes[int(t[2:])]) for t in settings["target_modules"])


def client_for(url: str, address: str | None = None):
    """A gradio_client session from `address` (the other benchmarks' clients)."""
    from gradio_client import Client
    headers = {"X-Forwarded-For": address} if address else None
    # download_files=False: a page in a browser fetches the adapter zip only when it is clicked, and the
    # client shares this machine's two cores with the app it measures
    return Client(url, verbose=False, analytics_enabled=False, headers=headers, download_files=False)


def finish(job, deadline: float):
    """Poll a gradio_client job until done or the deadline (time.monotonic()); then its result."""
    while not job.done():
        if time.monotonic() > deadline:
            job.cancel()
            raise TimeoutError("no final update before the deadline")
        time.sleep(0.05)
    return job.result(timeout=5)


def check(settings: dict, metrics: dict) -> str | None:
    """What is wrong with a result for these settings (None: it is theirs)."""
    problems = []
    if metrics["config"] != config_from_flat(settings).to_dict():
        problems.append("the config is not the one sent")
    if metrics["params"]["lora"]["trainable"] != expected_trainable(settings):
        problems.append(f"trainable {metrics['params']['lora']['trainable']} != {expected_trainable(settings)}")
    return "; ".join(problems) or None


async def one_session(tab: Tab, settings: dict, go: asyncio.Event) -> dict:
    """One user: the page is open; wait for the others, click Train, wait for the final update, check it."""
    out = {"latency": None, "error": None, "wrong": None, "messages": None}
    await go.wait()
    t0 = time.perf_counter()
    try:
        final = await tab.click("train", [settings[k] for k in FLAT_FIELDS] + ["en"])
        out["latency"] = time.perf_counter() - t0
        out["messages"] = tab.messages
        out["wrong"] = check(settings, final[-1])
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    return out


async def room(url: str, all_settings: list[dict], seconds: float, at_release=lambda: None) -> list[dict]:
    """Open every tab (the page load), then release every click at once (calling at_release() just before);
    one result dict per session."""
    timeout = httpx.Timeout(seconds, connect=30)
    async with contextlib.AsyncExitStack() as stack:
        # a connection pool of its own per tab, as each browser has. httpx scans every connection of its pool
        # on every request: with one pool for fifty tabs, the tabs took 0.025-0.034 CPU-s per run of these two
        # cores, with a pool each 0.014-0.018
        http = [await stack.enter_async_context(httpx.AsyncClient(timeout=timeout)) for _ in all_settings]
        page = await Page.fetch(http[0], url)
        tabs = [Tab(http[i], page, session_address(i)) for i in range(len(all_settings))]
        opened = await asyncio.gather(*(tab.open() for tab in tabs), return_exceptions=True)
        go = asyncio.Event()
        at_release()
        tasks = [asyncio.create_task(one_session(tab, s, go)) if not isinstance(o, Exception) else None
                 for tab, s, o in zip(tabs, all_settings, opened)]
        go.set()
        started = [t for t in tasks if t]
        done = (await asyncio.wait(started, timeout=seconds))[0] if started else set()
        out = []
        for task, o in zip(tasks, opened):
            if task is None:
                out.append({"latency": None, "error": f"open: {type(o).__name__}: {o}"[:300], "wrong": None})
            elif task in done:
                out.append(task.result())
            else:
                task.cancel()
                out.append({"latency": None, "error": "no final update before the deadline", "wrong": None})
        return out


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def run_load(url: str, n: int, seconds: float = 300.0, base: dict | None = None, pid: int | None = None,
             same: bool = False, round_no: int = 0, adapters: bool = False) -> dict:
    """N concurrent sessions with distinct settings (or all the app's defaults: same) and distinct addresses;
    a summary plus the problems seen."""
    all_settings = [dict(base or DEFAULTS) if same else session_settings(i, base, round_no, adapters) for i in range(n)]
    start = {}

    def at_release():  # the round is timed from the clicks, after every page has loaded
        start.update(cpu=tree_stats(pid)["cpu_s"] if pid else None, web=proc_stats(pid)["cpu_s"] if pid else None,
                     clients=time.process_time(), wall=time.perf_counter())

    sessions = asyncio.run(room(url, all_settings, seconds, at_release))
    wall = time.perf_counter() - start["wall"]
    cpu = tree_stats(pid)["cpu_s"] - start["cpu"] if pid else None
    web = proc_stats(pid)["cpu_s"] - start["web"] if pid else None  # the Gradio process alone; the rest: workers
    clients_cpu = time.process_time() - start["clients"]  # this process: the N tabs, on the same cores
    latencies = [s["latency"] for s in sessions if s["latency"] is not None and not s["error"]]
    last = max(latencies, default=None)
    return {
        "n": n,
        "completed": sum(1 for s in sessions if s["latency"] is not None and not s["error"] and not s["wrong"]),
        "errors": sum(1 for s in sessions if s["error"]),
        "crossed": sum(1 for s in sessions if s["wrong"]),
        "p50_s": percentile(latencies, 50), "p95_s": percentile(latencies, 95), "max_s": last,
        "runs_per_s": len(latencies) / last if last else None, "wall_s": wall,
        "cores": None if cpu is None else cpu / wall, "client_cores": clients_cpu / wall,
        # CPU seconds per completed run: the web process, the workers (and forkserver), this process's tabs
        "cpu_per_run": None if cpu is None or not latencies else
        {"web": web / len(latencies), "workers": (cpu - web) / len(latencies), "tabs": clients_cpu / len(latencies)},
        "problems": [s["error"] or s["wrong"] for s in sessions if s["error"] or s["wrong"]],
        # messages the server streamed per completed click: frames, the waiting place, status, completion
        "messages_per_run": statistics.mean(m) if (m := [s["messages"] for s in sessions if s.get("messages")])
        else None,
    }


def rounds_on_app(ns: list[int], env: dict | None, timeout: float, same: bool = False, adapters: bool = False) -> dict:
    proc, url, first_200, log = start_app(env)
    out = {"first_200_s": first_200, "rounds": []}
    try:
        out["idle"] = tree_stats(proc.pid)
        for round_no, n in enumerate(ns):
            r = run_load(url, n, seconds=timeout, pid=proc.pid, same=same, round_no=round_no, adapters=adapters)
            time.sleep(2)  # let finished requests release what they held
            r["tree"] = tree_stats(proc.pid)
            out["rounds"].append(r)
            print(f"  N={n}: {r['completed']}/{n} completed, {r['errors']} errors, {r['crossed']} crossed, "
                  f"last after {r['max_s'] or 0:.1f} s, {r['runs_per_s'] or 0:.2f} runs/s, "
                  f"{r['cores'] or 0:.2f} cores, "
                  f"RSS {r['tree']['rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    finally:
        stop_app(proc)
        log.unlink(missing_ok=True)
    return out


def scaling(n: int, pairs: int, timeout: float, ceiling_runs: int = 24) -> dict:
    """The 1-vs-2-worker comparison: both apps up at once, the same room sent to each in turn, pair by pair.
    After each pair, the machine's own ratio for the room's first `ceiling_runs` jobs (bench.ceiling; 0: skip)."""
    apps = {}
    try:
        for w in (1, 2):
            apps[w] = start_app({"LORA_WORKERS": str(w)})
        out = {f"workers_{w}": {"first_200_s": apps[w][2], "rounds": []} for w in (1, 2)}
        ratios, machine = [], []
        for k in range(pairs):
            rate, round_no = {}, 50 + k  # the pair's seeds: both apps, and the machine's measurement after them
            for w in ((1, 2) if k % 2 == 0 else (2, 1)):
                proc, url = apps[w][:2]
                r = run_load(url, n, seconds=timeout, pid=proc.pid, round_no=round_no)
                time.sleep(2)
                r["tree"] = tree_stats(proc.pid)
                out[f"workers_{w}"]["rounds"].append(r)
                rate[w] = r["runs_per_s"]
                print(f"  pair {k + 1}, LORA_WORKERS={w}: {r['completed']}/{n} completed, "
                      f"{r['runs_per_s'] or 0:.2f} runs/s, {r['cores'] or 0:.2f} cores", file=sys.stderr, flush=True)
            ratios.append(rate[2] / rate[1] if rate[1] and rate[2] else None)
            if ceiling_runs:
                jobs = [session_settings(i, round_no=round_no) for i in range(min(n, ceiling_runs))]
                machine.append(ceiling(jobs, two_first=k % 2 == 1)["ratio"])
                print(f"  pair {k + 1}, the machine: 2 processes / 1 on the same jobs {machine[-1]:.2f}",
                      file=sys.stderr, flush=True)
        known = [r for r in ratios if r is not None]
        out["scaling_pairs"] = ratios
        out["scaling_2_over_1"] = statistics.median(known) if known else None
        if machine:
            out["machine_pairs"] = machine
            out["machine_2_over_1"] = statistics.median(machine)
        return out
    finally:
        for proc, _, _, log in apps.values():
            stop_app(proc)
            log.unlink(missing_ok=True)


def fmt(x, spec=".2f") -> str:
    return "–" if x is None else format(x, spec)


def table(title: str, rounds: list[dict]) -> str:
    lines = [title, f"{'N':>4} {'done':>5} {'err':>4} {'crossed':>7} {'p50 s':>6} {'p95 s':>6} {'max s':>6} "
                    f"{'runs/s':>7} {'cores':>6} {'+clients':>8} {'RSS MB':>7} {'procs':>5}"]
    for r in rounds:
        t = r.get("tree", {})
        lines.append(f"{r['n']:>4} {r['completed']:>5} {r['errors']:>4} {r['crossed']:>7} {fmt(r['p50_s']):>6} "
                     f"{fmt(r['p95_s']):>6} {fmt(r['max_s']):>6} {fmt(r['runs_per_s']):>7} {fmt(r['cores']):>6} "
                     f"{fmt(None if r['cores'] is None else r['cores'] + r['client_cores']):>8} "
                     f"{fmt(t.get('rss_mb'), '.0f'):>7} {t.get('processes', '–'):>5}")
        if r.get("cpu_per_run"):
            lines.append("       CPU-s per run: " + ", ".join(f"{k} {v:.3f}" for k, v in r["cpu_per_run"].items())
                         + (f"; messages per run {r['messages_per_run']:.1f}" if r.get("messages_per_run") else ""))
        for p in r["problems"][:3]:
            lines.append(f"       problem: {p}")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="*", default=[8, 32, 50], help="sessions at once, per round")
    ap.add_argument("--scaling-n", type=int, default=50,
                    help="sessions for the 1-vs-2-worker rounds (0: skip); the default is the room's 50")
    ap.add_argument("--pairs", type=int, default=3, help="1-vs-2-worker pairs of rounds (default 3)")
    ap.add_argument("--ceiling-runs", type=int, default=24,
                    help="after each pair, the machine's own 2-vs-1 ratio on this many of the room's jobs (0: skip)")
    ap.add_argument("--url", help="an app already running (default: start `python app.py`)")
    ap.add_argument("--timeout", type=float, default=300.0, help="deadline per round in seconds")
    ap.add_argument("--same", action="store_true",
                    help="every session sends the app's default settings (a room that has just opened the page); "
                         "a worker answers a job it has done from memory, so this measures that path")
    ap.add_argument("--adapters", action="store_true",
                    help="every session keeps the default data and seed and picks its own rank, α and layers (the "
                         "workshop's 'now try your own rank'): each run adapts, on a base its worker keeps")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    if a.url:
        result = {"rounds": [run_load(a.url, n, seconds=a.timeout, same=a.same, adapters=a.adapters,
                                      round_no=k + int(time.time()) % 1000) for k, n in enumerate(a.n)]}
    else:
        result = {"rounds": []}
        if a.n:
            print("python app.py (workers: one per core)", file=sys.stderr)
            result = rounds_on_app(a.n, None, a.timeout, same=a.same, adapters=a.adapters)
        if a.scaling_n and a.pairs:
            result.update(scaling(a.scaling_n, a.pairs, a.timeout, a.ceiling_runs))
    if a.json:
        print(json.dumps(result))
        return
    title = ("/train, N sessions released at once, all on the default settings, each its own address" if a.same else
             "/train, N sessions released at once, the default data and seed, each its own adapter and address"
             if a.adapters else "/train, N sessions released at once, each its own settings and address (default size)")
    print(table(title, result["rounds"]))
    if "scaling_2_over_1" in result:
        for w in (1, 2):
            print(table(f"\nLORA_WORKERS={w}", result[f"workers_{w}"]["rounds"]))
        pairs = ", ".join(fmt(r) for r in result["scaling_pairs"])
        print(f"\nthroughput, 2 workers / 1 worker: {fmt(result['scaling_2_over_1'])} (median of the pairs: {pairs})")
        if "machine_2_over_1" in result:
            machine = ", ".join(fmt(r) for r in result["machine_pairs"])
            print(f"the machine, 2 processes / 1 on the same jobs without the app: {fmt(result['machine_2_over_1'])} "
                  f"(after each pair: {machine})")
    if "first_200_s" in result:
        print(f"app start → first 200 on /: {result['first_200_s']:.1f} s")


if __name__ == "__main__":
    main()
