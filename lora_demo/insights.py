"""Insights beyond one run: full fine-tuning and Adapter baselines, a batched rank sweep, the ΔW
inspector, the merge lab, the α explorer and memory use.

Every function takes a pretrained frozen BaseModel (never changed) and the target Task and returns
frozen dataclasses of numpy arrays and numbers, never live tensors. Imports torch, not gradio.
"""
from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import RunConfig
from .data import Task, make_tasks
from .lora import (ParamCount, add_lora, adapter_strength, break_even_rank, count_parameters, init_A,
                   lora_layers, lora_param_count, lora_parameters, lora_scaling, max_useful_rank, merged_copy)
from .model import BaseModel, init_linear


# ---------------------------------------------------------------- small helpers

def _frozen(a) -> np.ndarray:
    a = np.array(a)  # always a copy: callers may hand in views of live tensors
    a.setflags(write=False)
    return a


def _numpy(t: torch.Tensor) -> np.ndarray:
    return _frozen(t.detach().float().numpy())


def _clone_generator(generator: torch.Generator) -> torch.Generator:
    """A new generator in the same state: draws the same numbers without advancing the original."""
    g = torch.Generator()
    g.set_state(generator.get_state())
    return g


def _named_layers(model: BaseModel) -> list[tuple[str, nn.Module]]:
    return [(f"fc{i + 1}", layer) for i, layer in enumerate(model.layers())]


def _frozen_copy(base: nn.Module) -> nn.Module:
    return copy.deepcopy(base).requires_grad_(False)


def _adam_steps(model: nn.Module, opt: torch.optim.Optimizer, task: Task, steps: int) -> np.ndarray:
    """Full-batch Adam on the task's train split; returns the loss before each update, (steps,)."""
    X, y = torch.from_numpy(task.X_train), torch.from_numpy(task.y_train)
    curve = []
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        curve.append(loss.item())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return _frozen(np.array(curve, dtype=np.float64))


@torch.no_grad()
def _evaluate(model: nn.Module, task: Task) -> tuple[float, float, float]:
    """(train loss, test loss, test accuracy) on the task."""
    train_loss = F.cross_entropy(model(torch.from_numpy(task.X_train)), torch.from_numpy(task.y_train))
    logits = model(torch.from_numpy(task.X_test))
    y = torch.from_numpy(task.y_test)
    acc = (logits.argmax(1) == y).float().mean()
    return train_loss.item(), F.cross_entropy(logits, y).item(), acc.item()


def _side(points: np.ndarray) -> int:
    g = math.isqrt(len(points))
    if g * g != len(points):
        raise ValueError(f"points must be a square grid of G*G rows; got {len(points)} rows")
    return g


@torch.no_grad()
def _grid_probs(model: nn.Module, points: np.ndarray) -> np.ndarray:
    """Class probabilities on grid points (G*G, 2) -> (G, G, C) float32, row-major like data.grid."""
    g = _side(points)
    p = torch.softmax(model(torch.as_tensor(points, dtype=torch.float32)), dim=1)
    return _frozen(p.numpy().astype(np.float32).reshape(g, g, -1))


# ---------------------------------------------------------------- the base model

def pretrain(cfg: RunConfig) -> tuple[BaseModel, Task, Task, torch.Generator]:
    """Phase 1 of train.run, step for step: the frozen base, the source and target tasks, and the
    run's generator in the state run() hands to add_lora (so LoRA drawn from it is the run's LoRA)."""
    gen = torch.Generator().manual_seed(cfg.data.seed)
    source, target = make_tasks(cfg.data, cfg.shift)
    n_classes = max(source.n_classes, target.n_classes)
    model = BaseModel(2, cfg.model.hidden_size, n_classes, cfg.model.hidden_layers, generator=gen)
    _adam_steps(model, torch.optim.Adam(model.parameters(), lr=cfg.train.lr), source,
                cfg.train.pretrain_steps)
    model.eval()
    return model.requires_grad_(False), source, target, gen


