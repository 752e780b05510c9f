"""How well the work guard's predictions (lora_demo.cost) match what the work really costs.

For a spread of settings, from tiny to the largest the guard admits, runs each kind of job in this process
(one torch thread) and compares its CPU seconds with the prediction. The guard refuses work predicted to
take more than 15 s; the hard cap is 30 s. The prediction should not fall far below the truth for large
work (that is what would let an over-budget request through).

    python -m bench.cost [--json]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from lora_demo import cost
from lora_demo.config import config_from_flat
from lora_demo.fit import Guard
from lora_demo.jobs.registry import run_job
from lora_demo.links import DEFAULTS

PREDICT = {"train": cost.run_seconds, "insights": cost.insights_seconds, "race": cost.race_seconds,
           "library": cost.library_seconds,
           "seeds": lambda cfg: 10 * cost.run_seconds(cfg, snapshots=0)}
CASES = [
    ("default", {}),
    ("tiny", dict(n_samples=40, pretrain_steps=10, adapt_steps=10)),
    ("wide", dict(hidden_size=128, pretrain_steps=200, adapt_steps=200)),
    ("deep", dict(hidden_layers=3, n_samples=600)),
    ("large", dict(n_samples=1000, hidden_size=128, hidden_layers=3, pretrain_steps=120, adapt_steps=120)),
    ("long", dict(pretrain_steps=1500, adapt_steps=1500)),
]


def measure(kind: str, values: dict) -> float:
    t0 = time.process_time()
    for _ in run_job(kind, values, "en", Guard()):
        pass
    return time.process_time() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.cost", description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", nargs="+", default=["train", "insights", "race", "library", "seeds"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    measure("train", dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10))  # warm-up
    rows = []
    for kind in a.kinds:
        for name, changes in CASES:
            values = dict(DEFAULTS, **changes)
            predicted = PREDICT[kind](config_from_flat(values))
            if predicted > 15.0:
                rows.append({"kind": kind, "case": name, "predicted_s": predicted, "measured_s": None})
                continue
            rows.append({"kind": kind, "case": name, "predicted_s": predicted, "measured_s": measure(kind, values)})
    if a.json:
        print(json.dumps(rows))
        return
    print(f"{'job':9s} {'settings':9s} {'predicted s':>12s} {'measured s':>11s} {'measured/predicted':>19s}")
    for r in rows:
        m = r["measured_s"]
        ratio = "refused (> 15 s)" if m is None else f"{m / r['predicted_s']:.2f}"
        print(f"{r['kind']:9s} {r['case']:9s} {r['predicted_s']:12.2f} {('' if m is None else f'{m:.2f}'):>11s} "
              f"{ratio:>19s}")


if __name__ == "__main__":
    main()
