"""Click → first update → final update, and bytes per streamed update, through the real HTTP API.

Starts the app in this process on a free port (or uses --url), then calls /train over the
queue-backed REST route and reads its event stream. Run from the project root:

    python -m bench.api [--runs 5] [--url http://127.0.0.1:7860]
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import time

import httpx


def one_run(url: str, data: list) -> dict:
    t0 = time.perf_counter()
    r = httpx.post(f"{url}/gradio_api/call/train", json={"data": data}, timeout=60)
    r.raise_for_status()
    event_id = r.json()["event_id"]
    times, sizes, kind, first_figure = [], [], None, None
    with httpx.stream("GET", f"{url}/gradio_api/call/train/{event_id}", timeout=120) as s:
        for line in s.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("generating", "complete"):
                times.append(time.perf_counter() - t0)
                sizes.append(len(line.encode()))
                if first_figure is None and json.loads(line[5:])[1] is not None:  # the base's boundary
                    first_figure = times[-1]
            elif line.startswith("data:") and kind == "error":
                raise RuntimeError(line)
    # the REST route repeats the last update as "complete": count it once
    return {"first": times[0], "first_figure": first_figure, "final": times[-1], "updates": len(times) - 1,
            "bytes": sizes[:-1]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--url", help="an app already running; default: start one in this process")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    from lora_demo.config import RunConfig, flat_from_config
    data = list(flat_from_config(RunConfig()).values()) + ["en"]
    demo = None
    url = a.url
    if url is None:
        from lora_demo import ui
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = ui.serve_in_process(port)
        url = f"http://127.0.0.1:{port}"
    try:
        seed = list(flat_from_config(RunConfig())).index("seed")
        one_run(url, data)  # warm-up
        # each run its own seed: a worker answers a job it has just done from memory, and this measures training
        runs = [one_run(url, data[:seed] + [100 + i] + data[seed + 1:]) for i in range(a.runs)]
    finally:
        if demo is not None:
            ui.close(demo)
    # the last update also carries the replay (every frame's picture, once): it is measured on its own,
    # since no update follows it that it could hold up
    sizes = [b for r in runs for b in r["bytes"][:-1]]
    out = {
        "runs": a.runs,
        "click_to_first_update_s": statistics.median(r["first"] for r in runs),
        "click_to_first_figure_s": statistics.median(r["first_figure"] for r in runs),
        "click_to_final_update_s": statistics.median(r["final"] for r in runs),
        "updates_per_run": statistics.median(r["updates"] for r in runs),
        "bytes_per_update_median": statistics.median(sizes),
        "bytes_per_update_max": max(sizes),
        "bytes_final_update": statistics.median(r["bytes"][-1] for r in runs),
    }
    if a.json:
        print(json.dumps(out))
        return
    print(f"default run through /gradio_api/call/train, median of {a.runs} runs (one user)")
    for k, v in out.items():
        print(f"  {k:28s} {v:,.3f}" if isinstance(v, float) else f"  {k:28s} {v:,}")


if __name__ == "__main__":
    main()
