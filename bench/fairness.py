"""Fairness and hard caps under hostile load, against `python app.py` on this machine.

1. Four worst-case requests (the costliest settings the work guard admits: two /train, two /insights, from
   four addresses) and then one default /train from a fifth: the default's click → final update, and how
   long each worst-case request ran (every request must end within its cap + 1 s).
2. One address fires 64 /train requests at once; another sends one: how long the single request takes to
   start (its first training frame), and how many of the 64 were refused at once.
3. Callers that leave: eight sessions submit long runs and their process exits, and eight raw REST calls are
   never read; then one more request: whether it starts at once (the abandoned ones did not take the workers).

    python -m bench.fairness [--json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

import httpx

from bench.load import client_for
from bench.procs import ROOT, start_app, stop_app
from lora_demo import cost
from lora_demo.config import config_from_flat
from lora_demo.links import DEFAULTS

CAP_S = 30.0
BUDGET_S = 15.0


def worst_case(predict, base: dict | None = None) -> dict:
    """The largest model and data the guard admits, with as many steps as fit under the budget."""
    big = dict(base or DEFAULTS, n_samples=1000, hidden_size=128, hidden_layers=3)
    lo, hi = 10, 2000
    while lo < hi:  # the most steps (pretraining and adaptation alike) whose prediction fits the budget
        mid = (lo + hi + 1) // 2
        if predict(config_from_flat(dict(big, pretrain_steps=mid, adapt_steps=mid))) <= BUDGET_S:
            lo = mid
        else:
            hi = mid - 1
    return dict(big, pretrain_steps=lo, adapt_steps=lo)


def timed_call(url: str, address: str, api: str, settings: dict, out: dict, key: str, started: dict | None = None,
               go: threading.Barrier | None = None):
    """One request; records seconds to the final update (or the error), and optionally to the first frame.
    With `go`, the client connects first and sends when every party of the barrier is connected."""
    client = client_for(url, address)
    if go is not None:
        go.wait(timeout=120)
    t0 = time.perf_counter()
    try:
        job = client.submit(**settings, api_name=api)
        while not job.done():
            if started is not None and key not in started:
                for update in job.outputs():
                    if "Pretraining" in str(update[0]) or "预训练" in str(update[0]):
                        started[key] = time.perf_counter() - t0
                        break
            time.sleep(0.02)
        try:
            job.result(timeout=10)
            out[key] = {"seconds": time.perf_counter() - t0, "error": None}
        except Exception as e:
            out[key] = {"seconds": time.perf_counter() - t0, "error": str(e)[:160]}
    finally:
        client.close()


def scenario_worst_case(url: str) -> dict:
    train_w, ins_w = worst_case(cost.run_seconds), worst_case(cost.insights_seconds)
    out: dict = {}
    threads = [threading.Thread(target=timed_call, args=(url, f"9.1.0.{i}", api, s, out, f"worst {api} {i}"))
               for i, (api, s) in enumerate([("/train", train_w), ("/train", train_w),
                                             ("/insights", ins_w), ("/insights", ins_w)])]
    for t in threads:
        t.start()
    time.sleep(1.0)  # the worst cases hold their workers (or their places) first
    timed_call(url, "9.1.0.9", "/train", dict(DEFAULTS, seed=1), out, "default")
    for t in threads:
        t.join(timeout=CAP_S + 30)
    return {"train_worst": {k: train_w[k] for k in ("n_samples", "hidden_size", "hidden_layers", "pretrain_steps")},
            "insights_worst_steps": ins_w["pretrain_steps"], "results": out}


BURST = """
import asyncio, sys
import httpx
from lora_demo.config import FLAT_FIELDS
from lora_demo.links import DEFAULTS

async def main(url):
    results = []
    headers = {"X-Forwarded-For": "9.2.0.1"}
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=180, limits=limits) as http:
        async def one(i):
            values = dict(DEFAULTS, seed=100 + i)
            data = [values[k] for k in FLAT_FIELDS] + ["en"]
            join = await http.post("/gradio_api/call/train", json={"data": data})
            event = join.json()["event_id"]
            async with http.stream("GET", f"/gradio_api/call/train/{event}") as stream:
                text = "".join([chunk async for chunk in stream.aiter_text()])
            results.append("complete" if "event: complete" in text else
                           "refused" if "already have" in text else "other")
        await http.get("/")  # connections up before the moment they all send
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await asyncio.gather(*(one(i) for i in range(64)))
    print(results.count("refused"), results.count("complete"), flush=True)

