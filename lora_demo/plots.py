"""Snapshots in, Plotly figures out. numpy, Pillow and plotly only: no torch, no gradio.

Each figure is written as one plain dict and validated once by go.Figure: building it
step by step (update_layout, add_trace, …) costs ten times more, on every streamed frame.
Decision boundaries are pictures, not contours: each grid cell's colour mixes the class
colours by the model's probabilities, paler where the model is unsure.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from .text import t

# class colours (RGB); the first two are the TensorFlow Playground's orange and blue
CLASS_RGB = np.array([[245, 147, 34], [8, 119, 189], [46, 160, 67], [148, 103, 189], [214, 39, 40]],
                     dtype=np.float32)
PHASE_COLOURS = {"pretrain": "#6b7280", "adapt": "#d946ef"}
FONT = dict(family="Inter, system-ui, sans-serif", size=12, color="#1f2937")
GRID = "#eef0f3"
MAX_CURVE_POINTS = 300  # loss curves are thinned to this many points per line before sending


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(c) for c in rgb)


def _layout(title: str, height: int, **extra) -> dict:
    layout = dict(template="none", height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
                  title=dict(text=title, x=0.02, y=0.97, font=dict(size=14)),
                  margin=dict(l=44, r=12, t=36, b=36), legend=dict(orientation="h", y=-0.18, x=0))
    layout.update(extra)
    return layout


def probability_image(probs: np.ndarray) -> str:
    """(G, G, C) probabilities, row 0 at the bottom → a PNG data URI, row 0 at the top."""
    C = probs.shape[-1]
    mix = probs @ CLASS_RGB[:C]                                   # (G, G, 3) expected colour
    sure = (probs.max(-1, keepdims=True) - 1 / C) / (1 - 1 / C)   # 0 on the boundary, 1 when certain
    tint = 0.12 + 0.43 * sure
    rgb = 255 * (1 - tint) + mix * tint
    img = Image.fromarray(np.flipud(rgb).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def boundary_figure(ticks: np.ndarray, probs: np.ndarray | None, task, title: str,
                    accuracy: float | None = None, height: int = 330, note: str | None = None) -> go.Figure:
    """The model's class field over the fixed window, train points filled, test points hollow."""
    w = float(ticks[-1])
    step = float(ticks[1] - ticks[0])
    data = []
    if probs is not None:
        data.append(dict(type="image", source=probability_image(probs), x0=-w - step / 2, dx=step,
                         y0=w + step / 2, dy=-step, hoverinfo="skip"))
    n_classes = probs.shape[-1] if probs is not None else int(max(task.y_train.max(), task.y_test.max())) + 1
    for c in range(int(n_classes)):
        colour = _hex(CLASS_RGB[c])
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
    label = title if accuracy is None else f"{title} · <b>{100 * accuracy:.0f}%</b>"
    axis = dict(range=[-w, w], showgrid=False, zeroline=False, ticks="outside", mirror=True,
                showline=True, linecolor="#9ca3af")
    notes = [] if note is None else [dict(x=0, y=0, text=note, showarrow=False, font=dict(size=13, color="#6b7280"))]
    layout = _layout(label, height, margin=dict(l=36, r=8, t=36, b=28), annotations=notes,
                     xaxis=dict(axis, constrain="domain"),
                     yaxis=dict(axis, scaleanchor="x", scaleratio=1, autorange=False))
    return go.Figure(dict(data=data, layout=layout))


def _thin(arr: np.ndarray) -> np.ndarray:
    """Keep every k-th point (and the last) so that a line has at most MAX_CURVE_POINTS points."""
    arr = arr[:, np.isfinite(arr[1])]
    n = arr.shape[1]
    if n <= MAX_CURVE_POINTS:
        return arr
    keep = np.unique(np.r_[np.arange(0, n, int(np.ceil(n / MAX_CURVE_POINTS))), n - 1])
    return arr[:, keep]


CURVES = ("pretrain/train", "pretrain/test", "adapt/train", "adapt/test")


def loss_figure(curves: dict, pretrain_steps: int, height: int = 300, lang: str = "en") -> go.Figure:
    """Train and test loss of both phases on one step axis; the dashed line is where LoRA starts."""
    data = []
    for key in CURVES:
        label = t(lang, "curve_" + key.replace("/", "_"))
        if key not in curves:
            continue
        arr = _thin(curves[key])
        if arr.shape[1] == 0:
            continue
        phase, split = key.split("/")
        data.append(dict(
            type="scatter", x=arr[0].astype(np.float32), y=np.maximum(arr[1], 1e-6).astype(np.float32),
            mode="lines", name=label,
            line=dict(color=PHASE_COLOURS[phase], width=2, dash="dot" if split == "test" else "solid"),
            hovertemplate="step %{x}<br>loss %{y:.4f}<extra>" + label + "</extra>"))
    layout = _layout(
        t(lang, "loss_title"), height, margin=dict(l=44, r=12, t=36, b=64),
        legend=dict(orientation="h", y=-0.12, x=0),
        yaxis=dict(type="log", dtick=1, showgrid=True, gridcolor=GRID),
        xaxis=dict(showgrid=False, rangemode="tozero"),
        shapes=[dict(type="line", x0=pretrain_steps, x1=pretrain_steps, y0=0, y1=1, yref="paper",
                     line=dict(color="#9ca3af", dash="dash", width=1))],
        annotations=[dict(x=pretrain_steps, y=1, yref="paper", text=t(lang, "lora_starts"), showarrow=False,
                          xanchor="left", yanchor="top", font=dict(size=11, color="#6b7280"))])
    return go.Figure(dict(data=data, layout=layout))


def params_figure(params: dict, labels: dict | None = None, height: int = 300, lang: str = "en") -> go.Figure:
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
                 text=[f"{t:,}" for t in total], hovertemplate="%{y}<br>all params %{x:,}<extra></extra>"),
            dict(bar, x=trainable, name=t(lang, "trainable"), marker=dict(color="#d946ef"), textposition="auto",
                 text=[f"{t:,} · {100 * t / a:.1f}%" for t, a in zip(trainable, total)],
                 hovertemplate="%{y}<br>trainable %{x:,}<extra></extra>")]
    top = max(total) if total else 10
    layout = _layout(t(lang, "params_title"), height, barmode="group", bargap=0.25,
                     margin=dict(l=110, r=16, t=36, b=36),
                     xaxis=dict(type="log", range=[0, np.log10(top) + 1.4], showgrid=True, gridcolor=GRID, dtick=1),
                     yaxis=dict(autorange="reversed"))
    return go.Figure(dict(data=data, layout=layout))
