"""The seeds view: every accuracy of the same settings on N seeds, one dot per seed, with the median
marked and the spread from the lowest to the highest seed. No torch, no gradio."""
from __future__ import annotations

from ..text import t
from .style import GRID, METHOD_COLOURS, MUTED, figure, layout

COLOURS = {"base_source": "#6b7280", "base_target": "#9ca3af", "lora_target": METHOD_COLOURS["lora"],
           "lora_source": "#0ea5e9"}


def seeds_figure(runs, metrics, current_seed: int, lang: str = "en", height: int = 340) -> dict:
    """runs: SeedRun list; metrics: the accuracy names in display order; the current seed is ringed."""
    data = []
    names = [t(lang, "seeds_" + m) for m in metrics]
    for i, m in enumerate(metrics):
        values = [100 * r.accuracy[m] for r in runs]
        seeds = [r.seed for r in runs]
        # spread the dots sideways by seed order so equal accuracies stay visible
        x = [i + (k - (len(runs) - 1) / 2) * 0.04 for k in range(len(runs))]
        data.append(dict(type="scatter", x=x, y=values, mode="markers", name=names[i], showlegend=False,
                         customdata=seeds, marker=dict(size=9, color=COLOURS[m], opacity=0.85,
                                                       line=dict(width=[2.5 if s == current_seed else 0
                                                                        for s in seeds], color="#111827")),
                         hovertemplate=f"{names[i]}<br>seed %{{customdata}}: %{{y:.1f}}%<extra></extra>"))
        ordered = sorted(values)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        data.append(dict(type="scatter", x=[i - 0.3, i + 0.3], y=[median, median], mode="lines", showlegend=False,
                         line=dict(color="#111827", width=2), hoverinfo="skip"))
        data.append(dict(type="scatter", x=[i, i], y=[ordered[0], ordered[-1]], mode="lines", showlegend=False,
                         line=dict(color=MUTED, width=1, dash="dot"), hoverinfo="skip"))
    return figure(data, layout(
        t(lang, "seeds_title", n=len(runs)), height, margin=dict(l=54, r=16, t=40, b=60),
        xaxis=dict(tickmode="array", tickvals=list(range(len(metrics))), ticktext=names,
                   range=[-0.6, len(metrics) - 0.4], showgrid=False, zeroline=False),
        yaxis=dict(title=dict(text=t(lang, "accuracy_pct")), range=[0, 102], showgrid=True, gridcolor=GRID)))


def seeds_table(runs, summary: dict, metrics, lang: str = "en") -> str:
    """Min, median and max of each accuracy, as a Markdown table."""
    rows = [f"| | {t(lang, 'seeds_min')} | {t(lang, 'seeds_median')} | {t(lang, 'seeds_max')} |", "|---|---|---|---|"]
    for m in metrics:
        lo, med, hi = summary[m]
        rows.append(f"| {t(lang, 'seeds_' + m)} | {100 * lo:.1f}% | {100 * med:.1f}% | {100 * hi:.1f}% |")
    return "\n".join(rows)