def models_from_state(cfg: RunConfig, state: dict) -> tuple[BaseModel, nn.Module]:
    """The frozen base and the trained LoRA model of a finished run, rebuilt from its last
    Snapshot.model_state (numpy arrays), so that the insights need no second pretraining."""
    tensors = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    base_state = {k.replace(".original_layer", ""): v for k, v in tensors.items()
                  if ".A." not in k and ".B." not in k}
    n_classes = base_state[f"fc{cfg.model.hidden_layers + 1}.bias"].shape[0]
    throwaway = torch.Generator()  # the init is overwritten; leave the global generator alone
    base = BaseModel(2, cfg.model.hidden_size, n_classes, cfg.model.hidden_layers, generator=throwaway)
    base.load_state_dict(base_state)
    base.eval().requires_grad_(False)
    lora = add_lora(copy.deepcopy(base), cfg.lora.target_modules, cfg.lora.rank, cfg.lora.alpha,
                    cfg.lora.use_rslora, cfg.lora.init, throwaway)
    lora.load_state_dict(tensors)
    return base, lora


# ---------------------------------------------------------------- baselines: full fine-tuning, Adapter, LoRA

@dataclass(frozen=True)
class FitResult:
    """One method trained on the target task; numbers and read-only arrays only."""
    method: str                 # "full_finetune", "adapter" or "lora"
    accuracy: float             # on the target test split
    params: ParamCount          # trainable and total (base + added), as PEFT counts them
    final_train_loss: float
    final_test_loss: float
    loss_curve: np.ndarray      # (steps,) train loss before each update
    probs: np.ndarray | None    # (G, G, C) float32 on the given grid; None without points
    delta_weights: dict         # layer -> ΔW (d_out, d_in): full FT every layer, LoRA its adapted layers


def _result(method, model, task, curve, points, delta_weights) -> FitResult:
    train_loss, test_loss, acc = _evaluate(model, task)
    probs = None if points is None else _grid_probs(model, points)
    return FitResult(method, acc, count_parameters(model), train_loss, test_loss, curve, probs,
                     delta_weights)


def train_full_finetune(base: BaseModel, task: Task, steps: int, lr: float,
                        generator: torch.Generator | None = None,
                        points: np.ndarray | None = None) -> FitResult:
    """A copy of base with every parameter trainable. Nothing is drawn at random, so generator
    is unused; it is there so that every trainer takes the same arguments."""
    model = copy.deepcopy(base).requires_grad_(True)
    before = {name: layer.weight.detach().clone() for name, layer in _named_layers(model)}
    curve = _adam_steps(model, torch.optim.Adam(model.parameters(), lr=lr), task, steps)
    delta = {name: _numpy(layer.weight - before[name]) for name, layer in _named_layers(model)}
    return _result("full_finetune", model, task, curve, points, delta)


class Adapter(nn.Module):
    """Houlsby bottleneck on a layer's output h: h + up(relu(down(h))). up starts at zero, so a
    fresh adapter adds exactly 0. Trainable: 2·d·m + d + m. Unlike LoRA it cannot be merged away."""

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
    original = model.get_submodule(layer)
    if not isinstance(original, nn.Linear):
        raise ValueError(f"{layer} is not an nn.Linear layer")
    parent_name, _, child = layer.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    # the ReLU that follows in BaseModel.forward sees h + adapter(h), as in Houlsby et al.
    setattr(parent, child, nn.Sequential(original, Adapter(original.out_features, bottleneck, generator)))
    return model


def adapter_parameters(model: nn.Module) -> list[nn.Parameter]:
    return [p for m in model.modules() if isinstance(m, Adapter) for p in m.parameters()]


