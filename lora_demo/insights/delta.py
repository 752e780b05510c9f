"""ΔW inspector: A, B, ΔW = scaling·B·A and the singular values of ΔW, beside full fine-tuning's change
to the same layer and a random matrix of the same shape and size (the spectrum of "no structure")."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import evaluate
from ..methods.lora import lora_layers
from .common import FrozenBase, panel_targets, train_method, with_targets

ENERGY = 0.9  # effective rank: the fewest singular values holding this share of Σσ²


def singular_values(matrix) -> np.ndarray:
    """Descending, computed in float64 so that tiny values stay honest."""
    return evaluate.frozen(np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False))


def effective_rank(singular, energy: float = ENERGY) -> int:
    """Smallest k whose top-k squared singular values hold at least `energy` of the total; 0 for ΔW = 0."""
    power = np.sort(np.asarray(singular, dtype=np.float64))[::-1] ** 2
    total = power.sum()
    if total == 0:
        return 0
    share = np.cumsum(power) / total
    return int(np.searchsorted(share, energy - 1e-12) + 1)  # the 1e-12 forgives rounding at equality


def random_reference(shape: tuple[int, int], like: np.ndarray, seed: int) -> np.ndarray:
    """A Gaussian matrix of the given shape scaled to the Frobenius norm of `like`."""
    g = np.random.default_rng(seed).normal(size=shape)
    norm = float(np.linalg.norm(like))
    return evaluate.frozen(g * (norm / np.linalg.norm(g)) if norm > 0 else g)


@dataclass(frozen=True)
class DeltaInspection:
    layer: str
    rank: int
    scaling: float
    A: np.ndarray                      # (r, d_in)     PEFT: lora_A.weight
    B: np.ndarray                      # (d_out, r)    PEFT: lora_B.weight
    delta_weight: np.ndarray           # scaling · B @ A, (d_out, d_in)
    singular_values: np.ndarray        # of ΔW, descending, min(d_in, d_out) of them
    effective_rank: int
    full_singular_values: np.ndarray | None    # of full fine-tuning's ΔW on the same layer
    full_effective_rank: int | None
    random_singular_values: np.ndarray | None  # of a random matrix as large as full FT's ΔW
    random_effective_rank: int | None
    energy: float


def inspect_delta(model, full_delta_weights: dict | None = None, energy: float = ENERGY,
                  seed: int = 0) -> dict:
    """layer -> DeltaInspection for every LoRA layer of a trained LoRA model."""
    out = {}
    for name, m in lora_layers(model).items():
        with torch.no_grad():
            delta = evaluate.as_numpy(m.delta_weight())
        s = singular_values(delta)
        full = (full_delta_weights or {}).get(name)
        s_full = s_rand = None
        if full is not None:
            s_full = singular_values(full)
            s_rand = singular_values(random_reference(full.shape, full, seed))
        rank_of = lambda sv: None if sv is None else effective_rank(sv, energy)  # noqa: E731
        out[name] = DeltaInspection(name, m.rank, m.scaling, evaluate.as_numpy(m.A.weight),
                                    evaluate.as_numpy(m.B.weight), delta, s, effective_rank(s, energy),
                                    s_full, rank_of(s_full), s_rand, rank_of(s_rand), energy)
    return out


@dataclass(frozen=True)
class DeltaPanel:
    layers: dict             # layer -> DeltaInspection
    targets: tuple
    note: str | None


def delta_panel(fb: FrozenBase, lora_model=None, full=None) -> DeltaPanel:
    """On the panel's layers: the run's LoRA when its targets qualify (pass it as lora_model), else a LoRA
    of the run's rank on those layers; full fine-tuning's change (pass `full`, a FitResult, to reuse one)."""
    targets, note = panel_targets(fb)
    if lora_model is None or tuple(lora_layers(lora_model)) != targets:
        lora_model, _ = train_method(fb, "lora", with_targets(fb.cfg.lora, targets))
    if full is None:
        _, full = train_method(fb, "full_finetune")
    return DeltaPanel(inspect_delta(lora_model, full.delta_weights, seed=fb.cfg.data.seed), tuple(targets), note)
