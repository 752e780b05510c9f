"""Adapter library: one frozen base, one small LoRA adapter per target task, switched or mixed at will.

Each adapter is the run's LoRA (rank, α, targets, init, steps, learning rate and the run's own
generator state) trained on one shift of the source task. So when the run's own shift is in the
catalogue, its adapter is the Train tab's adapter, bit for bit; and all adapters start from the same A:
only the task differs.

Everything a panel shows is computed here once and travels to the browser: every adapter's picture
(switching is a button, not a retraining), a mix of two adapters at eleven weights (a slider), the
"which adapter for which task" accuracy matrix and what the library costs to store.
Imports torch, not gradio.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from .. import evaluate
from ..config import DATASET_NAMES, RunConfig, ShiftConfig
from ..data import Task, grid, make_tasks, plot_window
from ..methods.base import frozen_copy
from ..methods.combine import combine, combined_model
from ..methods.lora import add_lora, lora_layers
from .common import FrozenBase, train_method

KINDS = ("rotate", "translate", "scale", "dataset")   # the catalogue, in the order the panel lists it
MIX_WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))  # w of the first adapter; 1 − w of the second
TWO_CLASS = ("moons", "circles")  # every other generator draws data.n_classes classes


@dataclass(frozen=True)
class LibraryAdapter:
    """One adapter of the library: its task, its trained factors and what it does on the grid."""
    name: str               # a KINDS entry
    shift: ShiftConfig      # how its task was made from the source (with the run's angle, offset, factor)
    task: Task              # train and test points, for plotting
    rank: int
    alpha: float
    use_rslora: bool
    scaling: float          # α / r, or α / √r with rsLoRA
    factors: dict           # layer -> (A (r, d_in), B (d_out, r)) float32, read-only
    accuracy: float         # on its own task's test split
    loss_curve: np.ndarray  # (steps,) train loss before each update
    probs: np.ndarray       # (G, G, C) base + this adapter on the library's grid

    @property
    def n_params(self) -> int:
        return sum(A.size + B.size for A, B in self.factors.values())


@dataclass(frozen=True)
class Mix:
    """Two adapters on at once with strengths w and 1 − w: ΔW = w·ΔW_first + (1 − w)·ΔW_second."""
    first: str
    second: str
    weights: tuple          # w, ascending from 0 to 1
    probs: tuple            # (G, G, C) per weight
    accuracy: np.ndarray    # (len(weights), 2): test accuracy on the first's task, on the second's


@dataclass(frozen=True)
class Storage:
    """Bytes of the real float32 tensors: one base plus N adapters, against N fully fine-tuned copies."""
    base_bytes: int
    adapter_bytes: tuple    # per adapter, in library order
    finetuned_bytes: int    # N copies of every base weight and bias

    @property
    def library_bytes(self) -> int:
        return self.base_bytes + sum(self.adapter_bytes)

    @property
    def ratio(self) -> float:
        return self.finetuned_bytes / self.library_bytes


@dataclass(frozen=True)
class Library:
    cfg: RunConfig
    source: Task
    ticks: np.ndarray       # (G,) grid along each axis; the window holds every task's points
    base_probs: np.ndarray  # (G, G, C) the frozen base alone
    adapters: tuple         # LibraryAdapter, in KINDS order
    accuracy: np.ndarray    # (1 + N, 1 + N): rows base, adapters; columns source, adapters' tasks
    mix: Mix
    storage: Storage
    seconds: float          # CPU time (time.process_time) of build_library, the frozen base excluded

    @property
    def names(self) -> tuple:
        return tuple(a.name for a in self.adapters)

    def adapter(self, name: str) -> LibraryAdapter:
        return self.adapters[self.names.index(name)]


def other_dataset(cfg: RunConfig, n_outputs: int) -> str:
    """The "another dataset" target: the run's shift dataset if it differs from the source and the
    base has an output for each of its classes, else the first generator in DATASET_NAMES that does."""
    def fits(name: str) -> bool:
        classes = 2 if name in TWO_CLASS else cfg.data.n_classes
        return name != cfg.data.dataset and classes <= n_outputs
    return next(n for n in (cfg.shift.dataset, *DATASET_NAMES) if fits(n))  # moons or circles always fits


def catalogue(cfg: RunConfig, n_outputs: int, kinds=KINDS) -> tuple:
    """(kind, ShiftConfig, target Task) per kind, each target built as a run with that shift builds it."""
    out = []
    for kind in kinds:
        shift = replace(cfg.shift, kind=kind)
        if kind == "dataset":
            shift = replace(shift, dataset=other_dataset(cfg, n_outputs))
        out.append((kind, shift, make_tasks(cfg.data, shift)[1]))
    return tuple(out)


def _factors(model: nn.Module) -> dict:
    return {name: (evaluate.as_numpy(m.A.weight), evaluate.as_numpy(m.B.weight))
            for name, m in lora_layers(model).items()}


def adapter_model(base: nn.Module, adapter: LibraryAdapter) -> nn.Module:
    """A live LoRA model rebuilt from a library adapter's factors on (a frozen copy of) base."""
    # the generator only keeps add_lora off torch's global one: A is overwritten below
    model = add_lora(frozen_copy(base), tuple(adapter.factors), adapter.rank, adapter.alpha, adapter.use_rslora,
                     generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, (A, B) in adapter.factors.items():
            layer = model.get_submodule(name)
            layer.A.weight.copy_(torch.from_numpy(np.array(A)))
            layer.B.weight.copy_(torch.from_numpy(np.array(B)))
    return model


def library_models(base: nn.Module, lib: Library) -> dict:
    """name -> live LoRA model, in library order: what library_export.export_library takes."""
    return {a.name: adapter_model(base, a) for a in lib.adapters}


def tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def measure_storage(base: nn.Module, models) -> Storage:
    """From the tensors themselves: the base's state, each model's A and B; a fine-tuned copy holds
    as many numbers as the base (every weight and bias changes, so nothing can be shared)."""
    base_bytes = tensor_bytes(base.state_dict().values())
    adapters = tuple(tensor_bytes(p for m in lora_layers(model).values() for p in (m.A.weight, m.B.weight))
                     for model in models)
    return Storage(base_bytes, adapters, len(adapters) * base_bytes)


def mix_pair(base: nn.Module, first: nn.Module, second: nn.Module, tasks: tuple[Task, Task], points: np.ndarray,
             names: tuple[str, str], weights=MIX_WEIGHTS) -> Mix:
    """Both adapters on at strengths w and 1 − w, as PEFT's add_weighted_adapter(…, "cat") builds it.

    "cat" stacks w·s₁·A₁ over (1 − w)·s₂·A₂ and puts B₁ beside B₂, so B'A' = w·ΔW₁ + (1 − w)·ΔW₂ with no
    cross terms: the mix is that weighted sum up to float rounding, and at w = 1 (or 0) it is the first
    (or second) adapter alone."""
    probs, acc = [], []
    for w in weights:
        model = combined_model(base, combine([first, second], [w, 1.0 - w], "cat"))
        probs.append(evaluate.grid_probs(model, points))
        acc.append([evaluate.accuracy(model, t) for t in tasks])
    return Mix(names[0], names[1], tuple(weights), tuple(probs), evaluate.frozen(np.array(acc, dtype=np.float64)))


def build_library(fb: FrozenBase, kinds=KINDS, pair: tuple[str, str] | None = None,
                  weights=MIX_WEIGHTS) -> Library:
    """Train one adapter per kind on fb's frozen base and read everything off; pair names the two
    adapters to mix (default: the first two kinds)."""
    start = time.process_time()  # the whole process's CPU time: on a busy server, other requests count too
    cfg = fb.cfg
    if len(kinds) < 2 or len(set(kinds)) != len(kinds) or not set(kinds) <= set(KINDS):
        raise ValueError(f"kinds must be at least two different entries of {', '.join(KINDS)}; got {kinds}")
    n_outputs = fb.base.layers()[-1].out_features
    entries = catalogue(cfg, n_outputs, kinds)
    pair = pair or (entries[0][0], entries[1][0])
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(kinds):
        raise ValueError(f"pair must name two different adapters of {', '.join(kinds)}; got {pair}")
    ticks, points = grid(plot_window(fb.source, *(task for _, _, task in entries)), len(fb.ticks))
    lora = cfg.lora

    models, adapters = [], []
    for kind, shift, task in entries:
        model, res = train_method(fb, "lora", lora, task=task)  # the run's generator state: the run's A
        layer = next(iter(lora_layers(model).values()))
        adapters.append(LibraryAdapter(kind, shift, task, lora.rank, lora.alpha, lora.use_rslora, layer.scaling,
                                       _factors(model), res.accuracy, res.loss_curve,
                                       evaluate.grid_probs(model, points)))
        models.append(model)

    tasks = [fb.source] + [a.task for a in adapters]
    rows = [fb.base] + models
    fb.guard.check()
    accuracy = evaluate.frozen(np.array([[evaluate.accuracy(m, t) for t in tasks] for m in rows]))
    i, j = list(kinds).index(pair[0]), list(kinds).index(pair[1])
    mix = mix_pair(fb.base, models[i], models[j], (adapters[i].task, adapters[j].task), points, pair, weights)
    return Library(cfg, fb.source, evaluate.frozen(ticks), evaluate.grid_probs(fb.base, points), tuple(adapters),
                   accuracy, mix, measure_storage(fb.base, models), time.process_time() - start)


__all__ = ["KINDS", "Library", "LibraryAdapter", "MIX_WEIGHTS", "Mix", "Storage", "adapter_model",
           "build_library", "catalogue", "library_models", "measure_storage", "mix_pair", "other_dataset"]