def train_adapter(base: BaseModel, task: Task, layer: str, bottleneck: int, steps: int, lr: float,
                  generator: torch.Generator | None = None,
                  points: np.ndarray | None = None) -> FitResult:
    """The frozen base with an Adapter after `layer`; only the adapter trains."""
    model = add_adapter(copy.deepcopy(base), layer, bottleneck, generator)
    curve = _adam_steps(model, torch.optim.Adam(adapter_parameters(model), lr=lr), task, steps)
    return _result("adapter", model, task, curve, points, {})


def fit_lora(base: BaseModel, task: Task, targets, rank: int, alpha: float, steps: int, lr: float,
             generator: torch.Generator | None = None, *, use_rslora: bool = False,
             init: str = "peft") -> tuple[nn.Module, np.ndarray]:
    """A trained LoRA copy of base (a live model: what inspect_delta and merge_lab take) and its
    loss curve. A is drawn from generator, which advances, exactly as in train.run."""
    model = add_lora(copy.deepcopy(base), targets, rank, alpha, use_rslora, init, generator)
    curve = _adam_steps(model, torch.optim.Adam(lora_parameters(model), lr=lr), task, steps)
    return model, curve


def train_lora(base: BaseModel, task: Task, targets, rank: int, alpha: float, steps: int, lr: float,
               generator: torch.Generator | None = None, *, use_rslora: bool = False,
               init: str = "peft", points: np.ndarray | None = None) -> FitResult:
    """fit_lora, summarised like the baselines, for side-by-side display."""
    model, curve = fit_lora(base, task, targets, rank, alpha, steps, lr, generator,
                            use_rslora=use_rslora, init=init)
    delta = {name: _numpy(m.delta_weight()) for name, m in lora_layers(model).items()}
    return _result("lora", model, task, curve, points, delta)


# ---------------------------------------------------------------- K LoRA models trained as one

def _batched_forward(base: BaseModel, x: torch.Tensor, adapters: dict,
                     scaling: torch.Tensor) -> torch.Tensor:
    """Logits of K LoRA models on one frozen base: x (N, d0) -> (K, N, C).

    adapters: layer -> (A (K, R, d_in), B (K, d_out, R)); scaling (K, 1, 1). Until the first
    adapted layer the K models agree, so h stays (N, d) and each base layer whose input is still
    shared runs once; only the low-rank updates are per model.
    """
    layers = _named_layers(base)
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


