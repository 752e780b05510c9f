"""Merge lab: how far merging W ← W + ΔW moves the outputs (float32, bfloat16), what one forward pass
costs for the plain base, the unmerged adapter and the merged model, and the adapter's strength."""
from __future__ import annotations

import copy
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from .. import evaluate
from ..methods.lora import adapter_strength, merged_copy

STRENGTHS = tuple(round(0.1 * i, 1) for i in range(21))  # 0 = the frozen base, 1 = the trained adapter, 2 = twice


@dataclass(frozen=True)
class MergeReport:
    max_abs_diff_float32: float   # merged (W + ΔW) vs unmerged, both float32
    max_abs_diff_bfloat16: float  # merged in bfloat16 vs the float32 unmerged output
    max_abs_diff_bfloat16_unmerged: float  # unmerged in bfloat16 vs float32: bfloat16's share without a merge
    seconds_base: float           # median time of one forward pass of the plain frozen base
    seconds_unmerged: float       # the base with its adapters computed beside it
    seconds_merged: float         # the merged plain model
    repeats: int


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@torch.no_grad()
def merge_lab(model, inputs: np.ndarray, base=None, repeats: int = 21) -> MergeReport:
    """Merging on inputs (N, 2) in float32 and bfloat16, and the time of a forward pass; base is the plain
    frozen model the adapter sits on (timed as the reference for "no extra latency")."""
    x = torch.as_tensor(inputs, dtype=torch.float32)
    reference = model(x)
    merged = merged_copy(model)
    base = base if base is not None else merged_copy(copy.deepcopy(model))  # same shapes as the base
    low = merged_copy(copy.deepcopy(model).to(torch.bfloat16))  # ΔW and W + ΔW rounded to bfloat16
    low_unmerged = copy.deepcopy(model).to(torch.bfloat16)

    def diff(out: torch.Tensor) -> float:
        return (out.float() - reference).abs().max().item()

    times = {"base": [], "unmerged": [], "merged": []}
    merged(x), base(x)  # warm-up
    for _ in range(repeats):  # interleaved so that drifting machine load hits all three alike
        times["base"].append(_time(lambda: base(x)))
        times["unmerged"].append(_time(lambda: model(x)))
        times["merged"].append(_time(lambda: merged(x)))
    med = {k: statistics.median(v) for k, v in times.items()}
    return MergeReport(diff(merged(x)), diff(low(x.bfloat16())), diff(low_unmerged(x.bfloat16())),
                       med["base"], med["unmerged"], med["merged"], repeats)


def strength_probs(model, points: np.ndarray, strength: float) -> np.ndarray:
    """(G, G, C) class probabilities with every adapter scaled by strength: 0 is the base, 1 the adapter."""
    with adapter_strength(model, strength):
        return evaluate.grid_probs(model, points)


def strength_series(model, points: np.ndarray, strengths=STRENGTHS) -> tuple:
    return tuple((s, strength_probs(model, points, s)) for s in strengths)
