"""The panels beyond one run, timed through the API as a user meets them: click → final update of the
variants race, the seeds view (10 seeds), the adapter library and the Insights tab, each the median of
--runs calls on the default settings; and, in Chromium, whether switching adapters and moving the mix
slider in the library (and the replay slider) ask the server for anything.

    python -m bench.panels [--runs 3] [--json] [--no-browser]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time

from bench.procs import start_app, stop_app
from lora_demo.links import DEFAULTS

ENDPOINTS = {"/race": 6.0, "/seeds": 10.0, "/library": None, "/insights": None}  # targets in seconds (issues)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def time_endpoint(url: str, api: str, runs: int) -> list[float]:
    from gradio_client import Client
    client = Client(url, verbose=False, analytics_enabled=False)
    times = []
    try:
        for i in range(runs):
            t0 = time.perf_counter()
            # its own seed each time: a worker answers a job it has just done from memory
            job = client.submit(**dict(DEFAULTS, seed=100 + i), api_name=api)
            while not job.done():
                time.sleep(0.02)
            job.result(timeout=10)
            times.append(time.perf_counter() - t0)
    finally:
        client.close()
    return times


def requests_during_in_figure_controls(url: str) -> dict:
    """Server requests while clicking a library switch button, moving its mix slider and the replay slider."""
    from playwright.sync_api import sync_playwright
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="networkidle")
        page.click("#train")
        page.locator("#status").get_by_text("Done").wait_for(timeout=60_000)
        page.get_by_role("tab", name="Library").click()
        page.click("#library-run")
        page.locator("#library-status").get_by_text("Done").wait_for(timeout=60_000)
        seen: list[str] = []
        page.on("request", lambda r: "/gradio_api" in r.url and seen.append(r.url))
        for name, selector in (("library switch", "#plot-lib-switch .updatemenu-button"),
                               ("library mix slider", "#plot-lib-mix .slider-rail-rect")):
            before = len(seen)
            el = page.locator(selector).nth(1 if "switch" in name else 0)
            el.scroll_into_view_if_needed()
            box = el.bounding_box()
            page.mouse.click(box["x"] + 4, box["y"] + box["height"] / 2)
            page.wait_for_timeout(800)
            out[name] = len(seen) - before
        page.get_by_role("tab", name="Train").click()
        rail = page.locator("#plot-replay .slider-rail-rect").first
        rail.scroll_into_view_if_needed()
        box = rail.bounding_box()
        before = len(seen)
        page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 2)
        page.wait_for_timeout(800)
        out["replay slider"] = len(seen) - before
        browser.close()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.panels", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    a = ap.parse_args(argv)
    proc, url, _, log = start_app()
    result = {}
    try:
        for api, target in ENDPOINTS.items():
            time_endpoint(url, api, 1)  # warm-up
            times = time_endpoint(url, api, a.runs)
            result[api] = {"median_s": statistics.median(times), "all_s": times, "target_s": target}
            print(f"{api}: median {result[api]['median_s']:.2f} s over {a.runs}", file=sys.stderr, flush=True)
        if not a.no_browser and shutil.which(CHROMIUM):
            result["requests"] = requests_during_in_figure_controls(url)
    finally:
        stop_app(proc)
        log.unlink(missing_ok=True)
    if a.json:
        print(json.dumps(result))
        return
    for api in ENDPOINTS:
        r = result[api]
        target = "" if r["target_s"] is None else f" (target ≤ {r['target_s']:g} s)"
        print(f"{api:10s} click → final update: median {r['median_s']:.2f} s{target}; runs "
              + ", ".join(f"{x:.2f}" for x in r["all_s"]))
    for name, n in result.get("requests", {}).items():
        print(f"{name}: {n} requests to the server")


if __name__ == "__main__":
    main()
