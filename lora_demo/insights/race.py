"""The variants race: LoRA, rsLoRA, DoRA, PiSSA, OLoRA and LoRA+ trained side by side on the run's frozen
base and target, with the same steps, learning rate, rank, α and target layers.

At one rank the variants train the same r·Σ(d_in + d_out) numbers, except where the method itself adds or
cannot have them: DoRA trains one magnitude per output row on top, and PiSSA/OLoRA keep fewer directions on
a layer with min(d_in, d_out) < r. Both show up as `extra`, never hidden. Each variant is read off the same
way: target accuracy, loss curve, boundary, how it merges and how far merging moves the outputs, and what
switching the adapter off leaves on the source task. Imports torch, not gradio.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import evaluate
from ..methods import METHODS, ParamCount
from ..methods.lora import adapter_strength, lora_param_count
from ..methods.svd_init import rank_limit
from .common import FrozenBase, train_method

VARIANTS = ("lora", "rslora", "dora", "pissa", "olora", "loraplus")
# how a variant's change goes into W (a text key suffix: race_merge_<kind>)
MERGE_KIND = {"lora": "add", "rslora": "add", "loraplus": "add", "dora": "rescale",
              "pissa": "residual", "olora": "residual"}


@dataclass(frozen=True)
class RaceEntry:
    """One variant after training; numbers and read-only arrays only."""
    key: str                     # a key of METHODS
    accuracy: float              # target test split
    params: ParamCount           # trainable and total, as PEFT counts them
    extra: int                   # trainable beyond LoRA's r·Σ(d_in + d_out): DoRA's magnitudes (+), a rank limit (−)
    final_train_loss: float
    loss_curve: np.ndarray       # (steps,) train loss before each update
    probs: np.ndarray            # (G, G, C) class probabilities on the plot grid
    mergeable: bool
    merge_kind: str              # "add" (W + ΔW), "rescale" (DoRA's rows), "residual" (W_res + ΔW)
    changes_base: bool           # attaching rewrote the frozen W (PiSSA, OLoRA)
    merge_diff: float | None     # max |merged − unmerged| on the target test points; None if not mergeable
    off_source_accuracy: float   # source test accuracy with the adapter switched off (strength 0)
    rank_limits: tuple = ()      # svd_init.RankLimit per layer that kept fewer than r directions


@dataclass(frozen=True)
class Race:
    entries: tuple               # RaceEntry per variant, in VARIANTS order
    rank: int
    alpha: float
    use_rslora: bool             # the run's setting; "rslora" uses α/√r whatever it says
    targets: tuple
    lr: float
    steps: int
    lora_budget: int             # r·Σ(d_in + d_out): what LoRA trains
    loraplus_ratio: float        # LoRA+'s lr_B / lr_A
    base_source_accuracy: float  # the pretrained base on the source task: "adapter off" for LoRA-like variants

    def entry(self, key: str) -> RaceEntry:
        return next(e for e in self.entries if e.key == key)


@torch.no_grad()
def merge_check(method, model, X: np.ndarray) -> float | None:
    """max |merged − unmerged| on X, or None for a method that cannot merge."""
    if not method.mergeable:
        return None
    x = torch.from_numpy(X)
    return (method.merged(model)(x) - model(x)).abs().max().item()


def off_accuracy(model, task) -> float:
    """Accuracy with every adapter at strength 0: the frozen weights alone (W, or W_res for PiSSA/OLoRA)."""
    with adapter_strength(model, 0.0):
        return evaluate.accuracy(model, task)


def run_variant(fb: FrozenBase, key: str, budget: int) -> RaceEntry:
    method = METHODS[key]
    model, res = train_method(fb, key, with_probs=True)
    limits = rank_limit(fb.base, fb.cfg.lora) if method.changes_base else ()
    return RaceEntry(key, res.accuracy, res.params, res.params.trainable - budget, res.final_train_loss,
                     res.loss_curve, res.probs, method.mergeable, MERGE_KIND[key], method.changes_base,
                     merge_check(method, model, fb.target.X_test), off_accuracy(model, fb.source), limits)


def race(fb: FrozenBase, variants=VARIANTS) -> Race:
    """Train every variant with train_method at the run's settings (its rank, α, targets, lr, steps and the
    run's adapter draw, so LoRA here is the Train tab's LoRA) and read each one off."""
    lora = fb.cfg.lora
    budget = lora_param_count({n: fb.layer_shape(n) for n in lora.target_modules}, lora.rank)
    entries = tuple(run_variant(fb, key, budget) for key in variants)
    return Race(entries, lora.rank, lora.alpha, lora.use_rslora, lora.target_modules, fb.cfg.train.lr,
                fb.cfg.train.adapt_steps, budget, METHODS["loraplus"].ratio, evaluate.accuracy(fb.base, fb.source))


__all__ = ["MERGE_KIND", "VARIANTS", "Race", "RaceEntry", "race"]
