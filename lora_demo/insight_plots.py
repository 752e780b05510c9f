"""Figures for the Insights tab: rank sweep, ΔW inspector, α explorer, memory. No torch, no gradio.

Inputs are the frozen results of lora_demo.insights; each figure is one dict validated once.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .plots import GRID, PHASE_COLOURS, _layout
from .text import t

METHOD_COLOURS = {"full_finetune": "#6b7280", "adapter": "#0ea5e9", "lora": PHASE_COLOURS["adapt"]}
RANK_COLOURS = ["#d946ef", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#6366f1", "#84cc16"]


def sweep_figure(sweep, full_accuracy: float, full_params: int, lang: str = "en", height: int = 340) -> go.Figure:
    """Target accuracy against trainable parameters, one point per rank; full fine-tuning as a reference."""
    pts = sweep.points
    x = [p.trainable for p in pts]
    per_rank = x[0] // pts[0].rank  # Σ (d_in + d_out): trainable parameters per unit of rank
    data = [dict(type="scatter", x=x, y=[100 * p.accuracy for p in pts], mode="lines+markers+text",
                 text=[f"r={p.rank}" for p in pts], textposition="top center", name="LoRA",
                 line=dict(color=METHOD_COLOURS["lora"], width=2), marker=dict(size=8),
                 hovertemplate="r=%{text}<br>%{x:,} trainable<br>%{y:.1f}%<extra></extra>"),
            dict(type="scatter", x=[full_params], y=[100 * full_accuracy], mode="markers+text",
                 text=[t(lang, "m_full")], textposition="bottom center", name=t(lang, "m_full"),
                 marker=dict(size=10, symbol="diamond", color=METHOD_COLOURS["full_finetune"]))]
    be = sweep.break_even_rank * per_rank
    mu = sweep.max_useful_rank * per_rank
    shapes = [dict(type="line", xref="x", yref="paper", x0=v, x1=v, y0=0, y1=1, line=dict(color=c, dash=d, width=1))
              for v, c, d in ((be, "#ef4444", "dash"), (mu, "#6b7280", "dot"))]
    shapes.append(dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=100 * full_accuracy,
                       y1=100 * full_accuracy, line=dict(color=METHOD_COLOURS["full_finetune"], dash="dot", width=1)))
    notes = [dict(x=np.log10(be), y=0.02, xref="x", yref="paper", showarrow=False, xanchor="left", yanchor="bottom",
                  text=t(lang, "break_even_mark", r=sweep.break_even_rank), font=dict(size=11, color="#ef4444")),
             dict(x=np.log10(mu), y=0.12, xref="x", yref="paper", showarrow=False, xanchor="left", yanchor="bottom",
                  text=t(lang, "useful_mark", r=sweep.max_useful_rank), font=dict(size=11, color="#6b7280"))]
    lo = min(x + [full_params]) / 2
    hi = max(x + [full_params, be, mu]) * 2
    return go.Figure(dict(data=data, layout=_layout(
        t(lang, "sweep_title"), height, shapes=shapes, annotations=notes, showlegend=False,
        xaxis=dict(type="log", range=[np.log10(lo), np.log10(hi)], title=dict(text=t(lang, "trainable")),
                   showgrid=True, gridcolor=GRID, dtick="D2"),
        yaxis=dict(range=[0, 105], title=dict(text=t(lang, "accuracy_pct")), showgrid=True, gridcolor=GRID),
        margin=dict(l=54, r=16, t=36, b=48))))


def _heat(z: np.ndarray, xaxis: str, yaxis: str, scale: float) -> dict:
    return dict(type="heatmap", z=z.astype(np.float32), xaxis=xaxis, yaxis=yaxis, colorscale="RdBu",
                zmin=-scale, zmax=scale, showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>")


def delta_figure(inspections: dict, lang: str = "en") -> go.Figure:
    """Per adapted layer: A, B, ΔW = scaling·B·A as heatmaps, and the singular values of ΔW
    beside those of full fine-tuning's change to the same layer."""
    rows = list(inspections.values())
    n = len(rows)
    data, layout = [], {}
    gap = 0.08 / max(n, 1)
    h = (1 - gap * (n - 1)) / n
    annotations = []
    for i, ins in enumerate(rows):
        y1 = 1 - i * (h + gap)
        y0 = y1 - h
        k = 4 * i
        cols = [(0.0, 0.14), (0.18, 0.36), (0.40, 0.62), (0.70, 1.0)]
        for j, (x0, x1) in enumerate(cols):
            layout[f"xaxis{k + j + 1}"] = dict(domain=[x0, x1], anchor=f"y{k + j + 1}", showgrid=False,
                                                zeroline=False, showticklabels=j == 3)
            layout[f"yaxis{k + j + 1}"] = dict(domain=[y0, y1], anchor=f"x{k + j + 1}", showgrid=j == 3,
                                                gridcolor=GRID, zeroline=False, autorange="reversed" if j < 3 else None,
                                                showticklabels=j == 3)
        def ax(j: int, k: int = k) -> tuple[str, str]:
            return f"x{k + j + 1}", f"y{k + j + 1}"
        ab = max(float(np.abs(ins.A).max()), float(np.abs(ins.B).max()), 1e-12)
        data.append(_heat(ins.A, *ax(0), ab))
        data.append(_heat(ins.B, *ax(1), ab))
        data.append(_heat(ins.delta_weight, *ax(2), max(float(np.abs(ins.delta_weight).max()), 1e-12)))
        s = ins.singular_values
        idx = np.arange(1, len(s) + 1)
        data.append(dict(type="bar", x=idx, y=np.maximum(s, 1e-12), xaxis=ax(3)[0], yaxis=ax(3)[1],
                         name=f"LoRA ΔW (eff. rank {ins.effective_rank})", marker=dict(color=METHOD_COLOURS["lora"]),
                         showlegend=i == 0, legendgroup="lora"))
        if ins.full_singular_values is not None:
            sf = ins.full_singular_values
            data.append(dict(type="bar", x=np.arange(1, len(sf) + 1), y=np.maximum(sf, 1e-12), xaxis=ax(3)[0],
                             yaxis=ax(3)[1], name=t(lang, "m_full") + " ΔW",
                             marker=dict(color=METHOD_COLOURS["full_finetune"]), showlegend=i == 0,
                             legendgroup="full"))
        layout[f"yaxis{k + 4}"].update(type="log", dtick=1, exponentformat="power")
        full_txt = "" if ins.full_effective_rank is None else t(lang, "full_eff", r=ins.full_effective_rank)
        titles = [f"<b>{ins.layer}</b> A ({ins.A.shape[0]}×{ins.A.shape[1]})",
                  f"B ({ins.B.shape[0]}×{ins.B.shape[1]})",
                  f"ΔW = {ins.scaling:.3g}·B·A ({ins.delta_weight.shape[0]}×{ins.delta_weight.shape[1]})",
                  t(lang, "sv_title", r=ins.effective_rank) + full_txt]
        for j, title in enumerate(titles):
            x0, x1 = cols[j]
            annotations.append(dict(x=x0, y=y1, xref="paper", yref="paper", text=title, showarrow=False,
                                    xanchor="left", yanchor="bottom", font=dict(size=11)))
    return go.Figure(dict(data=data, layout=_layout(
        t(lang, "delta_title"), 90 + 240 * n, annotations=annotations, barmode="group",
        margin=dict(l=30, r=16, t=56, b=36), legend=dict(orientation="h", x=0.7, y=-0.06 if n == 1 else -0.02),
        **layout)))


