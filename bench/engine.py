"""Overhead of the project's training run over a bare PyTorch loop doing the same training.

Both sides, in one process with one torch thread, on the default RunConfig():
  project  lora_demo.engine.run(cfg, every_seconds=0.3), drained: as the UI streams it, with
           loss curves, test evaluation, snapshots (grid probabilities) and the final Result.
  bare     the same work written directly: make_tasks, BaseModel from the same seeded generator,
           full-batch Adam for pretrain_steps, freeze + add_lora, Adam on the LoRA weights for
           adapt_steps. No snapshots, no curves, no test evaluation.
Both train bit-identically (same seed, same draws), which the script checks via the final loss. The
project computes its gradients by hand (lora_demo.backprop, autograd's numbers without its graph) and the
bare loop calls backward(), so the project's extra work can be paid for by its cheaper steps: a ratio
under 1 means the whole streamed run costs less than the plain loop a reader would write.
After one warm-up of each, rounds alternate the order (bare first, then project first, ...);
it reports the median wall seconds of each, the ratio project / bare (target <= 1.10), and the
number of snapshots the project run yields. CPU seconds and the load average are shown too:
the machine has 2 cores, and a busy neighbour slows the wall clock and, because snapshots are
time-throttled, also makes the project run take more snapshots; when wall time is well above
CPU time the table ends with a warning (and the JSON has "contended": true).

Run from the project root:
    python -m bench.engine                 # table
    python -m bench.engine --json          # the same numbers as one JSON object
    python -m bench.engine --rounds 7 --steps 300   # steps sets both pretrain and adapt steps
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from lora_demo.config import ConfigError, RunConfig
from lora_demo.data import make_tasks
from lora_demo.fit import adam
from lora_demo.methods.lora import add_lora, lora_parameters
from lora_demo.model import BaseModel
from lora_demo.engine import run

TARGET = 1.10
CONTENDED = 1.15  # wall / CPU seconds above this: the run had to share its core
EVERY_SECONDS = 0.3


def bare(cfg: RunConfig) -> float:
    """The training alone; returns the final full-batch loss on the target train split."""
    gen = torch.Generator().manual_seed(cfg.data.seed)
    source, target = make_tasks(cfg.data, cfg.shift)
    Xs, ys = torch.from_numpy(source.X_train), torch.from_numpy(source.y_train)
    Xt, yt = torch.from_numpy(target.X_train), torch.from_numpy(target.y_train)
    model = BaseModel(2, cfg.model.hidden_size, max(source.n_classes, target.n_classes),
                      cfg.model.hidden_layers, generator=gen)
    opt = adam(model.parameters(), lr=cfg.train.lr)  # the same optimiser as the app's (fit.adam)
    for _ in range(cfg.train.pretrain_steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(Xs), ys).backward()
        opt.step()
    add_lora(model, cfg.lora.target_modules, cfg.lora.rank, cfg.lora.alpha,
             cfg.lora.use_rslora, cfg.lora.init, generator=gen)
    opt = adam(lora_parameters(model), lr=cfg.train.lr)
    for _ in range(cfg.train.adapt_steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(Xt), yt).backward()
        opt.step()
    with torch.no_grad():
        return F.cross_entropy(model(Xt), yt).item()


def project(cfg: RunConfig) -> tuple[int, float]:
    """The project's run, drained; returns (snapshots yielded, final adapt train loss)."""
    n = 0
    for snap in run(cfg, every_seconds=EVERY_SECONDS):
        n += 1
        last = snap
    return n, last.result.final_loss["adapt_train"]


def timed(fn, cfg):
    """(wall seconds, CPU seconds of this process, fn's result)."""
    w, c = time.perf_counter(), time.process_time()
    out = fn(cfg)
    return time.perf_counter() - w, time.process_time() - c, out


