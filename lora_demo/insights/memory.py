"""Training memory measured from the real tensors: weights, gradients and Adam's state, full
fine-tuning against LoRA, after one Adam step of each."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import fit
from ..methods import METHODS
from .common import FrozenBase


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


@dataclass(frozen=True)
class MemoryUse:
    weights: int             # bytes of every parameter, frozen or trainable
    gradients: int           # bytes of the .grad tensors: trainable parameters only
    optimizer_state: int     # bytes of Adam's state: exp_avg, exp_avg_sq and the step counters

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer_state


def measure_memory(model, optimizer) -> MemoryUse:
    """Bytes held by the real tensors; call after at least one optimizer step (Adam's state is lazy)."""
    params = list(model.parameters())
    state = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    return MemoryUse(sum(_nbytes(p) for p in params), sum(_nbytes(p.grad) for p in params if p.grad is not None),
                     sum(_nbytes(t) for t in state))


@dataclass(frozen=True)
class MemoryComparison:
    full_finetune: MemoryUse
    lora: MemoryUse


def compare_memory(fb: FrozenBase) -> MemoryComparison:
    """Full fine-tuning vs the run's LoRA, each after one Adam step on the target task."""
    out = {}
    for key in ("full_finetune", "lora"):
        method = METHODS[key]
        model = method.attach(fb.base, fb.cfg.lora, fb.generator())
        opt = fit.adam(method.param_groups(model, fb.cfg.train.lr), fb.cfg.train.lr)
        fit.train(fit.task_loss(model, fb.target), opt, 1, guard=fb.guard)
        out[key] = measure_memory(model, opt)
    return MemoryComparison(**out)
