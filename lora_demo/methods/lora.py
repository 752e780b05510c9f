"""LoRA as in the seed article with PEFT's numbers: the layer, adding it by name, merging, counting.

PEFT calls A and B `lora_A` and `lora_B`, rank `r` and alpha `lora_alpha`. Imports torch only.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from ..config import LoRAConfig, lora_scaling
from ..model import BaseModel, apply
from .base import Method, frozen_copy, linear_at, replace_module


def init_A(weight: torch.Tensor, how: str, rank: int, generator: torch.Generator | None) -> None:
    """A's starting values; B always starts at zero so a fresh adapter changes nothing."""
    if how == "peft":        # PEFT's default: kaiming_uniform(a=√5) = U(-1/√d_in, 1/√d_in)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    elif how == "seed":      # the seed article: kaiming_uniform(a=0.01), about 2.45× wider
        nn.init.kaiming_uniform_(weight, a=0.01, generator=generator)
    elif how == "gaussian":  # PEFT's init_lora_weights="gaussian": N(0, (1/r)²)
        nn.init.normal_(weight, std=1 / rank, generator=generator)
    else:
        raise ValueError(f"init must be peft, seed or gaussian; got {how!r}")


class LoRA(nn.Module):
    """original_layer(x) + scaling · B(A(x)), with the original layer frozen."""

    def __init__(self, original_layer: nn.Linear, rank: int = 8, alpha: float = 16,
                 use_rslora: bool = False, init: str = "peft",
                 generator: torch.Generator | None = None):
        super().__init__()
        self.original_layer = original_layer
        self.rank = rank
        self.alpha = alpha
        self.use_rslora = use_rslora
        self.init = init
        self.scaling = lora_scaling(rank, alpha, use_rslora)
        self.A = nn.Linear(original_layer.in_features, rank, bias=False)   # down: (r, d_in)
        self.B = nn.Linear(rank, original_layer.out_features, bias=False)  # up: (d_out, r)
        init_A(self.A.weight, init, rank, generator)
        nn.init.zeros_(self.B.weight)
        for p in self.original_layer.parameters():
            p.requires_grad = False
        self.merged = False
        self.strength = 1.0  # 0 switches the adapter off; 1 is the trained adapter

    @property
    def in_features(self) -> int:
        return self.original_layer.in_features

    @property
    def out_features(self) -> int:
        return self.original_layer.out_features

    def delta_weight(self) -> torch.Tensor:
        """ΔW = scaling · B @ A, shape (d_out, d_in) like the original weight."""
        return self.scaling * (self.B.weight @ self.A.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = apply(self.original_layer, x)
        if self.merged or self.strength == 0:
            return out
        return out + (self.scaling * self.strength) * F.linear(F.linear(x, self.A.weight), self.B.weight)

    @torch.no_grad()
    def merge(self) -> None:
        """W ← W + ΔW; the layer then costs what the plain layer costs."""
        if not self.merged:
            self.original_layer.weight += self.strength * self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W ← W − ΔW (equal to the old W up to float rounding)."""
        if self.merged:
            self.original_layer.weight -= self.strength * self.delta_weight()
            self.merged = False


class ModelWithLoRA(BaseModel):
    """The seed article's model: BaseModel with fc1 replaced by LoRA(fc1, rank=4)."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int):
        super().__init__(input_size, hidden_size, output_size)
        self.fc1 = LoRA(self.fc1, rank=4)


def add_lora(model: nn.Module, target_modules: tuple[str, ...] | list[str], rank: int,
             alpha: float, use_rslora: bool = False, init: str = "peft",
             generator: torch.Generator | None = None, layer_class: type = LoRA) -> nn.Module:
    """Freeze every parameter of model, then wrap each named nn.Linear in a LoRA (in place).

    layer_class lets a variant (DoRA, …) bring its own layer with LoRA's constructor."""
    for p in model.parameters():
        p.requires_grad = False
    for name in target_modules:
        replace_module(model, name, layer_class(linear_at(model, name), rank, alpha, use_rslora, init, generator))
    return model


def lora_layers(model: nn.Module) -> dict[str, LoRA]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRA)}


def lora_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Exactly the A and B weights: what the optimizer gets."""
    return [p for m in lora_layers(model).values() for p in (m.A.weight, m.B.weight)]


@contextmanager
def adapter_strength(model: nn.Module, strength: float):
    """Temporarily scale every adapter's update: 0 is the base model, 1 the trained adapter."""
    layers = lora_layers(model).values()
    old = [m.strength for m in layers]
    for m in layers:
        m.strength = strength
    try:
        yield model
    finally:
        for m, s in zip(layers, old):
            m.strength = s


def merged_copy(model: nn.Module) -> BaseModel:
    """A plain BaseModel whose weights are W + ΔW: no adapter left, no extra cost at inference."""
    plain = copy.deepcopy(model)
    for name, m in lora_layers(plain).items():
        m.merge()
        replace_module(plain, name, m.original_layer)
    for p in plain.parameters():
        p.requires_grad = False
    return plain


def lora_param_count(layer_shapes: dict[str, tuple[int, int]], rank: int) -> int:
    """Σ r · (d_in + d_out) over the adapted layers; shapes are (d_in, d_out)."""
    return sum(rank * (d_in + d_out) for d_in, d_out in layer_shapes.values())


def break_even_rank(d_in: int, d_out: int) -> float:
    """r* = d_in·d_out / (d_in + d_out): from this rank on, A and B hold as many numbers as W."""
    return d_in * d_out / (d_in + d_out)


def max_useful_rank(d_in: int, d_out: int) -> int:
    """ΔW is d_out × d_in, so its rank never exceeds min(d_in, d_out)."""
    return min(d_in, d_out)


class LoRAMethod(Method):
    """LoRA: W stays frozen, ΔW = scaling · B·A trains. rslora=True forces α/√r (the "rslora" entry)."""
    key = "lora"

    def __init__(self, key: str = "lora", rslora: bool | None = None):
        self.key = key
        self.rslora = rslora  # None: as the settings say

    def settings(self, lora: LoRAConfig) -> LoRAConfig:
        return lora if self.rslora is None else replace(lora, use_rslora=self.rslora)

    def attach(self, base, lora, generator=None):
        lora = self.settings(lora)
        return add_lora(frozen_copy(base), lora.target_modules, lora.rank, lora.alpha, lora.use_rslora,
                        lora.init, generator)

    def merged(self, model):
        return merged_copy(model)

    def trainable_count(self, base, lora):
        shapes = {n: (linear_at(base, n).in_features, linear_at(base, n).out_features) for n in lora.target_modules}
        return lora_param_count(shapes, lora.rank)
