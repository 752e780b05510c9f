"""Several LoRA adapters folded into one, with the arithmetic of PEFT's `add_weighted_adapter`.

PEFT (peft 0.21.2, `LoraModel.add_weighted_adapter`) builds a new adapter from adapters 1 … n with
weights w_i. Every new adapter has r = lora_alpha = r' (so its scaling is 1 and each source's
scaling s_i is baked into A' and B'). Per layer:

- "linear" (every source must have the same rank r; r' = r):
      A' = Σ sign(w_i s_i) √|w_i s_i| A_i,   B' = Σ √|w_i s_i| B_i.
  B'A' is NOT Σ w_i s_i B_i A_i: the product has cross terms B_i A_j. PEFT's own docstring calls
  it "a very rough approximation".
- "cat" (r' = Σ r_i): A' = the rows w_i s_i A_i stacked, B' = the columns B_i side by side.
  B'A' = Σ w_i s_i B_i A_i exactly (up to float rounding): both adapters on at once.
- "svd" (r' = svd_rank, or the largest r_i): D = Σ w_i s_i B_i A_i, then U S Vh = svd(D) and
  B' = U[:, :r'] diag(S[:r']), A' = Vh[:r']: the best rank-r' approximation of D. svd_clamp = q
  clips A' and B' to ± the q-quantile of their entries.

Where we refuse what PEFT lets through, we say so:

- svd with r' above min(d_in, d_out) of some layer and full_matrices=True: PEFT raises a shape
  error where d_out > d_in, builds an adapter that fails at its first forward where d_out < d_in,
  and quietly gives rank-min(d_in, d_out) factors (config still r') where d_in = d_out. We raise.
  With full_matrices=False PEFT gives every layer rank min(r', d_in, d_out) factors; so do we.
- weights and adapters of different lengths: PEFT zips them (dropping the extra); we raise.

rsLoRA sources are combined with the same arithmetic (a source's scaling is whatever it is), and
our result has scaling 1, which is what r = α = r' intends. PEFT's new adapter, however, copies
use_rslora from adapters[0]; with use_rslora its scaling is α/√r' = √r', so PEFT's combined ΔW is
√r' times the intended one. We mirror that only as a number, `Combined.peft_scaling`, so that a
panel or a test can show the quirk; our own combined model does not apply it.

Imports torch only.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .base import frozen_copy
from .lora import LoRA, add_lora, lora_layers

COMBINATIONS = ("linear", "cat", "svd")


@dataclass(frozen=True)
class Source:
    """One adapter to combine: layer -> (A (r, d_in), B (d_out, r), scaling), its rank and rsLoRA flag."""
    layers: dict
    rank: int
    use_rslora: bool = False


@dataclass(frozen=True)
class Combined:
    """The new adapter: per layer (A', B') with scaling 1; rank is PEFT's r = lora_alpha for it."""
    combination_type: str
    rank: int
    layers: dict              # layer -> (A' (r_l, d_in), B' (d_out, r_l)); r_l = rank except svd with
                              # full_matrices=False on a layer narrower than rank
    peft_scaling: float       # the scaling PEFT's own new adapter gets: 1, or √rank (rsLoRA quirk)
    scaling: float = 1.0

    def delta_weight(self, name: str) -> torch.Tensor:
        A, B = self.layers[name]
        return B @ A  # scaling 1


def _tensor(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float32).detach()


def as_source(adapter) -> Source:
    """A model holding LoRA layers, or a mapping layer -> LoRA layer or (A, B, scaling)."""
    if isinstance(adapter, nn.Module) and not isinstance(adapter, LoRA):
        adapter = lora_layers(adapter)
    if not isinstance(adapter, Mapping) or not adapter:
        raise ValueError("an adapter must be a model with LoRA layers or a non-empty mapping "
                         "layer -> LoRA layer or (A, B, scaling)")
    layers, rslora = {}, set()
    for name, item in adapter.items():
        if isinstance(item, LoRA):
            layers[name] = (item.A.weight.detach(), item.B.weight.detach(), float(item.scaling))
            rslora.add(item.use_rslora)
        else:
            A, B, s = item
            layers[name] = (_tensor(A), _tensor(B), float(s))
        A, B, _ = layers[name]
        if A.dim() != 2 or B.dim() != 2 or A.shape[0] != B.shape[1]:
            raise ValueError(f"layer {name}: A must be (r, d_in) and B (d_out, r) with the same r; "
                             f"got A {tuple(A.shape)}, B {tuple(B.shape)}")
    # PEFT checks the config's r; a rank_pattern counts with its largest rank. Ours: the largest A.
    return Source(layers, max(A.shape[0] for A, _, _ in layers.values()), True in rslora)


def new_rank(sources: Sequence[Source], combination_type: str, svd_rank: int | None) -> int:
    """r' as PEFT's _check_add_weighted_adapter computes it, with its refusals."""
    ranks = [s.rank for s in sources]
    if combination_type == "linear":
        if len(set(ranks)) != 1:
            raise ValueError(f"linear needs every adapter to have the same rank r (got {ranks}), because "
                             "it adds the A's and the B's themselves; PEFT refuses this too. Use cat or svd.")
        return ranks[0]
    if combination_type == "cat":
        return sum(ranks)
    if svd_rank is not None and svd_rank < 0:
        raise ValueError(f"svd_rank must be a positive integer (it becomes the new adapter's r); got {svd_rank}")
    return svd_rank or max(ranks)  # PEFT's `or`: svd_rank=0 means "the largest rank" as None does


