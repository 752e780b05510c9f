"""The Insights tab's numbers: one module per panel, each a function of the run's frozen base.

`analyse(cfg)` yields (step, Analysis so far) panel by panel; every panel reuses the run's own
pretrained base and adapter draw, so what it shows is about the Train tab's run. Imports torch, not gradio.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..config import RunConfig
from ..data import Task
from ..fit import UNGUARDED, Guard
from .alpha import AlphaExplorer, explore_alpha
from .baselines import Baselines, compare
from .common import FrozenBase, frozen_base
from .delta import DeltaPanel, delta_panel
from .memory import MemoryComparison, compare_memory
from .merge import MergeReport, merge_lab, strength_series
from .sweep import RankSweep, sweep_ranks

STEPS = ("step_base", "step_methods", "step_sweep", "step_alpha", "step_rest")


@dataclass(frozen=True)
class Analysis:
    """Everything the Insights tab shows for one config; fields fill in as analyse() proceeds."""
    source: Task
    target: Task
    ticks: np.ndarray
    base_params: int = 0
    baselines: Baselines | None = None
    sweep: RankSweep | None = None
    alpha: AlphaExplorer | None = None
    delta: DeltaPanel | None = None
    merge: MergeReport | None = None
    memory: MemoryComparison | None = None
    strengths: tuple = ()         # (strength, (G, G, C) probabilities) with every adapter scaled by strength


def analyse(cfg: RunConfig, guard: Guard = UNGUARDED, grid_size: int = 100):
    """Yield (step name, Analysis so far) for each name in STEPS."""
    from ..methods import count_parameters
    fb: FrozenBase = frozen_base(cfg, guard, grid_size)
    a = Analysis(fb.source, fb.target, fb.ticks, base_params=count_parameters(fb.base).total)
    yield "step_base", a
    base_lines = compare(fb)
    a = replace(a, baselines=base_lines)
    yield "step_methods", a
    a = replace(a, sweep=sweep_ranks(fb))
    yield "step_sweep", a
    a = replace(a, alpha=explore_alpha(fb))
    yield "step_alpha", a
    lora_model = base_lines.lora_model
    a = replace(a, delta=delta_panel(fb, lora_model, base_lines.at_run_lr["full_finetune"]),
                merge=merge_lab(lora_model, fb.target.X_test, base=fb.base),
                strengths=strength_series(lora_model, fb.points), memory=compare_memory(fb))
    yield "step_rest", a
