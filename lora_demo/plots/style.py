"""The look every figure shares: colours, fonts, a base layout, and decision fields as pictures.

numpy and Pillow only. A figure here is a plain dict (Plotly's JSON shape) with numpy arrays inside:
the app sends it without Plotly's validation (see plots.encode); the CLI wraps it in go.Figure.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# class colours (RGB); the first two are the TensorFlow Playground's orange and blue
CLASS_RGB = np.array([[245, 147, 34], [8, 119, 189], [46, 160, 67], [148, 103, 189], [214, 39, 40]],
                     dtype=np.float32)
PHASE_COLOURS = {"pretrain": "#6b7280", "adapt": "#d946ef"}
METHOD_COLOURS = {"full_finetune": "#6b7280", "adapter": "#0ea5e9", "lora": PHASE_COLOURS["adapt"],
                  "rslora": "#f59e0b", "dora": "#10b981", "pissa": "#6366f1", "olora": "#ef4444",
                  "loraplus": "#84cc16"}
SERIES_COLOURS = ["#d946ef", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#6366f1", "#84cc16"]
FONT = dict(family="Inter, system-ui, sans-serif", size=12, color="#1f2937")
GRID = "#eef0f3"
MUTED = "#6b7280"


def hex_colour(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(c) for c in rgb)


def layout(title: str, height: int, **extra) -> dict:
    """A white, template-free layout with a left-aligned title; every figure has an explicit height."""
    out = dict(template="none", height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
               title=dict(text=title, x=0.02, y=0.97, font=dict(size=14)),
               margin=dict(l=44, r=12, t=36, b=36), legend=dict(orientation="h", y=-0.18, x=0))
    out.update(extra)
    return out


def axis(letter: str, i: int) -> tuple[str, str]:
    """The layout key and the trace reference of subplot axis i (1-based): ("xaxis", "x"), ("xaxis2", "x2"), ….

    plotly.js knows the first axis only as "xaxis"/"x"; plotly.py would rename "xaxis1", but figures here skip
    plotly.py, so they use the names plotly.js reads."""
    suffix = "" if i == 1 else str(i)
    return f"{letter}axis{suffix}", f"{letter}{suffix}"


def figure(data: list, layout_: dict) -> dict:
    return {"data": data, "layout": layout_}


def probability_image(probs: np.ndarray) -> str:
    """(G, G, C) probabilities, row 0 at the bottom → a PNG data URI, row 0 at the top.

    Each pixel mixes the class colours by the probabilities and is paler where the model is unsure."""
    C = probs.shape[-1]
    mix = probs @ CLASS_RGB[:C]                                   # (G, G, 3) expected colour
    sure = (probs.max(-1, keepdims=True) - 1 / C) / (1 - 1 / C)   # 0 on the boundary, 1 when certain
    tint = 0.12 + 0.43 * sure
    rgb = 255 * (1 - tint) + mix * tint
    img = Image.fromarray(np.flipud(rgb).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
