"""Time the batched rank sweep (6 ranks in one loop) against single LoRA runs of the same length.

    python -m bench.sweep [--repeats 7]

One thread, interleaved repeats, medians of wall-clock and of process CPU time (the latter is
steadier when other processes share the machine). Target: sweep / one run ≤ 2.5.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import dataclasses

import torch

from lora_demo.config import RunConfig
from lora_demo.insights.common import frozen_base, train_method, with_targets
from lora_demo.insights.sweep import sweep_ranks

RANKS = [1, 2, 4, 8, 16, 32]
SINGLE = (1, 8, 32)  # one LoRA run at the smallest, a middle and the largest rank of the sweep
HEADLINE = 8
ALPHA = 8.0
TARGET = 2.5


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench(targets: tuple[str, ...], repeats: int) -> dict:
    cfg = RunConfig()
    fb = frozen_base(cfg)
    lora = with_targets(dataclasses.replace(cfg.lora, alpha=ALPHA), targets)
    fb = dataclasses.replace(fb, cfg=dataclasses.replace(cfg, lora=lora))
    jobs = {"sweep": lambda: sweep_ranks(fb, targets=targets, ranks=RANKS)}
    for r in SINGLE:
        jobs[f"r={r}"] = lambda r=r: train_method(fb, "lora", dataclasses.replace(lora, rank=r))
    for job in jobs.values():  # warm-up
        job()
    times = {name: [] for name in jobs}
    for _ in range(repeats):  # interleaved: drifting load hits every job alike
        for name, job in jobs.items():
            times[name].append(_timed(job))
    return {name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
            for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="only the target case's ratio, as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = RunConfig()
    if args.json:
        res = bench(("fc2",), args.repeats)
        (wall, cpu), (w, c) = res["sweep"], res[f"r={HEADLINE}"]
        print(json.dumps({"ratio": max(wall / w, cpu / c), "target": TARGET, "ranks": list(RANKS),
                          "sweep_s": wall, "one_run_s": w, "one_run_rank": HEADLINE}))
        return
    print(f"default data and model (hidden {cfg.model.hidden_size} × {cfg.model.hidden_layers}), "
          f"{cfg.train.adapt_steps} Adam steps, ranks {RANKS}, {args.repeats} interleaved repeats, 1 thread")
    cases = ((("fc2",), "the target case"),
             (("fc1", "fc2"), "informational: fc2's base layer then runs once per model"))
    for i, (targets, note) in enumerate(cases):
        res = bench(targets, args.repeats)
        wall, cpu = res["sweep"]
        print(f"\ntarget_modules={list(targets)} ({note})")
        print(f"  sweep of {len(RANKS)} ranks: {wall:.3f} s wall, {cpu:.3f} s cpu")
        for r in SINGLE:
            w, c = res[f"r={r}"]
            print(f"  one run r={r:<3d}: {w:.3f} s wall, {c:.3f} s cpu   "
                  f"ratio {wall / w:.2f} wall, {cpu / c:.2f} cpu")
        if i == 0:  # the verdict takes the worse of the two clocks
            w, c = res[f"r={HEADLINE}"]
            worst = max(wall / w, cpu / c)
            print(f"  ratio vs one run at r={HEADLINE}: {worst:.2f} (target ≤ {TARGET}: "
                  f"{'ok' if worst <= TARGET else 'over'})")


if __name__ == "__main__":
    main()
