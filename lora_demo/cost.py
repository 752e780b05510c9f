"""What a piece of work costs before it runs: seconds of one CPU core, counted from the training loops
the work will really run (every model, every step), so that a shared server can refuse, up front and
with a reason, what would not finish within its time cap.

The two constants are measured by `python -m bench.cost`, which also prints predicted against measured
seconds for a spread of settings. No torch, no gradio.
"""
from __future__ import annotations

from .config import RunConfig

STEP_OVERHEAD_S = 5.0e-4   # Python, autograd and Adam bookkeeping of one full-batch step, any size
SECONDS_PER_MAC = 5.5e-11  # one multiply-add of a forward pass (a step is about 3: forward and backward)
GRID_POINTS = 100 * 100    # one picture of the decision field


def layer_sizes(cfg: RunConfig, n_classes: int | None = None) -> list[int]:
    return [2] + [cfg.model.hidden_size] * cfg.model.hidden_layers + [n_classes or cfg.data.n_classes]


def macs_per_sample(cfg: RunConfig) -> int:
    sizes = layer_sizes(cfg, 5)  # the most classes any dataset gives: never under-estimate
    return sum(a * b for a, b in zip(sizes, sizes[1:]))


def n_train(cfg: RunConfig) -> int:
    return cfg.data.n_samples - int(cfg.data.n_samples * cfg.data.test_fraction)


def training_seconds(cfg: RunConfig, steps: int, models: int = 1) -> float:
    """`models` networks of cfg's shape, full batch, for `steps` Adam steps (batched models share the overhead)."""
    return steps * (STEP_OVERHEAD_S + 3 * models * n_train(cfg) * macs_per_sample(cfg) * SECONDS_PER_MAC)


def forward_seconds(cfg: RunConfig, points: int) -> float:
    return points * macs_per_sample(cfg) * SECONDS_PER_MAC


def run_seconds(cfg: RunConfig, snapshots: int = 20) -> float:
    """The Train tab's run: pretraining, adaptation, and a grid picture per snapshot."""
    t = cfg.train
    return training_seconds(cfg, t.pretrain_steps + t.adapt_steps) + forward_seconds(cfg, snapshots * GRID_POINTS)


def insights_seconds(cfg: RunConfig, lr_factors: int = 4, sweep_ranks: int = 7, alpha_runs: int = 9,
                     strengths: int = 21) -> float:
    """Every training of the Insights tab: the base; full FT, Adapter and LoRA at each learning rate; the rank
    sweep and the α explorer (K models in one loop); ΔW's extra fits; memory; the strength pictures."""
    t = cfg.train
    return (training_seconds(cfg, t.pretrain_steps)
            + 3 * lr_factors * training_seconds(cfg, t.adapt_steps)
            + training_seconds(cfg, t.adapt_steps, models=sweep_ranks)
            + training_seconds(cfg, t.adapt_steps, models=alpha_runs)
            + 2 * training_seconds(cfg, t.adapt_steps)
            + forward_seconds(cfg, (strengths + 6) * GRID_POINTS))


def race_seconds(cfg: RunConfig, variants: int = 6) -> float:
    """The variants race: the base, then each variant's training (DoRA's norm makes its steps dearer: 1.5×)."""
    t = cfg.train
    return (training_seconds(cfg, t.pretrain_steps) + (variants + 0.5) * training_seconds(cfg, t.adapt_steps)
            + forward_seconds(cfg, (variants + 2) * GRID_POINTS))


def library_seconds(cfg: RunConfig, adapters: int = 4, mixes: int = 11) -> float:
    """The adapter library: the base, one adapter per task, and every picture the switch and mix carry."""
    t = cfg.train
    return (training_seconds(cfg, t.pretrain_steps) + adapters * training_seconds(cfg, t.adapt_steps)
            + forward_seconds(cfg, (adapters + mixes + 2) * GRID_POINTS))
