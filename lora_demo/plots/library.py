"""The adapter library's figures: switch adapters, mix two, which adapter for which task, storage.

Plain dicts (see plots.style) built from an insights.library.Library; no torch, no gradio. The switch
and the mix carry every picture they can show, so their buttons and slider need no server call.
"""
from __future__ import annotations

import numpy as np

from ..text import choice_text, t
from .run import boundary_figure, field_trace
from .style import CLASS_RGB, METHOD_COLOURS, MUTED, figure, hex_colour, layout, probability_image

MIX_START = 0.5  # the mix opens half-way, where neither adapter has the upper hand by weight
BASE_GREY, COPY_GREY = "#9ca3af", METHOD_COLOURS["full_finetune"]


def task_label(adapter, lang: str = "en") -> str:
    """An adapter's task in words: "rotated 90°", "other dataset: circles", …."""
    s = adapter.shift
    return t(lang, f"lib_kind_{adapter.name}", angle=s.angle, offset=s.offset, factor=s.factor,
             dataset=choice_text(lang, "dataset", s.dataset))


def _pct(x: float) -> float:
    return 100.0 * float(x)


def switch_figure(lib, lang: str = "en", height: int = 420) -> dict:
    """The class field of the base with one adapter on, chosen by buttons inside the figure.

    Every view (the base alone on the source task, then each adapter on its own task) is a group of
    traces, an image and its task's points; a button shows one group and hides the rest."""
    views = [(t(lang, "lib_base"), lib.base_probs, lib.source,
              t(lang, "lib_switch_base_title", acc=_pct(lib.accuracy[0, 0])))]
    for k, a in enumerate(lib.adapters, start=1):
        label = task_label(a, lang)
        views.append((label, a.probs, a.task, t(lang, "lib_switch_title", task=label, acc=_pct(lib.accuracy[k, k]))))
    start = 1  # the first adapter: the panel is about adapters
    groups = [boundary_figure(lib.ticks, probs, task, title, height=height)["data"] for _, probs, task, title in views]
    owner = [v for v, g in enumerate(groups) for _ in g]  # view index of every trace
    data = [dict(trace, visible=owner[i] == start) for i, trace in enumerate(tr for g in groups for tr in g)]
    buttons = [dict(method="update", label=label,
                    args=[{"visible": [o == v for o in owner]}, {"title.text": title}])
               for v, (label, _, _, title) in enumerate(views)]
    fig = boundary_figure(lib.ticks, None, views[start][2], views[start][3], height=height)  # its layout only
    fig["data"] = data
    fig["layout"].update(
        updatemenus=[dict(type="buttons", direction="down", buttons=buttons, active=start, showactive=True,
                          x=1.02, xanchor="left", y=1.0, yanchor="top", pad=dict(l=4, t=0),
                          font=dict(size=11), bgcolor="white", bordercolor="#d1d5db")],
        margin=dict(l=36, r=190, t=36, b=28))
    return fig


