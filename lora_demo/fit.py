"""The one training loop: full-batch Adam on a loss, checked at every step for divergence, a deadline
and a stop request.

The run (pretraining and adaptation), every insight panel, the rank sweep and the variants race all
train through `steps`, so "N steps at learning rate η" means the same thing everywhere. Imports torch.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .data import Task


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number; usually the learning rate is too large."""


class RunTooLong(RuntimeError):
    """The work went past its time budget."""


class Cancelled(RuntimeError):
    """Someone asked the work to stop (the Stop button, a new click, a closed tab)."""


@dataclass(frozen=True)
class Guard:
    """What every training step checks before it runs: a deadline on time.monotonic() and a stop flag.

    Checking at every step (not only when a snapshot is due) is what makes a time cap hard."""
    deadline: float | None = None
    budget_s: float | None = None              # the budget the deadline came from, for the message
    stop: Callable[[], bool] | None = None     # returns True once the work should end

    @classmethod
    def within(cls, seconds: float | None, stop: Callable[[], bool] | None = None) -> "Guard":
        return cls(None if seconds is None else time.monotonic() + seconds, seconds, stop)

    def check(self) -> None:
        if self.stop is not None and self.stop():
            raise Cancelled("stopped on request")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise RunTooLong(f"the work took longer than its {self.budget_s:g} s budget; "
                             "use fewer samples, steps or a smaller model")


UNGUARDED = Guard()


def check_loss(value: float, first: float, phase: str, step: int, lr: float | None,
               factor: float = 1e4) -> None:
    """Stop a run whose loss is no longer a number or has exploded (factor × its starting value)."""
    if not math.isfinite(value) or value > factor * max(first, 1e-3):
        rate = "" if lr is None else f" (now {lr:g})"
        raise TrainingDiverged(f"{phase} diverged at step {step}: the loss reached {value:.3g}. "
                               f"Lower the learning rate{rate} or, for LoRA, alpha.")


def adam(param_groups, lr: float) -> torch.optim.Adam:
    """Adam over a list of parameters or of param groups (LoRA+ gives B its own learning rate).

    fused: one kernel updates every tensor (the same rule, in one pass): a default run trains about a fifth
    faster than with Adam's per-tensor loop, which matters when a room shares two cores."""
    return torch.optim.Adam(param_groups, lr=lr, fused=True)


def task_loss(model: torch.nn.Module, task: Task, split: str = "train") -> Callable[[], torch.Tensor]:
    """The full-batch cross-entropy of model on a task's split, as a closure over fixed tensors."""
    X = torch.from_numpy(getattr(task, f"X_{split}"))
    y = torch.from_numpy(getattr(task, f"y_{split}"))
    return lambda: F.cross_entropy(model(X), y)


def steps(loss_fn: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer, n: int, *,
          guard: Guard = UNGUARDED, phase: str = "training", lr: float | None = None,
          check: bool = True) -> Iterator[tuple[int, float]]:
    """n full-batch updates. After update k (k = 1 … n) yield (k, loss before that update).

    So when an item arrives the model has had k updates, and the value is the training-curve point
    at step k − 1. A caller that evaluates the model at that moment sees the weights after k updates.
    check=False skips the divergence check: for K models trained as one sum, where one model blowing
    up does not touch the others' gradients and is reported per model instead."""
    first = math.inf
    for k in range(1, n + 1):
        guard.check()
        loss = loss_fn()
        value = loss.item()
        first = value if k == 1 else first
        if check:
            check_loss(value, first, phase, k - 1, lr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        yield k, value


def train(loss_fn: Callable[[], torch.Tensor], optimizer: torch.optim.Optimizer, n: int, *,
          guard: Guard = UNGUARDED, phase: str = "training", lr: float | None = None,
          check: bool = True) -> np.ndarray:
    """`steps` drained: the loss before each update, (n,) float64."""
    curve = np.empty(n, dtype=np.float64)
    for k, value in steps(loss_fn, optimizer, n, guard=guard, phase=phase, lr=lr, check=check):
        curve[k - 1] = value
    curve.setflags(write=False)
    return curve
