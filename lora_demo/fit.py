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


class Adam:
    """PyTorch's Adam with its fused kernel, stepped without the machinery around the kernel.

    `torch.optim.Adam(fused=True).step()` spends most of its time outside the kernel: hooks, profiler
    records, a dynamo guard and regrouping the tensors on every call. For a model this small that was a
    quarter of a default training step (0.74 → 0.55 ms per step, in one same-process comparison), and a room
    shares two cores. So the first step is torch's own (it creates the state: step, exp_avg, exp_avg_sq)
    and every later step calls the same kernel on that same state, group by group, with each group's
    own hyper-parameters. The parameters come out bit-identical to torch's (tests/test_fit.py). Where
    the kernel is missing, or a parameter got no gradient, torch's step does the work."""

    def __init__(self, param_groups, lr: float):
        self.torch = torch.optim.Adam(param_groups, lr=lr, fused=True)
        self._state = None  # per group: (params, exp_avgs, exp_avg_sqs, steps), once torch has made them

    @property
    def param_groups(self) -> list[dict]:
        return self.torch.param_groups

    @property
    def state(self):
        return self.torch.state

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.torch.param_groups:
            for p in group["params"]:
                p.grad = None

    def _collect(self):
        out = []
        for group in self.torch.param_groups:
            params = [p for p in group["params"] if p in self.torch.state]
            if (group["amsgrad"] or len(params) != len(group["params"])
                    or len({(p.device, p.dtype) for p in params}) > 1):
                return None
            st = [self.torch.state[p] for p in params]
            out.append((params, [s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st], [s["step"] for s in st]))
        return out

    def step(self) -> None:
        groups = self._state
        if groups is None or any(p.grad is None for params, *_ in groups for p in params):
            self.torch.step()
            self._state = self._collect() if _FUSED_KERNEL is not None else None
            return
        with torch.no_grad():
            for group, (params, exp_avgs, exp_avg_sqs, steps) in zip(self.torch.param_groups, groups):
                if not params:
                    continue
                beta1, beta2 = group["betas"]
                torch._foreach_add_(steps, 1)
                _FUSED_KERNEL(params, [p.grad for p in params], exp_avgs, exp_avg_sqs, [], steps,
                              amsgrad=group["amsgrad"], lr=group["lr"], beta1=beta1, beta2=beta2,
                              weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                              grad_scale=None, found_inf=None)


_FUSED_KERNEL = getattr(torch, "_fused_adam_", None)  # the kernel torch's fused Adam calls (torch ≥ 2.4)


def adam(param_groups, lr: float) -> Adam:
    """Adam over a list of parameters or of param groups (LoRA+ gives B its own learning rate)."""
    return Adam(param_groups, lr)


def task_loss(model: torch.nn.Module, task: Task, split: str = "train") -> Callable[[], torch.Tensor]:
    """The full-batch cross-entropy of model on a task's split, as a closure over fixed tensors."""
    X = torch.from_numpy(getattr(task, f"X_{split}"))
    y = torch.from_numpy(getattr(task, f"y_{split}"))
    return lambda: F.cross_entropy(model(X), y)


def steps(loss_fn: Callable[[], torch.Tensor], optimizer: Adam | torch.optim.Optimizer, n: int, *,
          guard: Guard = UNGUARDED, phase: str = "training", lr: float | None = None,
          check: bool = True) -> Iterator[tuple[int, float]]:
    """n full-batch updates. After update k (k = 1 … n) yield (k, loss before that update).

    So when an item arrives the model has had k updates, and the value is the training-curve point
    at step k − 1. A caller that evaluates the model at that moment sees the weights after k updates.
    check=False skips the divergence check: for K models trained as one sum, where one model blowing
    up does not touch the others' gradients and is reported per model instead."""
    first = math.inf
    by_hand = getattr(loss_fn, "sets_grads", False)  # backprop.task_loss: the gradients are set already
    for k in range(1, n + 1):
        guard.check()
        loss = loss_fn()
        value = loss.item()
        first = value if k == 1 else first
        if check:
            check_loss(value, first, phase, k - 1, lr)
        if not by_hand:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
        optimizer.step()
        yield k, value


def train(loss_fn: Callable[[], torch.Tensor], optimizer: Adam | torch.optim.Optimizer, n: int, *,
          guard: Guard = UNGUARDED, phase: str = "training", lr: float | None = None,
          check: bool = True) -> np.ndarray:
    """`steps` drained: the loss before each update, (n,) float64."""
    curve = np.empty(n, dtype=np.float64)
    for k, value in steps(loss_fn, optimizer, n, guard=guard, phase=phase, lr=lr, check=check):
        curve[k - 1] = value
    curve.setflags(write=False)
    return curve
