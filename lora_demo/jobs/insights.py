"""The Insights tab's job: every panel for the current settings, streamed panel by panel as ready-to-send
updates. Runs in a worker process."""
from __future__ import annotations

import time
from typing import Iterator

from .. import insights
from ..config import config_from_flat
from ..fit import Guard
from ..insights.alpha import EARLY_STEP
from ..plots import encode
from ..plots import insights as ins_plots
from ..text import t
from .payload import Plot, Update


def _plot(fig: dict) -> Plot:
    return Plot(encode.dumps(fig))


def methods_table(b, lang: str) -> str:
    """Each method at each learning rate: accuracy, with the method's best rate in bold."""
    lrs = [r.lr for r in next(iter(b.by_lr.values()))]
    head = f"| {t(lang, 'col_method')} | {t(lang, 'col_trainable')} | " + " | ".join(f"lr {x:g}" for x in lrs) + " |"
    rows = [head, "|---|---|" + "---|" * len(lrs)]
    for key, runs in b.by_lr.items():
        best = b.best_lr(key)
        name = ins_plots.method_label(key, lang) + (f" (m={b.adapter_bottleneck})" if key == "adapter" else "")
        cells = [f"**{100 * r.accuracy:.1f}%**" if r.lr == best else f"{100 * r.accuracy:.1f}%" for r in runs]
        rows.append(f"| {name} | {runs[0].params.trainable:,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def merge_table(mg, lang: str) -> str:
    return t(lang, "merge_table", f32=mg.max_abs_diff_float32, bf16=mg.max_abs_diff_bfloat16,
             bf16u=mg.max_abs_diff_bfloat16_unmerged, t_base=mg.seconds_base * 1e6, t_un=mg.seconds_unmerged * 1e6,
             t_m=mg.seconds_merged * 1e6, n=mg.repeats)


def panels(name: str, a, cfg, lang: str) -> dict:
    """The outputs one analysis step fills in."""
    out = {}
    if name == "step_methods":
        b = a.baselines
        figs = ins_plots.method_boundaries(b, a.ticks, a.target, lang)
        out.update(m_full=_plot(figs["full_finetune"]), m_adapter=_plot(figs["adapter"]), m_lora=_plot(figs["lora"]),
                   m_table=methods_table(b, lang),
                   m_params=_plot(ins_plots.method_params_figure(b, a.base_params, cfg.lora.rank, lang)),
                   m_lr=_plot(ins_plots.lr_figure(b, cfg.train.lr, lang)))
    elif name == "step_sweep":
        full = a.baselines.at_run_lr["full_finetune"]
        out["sweep"] = _plot(ins_plots.sweep_figure(a.sweep, full.accuracy, full.params.trainable, lang))
    elif name == "step_alpha":
        out["alpha"] = _plot(ins_plots.alpha_figure(a.alpha.runs, lang, early_step=EARLY_STEP))
    elif name == "step_rest":
        out["delta"] = _plot(ins_plots.delta_figure(a.delta.layers, lang))
        out["strength_plot"] = _plot(ins_plots.strength_figure(a.ticks, a.target, a.strengths, lang))
        out["merge"] = merge_table(a.merge, lang)
        out["memory"] = _plot(ins_plots.memory_figure(a.memory, lang))
    return out


def insights_job(values: dict, lang: str, guard: Guard) -> Iterator[Update]:
    cfg = config_from_flat(values)
    start = time.monotonic()
    steps = insights.STEPS
    for name, a in insights.analyse(cfg, guard):
        out = panels(name, a, cfg, lang)
        i = steps.index(name)
        out["status"] = (t(lang, "insights_busy", what=t(lang, steps[i + 1])) if i + 1 < len(steps)
                         else t(lang, "insights_done", seconds=time.monotonic() - start))
        yield Update(out, progress=(i + 1) / len(steps), final=i + 1 == len(steps))