ALPHA_ORDER = ("fixed", "alpha_equals_rank", "rslora")


def alpha_figure(runs, lang: str = "en", height: int = 320) -> go.Figure:
    """Loss curves for a few ranks under three α rules, one panel per rule, effective scaling in the legend."""
    ranks = sorted({r.rank for r in runs})
    data, layout, notes = [], {}, []
    for j, setting in enumerate(ALPHA_ORDER):
        x0, x1 = j / 3 + 0.02, (j + 1) / 3 - 0.03
        layout[f"xaxis{j + 1}"] = dict(domain=[x0, x1], anchor=f"y{j + 1}", showgrid=False, rangemode="tozero")
        layout[f"yaxis{j + 1}"] = dict(anchor=f"x{j + 1}", type="log", showgrid=True, gridcolor=GRID, dtick=1,
                                       matches="y1" if j else None)
        notes.append(dict(x=x0, y=1.0, xref="paper", yref="paper", yanchor="bottom", xanchor="left",
                          showarrow=False, text=f"<b>{t(lang, 'alpha_' + setting)}</b>", font=dict(size=12)))
        for run in (r for r in runs if r.setting == setting):
            c = RANK_COLOURS[ranks.index(run.rank) % len(RANK_COLOURS)]
            curve = run.loss_curve[np.isfinite(run.loss_curve)]
            data.append(dict(type="scatter", x=np.arange(len(curve), dtype=np.float32), y=curve.astype(np.float32),
                             mode="lines", xaxis=f"x{j + 1}", yaxis=f"y{j + 1}", line=dict(color=c, width=2),
                             name=f"r={run.rank}: α={run.alpha:g}, ×{run.scaling:.3g} → {100 * run.accuracy:.0f}%",
                             hovertemplate=f"r={run.rank}, scaling {run.scaling:.3g}<br>step %{{x}}<br>"
                                           "loss %{y:.4f}<extra></extra>"))
    return go.Figure(dict(data=data, layout=_layout(
        t(lang, "alpha_title"), height, annotations=notes, margin=dict(l=44, r=12, t=56, b=110),
        legend=dict(orientation="h", y=-0.15, x=0, font=dict(size=11)), **layout)))