def _batched_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each model: logits (K, N, C), y (K * N,) -> (K,)."""
    K, N, C = logits.shape
    return F.cross_entropy(logits.reshape(K * N, C), y, reduction="none").view(K, N).mean(1)


@dataclass(frozen=True)
class _Batch:
    curves: np.ndarray       # (K, steps)
    train_loss: np.ndarray   # (K,)
    test_loss: np.ndarray    # (K,)
    accuracy: np.ndarray     # (K,)


def _train_batched(base: BaseModel, task: Task, targets, ranks: list[int], scalings: list[float],
                   init: str, steps: int, lr: float, generator: torch.Generator) -> _Batch:
    """K LoRA models (rank ranks[k], scaling scalings[k]) trained in one loop.

    A and B are stacked and zero-padded to the largest rank R. A padded row of A meets a zero
    column of B, so both get zero gradient, Adam leaves them at zero, and model k computes exactly
    its own rank-r_k update. Adam is elementwise and loss k depends only on model k's weights, so
    one Adam on the sum of the K losses takes the K standalone runs' steps (equal up to float
    rounding: the matmuls sum in another order).
    """
    base = _frozen_copy(base)
    K, R = len(ranks), max(ranks)
    adapters = {}
    for name in targets:
        layer = base.get_submodule(name)
        adapters[name] = (torch.zeros(K, R, layer.in_features), torch.zeros(K, layer.out_features, R))
    for k, r in enumerate(ranks):
        g = _clone_generator(generator)  # model k draws its A's as a standalone run would
        for name in targets:  # in add_lora's order
            A_k = torch.empty(r, adapters[name][0].shape[2])
            init_A(A_k, init, r, g)
            adapters[name][0][k, :r] = A_k  # B stays zero: every model starts as the base
    params = [t.requires_grad_() for pair in adapters.values() for t in pair]
    opt = torch.optim.Adam(params, lr=lr, fused=True)  # one kernel for all K updates, same rule
    scale = torch.tensor(scalings, dtype=torch.float32).view(K, 1, 1)
    X, y = torch.from_numpy(task.X_train), torch.from_numpy(task.y_train).repeat(K)  # y: (K * N,)
    curves = torch.empty(steps, K)
    for step in range(steps):
        losses = _batched_losses(_batched_forward(base, X, adapters, scale), y)  # (K,)
        curves[step] = losses.detach()
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
    with torch.no_grad():
        train_loss = _batched_losses(_batched_forward(base, X, adapters, scale), y)
        logits = _batched_forward(base, torch.from_numpy(task.X_test), adapters, scale)
        y_te = torch.from_numpy(task.y_test)
        test_loss = _batched_losses(logits, y_te.repeat(K))
        acc = (logits.argmax(2) == y_te).float().mean(1)
    return _Batch(_numpy(curves.T), _numpy(train_loss), _numpy(test_loss), _numpy(acc))


# ---------------------------------------------------------------- rank sweep

@dataclass(frozen=True)
class LayerLimits:
    d_in: int
    d_out: int
    break_even_rank: float   # r* = d_in·d_out / (d_in + d_out)
    max_useful_rank: int     # min(d_in, d_out)


@dataclass(frozen=True)
class RankPoint:
    rank: int
    scaling: float
    trainable: int           # r · Σ (d_in + d_out)
    accuracy: float          # target test split
    final_train_loss: float
    final_test_loss: float
    loss_curve: np.ndarray   # (steps,)


@dataclass(frozen=True)
class RankSweep:
    points: tuple            # RankPoint per rank, ascending
    layers: dict             # adapted layer -> LayerLimits
    break_even_rank: float   # all adapted layers together: Σ d_in·d_out / Σ (d_in + d_out)
    max_useful_rank: int     # largest min(d_in, d_out) over the adapted layers
    base_params: int         # frozen base; "all params" of rank r is base_params + trainable


def layer_limits(base: nn.Module, targets) -> dict:
    out = {}
    for name in targets:
        layer = base.get_submodule(name)
        d_in, d_out = layer.in_features, layer.out_features
        out[name] = LayerLimits(d_in, d_out, break_even_rank(d_in, d_out), max_useful_rank(d_in, d_out))
    return out


def sweep_ranks_for(max_useful: int, cap: int = 64) -> list[int]:
    """1, 2, 4, … up to min(max_useful, cap), ending at that limit even if it is no power of two."""
    top = min(max_useful, cap)
    ranks = [2 ** i for i in range(top.bit_length()) if 2 ** i <= top]
    return ranks if ranks[-1] == top else ranks + [top]


def sweep_ranks(base: BaseModel, task: Task, targets, alpha: float, steps: int, lr: float,
                generator: torch.Generator, *, use_rslora: bool = False,
                init: str = "peft", ranks: list[int] | None = None, cap: int = 64) -> RankSweep:
    """LoRA at every rank, trained together. Each rank gets a copy of generator's state, so rank r
    here is fit_lora(..., r, ..., generator) alone; generator itself does not advance."""
    limits = layer_limits(base, targets)
    useful = max(lim.max_useful_rank for lim in limits.values())
    ranks = sorted(set(ranks)) if ranks else sweep_ranks_for(useful, cap)
    scalings = [lora_scaling(r, alpha, use_rslora) for r in ranks]
    batch = _train_batched(base, task, targets, ranks, scalings, init, steps, lr, generator)
    shapes = {name: (lim.d_in, lim.d_out) for name, lim in limits.items()}
    points = tuple(
        RankPoint(r, scalings[k], lora_param_count(shapes, r), float(batch.accuracy[k]),
                  float(batch.train_loss[k]), float(batch.test_loss[k]), batch.curves[k])
        for k, r in enumerate(ranks))
    weights = sum(d_in * d_out for d_in, d_out in shapes.values())
    return RankSweep(points, limits, weights / sum(d_in + d_out for d_in, d_out in shapes.values()),
                     useful, count_parameters(base).total)


# ---------------------------------------------------------------- α explorer

ALPHA_SETTINGS = {  # name -> (rank, α) -> (lora_alpha, use_rslora)
    "fixed": lambda r, alpha: (alpha, False),             # α / r: larger ranks take smaller steps
    "alpha_equals_rank": lambda r, alpha: (float(r), False),  # scaling 1 at every rank
    "rslora": lambda r, alpha: (alpha, True),             # α / √r: rsLoRA's fix
}


@dataclass(frozen=True)
class AlphaRun:
    rank: int
    setting: str             # a key of ALPHA_SETTINGS
    alpha: float             # the lora_alpha this setting uses at this rank
    use_rslora: bool
    scaling: float           # what B·A is multiplied by
    accuracy: float
    final_train_loss: float
    loss_curve: np.ndarray   # (steps,)


def explore_alpha(base: BaseModel, task: Task, targets, steps: int, lr: float,
                  generator: torch.Generator, *, ranks=(1, 4, 16), alpha: float = 8.0,
                  init: str = "peft") -> tuple:
    """Each rank under each α setting, all trained in one batched loop. The same rank starts from
    the same A in every setting, so the curves differ by the scaling alone."""
    runs = [(r, name, *ALPHA_SETTINGS[name](r, alpha)) for r in ranks for name in ALPHA_SETTINGS]
    scalings = [lora_scaling(r, a, rs) for r, _, a, rs in runs]
    batch = _train_batched(base, task, targets, [r for r, *_ in runs], scalings, init, steps, lr,
                           generator)
    return tuple(AlphaRun(r, name, a, rs, scalings[k], float(batch.accuracy[k]),
                          float(batch.train_loss[k]), batch.curves[k])
                 for k, (r, name, a, rs) in enumerate(runs))


# ---------------------------------------------------------------- ΔW inspector

def singular_values(matrix: np.ndarray) -> np.ndarray:
    """Descending, computed in float64 so that tiny values stay honest."""
    return _frozen(np.linalg.svd(np.asarray(matrix, dtype=np.float64), compute_uv=False))


def effective_rank(singular: np.ndarray, energy: float = 0.9) -> int:
    """Smallest k whose top-k squared singular values hold at least `energy` of the total; 0 for ΔW = 0."""
    power = np.sort(np.asarray(singular, dtype=np.float64))[::-1] ** 2
    total = power.sum()
    if total == 0:
        return 0
    share = np.cumsum(power) / total
    return int(np.searchsorted(share, energy - 1e-12) + 1)  # the 1e-12 forgives rounding at equality


@dataclass(frozen=True)
class DeltaInspection:
    layer: str
    rank: int
    scaling: float
    A: np.ndarray                      # (r, d_in)     PEFT: lora_A.weight
    B: np.ndarray                      # (d_out, r)    PEFT: lora_B.weight
    delta_weight: np.ndarray           # scaling · B @ A, (d_out, d_in)
    singular_values: np.ndarray        # of ΔW, descending, min(d_in, d_out) of them
    effective_rank: int
    full_singular_values: np.ndarray | None  # of full fine-tuning's ΔW on the same layer
    full_effective_rank: int | None
    energy: float                      # the share of Σσ² the effective ranks hold


def inspect_delta(model: nn.Module, full_delta_weights: dict | None = None,
                  energy: float = 0.9) -> dict:
    """layer -> DeltaInspection for every LoRA layer of a trained LoRA model. full_delta_weights
    is FitResult.delta_weights of full fine-tuning, to set LoRA's spectrum beside it."""
    out = {}
    for name, m in lora_layers(model).items():
        delta = _numpy(m.delta_weight())
        s = singular_values(delta)
        full = (full_delta_weights or {}).get(name)
        s_full = None if full is None else singular_values(full)
        out[name] = DeltaInspection(
            name, m.rank, m.scaling, _numpy(m.A.weight), _numpy(m.B.weight), delta, s,
            effective_rank(s, energy), s_full,
            None if s_full is None else effective_rank(s_full, energy), energy)
    return out


