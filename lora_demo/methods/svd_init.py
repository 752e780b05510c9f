"""PiSSA and OLoRA: LoRA layers whose A and B start from a decomposition of the frozen W, with PEFT's numbers
(`LoraConfig(init_lora_weights="pissa")` and `"olora"`).

The part of W that B·A now holds is taken out of the frozen weight, W_res = W − s·B·A, so the model at
step 0 still computes W x. Training then moves A and B, which start along W's own principal (PiSSA) or
QR (OLoRA) directions instead of at zero.

What "adapter off" means here: the layer runs W_res, the *residual* base, not the original W. Switching the
adapter off (strength 0, PEFT's disable_adapter) therefore gives a different model from the pretrained base;
the original is W_res + s·B₀·A₀ with the starting factors. To use the trained adapter on the original base,
convert it to a plain LoRA of rank 2r (`to_plain_lora`, PEFT's path_initial_model_for_weight_conversion).

When r exceeds min(d_in, d_out), W has no more directions to take: PEFT keeps min(d_in, d_out) of them
without a word and still scales by α/r with the configured r. This module does the same and `rank_limit`
says so. Imports torch only.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .base import frozen_copy, linear_at
from .lora import LoRA, LoRAMethod, add_lora, lora_layers, lora_scaling, merged_copy


def pissa_factors(W: torch.Tensor, rank: int, scaling: float) -> tuple[torch.Tensor, torch.Tensor]:
    """PiSSA: W = U·diag(S)·Vh; with S_r = S[:r] / s, A = diag(√S_r)·Vh[:r] and B = U[:, :r]·diag(√S_r),
    so that s·B·A is W's best rank-r approximation. Dividing S by s keeps that true for any α."""
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    root = torch.sqrt(S[:rank] / scaling)
    return torch.diag(root) @ Vh[:rank], U[:, :rank] @ torch.diag(root)


def olora_factors(W: torch.Tensor, rank: int, scaling: float) -> tuple[torch.Tensor, torch.Tensor]:
    """OLoRA: W = Q·R; A = R[:r], B = Q[:, :r] (orthonormal columns). PEFT does not divide the scaling
    out here, so the removed part s·B·A is s times the first r QR terms of W."""
    Q, R = torch.linalg.qr(W)
    return R[:rank], Q[:, :rank]


class DecomposedLoRA(LoRA):
    """A LoRA layer that starts from factors of W and rewrites original_layer's W to W_res (in place, as
    PEFT does: hand it a copy). Same constructor as LoRA; `init` and `generator` play no part."""
    decomposition = ""

    @staticmethod
    def factors(W: torch.Tensor, rank: int, scaling: float) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def __init__(self, original_layer: nn.Linear, rank: int = 8, alpha: float = 16,
                 use_rslora: bool = False, init: str = "peft", generator: torch.Generator | None = None):
        kept = min(rank, original_layer.in_features, original_layer.out_features)
        # LoRA's constructor draws A at random; the draw is overwritten below, so it gets a throwaway
        # generator and the caller's stays where it was
        super().__init__(original_layer, kept, alpha, use_rslora, init, torch.Generator())
        self.rank = rank                                   # the configured r, as PEFT keeps it …
        self.scaling = lora_scaling(rank, alpha, use_rslora)  # … and the scaling it implies
        W = original_layer.weight
        with torch.no_grad():
            A, B = self.factors(W.float(), rank, self.scaling)  # in float32, as PEFT computes it
            self.A.weight.copy_(A)
            self.B.weight.copy_(B)
            W.copy_((W.float() - (self.scaling * B) @ A).to(W.dtype))  # (s·B)·A: PEFT's order of rounding
        # the starting factors, for the conversion to a plain LoRA; buffers, so they neither train nor
        # count, and non-persistent, so the state_dict holds what PEFT saves
        self.register_buffer("A0", A.clone(), persistent=False)
        self.register_buffer("B0", B.clone(), persistent=False)

    @property
    def kept_rank(self) -> int:
        """How many directions A and B really have: min(r, d_in, d_out)."""
        return self.A.out_features


class PiSSA(DecomposedLoRA):
    decomposition = "pissa"
    factors = staticmethod(pissa_factors)


class OLoRA(DecomposedLoRA):
    decomposition = "olora"
    factors = staticmethod(olora_factors)


LAYERS = {"pissa": PiSSA, "olora": OLoRA}


