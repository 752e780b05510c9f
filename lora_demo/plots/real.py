"""Figures and the table of the "From toy to real" panel, from lora_demo.real_models.table rows.

Plain dicts (see plots.style); no torch, no gradio. Both charts use log scales: the models span three orders
of magnitude, and LoRA's share is a fraction of a percent to a few percent.
"""
from __future__ import annotations

import numpy as np

from ..real_models import GB, PARTS, SETUPS
from ..text import t
from .style import GRID, METHOD_COLOURS, MUTED, figure, layout

SETUP_COLOURS = {"full_finetune": METHOD_COLOURS["full_finetune"], "lora": METHOD_COLOURS["lora"],
                 "qlora": "#7c3aed"}
BASE_COLOUR = "#d1d5db"


def compact(n: float) -> str:
    """1234567 -> "1.23M": the notation model names use (8B, 0.5B), so it reads the same in both languages."""
    for scale, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}"


def _gb(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def _two_lines(name: str) -> str:
    """A tick label on two lines (at its last space), so seven models fit side by side without tilting."""
    head, _, tail = name.rpartition(" ")
    return f"{head}<br>{tail}" if head else name


def _title_args(rank: int, target: str, lang: str) -> dict:
    return dict(rank=rank, target=t(lang, "real_target_" + target))


def share_figure(rows, rank: int, target: str, lang: str = "en", height: int = 360) -> dict:
    """Per model, the base's parameters and LoRA's trainable ones on a log axis, the share as text."""
    names = [r.model.name for r in rows]
    base = np.array([r.base for r in rows], dtype=np.float64)
    trainable = np.array([r.trainable for r in rows], dtype=np.float64)
    bar = dict(type="bar", orientation="h", y=names, cliponaxis=False, textfont=dict(size=11))
    data = [dict(bar, x=base, name=t(lang, "real_base"), marker=dict(color=BASE_COLOUR), textposition="outside",
                 text=[compact(v) for v in base], customdata=[f"{r.base:,}" for r in rows],
                 hovertemplate="%{y}<br>%{customdata}<extra>" + t(lang, "real_base") + "</extra>"),
            dict(bar, x=trainable, name=t(lang, "real_trainable"), marker=dict(color=METHOD_COLOURS["lora"]),
                 textposition="outside", text=[f"{compact(r.trainable)} · {r.share:.2f}%" for r in rows],
                 customdata=[f"{r.trainable:,}" for r in rows],
                 hovertemplate="%{y}<br>%{customdata}<extra>" + t(lang, "real_trainable") + "</extra>")]
    lo = float(np.log10(trainable.min())) - 0.5
    hi = float(np.log10(base.max())) + 1.0  # room for the text beyond the longest bar
    return figure(data, layout(
        t(lang, "real_params_title", **_title_args(rank, target, lang)), height, barmode="group", bargap=0.25,
        margin=dict(l=120, r=16, t=36, b=64), legend=dict(orientation="h", y=-0.12, x=0),
        xaxis=dict(type="log", range=[lo, hi], dtick=1, showgrid=True, gridcolor=GRID),
        yaxis=dict(autorange="reversed", automargin=True)))


def memory_figure(rows, rank: int, target: str, lang: str = "en", height: int = 400) -> dict:
    """Per model, total GB of weights, gradients and Adam state for each set-up (log axis); the hover splits
    each total into its three parts. A note under the title says activations are left out."""
    names = [_two_lines(r.model.name) for r in rows]
    part_names = [t(lang, "real_" + p) for p in PARTS]
    data = []
    for setup in SETUPS:
        label = t(lang, "real_setup_" + setup)
        totals = np.array([r.total(setup) / GB for r in rows])
        parts = np.array([[r.memory[setup][p] / GB for p in PARTS] for r in rows])
        hover = "<br>".join(f"{name} %{{customdata[{i}]:.3g}} GB" for i, name in enumerate(part_names))
        data.append(dict(type="bar", x=names, y=totals, name=label, customdata=parts,
                         marker=dict(color=SETUP_COLOURS[setup]), text=[_gb(v) for v in totals],
                         textposition="outside", cliponaxis=False, textfont=dict(size=10),
                         hovertemplate="%{x}<br>" + t(lang, "real_total") + " %{y:.3g} GB<br>" + hover
                                       + "<extra>" + label + "</extra>"))
    every = np.concatenate([d["y"] for d in data]) if data else np.ones(1)
    note = dict(x=1, y=1, xref="paper", yref="paper", xanchor="right", yanchor="bottom", showarrow=False,
                text=t(lang, "real_no_activations"), font=dict(size=11, color=MUTED))
    return figure(data, layout(
        t(lang, "real_memory_title", **_title_args(rank, target, lang)), height, barmode="group", bargap=0.2,
        annotations=[note], margin=dict(l=60, r=12, t=52, b=90), legend=dict(orientation="h", y=-0.22, x=0),
        uniformtext=dict(minsize=9, mode="show"),
        yaxis=dict(type="log", dtick=1, showgrid=True, gridcolor=GRID, title=dict(text=t(lang, "real_memory_axis")),
                   range=[float(np.log10(every.min())) - 0.3, float(np.log10(every.max())) + 0.5]),
        xaxis=dict(showgrid=False, tickangle=0)))


def table_rows(rows, lang: str = "en") -> tuple[list[str], list[list]]:
    """Headers and rows of the exact numbers behind both charts, for a gr.Dataframe or a Markdown table."""
    headers = [t(lang, "real_col_" + c) for c in ("model", "kind", "base", "trainable", "share")]
    headers += [t(lang, "real_col_" + s) for s in SETUPS]
    body = [[r.model.name, t(lang, "real_family_" + r.model.family), f"{r.base:,}", f"{r.trainable:,}",
             f"{r.share:.3f}"] + [f"{r.total(s) / GB:.2f}" for s in SETUPS] for r in rows]
    return headers, body
