"""Many runs in a row: does the app's process grow in memory, file descriptors or threads?

Launches the app in this process (as tests/conftest.py does), then calls /train --runs times in a
row through one gradio_client session (default settings, or 80 samples and 20 + 20 steps with
--small). Server and client share this process, so /proc/self covers both: resident memory
(VmRSS), open file descriptors (/proc/self/fd) and threads (threading.active_count(), plus the
OS count that includes torch's). Baseline: after --warmup runs; end: after the last run, once
idle threads have had up to 15 s to exit.

Rule (a leak is any of these failing):
  RSS growth (end - baseline)      <= 50 MB
  open fds (end - baseline)        <= 3   (a pooled connection may come and go)
  Python threads (end - baseline)  <= 3   (Gradio's worker pool keeps a few idle threads)
Also shown, to tell a leak from allocator behaviour: RSS after glibc's malloc_trim(0) (free heap
handed back to the OS) and the number of components held in Gradio's per-session state.

    python -m bench.soak [--runs 200] [--small] [--warmup 5] [--json]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
import threading
import time

from bench.load import DEFAULTS, client_for, finish
from bench.procs import free_port, proc_stats

RSS_LIMIT_MB = 50.0
FD_SLACK = 3
THREAD_SLACK = 3
SMALL = dict(DEFAULTS, n_samples=80, pretrain_steps=20, adapt_steps=20)


def sample() -> dict:
    gc.collect()
    return dict(proc_stats(), py_threads=threading.active_count())


def rss_after_malloc_trim() -> float | None:
    """RSS once glibc has returned its free heap pages to the OS: what stays is memory still in use."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return None
    return sample()["rss_mb"]


def session_components(demo) -> int | None:
    """Components held in the per-session state of an in-process app (Gradio internals; None if unknown)."""
    try:
        return sum(len(s.blocks_config.blocks) for s in demo.state_holder.session_data.values())
    except AttributeError:
        return None


def launch_in_process():
    """The app on a free loopback port in this process; returns (demo, url)."""
    from lora_demo import ui
    port = free_port()
    demo = ui.serve_in_process(port)
    return demo, f"http://127.0.0.1:{port}"


def settle(base: dict, seconds: float) -> dict:
    """Sample until fds and threads are back within the slack of base, or seconds have passed."""
    end = time.monotonic() + seconds
    while True:
        now = sample()
        back = now["fds"] - base["fds"] <= FD_SLACK and now["py_threads"] - base["py_threads"] <= THREAD_SLACK
        if back or time.monotonic() > end:
            return now
        time.sleep(0.5)


