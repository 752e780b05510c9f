"""Figures and the results table of the variants race, from the frozen numbers of insights.race.Race.

Plain dicts (see plots.style); no torch, no gradio. The boundaries are one figure with a small subplot per
variant, so the panel is one plot however many variants race.
"""
from __future__ import annotations

import numpy as np

from ..text import t
from .run import boundary_figure, thin
from .style import GRID, METHOD_COLOURS, MUTED, axis, figure, layout

# names of the variants: the same in every language, so they are not text keys
NAMES = {"lora": "LoRA", "rslora": "rsLoRA", "dora": "DoRA", "pissa": "PiSSA", "olora": "OLoRA", "loraplus": "LoRA+"}
PART_COLOURS = {"ab": "#94a3b8", "magnitude": METHOD_COLOURS["dora"], "target": "#0ea5e9", "source_off": "#d1d5db"}


def label(key: str, race=None) -> str:
    """The variant's name; LoRA+ with its learning-rate ratio λ when the race is given."""
    name = NAMES.get(key, key)
    return f"{name} (λ={race.loraplus_ratio:g})" if key == "loraplus" and race is not None else name


def boundaries_figure(race, ticks: np.ndarray, target, lang: str = "en", columns: int = 3,
                      panel_height: int = 230) -> dict:
    """One subplot per variant: its class field on the target with the target's points, accuracy in the title.

    Each panel is plots.run.boundary_figure's figure, moved onto its own pair of axes."""
    n = len(race.entries)
    rows = -(-n // columns)
    gap_x, gap_y = 0.04, 0.12 / rows
    width, height = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    data, axes, notes = [], {}, []
    for i, e in enumerate(race.entries):
        row, col = divmod(i, columns)
        x0, y1 = col * (width + gap_x), 1 - row * (height + gap_y)
        panel = boundary_figure(ticks, e.probs, target, label(e.key, race), e.accuracy)
        (xn, xr), (yn, yr) = axis("x", i + 1), axis("y", i + 1)
        axes[xn] = dict(panel["layout"]["xaxis"], domain=[x0, x0 + width], anchor=yr, showticklabels=False,
                        ticks="")
        axes[yn] = dict(panel["layout"]["yaxis"], domain=[y1 - height, y1], anchor=xr, scaleanchor=xr,
                        showticklabels=False, ticks="")
        data += [dict(trace, xaxis=xr, yaxis=yr) for trace in panel["data"]]
        notes.append(dict(x=x0, y=y1, xref="paper", yref="paper", xanchor="left", yanchor="bottom",
                          showarrow=False, text=panel["layout"]["title"]["text"], font=dict(size=12)))
    return figure(data, layout(t(lang, "race_boundaries_title", steps=race.steps), 40 + rows * (panel_height + 30),
                               annotations=notes, showlegend=False, margin=dict(l=8, r=8, t=56, b=8), **axes))


def loss_figure(race, lang: str = "en", height: int = 320) -> dict:
    """Training loss before each update, one line per variant, log scale."""
    data = []
    for e in race.entries:
        curve = np.asarray(e.loss_curve, dtype=np.float64)
        pts = thin(np.vstack([np.arange(len(curve), dtype=np.float64), curve]))
        name = label(e.key, race)
        data.append(dict(type="scatter", x=pts[0].astype(np.float32), y=np.maximum(pts[1], 1e-6).astype(np.float32),
                         mode="lines", name=name, line=dict(color=METHOD_COLOURS[e.key], width=2),
                         hovertemplate="step %{x}<br>loss %{y:.4f}<extra>" + name + "</extra>"))
    return figure(data, layout(
        t(lang, "race_loss_title"), height, margin=dict(l=54, r=12, t=36, b=96),
        legend=dict(orientation="h", y=-0.3, x=0),
        xaxis=dict(title=dict(text=t(lang, "race_step_axis")), showgrid=False, rangemode="tozero"),
        yaxis=dict(title=dict(text=t(lang, "race_loss_axis")), type="log", dtick=1, showgrid=True, gridcolor=GRID)))


def summary_figure(race, lang: str = "en") -> dict:
    """Left: trainable numbers per variant, DoRA's magnitudes stacked on its A and B. Right: target accuracy
    with the adapter on, and source accuracy with it off (the dotted line: the pretrained base)."""
    names = [label(e.key, race) for e in race.entries]
    magnitudes = [max(e.extra, 0) for e in race.entries]
    ab = [e.params.trainable - m for e, m in zip(race.entries, magnitudes)]
    (x1, x1r), (y1, y1r), (x2, x2r), (y2, y2r) = axis("x", 1), axis("y", 1), axis("x", 2), axis("y", 2)
    bar = dict(type="bar", orientation="h", y=names, cliponaxis=False)
    # the magnitudes start where A and B end (base=…): a stack that needs no stacking bar mode, so the
    # accuracy bars on the right can stand side by side
    data = [dict(bar, x=np.array(ab), xaxis=x1r, yaxis=y1r, name=t(lang, "race_part_ab"), offsetgroup="count",
                 marker=dict(color=PART_COLOURS["ab"]), hovertemplate="%{y}: %{x:,}<extra></extra>"),
            dict(bar, x=np.array(magnitudes), base=np.array(ab), xaxis=x1r, yaxis=y1r, offsetgroup="count",
                 name=t(lang, "race_part_magnitude"),
                 marker=dict(color=PART_COLOURS["magnitude"]),
                 text=[f"{e.params.trainable:,}" for e in race.entries], textposition="outside",
                 hovertemplate="%{y}: +%{x:,}<extra></extra>"),
            dict(bar, x=np.array([100 * e.accuracy for e in race.entries]), xaxis=x2r, yaxis=y2r,
                 name=t(lang, "race_acc_target"), marker=dict(color=PART_COLOURS["target"]),
                 offsetgroup="target", hovertemplate="%{y}: %{x:.1f}%<extra></extra>"),
            dict(bar, x=np.array([100 * e.off_source_accuracy for e in race.entries]), xaxis=x2r, yaxis=y2r,
                 name=t(lang, "race_acc_source_off"), marker=dict(color=PART_COLOURS["source_off"]),
                 offsetgroup="source", hovertemplate="%{y}: %{x:.1f}%<extra></extra>")]
    base = 100 * race.base_source_accuracy
    line = dict(type="line", xref=x2r, yref="paper", x0=base, x1=base, y0=0, y1=1,
                line=dict(color=MUTED, dash="dot", width=1))
    top = max(e.params.trainable for e in race.entries)
    axes = {x1: dict(domain=[0, 0.42], anchor=y1r, range=[0, 1.25 * top], showgrid=True, gridcolor=GRID,
                     title=dict(text=t(lang, "race_trainable_axis"))),
            y1: dict(anchor=x1r, autorange="reversed"),
            x2: dict(domain=[0.58, 1], anchor=y2r, range=[0, 105], showgrid=True, gridcolor=GRID,
                     title=dict(text=t(lang, "race_accuracy_axis"))),
            y2: dict(anchor=x2r, autorange="reversed", showticklabels=False)}
    return figure(data, layout(t(lang, "race_summary_title"), 130 + 34 * len(names), barmode="group",
                               shapes=[line], margin=dict(l=110, r=16, t=36, b=90),
                               legend=dict(orientation="h", y=-0.3, x=0), **axes))


def summary_table(race, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """The results table as (headers, rows of strings), one row per variant."""
    headers = [t(lang, "race_col_" + c) for c in ("variant", "trainable", "extra", "target", "loss", "merge",
                                                 "merge_check", "off_means", "off", "changes_base")]
    rows = []
    for e in race.entries:
        extra = "0" if e.extra == 0 else t(lang, "race_extra_more" if e.extra > 0 else "race_extra_fewer",
                                           n=abs(e.extra))
        merge = t(lang, "race_merge_" + e.merge_kind) if e.mergeable else t(lang, "race_cannot_merge")
        check = "—" if e.merge_diff is None else f"{e.merge_diff:.1e}"
        rows.append([label(e.key, race), f"{e.params.trainable:,}", extra, f"{100 * e.accuracy:.1f}%",
                     f"{e.final_train_loss:.4f}", merge, check,
                     t(lang, "race_off_residual" if e.changes_base else "race_off_base"),
                     f"{100 * e.off_source_accuracy:.1f}%", t(lang, "race_yes" if e.changes_base else "race_no")])
    return headers, rows


def notes(race, lang: str = "en") -> list[str]:
    """The sentences the panel owes its reader for these settings: what each variant changes, DoRA's extra
    numbers, any rank limit, the meaning of "adapter off", and rsLoRA = LoRA when the run already uses α/√r."""
    out = [t(lang, "race_what_" + e.key, extra=max(e.extra, 0), ratio=race.loraplus_ratio) for e in race.entries]
    seen = set()
    for e in race.entries:
        for lim in e.rank_limits:
            if lim.layer not in seen:
                seen.add(lim.layer)
                out.append(t(lang, "race_rank_limit", layer=lim.layer, d_in=lim.d_in, d_out=lim.d_out,
                             most=lim.max_rank, rank=lim.rank))
    out.append(t(lang, "race_off_note", base=100 * race.base_source_accuracy))
    if race.use_rslora and {"lora", "rslora"} <= {e.key for e in race.entries}:
        out.append(t(lang, "race_rslora_same"))
    return out
