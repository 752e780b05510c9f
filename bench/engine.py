"""Overhead of the project's training run over a bare PyTorch loop doing the same training.

Both sides, in one process with one torch thread, on the default RunConfig():
  project  lora_demo.train.run(cfg, every_seconds=0.3), drained: as the UI streams it, with
           loss curves, test evaluation, snapshots (grid probabilities) and the final Result.
  bare     the same work written directly: make_tasks, BaseModel from the same seeded generator,
           full-batch Adam for pretrain_steps, freeze + add_lora, Adam on the LoRA weights for
           adapt_steps. No snapshots, no curves, no test evaluation.
Both train bit-identically (same seed, same draws), which the script checks via the final loss.
After one warm-up of each, rounds alternate the order (bare first, then project first, ...);
it reports the median seconds of each, the ratio project / bare (target <= 1.10), and the
number of snapshots the project run yields.

Run from the project root:
    python -m bench.engine                 # table
    python -m bench.engine --json          # the same numbers as one JSON object
    python -m bench.engine --rounds 7 --steps 300   # steps sets both pretrain and adapt steps
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from lora_demo.config import RunConfig
from lora_demo.data import make_tasks
from lora_demo.lora import add_lora, lora_parameters
from lora_demo.model import BaseModel
from lora_demo.train import run

TARGET = 1.10
EVERY_SECONDS = 0.3


def bare(cfg: RunConfig) -> float:
    """The training alone; returns the final full-batch loss on the target train split."""
    gen = torch.Generator().manual_seed(cfg.data.seed)
    source, target = make_tasks(cfg.data, cfg.shift)
    Xs, ys = torch.from_numpy(source.X_train), torch.from_numpy(source.y_train)
    Xt, yt = torch.from_numpy(target.X_train), torch.from_numpy(target.y_train)
    model = BaseModel(2, cfg.model.hidden_size, max(source.n_classes, target.n_classes),
                      cfg.model.hidden_layers, generator=gen)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    for _ in range(cfg.train.pretrain_steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(Xs), ys).backward()
        opt.step()
    add_lora(model, cfg.lora.target_modules, cfg.lora.rank, cfg.lora.alpha,
             cfg.lora.use_rslora, cfg.lora.init, generator=gen)
    opt = torch.optim.Adam(lora_parameters(model), lr=cfg.train.lr)
    for _ in range(cfg.train.adapt_steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(Xt), yt).backward()
        opt.step()
    with torch.no_grad():
        return F.cross_entropy(model(Xt), yt).item()


def project(cfg: RunConfig) -> tuple[int, float]:
    """The project's run, drained; returns (snapshots yielded, final adapt train loss)."""
    n, last = 0, None
    for last in run(cfg, every_seconds=EVERY_SECONDS):
        n += 1
    return n, last.result.final_loss["adapt_train"]


def timed(fn, cfg):
    t = time.perf_counter()
    out = fn(cfg)
    return time.perf_counter() - t, out


def measure(cfg: RunConfig, rounds: int) -> dict:
    timed(bare, cfg), timed(project, cfg)  # warm-up: imports, allocator, first-call costs
    times = {"bare": [], "project": []}
    snapshots, losses = [], {}
    for i in range(rounds):
        for name in (("bare", "project") if i % 2 == 0 else ("project", "bare")):
            secs, out = timed(bare if name == "bare" else project, cfg)
            times[name].append(secs)
            if name == "project":
                snapshots.append(out[0])
                losses["project"] = out[1]
            else:
                losses["bare"] = out
    b, p = statistics.median(times["bare"]), statistics.median(times["project"])
    return {
        "threads": torch.get_num_threads(), "rounds": rounds,
        "pretrain_steps": cfg.train.pretrain_steps, "adapt_steps": cfg.train.adapt_steps,
        "every_seconds": EVERY_SECONDS,
        "bare_median_s": b, "project_median_s": p, "ratio": p / b, "target": TARGET,
        "meets_target": p / b <= TARGET,
        "snapshots": statistics.median(snapshots), "snapshots_min": min(snapshots),
        "snapshots_max": max(snapshots),
        "same_training": abs(losses["bare"] - losses["project"]) <= 1e-6,
        "bare_s": times["bare"], "project_s": times["project"],
    }


def table(r: dict) -> str:
    snaps = f"{r['snapshots']:g}" + ("" if r["snapshots_min"] == r["snapshots_max"]
                                     else f" ({r['snapshots_min']}-{r['snapshots_max']})")
    rows = [
        ("torch threads", str(r["threads"])),
        ("steps (pretrain + adapt)", f"{r['pretrain_steps']} + {r['adapt_steps']}"),
        ("rounds (after warm-up)", str(r["rounds"])),
        ("bare loop, median", f"{r['bare_median_s']:.3f} s"),
        ("project run, median", f"{r['project_median_s']:.3f} s"),
        ("ratio project / bare", f"{r['ratio']:.3f}  (target <= {r['target']:.2f}: "
                                 f"{'met' if r['meets_target'] else 'MISSED'})"),
        (f"snapshots (every {r['every_seconds']:g} s)", snaps),
        ("same final loss", "yes" if r["same_training"] else "NO"),
    ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="timed rounds after the warm-up (default 7)")
    ap.add_argument("--steps", type=int, help="pretrain and adapt steps (default: RunConfig's)")
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    cfg = RunConfig()
    if args.steps is not None:
        cfg = replace(cfg, train=replace(cfg.train, pretrain_steps=args.steps, adapt_steps=args.steps))
    if not args.json:
        print(f"torch.set_num_threads(1) -> {torch.get_num_threads()} thread(s)")
    r = measure(cfg, args.rounds)
    print(json.dumps(r, indent=2) if args.json else table(r))


if __name__ == "__main__":
    main()
