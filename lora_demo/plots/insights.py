"""Figures for the Insights tab: methods and learning rates, rank sweep, ΔW inspector, α explorer,
memory and the adapter-strength slider. Plain dicts from the frozen results of lora_demo.insights.
No torch, no gradio.
"""
from __future__ import annotations

import numpy as np

from ..text import t
from .run import boundary_figure, params_figure
from .style import GRID, METHOD_COLOURS, MUTED, SERIES_COLOURS, axis, figure, layout, probability_image


def method_label(key: str, lang: str) -> str:
    return {"full_finetune": t(lang, "m_full"), "adapter": t(lang, "m_adapter")}.get(key, "LoRA")


def method_boundaries(baselines, ticks, target, lang: str = "en") -> dict:
    """method -> its boundary on the target at the run's learning rate."""
    return {key: boundary_figure(ticks, r.probs, target, method_label(key, lang), r.accuracy)
            for key, r in baselines.at_run_lr.items()}


def method_params_figure(baselines, base_params: int, rank: int, lang: str = "en") -> dict:
    counts = {"pretrain": {"trainable": base_params, "total": base_params},
              **{k: r.params for k, r in baselines.at_run_lr.items()}}
    labels = {"pretrain": t(lang, "m_pretrain"), "full_finetune": t(lang, "m_full"),
              "adapter": f"{t(lang, 'm_adapter')} m={baselines.adapter_bottleneck}", "lora": f"LoRA r={rank}"}
    return params_figure(counts, labels, lang=lang)


def lr_figure(baselines, run_lr: float, lang: str = "en", height: int = 320) -> dict:
    """Target accuracy against the learning rate, one line per method; the run's rate is marked."""
    data = []
    for key, runs in baselines.by_lr.items():
        data.append(dict(type="scatter", x=[r.lr for r in runs], y=[100 * r.accuracy for r in runs],
                         mode="lines+markers", name=f"{method_label(key, lang)} ({runs[0].params.trainable:,})",
                         line=dict(color=METHOD_COLOURS[key], width=2), marker=dict(size=8),
                         hovertemplate="lr %{x:g}<br>%{y:.1f}%<extra>" + method_label(key, lang) + "</extra>"))
    shape = dict(type="line", xref="x", yref="paper", x0=run_lr, x1=run_lr, y0=0, y1=1,
                 line=dict(color="#9ca3af", dash="dash", width=1))
    note = dict(x=float(np.log10(run_lr)), y=0.02, xref="x", yref="paper", showarrow=False, xanchor="left",
                yanchor="bottom", text=t(lang, "run_lr_mark"), font=dict(size=11, color=MUTED))
    return figure(data, layout(t(lang, "lr_title"), height, shapes=[shape], annotations=[note],
                               xaxis=dict(type="log", title=dict(text=t(lang, "learning_rate")), showgrid=True,
                                          gridcolor=GRID),
                               yaxis=dict(title=dict(text=t(lang, "accuracy_pct")), showgrid=True, gridcolor=GRID),
                               margin=dict(l=54, r=16, t=36, b=90), legend=dict(orientation="h", y=-0.3, x=0)))


def sweep_figure(sweep, full_accuracy: float, full_params: int, lang: str = "en", height: int = 340) -> dict:
    """Target accuracy against trainable parameters, one point per rank; full fine-tuning as a reference."""
    pts = sweep.points
    x = [p.trainable for p in pts]
    per_rank = x[0] // pts[0].rank  # Σ (d_in + d_out): trainable parameters per unit of rank
    data = [dict(type="scatter", x=x, y=[100 * p.accuracy for p in pts], mode="lines+markers+text",
                 text=[f"r={p.rank}" for p in pts], textposition="top center", name="LoRA",
                 line=dict(color=METHOD_COLOURS["lora"], width=2), marker=dict(size=8),
                 hovertemplate="%{text}<br>%{x:,} trainable<br>%{y:.1f}%<extra></extra>"),
            dict(type="scatter", x=[full_params], y=[100 * full_accuracy], mode="markers+text",
                 text=[t(lang, "m_full")], textposition="bottom center", name=t(lang, "m_full"),
                 marker=dict(size=10, symbol="diamond", color=METHOD_COLOURS["full_finetune"]))]
    be = sweep.break_even_rank * per_rank
    mu = sweep.max_useful_rank * per_rank
    shapes = [dict(type="line", xref="x", yref="paper", x0=v, x1=v, y0=0, y1=1, line=dict(color=c, dash=d, width=1))
              for v, c, d in ((be, "#ef4444", "dash"), (mu, MUTED, "dot"))]
    shapes.append(dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=100 * full_accuracy,
                       y1=100 * full_accuracy, line=dict(color=METHOD_COLOURS["full_finetune"], dash="dot", width=1)))
    notes = [dict(x=float(np.log10(be)), y=0.02, xref="x", yref="paper", showarrow=False, xanchor="left",
                  yanchor="bottom", text=t(lang, "break_even_mark", r=sweep.break_even_rank),
                  font=dict(size=11, color="#ef4444")),
             dict(x=float(np.log10(mu)), y=0.12, xref="x", yref="paper", showarrow=False, xanchor="left",
                  yanchor="bottom", text=t(lang, "useful_mark", r=sweep.max_useful_rank),
                  font=dict(size=11, color=MUTED))]
    lo = min(x + [full_params]) / 2
    hi = max(x + [full_params, be, mu]) * 2
    return figure(data, layout(
        t(lang, "sweep_title", layers="+".join(sweep.targets)), height, shapes=shapes, annotations=notes,
        showlegend=False,
        xaxis=dict(type="log", range=[float(np.log10(lo)), float(np.log10(hi))],
                   title=dict(text=t(lang, "trainable")), showgrid=True, gridcolor=GRID, dtick="D2"),
        yaxis=dict(range=[0, 105], title=dict(text=t(lang, "accuracy_pct")), showgrid=True, gridcolor=GRID),
        margin=dict(l=54, r=16, t=36, b=48)))