# ---------------------------------------------------------------- merge lab

@dataclass(frozen=True)
class MergeReport:
    max_abs_diff_float32: float   # merged (W + ΔW) vs unmerged, both float32
    max_abs_diff_bfloat16: float  # merged in bfloat16 vs the float32 unmerged output
    max_abs_diff_bfloat16_unmerged: float  # unmerged in bfloat16 vs float32: bfloat16's share without a merge
    seconds_unmerged: float       # median time of one forward pass on the inputs
    seconds_merged: float
    repeats: int


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@torch.no_grad()
def merge_lab(model: nn.Module, inputs: np.ndarray, repeats: int = 21) -> MergeReport:
    """How far merging moves the outputs on inputs (N, 2), in float32 and bfloat16, and what it saves."""
    x = torch.as_tensor(inputs, dtype=torch.float32)
    reference = model(x)
    merged = merged_copy(model)
    low = merged_copy(copy.deepcopy(model).to(torch.bfloat16))  # ΔW and W + ΔW rounded to bfloat16
    low_unmerged = copy.deepcopy(model).to(torch.bfloat16)

    def diff(out: torch.Tensor) -> float:
        return (out.float() - reference).abs().max().item()

    unmerged_t, merged_t = [], []
    merged(x)  # warm-up
    for _ in range(repeats):  # interleaved so that drifting machine load hits both alike
        unmerged_t.append(_time(lambda: model(x)))
        merged_t.append(_time(lambda: merged(x)))
    return MergeReport(diff(merged(x)), diff(low(x.bfloat16())), diff(low_unmerged(x.bfloat16())),
                       statistics.median(unmerged_t), statistics.median(merged_t), repeats)


