"""The experiments behind the claims, each a function of a seed that runs the app's own code and returns
plain numbers. A scenario runs once per seed however many claims read it.

- runs: the Train tab's run on the default settings and on each preset (and each preset's follow-up);
- insights: the Insights panels (methods at several learning rates, α explorer, ΔW, merge), the
  variants race and the adapter library, all on one frozen base of the default settings.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..config import RunConfig


def with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    return replace(cfg, data=replace(cfg.data, seed=seed))


def run_outcome(cfg: RunConfig) -> dict:
    """One Train-tab run: accuracies, counts and the loss around the phase change."""
    from ..engine import train
    snap = train(cfg, grid_size=2)
    r = snap.result
    adapt = snap.curves["adapt/train"][1]
    pre = snap.curves["pretrain/train"][1]
    return {"acc": dict(r.accuracy), "trainable": r.params["lora"]["trainable"], "adapted": r.adapted_weights,
            "loss_pretrain_end": float(pre[-1]), "loss_adapt_start": float(adapt[0]),
            "loss_adapt_end": float(adapt[-1]), "merge_diff": r.merge_max_abs_diff, "merge_ok": r.merge_ok,
            "base_unchanged": r.base_unchanged}


def preset_run(key: str, follow_up: bool = False):
    def scenario(seed: int) -> dict:
        from ..presets import PRESETS
        p = PRESETS[key]
        return run_outcome(with_seed(p.follow_up_config() if follow_up else p.config(), seed))
    return scenario


def insights_outcome(seed: int) -> dict:
    """Every insight panel that a caption speaks about, on the default settings' frozen base."""
    from ..insights.alpha import EARLY_STEP, explore_alpha
    from ..insights.baselines import compare
    from ..insights.common import frozen_base, train_method
    from ..insights.delta import delta_panel
    from ..insights.library import build_library
    from ..insights.merge import merge_lab
    from ..insights.race import race
    fb = frozen_base(with_seed(RunConfig(), seed), grid_size=2)
    b = compare(fb)
    alpha = explore_alpha(fb)
    early = {(r.setting, r.rank): r.loss_at(EARLY_STEP) for r in alpha.runs}
    delta = delta_panel(fb, b.lora_model, b.at_run_lr["full_finetune"])
    merge = merge_lab(b.lora_model, fb.target.X_test, base=fb.base, repeats=1)
    lib = build_library(fb)
    rc = race(fb)
    _, base_again = train_method(fb, "lora")
    return {
        "methods": {k: {"best_lr": b.best_lr(k), "acc_at_run_lr": b.at_run_lr[k].accuracy,
                        "best_acc": max(r.accuracy for r in b.by_lr[k]),
                        "trainable": b.at_run_lr[k].params.trainable,
                        "by_lr": [(r.lr, r.accuracy) for r in b.by_lr[k]]} for k in b.by_lr},
        "alpha": early,
        "delta": {name: {"full": ins.full_effective_rank, "random": ins.random_effective_rank,
                         "lora": ins.effective_rank, "size": min(ins.delta_weight.shape)}
                  for name, ins in delta.layers.items()},
        "merge": {"f32": merge.max_abs_diff_float32, "bf16": merge.max_abs_diff_bfloat16,
                  "bf16_unmerged": merge.max_abs_diff_bfloat16_unmerged},
        "library": {"names": [a.name for a in lib.adapters], "matrix": np.asarray(lib.accuracy).tolist()},
        "race": {e.key: {"acc": e.accuracy, "trainable": e.params.trainable, "off_source": e.off_source_accuracy}
                 for e in rc.entries},
        "lora_acc": base_again.accuracy,
    }


def scenarios() -> dict:
    """name -> seed -> outcome: the default run, the insights, and a run per preset and per follow-up."""
    from ..presets import PRESETS
    out = {"default": lambda seed: run_outcome(with_seed(RunConfig(), seed)), "insights": insights_outcome}
    for key, p in PRESETS.items():
        out[f"preset:{key}"] = preset_run(key)
        if p.follow_up is not None:
            out[f"preset:{key}:next"] = preset_run(key, follow_up=True)
    return out