def _heat(z: np.ndarray, xaxis: str, yaxis: str, scale: float) -> dict:
    return dict(type="heatmap", z=np.asarray(z, dtype=np.float32), xaxis=xaxis, yaxis=yaxis, colorscale="RdBu",
                zmin=-scale, zmax=scale, showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>")


def delta_figure(inspections: dict, lang: str = "en") -> dict:
    """Per adapted layer: A, B, ΔW = scaling·B·A as heatmaps, and the singular values of ΔW beside
    full fine-tuning's change to the same layer and a random matrix of that size."""
    rows = list(inspections.values())
    n = len(rows)
    data, axes, annotations = [], {}, []
    gap = 0.08 / max(n, 1)
    h = (1 - gap * (n - 1)) / n
    cols = [(0.0, 0.12), (0.16, 0.32), (0.36, 0.56), (0.64, 1.0)]
    for i, ins in enumerate(rows):
        y1 = 1 - i * (h + gap)
        y0 = y1 - h
        k = 4 * i
        for j, (x0, x1) in enumerate(cols):
            (xn, xr), (yn, yr) = axis("x", k + j + 1), axis("y", k + j + 1)
            axes[xn] = dict(domain=[x0, x1], anchor=yr, showgrid=False, zeroline=False, showticklabels=j == 3)
            axes[yn] = dict(domain=[y0, y1], anchor=xr, showgrid=j == 3,
                                              gridcolor=GRID, zeroline=False, autorange="reversed" if j < 3 else None,
                                              showticklabels=j == 3)

        def ax(j: int, k: int = k) -> tuple[str, str]:
            return axis("x", k + j + 1)[1], axis("y", k + j + 1)[1]
        ab = max(float(np.abs(ins.A).max()), float(np.abs(ins.B).max()), 1e-12)
        data.append(_heat(ins.A, *ax(0), ab))
        data.append(_heat(ins.B, *ax(1), ab))
        data.append(_heat(ins.delta_weight, *ax(2), max(float(np.abs(ins.delta_weight).max()), 1e-12)))
        spectra = [(ins.singular_values, f"LoRA ΔW (r={ins.rank})", METHOD_COLOURS["lora"], "lora")]
        if ins.full_singular_values is not None:
            spectra += [(ins.full_singular_values, t(lang, "m_full") + " ΔW", METHOD_COLOURS["full_finetune"], "full"),
                        (ins.random_singular_values, t(lang, "random_matrix"), "#cbd5e1", "random")]
        for s, name, colour, group in spectra:
            data.append(dict(type="bar", x=np.arange(1, len(s) + 1), y=np.maximum(s, 1e-12), xaxis=ax(3)[0],
                             yaxis=ax(3)[1], name=name, marker=dict(color=colour), showlegend=i == 0,
                             legendgroup=group))
        axes[axis("y", k + 4)[0]].update(type="log", dtick=1, exponentformat="power")
        ranks = t(lang, "sv_title", r=ins.effective_rank, pct=round(100 * ins.energy))
        if ins.full_effective_rank is not None:
            ranks += t(lang, "full_eff", r=ins.full_effective_rank, rand=ins.random_effective_rank)
        titles = [f"<b>{ins.layer}</b> A ({ins.A.shape[0]}×{ins.A.shape[1]})",
                  f"B ({ins.B.shape[0]}×{ins.B.shape[1]})",
                  f"ΔW = {ins.scaling:.3g}·B·A ({ins.delta_weight.shape[0]}×{ins.delta_weight.shape[1]})", ranks]
        for j, title in enumerate(titles):
            annotations.append(dict(x=cols[j][0], y=y1, xref="paper", yref="paper", text=title, showarrow=False,
                                    xanchor="left", yanchor="bottom", font=dict(size=11)))
    return figure(data, layout(
        t(lang, "delta_title"), 90 + 240 * n, annotations=annotations, barmode="group",
        margin=dict(l=30, r=16, t=56, b=36), legend=dict(orientation="h", x=0.6, y=-0.06 if n == 1 else -0.02),
        **axes))


ALPHA_ORDER = ("fixed", "alpha_equals_rank", "rslora")


def alpha_figure(runs, lang: str = "en", height: int = 320, early_step: int | None = None) -> dict:
    """Loss curves for a few ranks under three α rules, one panel per rule, effective scaling in the legend."""
    ranks = sorted({r.rank for r in runs})
    data, axes, notes = [], {}, []
    for j, setting in enumerate(ALPHA_ORDER):
        x0, x1 = j / 3 + 0.02, (j + 1) / 3 - 0.03
        (xn, xr), (yn, yr) = axis("x", j + 1), axis("y", j + 1)
        axes[xn] = dict(domain=[x0, x1], anchor=yr, showgrid=False, rangemode="tozero")
        axes[yn] = dict(anchor=xr, type="log", showgrid=True, gridcolor=GRID, dtick=1, matches="y" if j else None)
        notes.append(dict(x=x0, y=1.0, xref="paper", yref="paper", yanchor="bottom", xanchor="left",
                          showarrow=False, text=f"<b>{t(lang, 'alpha_' + setting)}</b>", font=dict(size=12)))
        for run in (r for r in runs if r.setting == setting):
            c = SERIES_COLOURS[ranks.index(run.rank) % len(SERIES_COLOURS)]
            curve = np.asarray(run.loss_curve)
            finite = np.isfinite(curve)
            data.append(dict(type="scatter", x=np.arange(len(curve), dtype=np.float32)[finite],
                             y=curve[finite].astype(np.float32), mode="lines", xaxis=xr, yaxis=yr,
                             line=dict(color=c, width=2),
                             name=f"r={run.rank}: α={run.alpha:g}, ×{run.scaling:.3g} → {100 * run.accuracy:.0f}%",
                             hovertemplate=f"r={run.rank}, scaling {run.scaling:.3g}<br>step %{{x}}<br>"
                                           "loss %{y:.4f}<extra></extra>"))
        if early_step is not None:
            axes.setdefault("shapes", []).append(dict(type="line", xref=xr, yref="paper", x0=early_step,
                                                      x1=early_step, y0=0, y1=1,
                                                      line=dict(color="#9ca3af", dash="dot", width=1)))
    shapes = axes.pop("shapes", [])
    return figure(data, layout(t(lang, "alpha_title"), height, annotations=notes, shapes=shapes,
                               margin=dict(l=44, r=12, t=56, b=110),
                               legend=dict(orientation="h", y=-0.15, x=0, font=dict(size=11)), **axes))


def memory_figure(memory, lang: str = "en", height: int = 300) -> dict:
    """Bytes of weights, gradients and Adam state, full fine-tuning vs LoRA, from the real tensors."""
    parts = ("weights", "gradients", "optimizer_state")
    names = [t(lang, "mem_" + p) for p in parts]
    data = []
    for key, label in (("full_finetune", t(lang, "m_full")), ("lora", "LoRA")):
        use = getattr(memory, key)
        values = [getattr(use, p) for p in parts]
        data.append(dict(type="bar", x=names, y=values, name=f"{label}: {use.total / 1024:.1f} KiB",
                         marker=dict(color=METHOD_COLOURS[key]), text=[f"{v / 1024:.1f} KiB" for v in values],
                         textposition="outside", cliponaxis=False,
                         hovertemplate="%{x}: %{y:,} bytes<extra>" + label + "</extra>"))
    return figure(data, layout(t(lang, "mem_title"), height, barmode="group", margin=dict(l=54, r=12, t=36, b=60),
                               yaxis=dict(title=dict(text="bytes"), showgrid=True, gridcolor=GRID, rangemode="tozero"),
                               legend=dict(orientation="h", y=-0.2, x=0)))


def strength_figure(ticks, target, strengths, lang: str = "en", height: int = 380) -> dict:
    """The LoRA boundary with the adapter scaled by a strength, chosen by a slider inside the figure.

    Every strength's picture travels with the figure, so moving the slider needs no server and no retraining."""
    by_s = dict(strengths)
    start = 1.0 if 1.0 in by_s else strengths[0][0]
    fig = boundary_figure(ticks, by_s[start], target, t(lang, "strength_plot", s=start), height=height)
    steps = [dict(method="update", label=f"{s:g}",
                  args=[{"source": [probability_image(p)]}, {"title.text": t(lang, "strength_plot", s=s)}, [0]])
             for s, p in strengths]
    fig["layout"].update(sliders=[dict(active=[s for s, _ in strengths].index(start), steps=steps, pad=dict(t=30),
                                       currentvalue=dict(prefix=t(lang, "strength") + ": ", font=dict(size=12)),
                                       len=1.0, x=0, font=dict(size=10))],
                         margin=dict(l=36, r=8, t=36, b=90))
    return fig