def _test_points(task, symbol: str, name: str, n_classes: int) -> list[dict]:
    """A task's test points, one trace per class, all in one legend entry named name."""
    out = []
    for c in range(n_classes):
        pts = task.X_test[task.y_test == c]
        if not len(pts):
            continue
        colour = hex_colour(CLASS_RGB[c])
        out.append(dict(type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name=name, legendgroup=name,
                        showlegend=not out, marker=dict(symbol=symbol, size=7, color=colour,
                                                        line=dict(color=colour, width=1.5)),
                        hovertemplate=f"{name}, class {c}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    return out


def mix_figure(lib, lang: str = "en", height: int = 470) -> dict:
    """The mix w·ΔW(first) + (1 − w)·ΔW(second), w on a slider inside the figure; the title gives the
    mix's accuracy on both tasks at that w."""
    mix = lib.mix
    first, second = lib.adapter(mix.first), lib.adapter(mix.second)
    names = task_label(first, lang), task_label(second, lang)

    def title(i: int) -> str:
        w = mix.weights[i]
        return t(lang, "lib_mix_title", w=w, w2=round(1 - w, 10), first=names[0], second=names[1],
                 acc1=_pct(mix.accuracy[i, 0]), acc2=_pct(mix.accuracy[i, 1]))

    start = int(np.argmin(np.abs(np.asarray(mix.weights) - MIX_START)))
    n_classes = mix.probs[start].shape[-1]
    fig = boundary_figure(lib.ticks, None, first.task, title(start), height=height)  # its layout only
    fig["data"] = ([field_trace(lib.ticks, mix.probs[start])]
                   + _test_points(first.task, "circle-open", t(lang, "lib_mix_points", task=names[0]), n_classes)
                   + _test_points(second.task, "x-thin-open", t(lang, "lib_mix_points", task=names[1]), n_classes))
    steps = [dict(method="update", label=f"{w:g}",
                  args=[{"source": [probability_image(p)]}, {"title.text": title(i)}, [0]])
             for i, (w, p) in enumerate(zip(mix.weights, mix.probs))]
    fig["layout"].update(
        sliders=[dict(active=start, steps=steps, pad=dict(t=40), len=1.0, x=0, font=dict(size=10),
                      currentvalue=dict(prefix=t(lang, "lib_mix_weight", first=names[0]) + " = ", font=dict(size=12)))],
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", font=dict(size=11)),
        margin=dict(l=36, r=8, t=96, b=100), modebar=dict(orientation="v"),  # the toolbar off the two-line title
        # 20 px down: plotly anchors a two-line title by its first line, so at the very top its first line is cut
        title=dict(text=title(start), x=0.02, y=1 - 20 / height, yanchor="top", font=dict(size=13)))
    return fig


def accuracy_figure(lib, lang: str = "en", height: int | None = None) -> dict:
    """Test accuracy (%) of the base and of each adapter (rows) on the source and each task (columns)."""
    labels = [task_label(a, lang) for a in lib.adapters]
    cols = [t(lang, "lib_source")] + labels
    rows = [t(lang, "lib_base")] + [t(lang, "lib_adapter_for", task=x) for x in labels]
    z = 100.0 * np.asarray(lib.accuracy, dtype=np.float64)
    n = len(rows)
    outline = [dict(type="rect", xref="x", yref="y", x0=k - 0.5, x1=k + 0.5, y0=k - 0.5, y1=k + 0.5,
                    line=dict(color="#1f2937", width=2)) for k in range(n)]
    trace = dict(type="heatmap", z=z, x=cols, y=rows, zmin=0, zmax=100, showscale=False, xgap=2, ygap=2,
                 colorscale=[[0, "#f8fafc"], [1, METHOD_COLOURS["lora"]]],
                 texttemplate="%{z:.0f}", textfont=dict(size=12),
                 hovertemplate=(t(lang, "lib_matrix_rows") + ": %{y}<br>" + t(lang, "lib_matrix_cols")
                                + ": %{x}<br>%{z:.1f}%<extra></extra>"))
    return figure([trace], layout(t(lang, "lib_matrix_title"), height or 120 + 44 * n, shapes=outline,
                                  margin=dict(l=190, r=12, t=40, b=100),
                                  # the row labels name the models already; an axis title would crowd them;
                                  # slanted column labels stay apart in a half-width panel
                                  xaxis=dict(tickangle=-35, automargin=True),
                                  yaxis=dict(autorange="reversed", automargin=True)))


def storage_figure(lib, lang: str = "en", height: int = 320) -> dict:
    """Stacked bars: one base plus N adapters, against N fully fine-tuned models, in bytes."""
    s = lib.storage
    n = len(s.adapter_bytes)
    x = [t(lang, "lib_storage_library", n=n), t(lang, "lib_storage_finetuned", n=n)]

    def bar(name: str, values: list, colour: str) -> dict:
        return dict(type="bar", x=x, y=values, name=name, marker=dict(color=colour),
                    hovertemplate="%{x} · " + name + ": %{y:,.0f} B<extra></extra>")

    data = [bar(t(lang, "lib_storage_base"), [s.base_bytes, None], BASE_GREY),
            bar(t(lang, "lib_storage_adapters"), [sum(s.adapter_bytes), None], METHOD_COLOURS["lora"]),
            bar(t(lang, "lib_storage_copies"), [None, s.finetuned_bytes], COPY_GREY)]
    totals = [dict(x=label, y=total, text=t(lang, "lib_storage_total", kb=total / 1000), showarrow=False,
                   yanchor="bottom", font=dict(size=12, color=MUTED))
              for label, total in zip(x, (s.library_bytes, s.finetuned_bytes))]
    return figure(data, layout(t(lang, "lib_storage_title", n=n), height, barmode="stack", annotations=totals,
                               yaxis=dict(title=dict(text=t(lang, "lib_bytes")), rangemode="tozero",
                                          range=[0, 1.15 * max(s.library_bytes, s.finetuned_bytes)]),
                               legend=dict(orientation="h", y=-0.15, x=0, traceorder="normal")))


def library_figures(lib, lang: str = "en") -> dict[str, dict]:
    """Every figure of the panel, by name, in the order the panel shows them."""
    return {"switch": switch_figure(lib, lang), "mix": mix_figure(lib, lang),
            "accuracy": accuracy_figure(lib, lang), "storage": storage_figure(lib, lang)}