def soak(url: str, runs: int, settings: dict, warmup: int = 5, every: int = 25, settle_s: float = 15.0,
         per_run_s: float = 90.0, log=None, probe=None) -> dict:
    """runs calls of /train in a row after warmup calls; resource samples, growth and the verdict.

    probe, if given, is called at the baseline and at the end; its dict goes into those samples."""
    client = client_for(url)
    try:
        for _ in range(warmup):
            finish(client.submit(**settings, api_name="/train"), time.monotonic() + per_run_s)
        base = dict(sample(), **(probe() if probe else {}))
        base_trimmed = rss_after_malloc_trim()  # after the untrimmed sample: the same treatment as the end
        samples = [dict(base, run=0)]
        errors = []
        t0 = time.perf_counter()
        for i in range(1, runs + 1):
            try:
                finish(client.submit(**settings, api_name="/train"), time.monotonic() + per_run_s)
            except Exception as e:
                errors.append(f"run {i}: {type(e).__name__}: {e}"[:200])
            if i % every == 0 or i == runs:
                samples.append(dict(sample(), run=i))
                if log:
                    s = samples[-1]
                    log(f"run {i:>4}: RSS {s['rss_mb']:.1f} MB, fds {s['fds']}, threads {s['py_threads']} "
                        f"(OS {s['threads']}), {time.perf_counter() - t0:.0f} s")
        elapsed = time.perf_counter() - t0
    finally:
        client.close()
    end = dict(settle(base, settle_s), **(probe() if probe else {}))
    growth = {"rss_mb": end["rss_mb"] - base["rss_mb"], "fds": end["fds"] - base["fds"],
              "py_threads": end["py_threads"] - base["py_threads"], "os_threads": end["threads"] - base["threads"]}
    trimmed = rss_after_malloc_trim()
    growth["rss_mb_after_trim"] = None if None in (trimmed, base_trimmed) else trimmed - base_trimmed
    ok = {"rss": growth["rss_mb"] <= RSS_LIMIT_MB, "fds": growth["fds"] <= FD_SLACK,
          "threads": growth["py_threads"] <= THREAD_SLACK}
    return {"runs": runs, "warmup": warmup, "errors": errors, "elapsed_s": elapsed, "s_per_run": elapsed / runs,
            "baseline": base, "end": end, "growth": growth, "ok": ok, "samples": samples}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--small", action="store_true", help="80 samples, 20 + 20 steps instead of the defaults")
    ap.add_argument("--warmup", type=int, default=5, help="runs before the baseline sample (default 5)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    before = sample()
    demo, url = launch_in_process()
    try:
        r = soak(url, a.runs, SMALL if a.small else DEFAULTS, warmup=a.warmup, every=max(1, a.runs // 8),
                 log=lambda m: print(m, file=sys.stderr, flush=True),
                 probe=lambda: {"session_components": session_components(demo)})
    finally:
        from lora_demo import ui
        ui.close(demo)
    r["before_launch"] = before
    r["total_s"] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(r))
        return
    b, e, g = r["baseline"], r["end"], r["growth"]
    print(f"soak: {a.runs} /train calls in a row, {'small' if a.small else 'default'} settings, one client, "
          f"app in this process")
    print(f"  {'':18}{'baseline':>10}{'end':>10}{'growth':>10}  limit")
    print(f"  {'RSS MB':18}{b['rss_mb']:>10.1f}{e['rss_mb']:>10.1f}{g['rss_mb']:>+10.1f}  <= {RSS_LIMIT_MB:g}  "
          f"{'ok' if r['ok']['rss'] else 'EXCEEDED'}")
    print(f"  {'open fds':18}{b['fds']:>10}{e['fds']:>10}{g['fds']:>+10}  <= {FD_SLACK}  "
          f"{'ok' if r['ok']['fds'] else 'LEAK'}")
    print(f"  {'Python threads':18}{b['py_threads']:>10}{e['py_threads']:>10}{g['py_threads']:>+10}  "
          f"<= {THREAD_SLACK}  {'ok' if r['ok']['threads'] else 'LEAK'}")
    print(f"  {'OS threads':18}{b['threads']:>10}{e['threads']:>10}{g['os_threads']:>+10}  (informational)")
    if g["rss_mb_after_trim"] is not None:
        print(f"  RSS growth with malloc_trim(0) at baseline and end: {g['rss_mb_after_trim']:+.1f} MB "
              f"(memory still in use; the rest of the growth was free heap kept by the allocator)")
    before, after = b.get("session_components"), e.get("session_components")
    if before is not None:
        print(f"  components in Gradio's per-session state: {before} at baseline, {after} at the end "
              f"({(after - before) / a.runs:.1f} more per run)")
    print(f"  errors {len(r['errors'])}; {r['elapsed_s']:.1f} s for {a.runs} runs ({r['s_per_run']:.2f} s each); "
          f"total {r['total_s']:.1f} s including launch and {a.warmup} warm-up runs")
    print("  RSS by run: " + ", ".join(f"{s['run']}: {s['rss_mb']:.0f}" for s in r["samples"]))
    for err in r["errors"][:5]:
        print(f"  error: {err}")


if __name__ == "__main__":
    main()
