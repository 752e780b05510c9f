"""What every insight panel starts from: the run's frozen base and tasks, the generator state the run
hands to its adapter, and one way to train any method on the target task.

Everything returned is numbers and read-only numpy arrays, never live tensors (live models only
where a panel hands them to the next one). Imports torch, not gradio.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from .. import backprop, evaluate, fit
from ..config import LoRAConfig, RunConfig
from ..data import Task, grid, plot_window
from ..fit import UNGUARDED, Guard
from ..methods import METHODS, ParamCount, count_parameters
from ..methods.lora import lora_layers, max_useful_rank
from ..model import BaseModel
from ..engine import pretrain

UNCAPPED_RANK = 8  # a layer whose ΔW can reach at least this rank shows what rank and α do


@dataclass(frozen=True)
class FrozenBase:
    """The pretrained base of a run with these settings (bit for bit the Train tab's), frozen."""
    cfg: RunConfig
    base: BaseModel
    source: Task
    target: Task
    generator_state: torch.Tensor   # the run's generator as the run hands it to the adapter
    ticks: np.ndarray               # (G,) plot grid along each axis
    points: np.ndarray              # (G*G, 2) grid points
    guard: Guard = UNGUARDED

    def generator(self) -> torch.Generator:
        """A new generator in the saved state: an adapter drawn from it is the run's adapter."""
        g = torch.Generator()
        g.set_state(self.generator_state)
        return g

    def layer_shape(self, name: str) -> tuple[int, int]:
        layer = self.base.get_submodule(name)
        return layer.in_features, layer.out_features


def frozen_base(cfg: RunConfig, guard: Guard = UNGUARDED, grid_size: int = 100) -> FrozenBase:
    s = pretrain(cfg, guard)
    ticks, points = grid(plot_window(s.source, s.target), grid_size)
    return FrozenBase(cfg, s.model, s.source, s.target, s.generator.get_state(), evaluate.frozen(ticks),
                      evaluate.frozen(points), guard)


@dataclass(frozen=True)
class FitResult:
    """One method trained on the target task; numbers and read-only arrays only."""
    method: str                 # a key of METHODS
    lr: float
    accuracy: float             # on the target test split
    params: ParamCount          # trainable and total (base + added), as PEFT counts them
    final_train_loss: float
    final_test_loss: float
    loss_curve: np.ndarray      # (steps,) train loss before each update
    probs: np.ndarray | None    # (G, G, C) float32 on the grid; None when not asked for
    delta_weights: dict         # layer -> ΔW (d_out, d_in): full FT every layer, LoRA its adapted layers


def train_method(fb: FrozenBase, method: str, lora: LoRAConfig | None = None, *, lr: float | None = None,
                 steps: int | None = None, task: Task | None = None, with_probs: bool = False,
                 generator: torch.Generator | None = None) -> tuple[nn.Module, FitResult]:
    """Attach METHODS[method] to a copy of the frozen base and train it with fit; the live model and a summary.

    Defaults come from the run's settings: its LoRA settings, learning rate, adaptation steps, the
    target task, and the run's own generator state (so "lora" here is the Train tab's adapter)."""
    m = METHODS[method]
    lora = lora or fb.cfg.lora
    lr = fb.cfg.train.lr if lr is None else lr
    steps = fb.cfg.train.adapt_steps if steps is None else steps
    task = task or fb.target
    model = m.attach(fb.base, lora, generator or fb.generator())
    curve = fit.train(backprop.task_loss(model, task), fit.adam(m.param_groups(model, lr), lr), steps,
                      guard=fb.guard, phase=f"{method} training", lr=lr)
    test_loss, acc = evaluate.loss_and_accuracy(model, task)
    probs = evaluate.grid_probs(model, fb.points) if with_probs else None
    return model, FitResult(method, lr, acc, count_parameters(model), evaluate.loss(model, task), test_loss,
                            curve, probs, delta_weights(fb.base, model))


@torch.no_grad()
def delta_weights(base: nn.Module, model: nn.Module) -> dict:
    """layer -> the change to that layer's weight: LoRA's ΔW where there is an adapter, else the change
    of every weight that trained (full fine-tuning); {} for methods that add modules instead (Adapter)."""
    lora = lora_layers(model)
    if lora:
        return {name: evaluate.as_numpy(m.delta_weight()) for name, m in lora.items()}
    out = {}
    for name, layer in base.named_modules():
        if isinstance(layer, nn.Linear):
            other = model.get_submodule(name)
            if isinstance(other, nn.Linear) and other.weight.requires_grad:
                out[name] = evaluate.as_numpy(other.weight - layer.weight)
    return out


def panel_targets(fb: FrozenBase) -> tuple[tuple[str, ...], str | None]:
    """The layers on which rank and α mean something, and why they differ from the user's, if they do.

    A rank sweep or α explorer on a layer whose ΔW is capped at rank 2 (fc1 takes 2 inputs) confounds
    rank with capacity. Keep the user's targets that are not capped; if none is, use fc2 when it is a
    hidden-to-hidden layer; otherwise say that this model has no such layer."""
    targets = fb.cfg.lora.target_modules
    cap = {n: max_useful_rank(*fb.layer_shape(n)) for n in targets}
    keep = tuple(n for n in targets if cap[n] >= UNCAPPED_RANK)
    if keep == targets:
        return targets, None
    if keep:
        return keep, "dropped"
    if fb.cfg.model.hidden_layers >= 2 and fb.cfg.model.hidden_size >= UNCAPPED_RANK:
        return ("fc2",), "replaced"
    return targets, "capped"


def with_targets(lora: LoRAConfig, targets) -> LoRAConfig:
    return replace(lora, target_modules=tuple(targets))