class DecomposedInitMethod(LoRAMethod):
    """PiSSA or OLoRA on the run's target layers. Attaching rewrites the frozen copy's W to W_res, never
    the caller's base. Merging writes W_res + s·B·A, which is the original W plus the learned change."""
    changes_base = True

    def __init__(self, key: str):
        super().__init__(key)
        self.layer_class = LAYERS[key]

    def attach(self, base, lora, generator=None):
        return add_lora(frozen_copy(base), lora.target_modules, lora.rank, lora.alpha, lora.use_rslora,
                        lora.init, generator, layer_class=self.layer_class)

    def merged(self, model):
        return merged_copy(model)

    def trainable_count(self, base, lora):
        total = 0
        for n in lora.target_modules:
            d_in, d_out = linear_at(base, n).in_features, linear_at(base, n).out_features
            total += min(lora.rank, d_in, d_out) * (d_in + d_out)
        return total


@dataclass(frozen=True)
class RankLimit:
    """A target layer whose W has fewer directions than the rank asked for."""
    layer: str
    d_in: int
    d_out: int
    rank: int

    @property
    def max_rank(self) -> int:
        return min(self.d_in, self.d_out)

    def sentence(self) -> str:
        """One sentence in English; text/race.py has it in every language as "race_rank_limit"."""
        return (f"{self.layer} maps {self.d_in} inputs to {self.d_out} outputs, so W has at most {self.max_rank} "
                f"directions: PiSSA and OLoRA start from {self.max_rank} of the {self.rank} asked for and still "
                f"scale by α/{self.rank}, as PEFT does.")


def rank_limit(base: nn.Module, lora) -> tuple[RankLimit, ...]:
    """The target layers on which a decomposition cannot give r directions (r > min(d_in, d_out))."""
    out = []
    for n in lora.target_modules:
        layer = linear_at(base, n)
        if lora.rank > min(layer.in_features, layer.out_features):
            out.append(RankLimit(n, layer.in_features, layer.out_features, lora.rank))
    return tuple(out)


@dataclass(frozen=True)
class PlainLoRA:
    """A plain LoRA adapter for the *original* base, in PEFT's saved form: tensors under PEFT's key names and
    the LoraConfig fields that go with them."""
    tensors: dict            # base_model.model.<layer>.lora_A.weight / .lora_B.weight -> tensor
    r: int
    lora_alpha: float
    use_rslora: bool
    target_modules: tuple
    rank_pattern: dict       # per-layer r where it differs from r (only after a rank limit)
    alpha_pattern: dict      # per-layer lora_alpha to match

    def config_kwargs(self) -> dict:
        """Keyword arguments for peft.LoraConfig (plain init: the adapter's values are loaded over it)."""
        return dict(r=self.r, lora_alpha=self.lora_alpha, use_rslora=self.use_rslora,
                    target_modules=list(self.target_modules), rank_pattern=dict(self.rank_pattern),
                    alpha_pattern=dict(self.alpha_pattern), init_lora_weights=True, lora_dropout=0.0)


@torch.no_grad()
def to_plain_lora(model: nn.Module) -> PlainLoRA:
    """PEFT's conversion of a PiSSA/OLoRA adapter to a plain LoRA on the original base.

    W_res + s·B·A = W + s·(B·A − B₀·A₀) = W + s'·B'·A' with A' = [A; A₀], B' = [B | −B₀]: rank 2r, and
    α' = 2α (α·√2 with rsLoRA) so that s' = s. Where a rank limit left k < r directions, PEFT's own converter
    fails; here that layer gets r' = 2k and the α' that keeps s, through rank_pattern and alpha_pattern."""
    layers = {n: m for n, m in lora_layers(model).items() if isinstance(m, DecomposedLoRA)}
    if not layers:
        raise ValueError("the model has no PiSSA or OLoRA layers to convert")
    first = next(iter(layers.values()))
    if any((m.rank, m.alpha, m.use_rslora) != (first.rank, first.alpha, first.use_rslora) for m in layers.values()):
        raise ValueError("every adapted layer must share one rank, alpha and use_rslora")
    if any(m.merged for m in layers.values()):
        raise ValueError("unmerge the adapters first: a merged W holds W_res + ΔW")
    tensors, ranks, alphas = {}, {}, {}
    for name, m in layers.items():
        key = f"base_model.model.{name}"
        tensors[f"{key}.lora_A.weight"] = torch.cat([m.A.weight, m.A0], 0).contiguous()
        tensors[f"{key}.lora_B.weight"] = torch.cat([m.B.weight, -m.B0], 1).contiguous()
        if m.kept_rank < m.rank:
            r2 = 2 * m.kept_rank
            ranks[f"^{name}"] = r2
            alphas[f"^{name}"] = m.scaling * (r2 ** 0.5 if m.use_rslora else r2)
    alpha = first.alpha * (2 ** 0.5 if first.use_rslora else 2)
    return PlainLoRA(tensors, 2 * first.rank, alpha, first.use_rslora, tuple(sorted(layers)), ranks, alphas)
