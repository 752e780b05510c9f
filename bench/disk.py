"""Bounded storage: many exports and attempted uploads leave the app's files under its cap.

Starts `python app.py` with its own Gradio cache folder (GRADIO_TEMP_DIR) and a download cap
(LORA_DOWNLOADS_MB, default 20 here so that the cap is reached quickly), then makes --exports runs whose
PEFT export is large (hidden width 128, three hidden layers, rank 64 on every layer, few steps; every run
a new seed so no two exports are alike), and --uploads attempts to upload 20 MB to
Gradio's upload route. Reports the folder's size as it goes and at the end, against the cap.

    python -m bench.disk [--exports 500] [--uploads 100] [--cap-mb 20] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.load import client_for
from bench.procs import start_app, stop_app
from lora_demo.links import DEFAULTS

BIG_EXPORT = dict(DEFAULTS, n_samples=40, hidden_size=128, hidden_layers=3, rank=64, alpha=64,
                  target_modules=["fc1", "fc2", "fc3", "fc4"], pretrain_steps=10, adapt_steps=10)


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return total


def exports(url: str, n: int, threads: int, on_progress) -> int:
    done, errors = [0], [0]
    lock = threading.Lock()

    def worker(k: int):
        client = client_for(url, f"9.4.{k}.1")
        try:
            for i in range(k, n, threads):
                job = client.submit(**dict(BIG_EXPORT, seed=5000 + i), api_name="/train")
                while not job.done():
                    time.sleep(0.02)
                try:
                    job.result(timeout=10)
                except Exception:
                    with lock:
                        errors[0] += 1
                with lock:
                    done[0] += 1
                    on_progress(done[0])
        finally:
            client.close()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors[0]


def uploads(url: str, n: int) -> dict:
    statuses: dict = {}
    body = b"x" * (20 * 2**20)
    for _ in range(n):
        try:
            r = httpx.post(f"{url}/gradio_api/upload", files={"files": ("big.bin", body)}, timeout=30)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        except httpx.HTTPError as e:  # the server may close the connection on an oversized body
            statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
    return statuses


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.disk", description=__doc__.splitlines()[0])
    ap.add_argument("--exports", type=int, default=500)
    ap.add_argument("--uploads", type=int, default=100)
    ap.add_argument("--cap-mb", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    cache = Path(tempfile.mkdtemp(prefix="lora-gradio-cache-"))
    proc, url, _, log = start_app(env={"GRADIO_TEMP_DIR": str(cache), "LORA_DOWNLOADS_MB": str(a.cap_mb)})
    samples = []

    def progress(i: int):
        if i % max(1, a.exports // 10) == 0:
            samples.append((i, folder_bytes(cache)))
            print(f"  {i} exports: {samples[-1][1] / 2**20:.1f} MB in the cache folder", file=sys.stderr, flush=True)
    try:
        t0 = time.perf_counter()
        errors = exports(url, a.exports, a.threads, progress)
        upload_statuses = uploads(url, a.uploads)
        end = folder_bytes(cache)
        elapsed = time.perf_counter() - t0
    finally:
        stop_app(proc)
        log.unlink(missing_ok=True)
    result = {"exports": a.exports, "export_errors": errors, "uploads": a.uploads, "upload_statuses": upload_statuses,
              "cap_mb": a.cap_mb, "end_mb": end / 2**20, "max_mb": max([end] + [b for _, b in samples]) / 2**20,
              "samples_mb": [(i, b / 2**20) for i, b in samples], "seconds": elapsed,
              "export_mb_each": None}
    # one export's size, for scale (the cap must hold far fewer than all of them)
    zips = list(cache.rglob("lora_adapter.zip"))
    if zips:
        result["export_mb_each"] = zips[-1].stat().st_size / 2**20
    if a.json:
        print(json.dumps(result))
        return
    print(f"{a.exports} exports of about {result['export_mb_each'] or 0:.2f} MB each "
          f"({errors} failed) and {a.uploads} attempted 20 MB uploads ({upload_statuses}) in {elapsed:.0f} s")
    print(f"the app's cache folder: {result['end_mb']:.1f} MB at the end, at most {result['max_mb']:.1f} MB "
          f"along the way; cap {a.cap_mb:g} MB (plus the one file being written)")


if __name__ == "__main__":
    main()