def _weighted_sum(tensors: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """Σ w_i t_i in float32 in PEFT's order (merge_utils.task_arithmetic: stack, multiply, sum)."""
    stacked = torch.stack(tensors)
    w = torch.tensor(weights, dtype=stacked.dtype).view(-1, *([1] * (stacked.dim() - 1)))
    return (stacked * w).sum(dim=0)


def _linear(parts, weights):
    wA, wB, As, Bs = [], [], [], []
    for (A, B, s), w in zip(parts, weights):
        ws = w * s
        wA.append(math.sqrt(abs(ws)) * (1 if ws >= 0 else -1))  # the sign goes on A only
        wB.append(math.sqrt(abs(ws)))
        As.append(A)
        Bs.append(B)
    return _weighted_sum(As, wA), _weighted_sum(Bs, wB)


def _cat(parts, weights, rank, d_in, d_out):
    A_rows = torch.cat([A * w * s for (A, B, s), w in zip(parts, weights)], dim=0)
    B_cols = torch.cat([B for A, B, s in parts], dim=1)
    # PEFT fills a zero (r', d_in) A from the top: layers some adapter skips keep zero rows
    A_new, B_new = torch.zeros(rank, d_in), torch.zeros(d_out, rank)
    A_new[:A_rows.shape[0]] = A_rows
    B_new[:, :B_cols.shape[1]] = B_cols
    return A_new, B_new


def _svd(parts, weights, rank, clamp, full_matrices):
    D = _weighted_sum([(B @ A) * s for A, B, s in parts], weights)  # PEFT's get_delta_weight: (B @ A) * s
    U, S, Vh = torch.linalg.svd(D, full_matrices=full_matrices)
    B_new = U[:, :rank] @ torch.diag(S[:rank])
    A_new = Vh[:rank, :]
    if clamp is not None:
        hi = torch.quantile(torch.cat([B_new.flatten(), A_new.flatten()]), clamp)
        B_new, A_new = B_new.clamp(-hi, hi), A_new.clamp(-hi, hi)
    return A_new, B_new


@torch.no_grad()
def combine(adapters: Sequence, weights: Sequence[float], combination_type: str = "svd", *,
            svd_rank: int | None = None, svd_clamp: float | None = None,
            full_matrices: bool = True) -> Combined:
    """PEFT's add_weighted_adapter(adapters, weights, name, combination_type, svd_rank, svd_clamp,
    svd_full_matrices) on our adapters; the defaults are PEFT's (svd, rank = the largest r_i)."""
    sources = [as_source(a) for a in adapters]
    weights = [float(w) for w in weights]
    if not sources:
        raise ValueError("combine needs at least one adapter")
    if len(weights) != len(sources):
        raise ValueError(f"one weight per adapter: got {len(weights)} weights for {len(sources)} adapters "
                         "(PEFT would silently drop the extra ones)")
    if not all(math.isfinite(w) for w in weights):
        raise ValueError(f"weights must be finite numbers; got {weights}")
    if combination_type not in COMBINATIONS:
        raise ValueError(f"combination_type must be one of {', '.join(COMBINATIONS)}; got {combination_type!r} "
                         "(PEFT's ties, dare_* and magnitude_prune variants are not part of this app)")
    if svd_clamp is not None and not 0.0 <= svd_clamp <= 1.0:
        raise ValueError(f"svd_clamp is a quantile and must lie in [0, 1]; got {svd_clamp} (PEFT's "
                         "torch.quantile refuses it too)")
    kind = "linear" if len(sources) == 1 else combination_type  # PEFT: one adapter is always linear
    rank = new_rank(sources, kind, svd_rank)

    names = list(dict.fromkeys(n for s in sources for n in s.layers))  # the union, in first-seen order
    layers = {}
    for name in names:
        present = [(s.layers[name], w) for s, w in zip(sources, weights) if name in s.layers]
        parts, ws = [p for p, _ in present], [w for _, w in present]
        shapes = {(A.shape[1], B.shape[0]) for A, B, _ in parts}
        if len(shapes) != 1:
            raise ValueError(f"layer {name}: the adapters disagree on its shape (d_in, d_out): {sorted(shapes)}")
        d_in, d_out = shapes.pop()
        if kind == "linear":
            if len({A.shape[0] for A, _, _ in parts}) != 1:
                raise ValueError(f"linear needs one rank per layer; layer {name} has ranks "
                                 f"{[A.shape[0] for A, _, _ in parts]}")
            layers[name] = _linear(parts, ws)
        elif kind == "cat":
            layers[name] = _cat(parts, ws, rank, d_in, d_out)
        else:
            if full_matrices and rank > min(d_in, d_out):
                raise ValueError(f"svd rank {rank} is above layer {name}'s min(d_in, d_out) = {min(d_in, d_out)}: "
                                 "ΔW of that layer has no more than that many singular values. Choose "
                                 f"svd_rank ≤ {min(d_in, d_out)} (PEFT fails on such a layer too, or builds an "
                                 "adapter whose shapes do not fit) or full_matrices=False.")
            layers[name] = _svd(parts, ws, rank, svd_clamp, full_matrices)
    peft_scaling = math.sqrt(rank) if sources[0].use_rslora else 1.0  # α/√r with α = r
    return Combined(kind, rank, layers, peft_scaling)


def combined_model(base: nn.Module, combined: Combined) -> nn.Module:
    """A frozen copy of base carrying the combined adapter: per layer a LoRA with r = α = r_l (scaling 1)."""
    model = frozen_copy(base)
    for name, (A, B) in combined.layers.items():
        r = A.shape[0]
        # A is overwritten below; the generator only keeps add_lora off torch's global one
        add_lora(model, [name], r, float(r), generator=torch.Generator().manual_seed(0))
        layer = model.get_submodule(name)
        with torch.no_grad():
            layer.A.weight.copy_(A)
            layer.B.weight.copy_(B)
    return model
