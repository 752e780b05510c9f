"""Is it luck? The same settings on N seeds in a row: every accuracy a run reports, per seed, so that a
learner sees which outcomes are robust and which depend on the draw."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from ..config import RunConfig
from ..fit import UNGUARDED, Guard
from ..engine import train

N_SEEDS = 10
METRICS = ("base_source", "base_target", "lora_target", "lora_source")
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class SeedRun:
    seed: int
    accuracy: dict      # the four accuracies of the run (test splits)
    trainable: int      # LoRA's trainable numbers (the same on every seed)


def seeds_for(cfg: RunConfig, n: int = N_SEEDS) -> list[int]:
    """The run's own seed first, then the next ones (wrapping below the largest seed allowed)."""
    return [(cfg.data.seed + i) % (MAX_SEED + 1) for i in range(n)]


def run_seeds(cfg: RunConfig, n: int = N_SEEDS, guard: Guard = UNGUARDED) -> Iterator[SeedRun]:
    """One full run (pretraining and LoRA) per seed, as the Train tab runs it; yields as each finishes."""
    for seed in seeds_for(cfg, n):
        snap = train(replace(cfg, data=replace(cfg.data, seed=seed)), grid_size=2, guard=guard)
        yield SeedRun(seed, dict(snap.result.accuracy), snap.result.params["lora"]["trainable"])


def summary(runs: list[SeedRun]) -> dict:
    """metric -> (min, median, max) over the seeds."""
    out = {}
    for m in METRICS:
        values = sorted(r.accuracy[m] for r in runs)
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        out[m] = (values[0], median, values[-1])
    return out
