"""Every claim the app and the README make, with the experiment behind it and the condition it asserts.

A text quotes a claim as {c[name].range} (or .mean, .min, .max, .seeds); `python -m bench.claims` measures
them all over seeds 0–29 and writes measured.json and docs/claims.md.
"""
from __future__ import annotations

from .core import Claim


def acc(key: str):
    return lambda o: o["acc"][key]


def _lora(o) -> float:
    return o["acc"]["lora_target"]


def _early(o, setting: str) -> float:
    a = o["alpha"]
    return a[(setting, 16)] / a[(setting, 1)]


def _spread(o, method: str, low: bool = False) -> float:
    """Best − worst accuracy of a method over the learning rates (low: best − at the smallest rate)."""
    accs = [a for _, a in o["methods"][method]["by_lr"]]
    return max(accs) - (accs[0] if low else min(accs))


def _library_own_task_is_best(o) -> bool:
    """In the accuracy matrix (rows: base, adapters; columns: source, adapters' tasks), every adapter is the
    best of the adapters on its own task."""
    m = o["library"]["matrix"]
    n = len(o["library"]["names"])
    return all(m[1 + k][1 + k] >= max(m[1 + j][1 + k] for j in range(n)) for k in range(n))


def _library_diagonal(o) -> float:
    m = o["library"]["matrix"]
    n = len(o["library"]["names"])
    return sum(m[1 + k][1 + k] for k in range(n)) / n