def measure(cfg: RunConfig, rounds: int) -> dict:
    timed(bare, cfg), timed(project, cfg)  # warm-up: imports, allocator, first-call costs
    times = {"bare": [], "project": []}
    cpu = {"bare": [], "project": []}
    snapshots, losses = [], {}
    for i in range(rounds):
        for name in (("bare", "project") if i % 2 == 0 else ("project", "bare")):
            secs, cpu_secs, out = timed(bare if name == "bare" else project, cfg)
            times[name].append(secs)
            cpu[name].append(cpu_secs)
            if name == "project":
                snapshots.append(out[0])
                out = out[1]
            losses[name] = out
    b, p = statistics.median(times["bare"]), statistics.median(times["project"])
    cb, cp = statistics.median(cpu["bare"]), statistics.median(cpu["project"])
    return {
        "threads": torch.get_num_threads(), "rounds": rounds,
        "pretrain_steps": cfg.train.pretrain_steps, "adapt_steps": cfg.train.adapt_steps,
        "every_seconds": EVERY_SECONDS,
        "bare_median_s": b, "project_median_s": p, "ratio": p / b,
        "bare_cpu_median_s": cb, "project_cpu_median_s": cp, "cpu_ratio": cp / cb,
        "target": TARGET, "meets_target": p / b <= TARGET,
        "snapshots": statistics.median(snapshots), "snapshots_min": min(snapshots),
        "snapshots_max": max(snapshots),
        "same_training": abs(losses["bare"] - losses["project"]) <= 1e-6,
        "load_avg_1min": os.getloadavg()[0],  # well above 1: other processes shared the cores
        # wall well above CPU time: this process waited for a core, so the wall numbers are suspect
        "contended": max(b / cb, p / cp) > CONTENDED,
        "bare_s": times["bare"], "project_s": times["project"],
    }


def table(r: dict) -> str:
    snaps = f"{r['snapshots']:g}" + ("" if r["snapshots_min"] == r["snapshots_max"]
                                     else f" ({r['snapshots_min']}-{r['snapshots_max']})")
    verdict = "met" if r["meets_target"] else "MISSED"
    rows = [("median of rounds", "wall s", "CPU s"),
            ("bare loop", f"{r['bare_median_s']:.3f}", f"{r['bare_cpu_median_s']:.3f}"),
            ("project run", f"{r['project_median_s']:.3f}", f"{r['project_cpu_median_s']:.3f}"),
            ("ratio project/bare", f"{r['ratio']:.3f}", f"{r['cpu_ratio']:.3f}")]
    lines = [f"{a:<20}{b:>10}{c:>10}" for a, b, c in rows]
    lines += [f"target ratio <= {r['target']:.2f}: {verdict} (on wall time)",
              f"snapshots per project run (every {r['every_seconds']:g} s): {snaps}",
              f"torch threads {r['threads']}, steps {r['pretrain_steps']} + {r['adapt_steps']}, "
              f"{r['rounds']} rounds after 1 warm-up, load average {r['load_avg_1min']:.2f}",
              f"same final loss in both: {'yes' if r['same_training'] else 'NO'}"]
    if r["contended"]:
        lines.append("WARNING: wall time well above CPU time: other processes took the cores; "
                     "rerun on a quiet machine")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds after the warm-up (default 7)")
    ap.add_argument("--steps", type=int, help="pretrain and adapt steps (default: RunConfig's)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    # with --json, stdout carries only the JSON object
    print(f"torch.set_num_threads(1) -> {torch.get_num_threads()} thread(s)",
          file=sys.stderr if args.json else sys.stdout, flush=True)
    cfg = RunConfig()
    if args.steps is not None:
        try:
            cfg = replace(cfg, train=replace(cfg.train, pretrain_steps=args.steps, adapt_steps=args.steps))
        except ConfigError as e:
            ap.error(str(e))
    r = measure(cfg, args.rounds)
    print(json.dumps(r, indent=2) if args.json else table(r))


if __name__ == "__main__":
    main()
