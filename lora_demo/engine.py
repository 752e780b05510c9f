"""A run: pretrain a BaseModel on the source task, freeze it, adapt it to the target task with LoRA.

`run(config)` is a generator of immutable Snapshots (numpy copies, never live tensors);
`train(config)` is the same generator drained. Both phases step through fit.steps. Imports torch, not gradio.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from . import backprop, evaluate, fit
from .bases import Bases, Pretrained, state_of
from .config import RunConfig
from .data import Task, grid, make_tasks, plot_window
from .fit import UNGUARDED, Cancelled, Guard, RunTooLong, TrainingDiverged
from .methods import METHODS, count_parameters
from .methods.lora import break_even_rank, lora_layers, max_useful_rank
from .model import BaseModel

__all__ = ["Cancelled", "Result", "RunTooLong", "Snapshot", "Start", "TrainingDiverged", "pretrain", "run",
           "start", "train"]

EVAL_POINTS = 50  # test-loss evaluations per phase: enough for a smooth dotted curve, cheap next to training


@dataclass(frozen=True)
class Result:
    """What a finished run proves; every value is a plain Python number, string or bool."""
    MERGE_TOLERANCE = 1e-6  # float32: merged and unmerged agree to about this × the largest output

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

    @property
    def adapted_weights(self) -> int:
        """d_in · d_out summed over the adapted layers: what LoRA's share is a share of."""
        return sum(v["d_in"] * v["d_out"] for v in self.layers.values())

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


@dataclass
class Start:
    """A run's fixed beginning: its tasks, its own random generator and the fresh base model.

    Everything random in a run is drawn from `generator`, in this order: the base's init, then the
    adapter's. Never torch's global generator, so concurrent runs cannot disturb each other."""
    source: Task
    target: Task
    generator: torch.Generator
    model: BaseModel


def start(cfg: RunConfig) -> Start:
    gen = torch.Generator().manual_seed(cfg.data.seed)
    source, target = make_tasks(cfg.data, cfg.shift)
    n_classes = max(source.n_classes, target.n_classes)
    model = BaseModel(2, cfg.model.hidden_size, n_classes, cfg.model.hidden_layers, generator=gen)
    return Start(source, target, gen, model)


def pretraining(s: Start, cfg: RunConfig, guard: Guard = UNGUARDED) -> Iterator[tuple[int, float]]:
    """Phase 1 as fit.steps: every parameter, full-batch Adam on the source task."""
    opt = fit.adam(s.model.parameters(), cfg.train.lr)
    return fit.steps(backprop.task_loss(s.model, s.source), opt, cfg.train.pretrain_steps, guard=guard,
                     phase="pretraining", lr=cfg.train.lr)


def pretrain(cfg: RunConfig, guard: Guard = UNGUARDED) -> Start:
    """Phase 1 of run(), drained: the same base, bit for bit, with its generator in the state in which
    run() hands it to the adapter (so an adapter drawn from it is the run's adapter)."""
    s = start(cfg)
    for _ in pretraining(s, cfg, guard):
        pass
    s.model.eval().requires_grad_(False)
    return s


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
        return {k: evaluate.frozen(np.array([s, v], dtype=np.float64)) for k, (s, v) in self.curves.items()}


def _step_gap(total_steps: int, every_steps: int | None, max_snapshots: int) -> int:
    """Fewest steps between two snapshots, so that a run never exceeds max_snapshots."""
    least = math.ceil(total_steps / max(1, max_snapshots - 4))
    return max(least, every_steps or 1)


