"""A run: pretrain a BaseModel on the source task, freeze it, adapt it to the target task with LoRA.

`run(config)` is a generator of immutable Snapshots (numpy copies, never live tensors);
`train(config)` is the same generator drained. Imports torch, not gradio.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .config import RunConfig
from .data import Task, grid, make_tasks, plot_window
from .lora import (add_lora, break_even_rank, count_parameters,
                   lora_layers, lora_parameters, max_useful_rank, merged_copy)
from .model import BaseModel


EVAL_POINTS = 50  # test-loss evaluations per phase: enough for a smooth dotted curve, cheap next to training


class TrainingDiverged(RuntimeError):
    """The loss stopped being a finite number; usually the learning rate is too large."""


class RunTooLong(RuntimeError):
    """The run went past its time budget."""


@dataclass(frozen=True)
class Result:
    MERGE_TOLERANCE = 1e-6  # float32: merged and unmerged agree to about this × the largest output

    """What a finished run proves; every value is a plain Python number, string or bool."""
    accuracy: dict          # base_source, base_target, lora_target, lora_source (test splits)
    final_loss: dict        # pretrain_train, pretrain_test, adapt_train, adapt_test
    params: dict            # name -> {"trainable", "total", "percent"}
    peft_line: str          # as PEFT's print_trainable_parameters() prints it
    layers: dict            # adapted layer -> {"d_in", "d_out", "break_even_rank", "max_useful_rank"}
    merge_max_abs_diff: float  # merged plain model vs unmerged LoRA model, on the target test points
    merge_output_scale: float  # largest |output| there: float32 rounding grows with it
    base_unchanged: bool    # every frozen base parameter bit-identical to the end of pretraining
    base_max_abs_change: float
    scaling: float          # α / r, or α / √r with rsLoRA
    seconds: float

    @property
    def merge_ok(self) -> bool:
        return self.merge_max_abs_diff <= self.MERGE_TOLERANCE * max(1.0, self.merge_output_scale)

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Snapshot:
    phase: str                  # "pretrain" or "adapt"
    step: int                   # updates done in this phase
    phase_steps: int            # updates this phase will do
    curves: dict                # "pretrain/train" etc. -> (2, n) float array: global step, loss
    accuracy: dict              # the accuracies known so far
    base_probs: np.ndarray      # (G, G, C) class probabilities of the frozen/pretraining base on the grid
    lora_probs: np.ndarray | None  # same for the adapted model; None before adaptation
    window: float               # plot half-width: x and y span [-window, window]
    ticks: np.ndarray           # (G,) grid coordinates along each axis
    source: Task
    target: Task
    params: dict                # "pretrain", "full_finetune", "lora" -> ParamCount
    result: Result | None = None  # set on the last snapshot only
    model_state: dict | None = None  # last snapshot only: the adapted model's state_dict, read-only numpy

    @property
    def done(self) -> bool:
        return self.result is not None


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _t(task: Task) -> tuple[torch.Tensor, ...]:
    return (torch.from_numpy(task.X_train), torch.from_numpy(task.y_train),
            torch.from_numpy(task.X_test), torch.from_numpy(task.y_test))


@torch.no_grad()
def _loss_acc(model, X, y) -> tuple[float, float]:
    logits = model(X)
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


@torch.no_grad()
def _probs(model, points: torch.Tensor, g: int, chunk: int = 2500) -> np.ndarray:
    """(G, G, C) class probabilities on the grid; in chunks, so activations stay in the CPU cache."""
    p = np.concatenate([torch.softmax(model(points[i:i + chunk]), dim=1).numpy()
                        for i in range(0, len(points), chunk)])
    return _frozen(p.astype(np.float32, copy=False).reshape(g, g, -1))


@torch.no_grad()
def _loss(model, X, y) -> float:
    return F.cross_entropy(model(X), y).item()


@dataclass
class _Log:
    """Loss curves of the run so far, as growing lists; frozen into arrays for each snapshot."""
    curves: dict = field(default_factory=lambda: {k: ([], []) for k in
                                                   ("pretrain/train", "pretrain/test", "adapt/train", "adapt/test")})

    def add(self, name: str, step: int, loss: float) -> None:
        s, v = self.curves[name]
        s.append(step)
        v.append(loss)

    def arrays(self) -> dict:
        return {k: _frozen(np.array([s, v], dtype=np.float64)) for k, (s, v) in self.curves.items()}


def _check_loss(value: float, first: float, phase: str, step: int, lr: float,
                factor: float = 1e4) -> None:
    """Stop a run whose loss is no longer a number or has exploded (factor × its starting value)."""
    if not math.isfinite(value) or value > factor * max(first, 1e-3):
        raise TrainingDiverged(f"{phase} diverged at step {step}: the loss reached {value:.3g}. "
                               f"Lower the learning rate (now {lr:g}) or, for LoRA, alpha.")


def _step_gap(total_steps: int, every_steps: int | None, max_snapshots: int) -> int:
    """Fewest steps between two snapshots, so that a run never exceeds max_snapshots."""
    least = math.ceil(total_steps / max(1, max_snapshots - 4))
    return max(least, every_steps or 1)


def run(cfg: RunConfig, *, every_steps: int | None = None, every_seconds: float | None = None,
        max_snapshots: int = 120, grid_size: int = 100, max_seconds: float | None = None,
        clock=time.perf_counter) -> Iterator[Snapshot]:
    """Yield a snapshot at the start, at each phase change, at the end, and in between
    every `every_steps` steps and/or every `every_seconds` seconds (never more than max_snapshots)."""
    t_start = clock()
    gen = torch.Generator().manual_seed(cfg.data.seed)  # this run's own randomness
    source, target = make_tasks(cfg.data, cfg.shift)
    n_classes = max(source.n_classes, target.n_classes)
    window = plot_window(source, target)
    ticks, pts = grid(window, grid_size)
    ticks = _frozen(ticks)
    points = torch.from_numpy(pts)
    Xs, ys, Xs_te, ys_te = _t(source)
    Xt, yt, Xt_te, yt_te = _t(target)

    model = BaseModel(2, cfg.model.hidden_size, n_classes, cfg.model.hidden_layers, generator=gen)
    base_count = count_parameters(model)
    params = {"pretrain": base_count, "full_finetune": base_count}
    log = _Log()
    accuracy: dict = {}
    total_steps = cfg.train.pretrain_steps + cfg.train.adapt_steps
    gap = _step_gap(total_steps, every_steps, max_snapshots)
    last_time = clock()
    last_step = 0  # the run's first snapshot is at step 0

    def due(global_step: int) -> bool:
        nonlocal last_time, last_step
        if global_step - last_step < gap:
            return False
        by_steps = every_steps is not None and global_step - last_step >= every_steps
        by_time = every_seconds is not None and clock() - last_time >= every_seconds
        if by_steps or by_time:
            last_time, last_step = clock(), global_step
        return by_steps or by_time

    def check_time():
        if max_seconds is not None and clock() - t_start > max_seconds:
            raise RunTooLong(f"the run took longer than its {max_seconds:g} s budget; "
                             "use fewer samples, steps or a smaller model")

    def snap(phase, step, phase_steps, base_probs, lora_probs, result=None, model_state=None):
        return Snapshot(phase, step, phase_steps, log.arrays(), dict(accuracy), base_probs,
                        lora_probs, window, ticks, source, target, dict(params), result, model_state)

    # ---- phase 1: pretrain every parameter on the source task (full batch Adam)
    P = cfg.train.pretrain_steps
    eval_every = max(1, P // EVAL_POINTS)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    first = math.inf  # the phase's first loss, for the divergence check
    yield snap("pretrain", 0, P, _probs(model, points, grid_size), None)
    for step in range(P):
        loss = F.cross_entropy(model(Xs), ys)
        value = loss.item()
        first = value if step == 0 else first
        _check_loss(value, first, "pretraining", step, cfg.train.lr)
        log.add("pretrain/train", step, value)
        if step % eval_every == 0:
            log.add("pretrain/test", step, _loss(model, Xs_te, ys_te))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step + 1 < P and due(step + 1):  # the phase-change snapshot follows right after the last step
            check_time()
            accuracy["base_source"] = _loss_acc(model, Xs_te, ys_te)[1]
            yield snap("pretrain", step + 1, P, _probs(model, points, grid_size), None)

    model.eval()
    end = {}
    end["pretrain_train"] = _loss(model, Xs, ys)
    end["pretrain_test"], accuracy["base_source"] = _loss_acc(model, Xs_te, ys_te)
    accuracy["base_target"] = _loss_acc(model, Xt_te, yt_te)[1]
    _check_loss(end["pretrain_train"], first, "pretraining", P, cfg.train.lr, factor=10)
    for name, v in (("pretrain/train", end["pretrain_train"]), ("pretrain/test", end["pretrain_test"])):
        log.add(name, P, v)
    base_probs = _probs(model, points, grid_size)  # fixed from here on: the base is frozen
    frozen_before = {k: v.detach().clone() for k, v in model.state_dict().items()}

    # ---- phase 2: freeze the base, train only LoRA's A and B on the target task
    add_lora(model, cfg.lora.target_modules, cfg.lora.rank, cfg.lora.alpha,
             cfg.lora.use_rslora, cfg.lora.init, generator=gen)
    params["lora"] = count_parameters(model)
    lora_probs = base_probs  # B = 0: the fresh adapter's outputs are the base's, bit for bit
    A = cfg.train.adapt_steps
    eval_every = max(1, A // EVAL_POINTS)
    opt = torch.optim.Adam(lora_parameters(model), lr=cfg.train.lr)
    first = math.inf
    check_time()
    last_time, last_step = clock(), P
    yield snap("adapt", 0, A, base_probs, lora_probs)
    for step in range(A):
        loss = F.cross_entropy(model(Xt), yt)
        value = loss.item()
        first = value if step == 0 else first
        _check_loss(value, first, "LoRA training", step, cfg.train.lr)
        log.add("adapt/train", P + step, value)
        if step % eval_every == 0:
            log.add("adapt/test", P + step, _loss(model, Xt_te, yt_te))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step + 1 < A and due(P + step + 1):  # the final snapshot follows right after the last step
            check_time()
            accuracy["lora_target"] = _loss_acc(model, Xt_te, yt_te)[1]
            yield snap("adapt", step + 1, A, base_probs, _probs(model, points, grid_size))

    # ---- read off
    end["adapt_train"] = _loss(model, Xt, yt)
    end["adapt_test"], accuracy["lora_target"] = _loss_acc(model, Xt_te, yt_te)
    _check_loss(end["adapt_train"], first, "LoRA training", A, cfg.train.lr, factor=10)
    log.add("adapt/train", P + A, end["adapt_train"])
    log.add("adapt/test", P + A, end["adapt_test"])
    accuracy["lora_source"] = _loss_acc(model, Xs_te, ys_te)[1]
    with torch.no_grad():
        merged = merged_copy(model)
        unmerged_out = model(Xt_te)
        merge_diff = (merged(Xt_te) - unmerged_out).abs().max().item()
        out_scale = unmerged_out.abs().max().item()
    after = {k.replace("original_layer.", ""): v for k, v in model.state_dict().items()
             if ".A." not in k and ".B." not in k}
    changes = [(after[k] - v).abs().max().item() for k, v in frozen_before.items()]
    unchanged = all(torch.equal(after[k], v) for k, v in frozen_before.items())
    layers = {}
    for name, m in lora_layers(model).items():
        layers[name] = {"d_in": m.in_features, "d_out": m.out_features,
                        "break_even_rank": break_even_rank(m.in_features, m.out_features),
                        "max_useful_rank": max_useful_rank(m.in_features, m.out_features)}
    result = Result(
        accuracy=dict(accuracy), final_loss=end,
        params={k: {"trainable": c.trainable, "total": c.total, "percent": c.percent}
                for k, c in params.items()},
        peft_line=params["lora"].peft_line(), layers=layers, merge_max_abs_diff=merge_diff,
        merge_output_scale=out_scale,
        base_unchanged=unchanged, base_max_abs_change=max(changes),
        scaling=next(iter(lora_layers(model).values())).scaling, seconds=clock() - t_start)
    state = {k: _frozen(v.detach().numpy().copy()) for k, v in model.state_dict().items()}
    yield snap("adapt", A, A, base_probs, _probs(model, points, grid_size), result, state)


def train(cfg: RunConfig, **kwargs) -> Snapshot:
    """The non-streaming call: the same generator, drained; returns the final snapshot."""
    *_, last = run(cfg, **kwargs)
    return last
