"""A training step's gradients by hand, for the two networks a default run trains, bit for bit autograd's.

Phase 1 trains every layer of a BaseModel; phase 2 trains the A and B of LoRA layers on a frozen copy. On a
64-wide network and 280 points, building and walking autograd's graph (a node per operation, saved tensors,
the engine's bookkeeping) costs about as much as the arithmetic, and a room of fifty shares two cores. So
`task_loss` returns, for those two shapes of network, a loss function that does the forward pass and the
backward pass itself and leaves each gradient in `.grad`, as `loss.backward()` would.

It makes the calls autograd makes, on tensors of the same layout: `addmm` forward; a weight's gradient as
`g.t().mm(x)` (what autograd computes for a transposed right operand); a bias's as `g.sum(0)`; the input's as
`g.mm(W)`; ReLU through `threshold_backward`; cross-entropy through `nll_loss_backward` and
`_log_softmax_backward_data`. So the gradients, and every number after them, are the same bits
(tests/test_backprop.py checks that against `loss.backward()` for every layer a user can adapt). Any other
network — DoRA, adapters, a merged or hooked layer — falls back to autograd (`fit.task_loss`). Imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from . import fit
from .data import Task
from .evaluate import tensors
from .methods.lora import LoRA
from .model import BaseModel

aten = torch.ops.aten
NONE, MEAN = 0, 1  # torch's enum values for reduction="none" and "mean"
IGNORE = -100      # F.cross_entropy's default ignore_index


def cross_entropy_by_hand(logits: torch.Tensor, y: torch.Tensor, reduction: int,
                          grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """F.cross_entropy and its backward as autograd runs them (log_softmax, nll_loss, and back through both).
    grad is the gradient with respect to the loss; returns (the loss, the gradient with respect to the logits)."""
    logp = torch.log_softmax(logits, 1)
    value, total_weight = aten.nll_loss_forward(logp, y, None, reduction, IGNORE)
    g = aten.nll_loss_backward(grad, logp, y, None, reduction, IGNORE, total_weight)
    return value, aten._log_softmax_backward_data(g, logp, 1, logp.dtype)


@dataclass
class _Linear:
    """A plain nn.Linear: weight and bias read through detached views (no graph), gradients for the trainable ones.

    The views (and the transposed one) are made once: they share the parameters' storage, so they see every update
    Adam makes in place, and a step does not pay for making them again."""
    layer: nn.Linear
    W: torch.Tensor
    b: torch.Tensor

    def __post_init__(self):
        self.Wt = self.W.t()

    def forward(self, x):
        return torch.addmm(self.b, x, self.Wt), None

    def backward(self, g, x, saved, need_input: bool):
        if self.layer.weight.requires_grad:
            self.layer.weight.grad = g.t().mm(x)
        if self.layer.bias.requires_grad:
            self.layer.bias.grad = g.sum(0)
        return g.mm(self.W) if need_input else None

    @property
    def trains(self) -> bool:
        return self.layer.weight.requires_grad or self.layer.bias.requires_grad


@dataclass
class _LoRA:
    """LoRA(x) = W x + b + c · B(A x), with W and b frozen and c = scaling · strength, as LoRA.forward computes it."""
    layer: LoRA
    W: torch.Tensor
    b: torch.Tensor
    A: torch.Tensor
    B: torch.Tensor

    def __post_init__(self):
        self.Wt, self.At, self.Bt = self.W.t(), self.A.t(), self.B.t()

    def forward(self, x):
        c = self.layer.scaling * self.layer.strength
        u = x.mm(self.At)
        return torch.addmm(self.b, x, self.Wt) + c * u.mm(self.Bt), (u, c)

    def backward(self, g, x, saved, need_input: bool):
        u, c = saved
        gv = g * c
        self.layer.B.weight.grad = gv.t().mm(u)
        gu = gv.mm(self.B)
        self.layer.A.weight.grad = gu.t().mm(x)
        return g.mm(self.W) + gu.mm(self.A) if need_input else None

    trains = True


def _part(layer: nn.Module):
    """The hand-written form of one layer, or None where only autograd knows what the layer does."""
    if layer._forward_hooks or layer._forward_pre_hooks or layer._backward_hooks:
        return None
    if type(layer) is nn.Linear and layer.bias is not None:
        return _Linear(layer, layer.weight.detach(), layer.bias.detach())
    if type(layer) is LoRA and not layer.merged and layer.strength != 0:
        base = layer.original_layer
        frozen = (type(base) is nn.Linear and base.bias is not None
                  and not any(p.requires_grad for p in base.parameters()))
        if (frozen and layer.A.weight.requires_grad and layer.B.weight.requires_grad
                and not any(m._forward_hooks or m._forward_pre_hooks for m in (base, layer.A, layer.B))):
            return _LoRA(layer, base.weight.detach(), base.bias.detach(),
                         layer.A.weight.detach(), layer.B.weight.detach())
    return None


class _FixedInput:
    """The input of the lowest trainable layer. Frozen plain layers below it (fc1 under a LoRA on fc2) give the
    same output at every step, so it is computed once, and again only if one of their tensors was changed in place
    (their version counters moved)."""

    def __init__(self, below: list[_Linear], X: torch.Tensor):
        self.below, self.X = below, X
        self.versions, self.x = None, X

    def __call__(self) -> torch.Tensor:
        if not self.below:
            return self.X
        versions = [t._version for part in self.below for t in (part.W, part.b)]
        if versions != self.versions:
            x = self.X
            for part in self.below:  # never the output layer: a trainable layer is above them
                x = torch.relu(part.forward(x)[0])
            self.versions, self.x = versions, x
        return self.x


def hand_written(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> Callable[[], torch.Tensor] | None:
    """The loss function that also sets the gradients, or None if model is not a network it knows."""
    if not isinstance(model, BaseModel) or type(model).forward is not BaseModel.forward:
        return None
    if model._forward_hooks or model._forward_pre_hooks:
        return None
    parts = [_part(layer) for layer in model.layers()]
    if any(p is None for p in parts) or not any(p.trains for p in parts):
        return None
    # a layer's input gradient is needed only if some layer below it trains
    need_input = [any(p.trains for p in parts[:i]) for i in range(len(parts))]
    last = len(parts) - 1
    first = next(i for i, p in enumerate(parts) if p.trains)
    fixed = _FixedInput(parts[:first], X)
    one = torch.ones((), dtype=X.dtype, device=X.device)  # d loss / d loss, as backward() starts

    def loss() -> torch.Tensor:
        inputs, saved = [None] * first, [None] * first  # the layers below `first` are never walked back
        x = fixed()
        for i in range(first, last + 1):
            inputs.append(x)
            z, s = parts[i].forward(x)
            saved.append(s)
            x = torch.relu(z) if i < last else z
        value, g = cross_entropy_by_hand(x, y, MEAN, one)
        for i in range(last, -1, -1):
            if i < last:  # back through the ReLU on this layer's output, which is the next layer's input
                g = aten.threshold_backward(g, inputs[i + 1], 0)
            g = parts[i].backward(g, inputs[i], saved[i], need_input[i])
            if g is None:
                break
        return value

    loss.sets_grads = True  # fit.steps: the gradients are in .grad already; no backward() to call
    return loss


def task_loss(model: nn.Module, task: Task, split: str = "train") -> Callable[[], torch.Tensor]:
    """fit.task_loss, with the gradients computed by hand where this module knows the network."""
    return hand_written(model, *tensors(task, split)) or fit.task_loss(model, task, split)