def strength_probs(model: nn.Module, points: np.ndarray, strength: float) -> np.ndarray:
    """(G, G, C) class probabilities with every adapter scaled by strength: 0 is the base, 1 the adapter."""
    with adapter_strength(model, strength):
        return _grid_probs(model, points)


# ---------------------------------------------------------------- memory

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


def measure_memory(model: nn.Module, optimizer: torch.optim.Optimizer) -> MemoryUse:
    """Bytes held by the real tensors; call after at least one optimizer step (Adam's state is lazy)."""
    params = list(model.parameters())
    state = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    return MemoryUse(sum(_nbytes(p) for p in params),
                     sum(_nbytes(p.grad) for p in params if p.grad is not None),
                     sum(_nbytes(t) for t in state))


@dataclass(frozen=True)
class MemoryComparison:
    full_finetune: MemoryUse
    lora: MemoryUse


def compare_memory(base: BaseModel, task: Task, targets, rank: int, alpha: float, lr: float,
                   generator: torch.Generator | None = None, *, use_rslora: bool = False,
                   init: str = "peft") -> MemoryComparison:
    """Memory of full fine-tuning vs LoRA, measured after one Adam step of each."""
    full = copy.deepcopy(base).requires_grad_(True)
    full_opt = torch.optim.Adam(full.parameters(), lr=lr)
    _adam_steps(full, full_opt, task, 1)
    lora = add_lora(copy.deepcopy(base), targets, rank, alpha, use_rslora, init, generator)
    lora_opt = torch.optim.Adam(lora_parameters(lora), lr=lr)
    _adam_steps(lora, lora_opt, task, 1)
    return MemoryComparison(measure_memory(full, full_opt), measure_memory(lora, lora_opt))


# ---------------------------------------------------------------- every panel for one config