asyncio.run(main(sys.argv[1]))
"""


def scenario_burst(url: str) -> dict:
    """One address sends 64 /train requests at the same moment; 0.5 s later another address sends one.

    The 64 come from a process of their own through one asynchronous HTTP client on the REST route, each
    reading its result stream. That is how a hostile script would send them, and it costs this machine
    little: 64 gradio_client sessions build 128 HTTP clients in 64 threads, and on two cores that CPU
    was the server's (the other client's join then took 2 s to be answered), which no remote client takes."""
    burst = subprocess.Popen([sys.executable, "-c", BURST, url], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    other = client_for(url, "9.2.0.2")
    assert burst.stdout.readline().strip() == "ready"
    burst.stdin.write("go\n")
    burst.stdin.flush()
    time.sleep(0.5)
    t0 = time.perf_counter()
    job = other.submit(**dict(DEFAULTS, seed=2), api_name="/train")  # a job no worker has done yet
    start = None
    while not job.done():
        if start is None and any("Pretraining" in str(u[0]) or "预训练" in str(u[0]) for u in job.outputs()):
            start = time.perf_counter() - t0
        time.sleep(0.02)
    job.result(timeout=60)
    final = time.perf_counter() - t0
    other.close()
    refused, completed = (int(x) for x in burst.communicate(timeout=180)[0].split()[-2:])
    return {"other_start_s": start, "other_final_s": final, "burst_refused": refused,
            "burst_completed": completed, "burst_total": 64}


LEAVERS = """
import os, sys, time
from bench.load import client_for
from lora_demo.links import DEFAULTS
clients = [client_for(sys.argv[1], f"9.3.0.{i}") for i in range(8)]
for c in clients:
    c.submit(**dict(DEFAULTS, pretrain_steps=2000, adapt_steps=2000), api_name="/train")
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.3)
os._exit(0)  # the callers leave as a closed tab does: every connection drops at once
"""


def scenario_abandoned(url: str) -> dict:
    """Eight sessions submit long runs and their process exits; eight raw REST calls are never read. Then a
    new request: it should start at once (gradio_client.close() alone would leave its event stream open, so
    the leavers run in a process of their own that exits)."""
    subprocess.run([sys.executable, "-c", LEAVERS, url], cwd=ROOT, timeout=120, check=True)
    values = list(dict(DEFAULTS, pretrain_steps=2000, adapt_steps=2000).values()) + ["en"]
    for _ in range(8):  # posted, never read
        httpx.post(f"{url}/gradio_api/call/train", json={"data": values}, timeout=10)
    time.sleep(0.5)
    out, started = {}, {}
    timed_call(url, "9.3.1.1", "/train", dict(DEFAULTS, seed=3), out, "after", started)
    return {"after_start_s": started.get("after"), "after_final_s": out["after"]["seconds"],
            "after_error": out["after"]["error"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    proc, url, _, log = start_app()
    result = {}
    try:
        for name, fn in (("worst_case", scenario_worst_case), ("burst", scenario_burst),
                         ("abandoned", scenario_abandoned)):
            print(f"scenario {name} …", file=sys.stderr, flush=True)
            result[name] = fn(url)
            time.sleep(3)
    finally:
        stop_app(proc)
        log.unlink(missing_ok=True)
    if a.json:
        print(json.dumps(result))
        return
    w = result["worst_case"]
    print(f"1. four worst-case requests, then a default one (worst /train: {w['train_worst']}; "
          f"worst /insights: {w['insights_worst_steps']} + {w['insights_worst_steps']} steps)")
    for k, v in w["results"].items():
        print(f"   {k:22s} {v['seconds']:6.1f} s  {v['error'] or 'ok'}")
    b = result["burst"]
    print(f"2. one address sends {b['burst_total']}: {b['burst_refused']} refused at once, {b['burst_completed']} ran; "
          f"another address's single request started after {b['other_start_s'] or float('nan'):.2f} s and finished "
          f"after {b['other_final_s']:.2f} s")
    ab = result["abandoned"]
    print(f"3. after 8 abandoned sessions and 8 unread REST calls, a new request started after "
          f"{ab['after_start_s'] or float('nan'):.2f} s and finished after {ab['after_final_s']:.2f} s "
          f"({ab['after_error'] or 'ok'})")


if __name__ == "__main__":
    main()
