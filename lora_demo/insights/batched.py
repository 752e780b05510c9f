"""K LoRA models on one frozen base, trained as one: what the rank sweep and the α explorer use.

Each model k has its own rank and scaling; A and B are stacked and zero-padded to the largest rank.
Imports torch, not gradio.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import evaluate, fit
from ..backprop import NONE, cross_entropy_by_hand
from ..data import Task
from ..gpu import device, gpu_task
from ..fit import UNGUARDED, Guard
from ..methods.base import frozen_copy
from ..methods.lora import init_A
from ..model import BaseModel

aten = torch.ops.aten


def clone_generator(generator: torch.Generator) -> torch.Generator:
    """A new generator in the same state: draws the same numbers without advancing the original."""
    g = torch.Generator()
    g.set_state(generator.get_state())
    return g


def batched_forward(base: BaseModel, x: torch.Tensor, adapters: dict, scaling: torch.Tensor) -> torch.Tensor:
    """Logits of K LoRA models on one frozen base: x (N, d0) -> (K, N, C).

    adapters: layer -> (A (K, R, d_in), B (K, d_out, R)); scaling (K, 1, 1). Until the first
    adapted layer the K models agree, so h stays (N, d) and each base layer whose input is still
    shared runs once; only the low-rank updates are per model.
    """
    layers = [(f"fc{i + 1}", layer) for i, layer in enumerate(base.layers())]
    h = x
    for i, (name, layer) in enumerate(layers):
        out = F.linear(h, layer.weight, layer.bias)  # (N, d_out) or (K, N, d_out)
        if name in adapters:
            A, B = adapters[name]
            # scaling goes onto A, the smallest tensor here; baddbmm adds the update to the base
            # output in the same call, broadcasting a shared (N, d_out) to (K, N, d_out)
            H = h @ (scaling * A).transpose(1, 2)  # (K, N, R)
            out = torch.baddbmm(out, H, B.transpose(1, 2))  # (K, N, d_out)
        h = F.relu(out) if i < len(layers) - 1 else out
    return h


def batched_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each model: logits (K, N, C), y (K * N,) -> (K,)."""
    K, N, C = logits.shape
    return F.cross_entropy(logits.reshape(K * N, C), y, reduction="none").view(K, N).mean(1)


def batched_loss_by_hand(base: BaseModel, X: torch.Tensor, y: torch.Tensor, adapters: dict, scaling: torch.Tensor,
                         record: list):
    """The sum of the K losses as a function that also leaves every A's and B's gradient in .grad, for fit.steps.

    The same forward as batched_forward, with the backward written out (as lora_demo.backprop does for one
    model): `bmm` and `baddbmm` and their transposes as autograd calls them, so the gradients are autograd's bit
    for bit (tests/test_insights.py) without building its graph at every step. The base layers below the
    lowest adapted one are frozen and shared, so their output is computed once. Each step appends the K
    losses to record."""
    layers = base.layers()
    last = len(layers) - 1
    adapted = [adapters.get(f"fc{i + 1}") for i in range(len(layers))]
    first = next(i for i, a in enumerate(adapted) if a is not None)
    below = [any(a is not None for a in adapted[:i]) for i in range(len(layers))]  # an input gradient is needed
    K, N = scaling.shape[0], X.shape[0]
    with torch.no_grad():
        h_first = X
        for layer in layers[:first]:
            h_first = F.relu(F.linear(h_first, layer.weight, layer.bias))
    per_point = torch.ones(K * N, device=X.device) / N  # d(sum over k of the mean over n) / d(each loss)
    views = {i: (a[0].detach(), a[1].detach()) for i, a in enumerate(adapted) if a is not None}

    def loss() -> torch.Tensor:
        h, saved = h_first, []
        for i in range(first, last + 1):
            out = F.linear(h, layers[i].weight, layers[i].bias)
            parts = None
            if i in views:
                A, B = views[i]
                sA = scaling * A
                hb = h if h.dim() == 3 else h.expand(K, *h.shape)
                H = torch.bmm(hb, sA.transpose(1, 2))
                out = torch.baddbmm(out, H, B.transpose(1, 2))
                parts = (hb, sA, H, B)
            saved.append((h, parts))
            h = F.relu(out) if i < last else out
        C = h.shape[-1]
        per, g = cross_entropy_by_hand(h.reshape(K * N, C), y, NONE, per_point)
        losses = per.view(K, N).mean(1)
        record.append(losses)
        g = g.view(K, N, C)
        for i in range(last, first - 1, -1):
            parts = saved[i - first][1]
            if i < last:  # back through the ReLU on this layer's output
                g = aten.threshold_backward(g, saved[i - first + 1][0], 0)
            g_update = None
            if parts is not None:
                hb, sA, H, B = parts
                A_param, B_param = adapted[i]
                B_param.grad = H.transpose(1, 2).bmm(g).transpose(1, 2).contiguous()
                gH = g.bmm(B)
                A_param.grad = (hb.transpose(1, 2).bmm(gH).transpose(1, 2) * scaling).contiguous()
                if below[i]:
                    g_update = gH.bmm(sA)
            if not below[i]:
                break
            # above the lowest adapted layer every input is per model, (K, N, d): F.linear folds it to 2-D
            W = layers[i].weight
            g_base = g.reshape(-1, g.shape[-1]).mm(W).view(*g.shape[:-1], W.shape[1])
            g = g_base if g_update is None else g_base + g_update
        return losses.sum()

    loss.sets_grads = True
    return loss


