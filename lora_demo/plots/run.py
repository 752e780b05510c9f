"""The figures of one run: decision boundaries, the loss curves and the parameter chart, from snapshots.

Each is a plain dict (see plots.style); no torch, no gradio. Decision boundaries are pictures, not
contours: each grid cell's colour mixes the class colours by the model's probabilities.
"""
from __future__ import annotations

import numpy as np

from ..text import t
from .style import CLASS_RGB, GRID, PHASE_COLOURS, figure, hex_colour, layout, probability_image

MAX_CURVE_POINTS = 300  # loss curves are thinned to this many points per line before sending
CURVES = ("pretrain/train", "pretrain/test", "adapt/train", "adapt/test")
FIGURE_NAMES = ("base_source", "base_target", "lora_target", "loss", "params")  # in the order the app shows them


def _points(task, n_classes: int) -> list[dict]:
    """Train points filled, test points hollow, one trace per class and split."""
    data = []
    for c in range(int(n_classes)):
        colour = hex_colour(CLASS_RGB[c])
        for X, y, split in ((task.X_train, task.y_train, "train"), (task.X_test, task.y_test, "test")):
            pts = X[y == c]
            if not len(pts):
                continue
            hollow = split == "test"
            data.append(dict(
                type="scatter", x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {c} ({split})",
                showlegend=False,
                marker=dict(size=6 if hollow else 5, color="rgba(0,0,0,0)" if hollow else colour,
                            line=dict(color=colour if hollow else "white", width=1.6 if hollow else 0.6)),
                hovertemplate=f"class {c}, {split}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    return data


def field_trace(ticks: np.ndarray, probs: np.ndarray, picture=probability_image) -> dict:
    """The class field as an image trace spanning the grid cells (picture: probs -> PNG data URI)."""
    w, step = float(ticks[-1]), float(ticks[1] - ticks[0])
    return dict(type="image", source=picture(probs), x0=-w - step / 2, dx=step,
                y0=w + step / 2, dy=-step, hoverinfo="skip")


def boundary_figure(ticks: np.ndarray, probs: np.ndarray | None, task, title: str,
                    accuracy: float | None = None, height: int = 330, note: str | None = None,
                    picture=probability_image) -> dict:
    """The model's class field over the fixed window, train points filled, test points hollow."""
    w = float(ticks[-1])
    data = [] if probs is None else [field_trace(ticks, probs, picture)]
    n_classes = probs.shape[-1] if probs is not None else int(max(task.y_train.max(), task.y_test.max())) + 1
    data += _points(task, n_classes)
    label = title if accuracy is None else f"{title} · <b>{100 * accuracy:.0f}%</b>"
    axis = dict(range=[-w, w], showgrid=False, zeroline=False, ticks="outside", mirror=True,
                showline=True, linecolor="#9ca3af")
    notes = [] if note is None else [dict(x=0, y=0, text=note, showarrow=False, font=dict(size=13, color="#6b7280"))]
    return figure(data, layout(label, height, margin=dict(l=36, r=8, t=36, b=28), annotations=notes,
                               xaxis=dict(axis, constrain="domain"),
                               yaxis=dict(axis, scaleanchor="x", scaleratio=1, autorange=False)))


def thin(arr: np.ndarray) -> np.ndarray:
    """Keep every k-th point (and the last) so that a line has at most MAX_CURVE_POINTS points."""
    arr = arr[:, np.isfinite(arr[1])]
    n = arr.shape[1]
    if n <= MAX_CURVE_POINTS:
        return arr
    keep = np.unique(np.r_[np.arange(0, n, int(np.ceil(n / MAX_CURVE_POINTS))), n - 1])
    return arr[:, keep]


def loss_traces(curves: dict, lang: str = "en", **extra) -> list[dict]:
    data = []
    for key in CURVES:
        if key not in curves:
            continue
        arr = thin(curves[key])
        if arr.shape[1] == 0:
            continue
        label = t(lang, "curve_" + key.replace("/", "_"))
        phase, split = key.split("/")
        data.append(dict(
            type="scatter", x=arr[0].astype(np.float32), y=np.maximum(arr[1], 1e-6).astype(np.float32),
            mode="lines", name=label,
            line=dict(color=PHASE_COLOURS[phase], width=2, dash="dot" if split == "test" else "solid"),
            hovertemplate="step %{x}<br>loss %{y:.4f}<extra>" + label + "</extra>", **extra))
    return data


def phase_marker(pretrain_steps: int, lang: str, xref: str = "x", yref: str = "paper") -> tuple[dict, dict]:
    """The dashed line where the base freezes and the adapter starts, and its label."""
    return (dict(type="line", x0=pretrain_steps, x1=pretrain_steps, y0=0, y1=1, xref=xref, yref=yref,
                 line=dict(color="#9ca3af", dash="dash", width=1)),
            dict(x=pretrain_steps, y=1, xref=xref, yref=yref, text=t(lang, "lora_starts"), showarrow=False,
                 xanchor="left", yanchor="top", font=dict(size=11, color="#6b7280")))


def loss_figure(curves: dict, pretrain_steps: int, height: int = 300, lang: str = "en") -> dict:
    """Train and test loss of both phases on one step axis; the dashed line is where LoRA starts."""
    line, note = phase_marker(pretrain_steps, lang)
    return figure(loss_traces(curves, lang), layout(
        t(lang, "loss_title"), height, margin=dict(l=44, r=12, t=36, b=64),
        legend=dict(orientation="h", y=-0.12, x=0),
        yaxis=dict(type="log", dtick=1, showgrid=True, gridcolor=GRID),
        xaxis=dict(showgrid=False, rangemode="tozero"), shapes=[line], annotations=[note]))


def params_figure(params: dict, labels: dict | None = None, height: int = 300, lang: str = "en") -> dict:
    """Trainable vs total parameters per method (log scale), with the trainable share in percent.

    params: name -> {"trainable", "total"} (or objects with those attributes)."""
    labels = labels or {}
    get = lambda p, k: p[k] if isinstance(p, dict) else getattr(p, k)  # noqa: E731
    names = list(params)
    y = [labels.get(n, n) for n in names]
    trainable = [get(params[n], "trainable") for n in names]
    total = [get(params[n], "total") for n in names]
    bar = dict(type="bar", orientation="h", y=y, textposition="outside", cliponaxis=False,
               textfont=dict(size=11))
    data = [dict(bar, x=total, name=t(lang, "all_params"), marker=dict(color="#d1d5db"),
                 text=[f"{v:,}" for v in total], hovertemplate="%{y}<br>all params %{x:,}<extra></extra>"),
            dict(bar, x=trainable, name=t(lang, "trainable"), marker=dict(color="#d946ef"), textposition="auto",
                 text=[f"{v:,} · {100 * v / a:.1f}%" for v, a in zip(trainable, total)],
                 hovertemplate="%{y}<br>trainable %{x:,}<extra></extra>")]
    top = max(total) if total else 10
    return figure(data, layout(t(lang, "params_title"), height, barmode="group", bargap=0.25,
                               margin=dict(l=110, r=16, t=36, b=36),
                               xaxis=dict(type="log", range=[0, float(np.log10(top)) + 1.4], showgrid=True,
                                          gridcolor=GRID, dtick=1),
                               yaxis=dict(autorange="reversed")))


# ---------------------------------------------------------------- from snapshots

def param_labels(cfg, lang: str = "en") -> dict:
    """Bar labels of the parameter chart."""
    return {"pretrain": t(lang, "m_pretrain"), "full_finetune": t(lang, "m_full"),
            "lora": f"LoRA r={cfg.lora.rank}"}


def base_figures(snap, lang: str = "en", picture=probability_image) -> tuple[dict, dict]:
    """The base model's field with the source points, and the same field with the target points."""
    acc = snap.accuracy
    return (boundary_figure(snap.ticks, snap.base_probs, snap.source, t(lang, "base_source"), acc.get("base_source"),
                            picture=picture),
            boundary_figure(snap.ticks, snap.base_probs, snap.target, t(lang, "base_target"), acc.get("base_target"),
                            picture=picture))


def lora_figure(snap, lang: str = "en", picture=probability_image) -> dict:
    """Base + LoRA on the target; before adaptation, the target points and a note."""
    if snap.lora_probs is None:
        return boundary_figure(snap.ticks, None, snap.target, t(lang, "lora_target"), note=t(lang, "lora_waits"))
    return boundary_figure(snap.ticks, snap.lora_probs, snap.target, t(lang, "lora_target"),
                           snap.accuracy.get("lora_target"), picture=picture)


def run_loss_figure(snap, cfg, lang: str = "en") -> dict:
    return loss_figure(snap.curves, cfg.train.pretrain_steps, lang=lang)


def run_params_figure(snap, cfg, lang: str = "en") -> dict:
    return params_figure(snap.params, param_labels(cfg, lang), lang=lang)


def final_figures(snap, cfg, lang: str = "en") -> dict[str, dict]:
    """name -> figure: base on source, base on target, base + LoRA on target, loss, parameters."""
    src, tgt = base_figures(snap, lang)
    return {"base_source": src, "base_target": tgt, "lora_target": lora_figure(snap, lang),
            "loss": run_loss_figure(snap, cfg, lang), "params": run_params_figure(snap, cfg, lang)}