def run(cfg: RunConfig, *, every_steps: int | None = None, every_seconds: float | None = None,
        max_snapshots: int = 120, grid_size: int = 100, max_seconds: float | None = None,
        guard: Guard | None = None, clock=time.perf_counter, bases: Bases | None = None) -> Iterator[Snapshot]:
    """Yield a snapshot at the start, at each phase change, at the end, and in between
    every `every_steps` steps and/or every `every_seconds` seconds (never more than max_snapshots).

    guard (or max_seconds) is checked before every training step: a run cannot overstay its budget.
    bases: a memory of pretrained bases (lora_demo.bases); phase 1 is recalled from it when it holds this
    run's, and kept in it otherwise. The snapshots and the result are the same either way."""
    t_start = clock()
    guard = guard or Guard.within(max_seconds)
    s = start(cfg)
    model, source, target = s.model, s.source, s.target
    window = plot_window(source, target)
    ticks, points = grid(window, grid_size)
    ticks = evaluate.frozen(ticks)
    base_count = count_parameters(model)
    params = {"pretrain": base_count, "full_finetune": base_count}
    log = _Log()
    accuracy: dict = {}
    total_steps = cfg.train.pretrain_steps + cfg.train.adapt_steps
    gap = _step_gap(total_steps, every_steps, max_snapshots)
    last = {"time": clock(), "step": 0}  # the run's first snapshot is at step 0

    def due(global_step: int) -> bool:
        if global_step - last["step"] < gap:
            return False
        by_steps = every_steps is not None and global_step - last["step"] >= every_steps
        by_time = every_seconds is not None and clock() - last["time"] >= every_seconds
        if by_steps or by_time:
            last.update(time=clock(), step=global_step)
        return by_steps or by_time

    def snap(phase, step, phase_steps, base_probs, lora_probs, result=None, model_state=None):
        return Snapshot(phase, step, phase_steps, log.arrays(), dict(accuracy), base_probs,
                        lora_probs, window, ticks, source, target, dict(params), result, model_state)

    # ---- phase 1: pretrain every parameter on the source task (full batch Adam), or recall it
    P = cfg.train.pretrain_steps
    key = None if bases is None or every_seconds is not None else bases.key(cfg, (gap, every_steps, grid_size))
    kept = None if key is None else bases.get(key)
    if kept is not None:
        for snapshot in kept.snapshots:
            guard.check()
            yield snapshot
        model.load_state_dict(kept.state)
        model.eval()
        log.curves.update({k: (list(v[0]), list(v[1])) for k, v in kept.curves.items()})
        accuracy.update(kept.accuracy)
        end, base_probs = dict(kept.end), kept.base_probs
    else:
        shown = []  # phase 1's snapshots, for the memory

        def shown_snap(*args):
            shown.append(snap(*args))
            return shown[-1]

        eval_every = max(1, P // EVAL_POINTS)
        log.add("pretrain/test", 0, evaluate.loss(model, source, "test"))
        yield shown_snap("pretrain", 0, P, evaluate.grid_probs(model, points), None)
        first = math.inf
        for k, value in pretraining(s, cfg, guard):
            first = value if k == 1 else first
            log.add("pretrain/train", k - 1, value)
            if k % eval_every == 0 and k < P:
                log.add("pretrain/test", k, evaluate.loss(model, source, "test"))
            if k < P and due(k):  # the phase-change snapshot follows right after the last step
                accuracy["base_source"] = evaluate.accuracy(model, source)
                yield shown_snap("pretrain", k, P, evaluate.grid_probs(model, points), None)

        model.eval()
        end = {"pretrain_train": evaluate.loss(model, source)}
        end["pretrain_test"], accuracy["base_source"] = evaluate.loss_and_accuracy(model, source)
        accuracy["base_target"] = evaluate.accuracy(model, target)
        fit.check_loss(end["pretrain_train"], first, "pretraining", P, cfg.train.lr)
        for name, v in (("pretrain/train", end["pretrain_train"]), ("pretrain/test", end["pretrain_test"])):
            log.add(name, P, v)
        base_probs = evaluate.grid_probs(model, points)  # fixed from here on: the base is frozen
        if key is not None:
            curves = {k: (list(log.curves[k][0]), list(log.curves[k][1])) for k in ("pretrain/train", "pretrain/test")}
            bases.keep(key, Pretrained(tuple(shown), state_of(model), curves, dict(accuracy), dict(end), base_probs))
    model.requires_grad_(False)

    # ---- phase 2: a frozen copy of the base with LoRA; only A and B train, on the target task
    method = METHODS["lora"]
    lora_model = method.attach(model, cfg.lora, s.generator)
    params["lora"] = count_parameters(lora_model)
    lora_probs = base_probs  # B = 0: the fresh adapter's outputs are the base's, bit for bit
    A = cfg.train.adapt_steps
    eval_every = max(1, A // EVAL_POINTS)
    opt = fit.adam(method.param_groups(lora_model, cfg.train.lr), cfg.train.lr)
    guard.check()
    last.update(time=clock(), step=P)
    log.add("adapt/test", P, evaluate.loss(lora_model, target, "test"))
    yield snap("adapt", 0, A, base_probs, lora_probs)
    first = math.inf
    for k, value in fit.steps(backprop.task_loss(lora_model, target), opt, A, guard=guard, phase="LoRA training",
                              lr=cfg.train.lr):
        first = value if k == 1 else first
        log.add("adapt/train", P + k - 1, value)
        if k % eval_every == 0 and k < A:
            log.add("adapt/test", P + k, evaluate.loss(lora_model, target, "test"))
        if k < A and due(P + k):  # the final snapshot follows right after the last step
            accuracy["lora_target"] = evaluate.accuracy(lora_model, target)
            yield snap("adapt", k, A, base_probs, evaluate.grid_probs(lora_model, points))

    # ---- read off
    end["adapt_train"] = evaluate.loss(lora_model, target)
    end["adapt_test"], accuracy["lora_target"] = evaluate.loss_and_accuracy(lora_model, target)
    fit.check_loss(end["adapt_train"], first, "LoRA training", A, cfg.train.lr)
    log.add("adapt/train", P + A, end["adapt_train"])
    log.add("adapt/test", P + A, end["adapt_test"])
    accuracy["lora_source"] = evaluate.accuracy(lora_model, source)
    with torch.no_grad():
        merged = method.merged(lora_model)
        X = torch.from_numpy(target.X_test)
        unmerged_out = lora_model(X)
        merge_diff = (merged(X) - unmerged_out).abs().max().item()
        out_scale = unmerged_out.abs().max().item()
    after = {k.replace("original_layer.", ""): v for k, v in lora_model.state_dict().items()
             if ".A." not in k and ".B." not in k}
    before = model.state_dict()
    changes = [(after[k] - v).abs().max().item() for k, v in before.items()]
    layers = {}
    for name, m in lora_layers(lora_model).items():
        layers[name] = {"d_in": m.in_features, "d_out": m.out_features,
                        "break_even_rank": break_even_rank(m.in_features, m.out_features),
                        "max_useful_rank": max_useful_rank(m.in_features, m.out_features)}
    result = Result(
        accuracy=dict(accuracy), final_loss=end, params={k: c.to_dict() for k, c in params.items()},
        peft_line=params["lora"].peft_line(), layers=layers, merge_max_abs_diff=merge_diff,
        merge_output_scale=out_scale, base_unchanged=all(torch.equal(after[k], v) for k, v in before.items()),
        base_max_abs_change=max(changes), scaling=next(iter(lora_layers(lora_model).values())).scaling,
        seconds=clock() - t_start)
    state = {k: evaluate.frozen(v.detach().numpy()) for k, v in lora_model.state_dict().items()}
    yield snap("adapt", A, A, base_probs, evaluate.grid_probs(lora_model, points), result, state)


def train(cfg: RunConfig, **kwargs) -> Snapshot:
    """The non-streaming call: the same generator, drained; returns the final snapshot."""
    *_, last = run(cfg, **kwargs)
    return last