CLAIMS: list[Claim] = [
    # ---- the default story (README, intro, captions of the Train tab)
    Claim("default.base_source", "The network learns the source task (moons).", "default", acc("base_source"),
          lambda o: o["acc"]["base_source"] >= 0.95, condition="base on source ≥ 95 %"),
    Claim("default.base_target", "The frozen base does clearly worse on the rotated task.", "default",
          acc("base_target"), lambda o: o["acc"]["base_target"] <= o["acc"]["base_source"] - 0.25,
          condition="base on target at least 25 points below base on source"),
    Claim("default.lora_target", "LoRA on fc2 (256 numbers) brings the rotated task back.", "default", _lora,
          lambda o: _lora(o) >= 0.93, condition="LoRA on target ≥ 93 %"),
    Claim("default.loss_jump", "The loss jumps at the phase change: the frozen base meets the new task.", "default",
          lambda o: o["loss_adapt_start"] / o["loss_pretrain_end"],
          lambda o: o["loss_adapt_start"] >= 10 * o["loss_pretrain_end"],
          unit="x", condition="LoRA's first training loss ≥ 10 × pretraining's last"),
    Claim("default.merge", "The merged model W + ΔW gives the same outputs up to float32 rounding.", "default",
          lambda o: o["merge_diff"], lambda o: o["merge_ok"], unit="sci",
          condition="max |merged − unmerged| ≤ 1e-6 × the largest output"),

    # ---- the presets' lessons
    Claim("seed.lora_target", "The seed article's model (LoRA r=4 on fc1) learns the rotated task.", "preset:seed",
          _lora, lambda o: _lora(o) >= o["acc"]["base_target"] + 0.2, condition="LoRA ≥ base on target + 20 points"),
    Claim("fc1.r1", "LoRA on fc1 at r = 1.", "preset:fc1-rotation", _lora,
          lambda o: _lora(o) >= o["acc"]["base_target"] + 0.2, condition="LoRA ≥ base on target + 20 points"),
    Claim("fc1.r2", "LoRA on fc1 at r = 2 (fc1's full rank).", "preset:fc1-rotation:next", _lora,
          lambda o: _lora(o) >= 0.93, condition="LoRA ≥ 93 %"),
    Claim("fc1.gain", "r = 2 beats r = 1 on fc1.", ("preset:fc1-rotation", "preset:fc1-rotation:next"),
          lambda o: _lora(o["preset:fc1-rotation:next"]) - _lora(o["preset:fc1-rotation"]),
          lambda o: _lora(o["preset:fc1-rotation:next"]) > _lora(o["preset:fc1-rotation"]), unit="pp",
          condition="r = 2 above r = 1"),
    Claim("circles.r1", "A new dataset (circles) at r = 1 on fc2.", "preset:new-dataset", _lora,
          lambda o: _lora(o) > o["acc"]["base_target"], condition="LoRA above the frozen base"),
    Claim("circles.r4", "A new dataset (circles) at r = 4 on fc2.", "preset:new-dataset:next", _lora,
          lambda o: _lora(o) > o["acc"]["base_target"], condition="LoRA above the frozen base"),
    Claim("same.base_target", "On the same task the frozen base already does well.", "preset:same-task",
          acc("base_target"), lambda o: o["acc"]["base_target"] >= 0.93, condition="base on target ≥ 93 %"),
    Claim("same.change", "On the same task LoRA barely changes the accuracy.", "preset:same-task",
          lambda o: abs(_lora(o) - o["acc"]["base_target"]), lambda o: abs(_lora(o) - o["acc"]["base_target"]) <= 0.025,
          unit="pp", condition="|LoRA − base| ≤ 2.5 points"),
    Claim("same.loss_drop", "On the same task LoRA's loss still falls.", "preset:same-task",
          lambda o: o["loss_adapt_start"] / max(o["loss_adapt_end"], 1e-12),
          lambda o: o["loss_adapt_end"] < o["loss_adapt_start"] / 2, unit="x", condition="the loss at least halves"),
    Claim("r48.lora_target", "Above break-even (r = 48 on fc2).", "preset:above-break-even", _lora,
          lambda o: _lora(o) >= o["acc"]["base_target"] + 0.2, condition="LoRA ≥ base on target + 20 points"),
    Claim("r48.no_gain", "r = 48 is at most a little better than the default r = 2.",
          ("preset:above-break-even", "default"),
          lambda o: _lora(o["preset:above-break-even"]) - _lora(o["default"]),
          lambda o: _lora(o["preset:above-break-even"]) <= _lora(o["default"]) + 0.025, unit="pp",
          condition="r = 48 at most 2.5 points above r = 2"),

    # ---- the Insights tab's captions
    Claim("methods.adapter_lr", "The Adapter needs a large learning rate: at the smallest it falls far below its best.",
          "insights", lambda o: _spread(o, "adapter", low=True), lambda o: _spread(o, "adapter", low=True) >= 0.10,
          unit="pp", condition="Adapter at the smallest rate ≥ 10 points below its best"),
    Claim("methods.lora_steady", "LoRA's accuracy moves less with the learning rate than the Adapter's.", "insights",
          lambda o: _spread(o, "lora"), lambda o: _spread(o, "lora") < _spread(o, "adapter"), unit="pp",
          condition="LoRA's best − worst over the rates below the Adapter's"),
    Claim("methods.lora_vs_adapter", "At the run's learning rate LoRA does at least as well as the Adapter.",
          "insights",
          lambda o: o["methods"]["lora"]["acc_at_run_lr"] - o["methods"]["adapter"]["acc_at_run_lr"],
          lambda o: o["methods"]["lora"]["acc_at_run_lr"] >= o["methods"]["adapter"]["acc_at_run_lr"], unit="pp",
          condition="LoRA ≥ Adapter at the run's rate"),
    Claim("alpha.fixed", "With α fixed (α/r), the larger rank gains little speed.", "insights",
          lambda o: _early(o, "fixed"), lambda o: _early(o, "fixed") >= 0.5, unit="x",
          condition="loss at step 30: r = 16 at least half of r = 1"),
    Claim("alpha.rslora", "With rsLoRA (α/√r), the larger rank learns much faster.", "insights",
          lambda o: _early(o, "rslora"), lambda o: _early(o, "rslora") < 0.8, unit="x",
          condition="loss at step 30: r = 16 below 0.8 × r = 1"),
    Claim("alpha.contrast", "rsLoRA's larger rank is ahead by more than α fixed's.", "insights",
          lambda o: _early(o, "fixed") / _early(o, "rslora"), lambda o: _early(o, "rslora") < _early(o, "fixed"),
          unit="x", condition="the r = 16 / r = 1 loss ratio lower under rsLoRA than under α fixed"),
    Claim("delta.full", "Full fine-tuning's change to fc2 has a low effective rank.", "insights",
          lambda o: o["delta"]["fc2"]["full"], lambda o: o["delta"]["fc2"]["full"] <= o["delta"]["fc2"]["random"] / 3,
          unit="n", condition="effective rank (90 % of Σσ²) ≤ a third of a random matrix's"),
    Claim("delta.random", "A random 64 × 64 matrix of the same size has a high effective rank.", "insights",
          lambda o: o["delta"]["fc2"]["random"], lambda o: o["delta"]["fc2"]["random"] >= 20, unit="n",
          condition="effective rank ≥ 20"),
    Claim("merge.bf16", "Merging in bfloat16 changes them far more.", "insights",
          lambda o: o["merge"]["bf16"], lambda o: o["merge"]["bf16"] >= 100 * max(o["merge"]["f32"], 1e-8), unit="sci",
          condition="≥ 100 × the float32 difference"),
    Claim("library.own_task", "Each adapter in the library is the best adapter for its own task.", "insights",
          _library_diagonal, _library_own_task_is_best, condition="own-task accuracy is the column's best"),
]

NAMES = {c.name for c in CLAIMS}