@dataclass(frozen=True)
class Analysis:
    """Everything the Insights tab shows for one config; fields fill in as analyse() proceeds."""
    source: Task
    target: Task
    ticks: np.ndarray
    methods: dict = None          # "full_finetune", "adapter", "lora" -> FitResult
    adapter_layer: str = ""
    adapter_bottleneck: int = 0
    base_params: int = 0
    sweep: RankSweep | None = None
    alpha_runs: tuple = ()
    deltas: dict = None           # layer -> DeltaInspection
    merge: MergeReport | None = None
    memory: MemoryComparison | None = None
    strengths: tuple = ()         # (strength, (G, G, C) probabilities) with every adapter scaled by strength

STRENGTHS = tuple(round(0.1 * i, 1) for i in range(21))  # 0 = the frozen base, 1 = the trained adapter, 2 = twice


MAX_WORK = 8.0  # insights refuse settings that cost more than this many times the default's work


def relative_work(cfg: RunConfig) -> float:
    """How much the Insights panels cost for cfg, as a multiple of the default settings' cost.

    Counts multiply-adds per forward pass times steps: pretraining once, adaptation about
    thirteen times (full fine-tuning, Adapter, LoRA, the sweep's ranks, the α explorer's nine runs)."""
    def work(c: RunConfig) -> float:
        h, layers = c.model.hidden_size, c.model.hidden_layers
        per_forward = c.data.n_samples * (2 * h + (layers - 1) * h * h + 5 * h)
        return per_forward * (c.train.pretrain_steps + 13 * c.train.adapt_steps)
    return work(cfg) / work(RunConfig())


def analyse(cfg: RunConfig, grid_size: int = 100):
    """Yield (step name, Analysis so far): the base, the three methods, the sweep, α, then ΔW/merge/memory.

    LoRA, the sweep, α explorer and memory all draw A from the generator state that train.run would
    use, so the LoRA here is the LoRA of the Train tab for the same settings."""
    from dataclasses import replace

    from .data import grid, plot_window
    base, source, target, gen = pretrain(cfg)
    ticks, pts = grid(plot_window(source, target), grid_size)
    a = Analysis(source, target, _frozen(ticks), base_params=count_parameters(base).total)
    yield "step_base", a
    state = gen.get_state()

    def fresh() -> torch.Generator:
        g = torch.Generator()
        g.set_state(state)
        return g

    lc, tc = cfg.lora, cfg.train
    targets = lc.target_modules
    steps, lr = tc.adapt_steps, tc.lr
    full = train_full_finetune(base, target, steps, lr, points=pts)
    layer = targets[0]
    bottleneck = lc.rank
    adapter = train_adapter(base, target, layer, bottleneck, steps, lr, fresh(), points=pts)
    model, curve = fit_lora(base, target, targets, lc.rank, lc.alpha, steps, lr, fresh(),
                            use_rslora=lc.use_rslora, init=lc.init)
    delta = {name: _numpy(m.delta_weight()) for name, m in lora_layers(model).items()}
    lora = _result("lora", model, target, curve, pts, delta)
    a = replace(a, methods={"full_finetune": full, "adapter": adapter, "lora": lora}, adapter_layer=layer,
                adapter_bottleneck=bottleneck)
    yield "step_methods", a
    a = replace(a, sweep=sweep_ranks(base, target, targets, lc.alpha, steps, lr, fresh(),
                                     use_rslora=lc.use_rslora, init=lc.init))
    yield "step_sweep", a
    a = replace(a, alpha_runs=explore_alpha(base, target, targets, steps, lr, fresh(), init=lc.init))
    yield "step_alpha", a
    a = replace(a, deltas=inspect_delta(model, full.delta_weights), merge=merge_lab(model, target.X_test),
                strengths=tuple((s, strength_probs(model, pts, s)) for s in STRENGTHS),
                memory=compare_memory(base, target, targets, lc.rank, lc.alpha, lr, fresh(),
                                      use_rslora=lc.use_rslora, init=lc.init))
    yield "step_rest", a