@dataclass(frozen=True)
class Batch:
    curves: np.ndarray       # (K, steps) train loss before each update
    train_loss: np.ndarray   # (K,) after the last update
    test_loss: np.ndarray    # (K,)
    accuracy: np.ndarray     # (K,) on the test split


@gpu_task
def train_batched(base: BaseModel, task: Task, targets, ranks: list[int], scalings: list[float],
                  init: str, steps: int, lr: float, generator: torch.Generator,
                  guard: Guard = UNGUARDED, on: torch.device | None = None) -> Batch:
    """K LoRA models (rank ranks[k], scaling scalings[k]) trained in one loop.

    A padded row of A meets a zero column of B, so both get zero gradient, Adam leaves them at zero,
    and model k computes exactly its own rank-r_k update. Adam is elementwise and loss k depends only
    on model k's weights, so one Adam on the sum of the K losses takes the K standalone runs' steps
    (equal up to float rounding: the matmuls sum in another order). A model that diverges shows as
    a non-finite curve; it does not disturb the others.
    """
    dev = on or device()  # a GPU on ZeroGPU; the random draws stay on the CPU, so A is the same either way
    base = frozen_copy(base).to(dev)
    K, R = len(ranks), max(ranks)
    adapters = {}
    for name in targets:
        layer = base.get_submodule(name)
        adapters[name] = (torch.zeros(K, R, layer.in_features), torch.zeros(K, layer.out_features, R))
    for k, r in enumerate(ranks):
        g = clone_generator(generator)  # model k draws its A's as a standalone run would
        for name in targets:  # in add_lora's order
            A_k = torch.empty(r, adapters[name][0].shape[2])
            init_A(A_k, init, r, g)
            adapters[name][0][k, :r] = A_k  # B stays zero: every model starts as the base
    adapters = {name: (A.to(dev), B.to(dev)) for name, (A, B) in adapters.items()}
    params = [t.requires_grad_() for pair in adapters.values() for t in pair]
    opt = fit.adam(params, lr)  # one fused kernel for all K updates, the same rule as a single run's
    scale = torch.tensor(scalings, dtype=torch.float32).view(K, 1, 1).to(dev)
    X = torch.from_numpy(task.X_train).to(dev)
    y = torch.from_numpy(task.y_train).repeat(K).to(dev)  # (K * N,)
    record = []
    loss_fn = batched_loss_by_hand(base, X, y, adapters, scale, record)
    for _ in fit.steps(loss_fn, opt, steps, guard=guard, check=False):
        pass
    with torch.no_grad():
        train_loss = batched_losses(batched_forward(base, X, adapters, scale), y)
        logits = batched_forward(base, torch.from_numpy(task.X_test).to(dev), adapters, scale)
        y_te = torch.from_numpy(task.y_test).to(dev)
        test_loss = batched_losses(logits, y_te.repeat(K))
        acc = (logits.argmax(2) == y_te).float().mean(1)
    curves = torch.stack(record, dim=1) if record else torch.empty(K, 0)
    return Batch(*(evaluate.as_numpy(t.cpu()) for t in (curves, train_loss, test_loss, acc)))
