"""The seed article's comparison: a Houlsby bottleneck Adapter after a layer, h + up(relu(down(h))).

Unlike LoRA it adds computation that cannot be merged into the weights. Imports torch only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import LoRAConfig
from ..model import init_linear
from .base import Method, frozen_copy, linear_at, replace_module


class Adapter(nn.Module):
    """Houlsby bottleneck on a layer's output h: h + up(relu(down(h))). up starts at zero, so a
    fresh adapter adds exactly 0. Trainable: 2·d·m + d + m."""

    def __init__(self, d: int, bottleneck: int, generator: torch.Generator | None = None):
        super().__init__()
        self.down = nn.Linear(d, bottleneck)  # weight (m, d), bias (m,)
        self.up = nn.Linear(bottleneck, d)    # weight (d, m), bias (d,)
        init_linear(self.down, generator)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(F.relu(self.down(h)))


def add_adapter(model: nn.Module, layer: str, bottleneck: int,
                generator: torch.Generator | None = None) -> nn.Module:
    """Freeze every parameter of model, then run an Adapter right after the named nn.Linear (in place)."""
    model.requires_grad_(False)
    original = linear_at(model, layer)
    # the ReLU that follows in BaseModel.forward sees h + adapter(h), as in Houlsby et al.
    replace_module(model, layer, nn.Sequential(original, Adapter(original.out_features, bottleneck, generator)))
    return model


def adapter_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for m in model.modules() if isinstance(m, Adapter) for p in m.parameters()]


def adapter_param_count(d: int, bottleneck: int) -> int:
    return 2 * d * bottleneck + d + bottleneck


def bottleneck_for_budget(widths: list[int], budget: int) -> int:
    """One bottleneck width m for Adapters after layers with these output widths, chosen so that their
    total count Σ (2·d·m + d + m) is closest to budget (ties go to the smaller m; m ≥ 1)."""
    per_m = sum(2 * d + 1 for d in widths)
    m = max(1, round((budget - sum(widths)) / per_m))
    total = lambda k: sum(adapter_param_count(d, k) for d in widths)  # noqa: E731
    return min((k for k in (m - 1, m, m + 1) if k >= 1), key=lambda k: (abs(total(k) - budget), k))


class AdapterMethod(Method):
    """An Adapter after each target layer; lora.rank is read as the bottleneck width m."""
    key = "adapter"
    mergeable = False

    def attach(self, base, lora: LoRAConfig, generator=None):
        model = frozen_copy(base)
        for name in lora.target_modules:
            add_adapter(model, name, lora.rank, generator)
        return model

    def trainable_count(self, base, lora):
        return sum(adapter_param_count(linear_at(base, n).out_features, lora.rank) for n in lora.target_modules)
