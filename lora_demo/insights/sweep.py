"""Rank sweep: LoRA at r = 1, 2, 4, … trained together, against trainable parameters, with the
break-even rank (where A and B hold as many numbers as the layer) and the max useful rank marked."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..methods import count_parameters
from ..methods.lora import break_even_rank, lora_param_count, lora_scaling, max_useful_rank
from .batched import train_batched
from .common import FrozenBase, panel_targets


@dataclass(frozen=True)
class LayerLimits:
    d_in: int
    d_out: int
    break_even_rank: float   # r* = d_in·d_out / (d_in + d_out)
    max_useful_rank: int     # min(d_in, d_out)


@dataclass(frozen=True)
class RankPoint:
    rank: int
    scaling: float
    trainable: int           # r · Σ (d_in + d_out)
    accuracy: float          # target test split
    final_train_loss: float
    final_test_loss: float
    loss_curve: np.ndarray   # (steps,)


@dataclass(frozen=True)
class RankSweep:
    points: tuple            # RankPoint per rank, ascending
    layers: dict             # adapted layer -> LayerLimits
    break_even_rank: float   # all adapted layers together: Σ d_in·d_out / Σ (d_in + d_out)
    max_useful_rank: int     # largest min(d_in, d_out) over the adapted layers
    base_params: int         # frozen base; "all params" of rank r is base_params + trainable
    targets: tuple = ()      # the layers swept
    note: str | None = None  # why they differ from the user's targets (see common.panel_targets)


def layer_limits(base, targets) -> dict:
    out = {}
    for name in targets:
        layer = base.get_submodule(name)
        d_in, d_out = layer.in_features, layer.out_features
        out[name] = LayerLimits(d_in, d_out, break_even_rank(d_in, d_out), max_useful_rank(d_in, d_out))
    return out


def sweep_ranks_for(max_useful: int, cap: int = 64) -> list[int]:
    """1, 2, 4, … up to min(max_useful, cap), ending at that limit even if it is no power of two."""
    top = min(max_useful, cap)
    ranks = [2 ** i for i in range(top.bit_length()) if 2 ** i <= top]
    return ranks if ranks[-1] == top else ranks + [top]


def sweep_ranks(fb: FrozenBase, targets=None, ranks: list[int] | None = None, cap: int = 64) -> RankSweep:
    """LoRA at every rank on targets (default: panel_targets), with the run's α, init, steps and lr.
    Each rank starts from the run's generator state, so rank r here is the Train tab's run at rank r."""
    note = None
    if targets is None:
        targets, note = panel_targets(fb)
    lc, tc = fb.cfg.lora, fb.cfg.train
    limits = layer_limits(fb.base, targets)
    useful = max(lim.max_useful_rank for lim in limits.values())
    ranks = sorted(set(ranks)) if ranks else sweep_ranks_for(useful, cap)
    scalings = [lora_scaling(r, lc.alpha, lc.use_rslora) for r in ranks]
    batch = train_batched(fb.base, fb.target, targets, ranks, scalings, lc.init, tc.adapt_steps, tc.lr,
                          fb.generator(), fb.guard)
    shapes = {name: (lim.d_in, lim.d_out) for name, lim in limits.items()}
    points = tuple(
        RankPoint(r, scalings[k], lora_param_count(shapes, r), float(batch.accuracy[k]),
                  float(batch.train_loss[k]), float(batch.test_loss[k]), batch.curves[k])
        for k, r in enumerate(ranks))
    weights = sum(d_in * d_out for d_in, d_out in shapes.values())
    return RankSweep(points, limits, weights / sum(d_in + d_out for d_in, d_out in shapes.values()),
                     useful, count_parameters(fb.base).total, tuple(targets), note)
