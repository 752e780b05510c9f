"""α explorer: the same ranks under three rules for α (fixed, α = r, rsLoRA's α/√r), trained together.

The same rank starts from the same A under every rule, so the curves differ by the scaling alone."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..methods.lora import lora_scaling
from .batched import train_batched
from .common import FrozenBase, panel_targets

ALPHA_SETTINGS = {  # name -> (rank, α) -> (lora_alpha, use_rslora)
    "fixed": lambda r, alpha: (alpha, False),                 # α / r: the scaling shrinks as r grows
    "alpha_equals_rank": lambda r, alpha: (float(r), False),  # scaling 1 at every rank
    "rslora": lambda r, alpha: (alpha, True),                 # α / √r: rsLoRA's rule
}
RANKS = (1, 4, 16)
ALPHA = 8.0            # the α used by "fixed" and "rslora"
EARLY_STEP = 30        # the caption compares losses here: how fast each rank gets going
# Its own learning rate: the question is how fast each rank starts to learn, and at a rate as large as the
# default's (0.03) the largest scaling here (α/r = 8 at r = 1) already overshoots within 30 steps, which
# hides the effect the panel is about (measured over seeds; see docs/claims.md, alpha.*)
LR = 0.01


@dataclass(frozen=True)
class AlphaRun:
    rank: int
    setting: str             # a key of ALPHA_SETTINGS
    alpha: float             # the lora_alpha this setting uses at this rank
    use_rslora: bool
    scaling: float           # what B·A is multiplied by
    accuracy: float
    final_train_loss: float
    loss_curve: np.ndarray   # (steps,)

    def loss_at(self, step: int) -> float:
        return float(self.loss_curve[min(step, len(self.loss_curve) - 1)])


@dataclass(frozen=True)
class AlphaExplorer:
    runs: tuple
    targets: tuple
    note: str | None


def explore_alpha(fb: FrozenBase, targets=None, ranks=RANKS, alpha: float = ALPHA, lr: float = LR) -> AlphaExplorer:
    note = None
    if targets is None:
        targets, note = panel_targets(fb)
    runs = [(r, name, *ALPHA_SETTINGS[name](r, alpha)) for r in ranks for name in ALPHA_SETTINGS]
    scalings = [lora_scaling(r, a, rs) for r, _, a, rs in runs]
    batch = train_batched(fb.base, fb.target, targets, [r for r, *_ in runs], scalings, fb.cfg.lora.init,
                          fb.cfg.train.adapt_steps, lr, fb.generator(), fb.guard)
    return AlphaExplorer(tuple(AlphaRun(r, name, a, rs, scalings[k], float(batch.accuracy[k]),
                                        float(batch.train_loss[k]), batch.curves[k])
                               for k, (r, name, a, rs) in enumerate(runs)), tuple(targets), note)
