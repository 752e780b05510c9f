"""Reading a model off: loss and accuracy on a task's split, class probabilities on the plot grid.

Everything returns plain numbers or read-only numpy arrays, never live tensors. Imports torch.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .data import Task


def frozen(a) -> np.ndarray:
    """A read-only numpy copy (callers may hand in views of live tensors)."""
    a = np.array(a)
    a.setflags(write=False)
    return a


def as_numpy(t: torch.Tensor) -> np.ndarray:
    return frozen(t.detach().float().numpy())


def tensors(task: Task, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(getattr(task, f"X_{split}")), torch.from_numpy(getattr(task, f"y_{split}"))


@torch.no_grad()
def loss(model, task: Task, split: str = "train") -> float:
    X, y = tensors(task, split)
    return F.cross_entropy(model(X), y).item()


@torch.no_grad()
def loss_and_accuracy(model, task: Task, split: str = "test") -> tuple[float, float]:
    X, y = tensors(task, split)
    logits = model(X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def accuracy(model, task: Task, split: str = "test") -> float:
    return loss_and_accuracy(model, task, split)[1]


@torch.no_grad()
def grid_probs(model, points, chunk: int = 2500) -> np.ndarray:
    """(G*G, 2) grid points -> (G, G, C) float32 class probabilities, row-major like data.grid.

    In chunks, so that the activations stay in the CPU cache."""
    points = torch.tensor(points, dtype=torch.float32)  # a copy: callers hand in read-only arrays
    g = int(round(len(points) ** 0.5))
    if g * g != len(points):
        raise ValueError(f"points must be a square grid of G*G rows; got {len(points)} rows")
    p = np.concatenate([torch.softmax(model(points[i:i + chunk]), dim=1).numpy()
                        for i in range(0, len(points), chunk)])
    out = p.astype(np.float32, copy=False).reshape(g, g, -1)
    out.setflags(write=False)
    return out