def memory_figure(memory, lang: str = "en", height: int = 300) -> go.Figure:
    """Bytes of weights, gradients and Adam state, full fine-tuning vs LoRA, from the real tensors."""
    parts = ("weights", "gradients", "optimizer_state")
    names = [t(lang, "mem_" + p) for p in parts]
    data = []
    for key, label, colour in (("full_finetune", t(lang, "m_full"), METHOD_COLOURS["full_finetune"]),
                               ("lora", "LoRA", METHOD_COLOURS["lora"])):
        use = getattr(memory, key)
        values = [getattr(use, p) for p in parts]
        data.append(dict(type="bar", x=names, y=values, name=f"{label}: {use.total / 1024:.1f} KiB",
                         marker=dict(color=colour), text=[f"{v / 1024:.1f} KiB" for v in values],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="%{x}: %{y:,} bytes<extra>" + label + "</extra>"))
    return go.Figure(dict(data=data, layout=_layout(
        t(lang, "mem_title"), height, barmode="group", margin=dict(l=54, r=12, t=36, b=60),
        yaxis=dict(title=dict(text="bytes"), showgrid=True, gridcolor=GRID, rangemode="tozero"),
        legend=dict(orientation="h", y=-0.2, x=0))))


def strength_figure(ticks, target, strengths, lang: str = "en", height: int = 380) -> go.Figure:
    """The LoRA boundary with the adapter scaled by a strength, chosen by a slider inside the figure.

    Every strength's picture travels with the figure, so moving the slider needs no server and no retraining."""
    from .plots import boundary_figure, probability_image
    by_s = dict(strengths)
    start = 1.0 if 1.0 in by_s else strengths[0][0]
    fig = boundary_figure(ticks, by_s[start], target, t(lang, "strength_plot", s=start), height=height)
    steps = [dict(method="update", label=f"{s:g}",
                  args=[{"source": [probability_image(p)]}, {"title.text": t(lang, "strength_plot", s=s)}, [0]])
             for s, p in strengths]
    fig.update_layout(sliders=[dict(active=[s for s, _ in strengths].index(start), steps=steps, pad=dict(t=30),
                                    currentvalue=dict(prefix=t(lang, "strength") + ": ", font=dict(size=12)),
                                    len=1.0, x=0, font=dict(size=10))],
                      margin=dict(l=36, r=8, t=36, b=90))
    return fig
