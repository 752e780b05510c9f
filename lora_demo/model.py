"""The seed article's BaseModel, generalised to N hidden layers named fc1 … fcN. Knows nothing of LoRA."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def apply(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """layer(x), calling a plain nn.Linear's function directly: the same arithmetic, bit for bit, without the
    module-call machinery, which costs more than a 64 × 64 layer's arithmetic on 280 points (a run does
    this thousands of times)."""
    if type(layer) is nn.Linear:
        return F.linear(x, layer.weight, layer.bias)
    return layer(x)


def init_linear(layer: nn.Linear, generator: torch.Generator | None) -> None:
    """PyTorch's own nn.Linear init, drawn from a per-run generator instead of the global one."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    if layer.bias is not None:
        bound = 1 / math.sqrt(layer.in_features)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class BaseModel(nn.Module):
    """fc1 → ReLU → … → fcN. With hidden_layers=1 it is exactly the seed's two-layer model."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int,
                 hidden_layers: int = 1, generator: torch.Generator | None = None):
        super().__init__()
        sizes = [input_size] + [hidden_size] * hidden_layers + [output_size]
        self.n_layers = len(sizes) - 1
        for i in range(self.n_layers):
            layer = nn.Linear(sizes[i], sizes[i + 1])
            init_linear(layer, generator)
            setattr(self, f"fc{i + 1}", layer)

    def layers(self) -> list[nn.Module]:
        return [getattr(self, f"fc{i + 1}") for i in range(self.n_layers)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        *hidden, last = self.layers()
        for layer in hidden:
            x = F.relu(apply(layer, x))
        return apply(last, x)
