"""Figures (plain dicts with numpy arrays) to the JSON text a browser's plotly.js draws, without
Plotly's Python validation. Arrays travel as base64 typed arrays ({"dtype", "bdata"}), which
plotly.js ≥ 2.28 decodes; that is also how plotly.py's own to_json sends numpy data.

orjson when present (gradio depends on it), the standard json module otherwise. No torch, no gradio.
"""
from __future__ import annotations

import base64
import json

import numpy as np

try:
    import orjson
except ImportError:  # pragma: no cover - gradio installs it
    orjson = None

# numpy kinds plotly.js decodes; int64 has no typed-array twin in JavaScript, so it goes as int32 or float64
_TYPED = {np.dtype(k): k for k in ("f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4")}


def _typed(a: np.ndarray) -> dict | list:
    if a.dtype == np.bool_ or a.dtype.kind in "OUS":
        return a.tolist()
    if a.dtype not in _TYPED:
        a = a.astype(np.int32 if a.dtype.kind in "iu" and np.abs(a).max(initial=0) < 2**31 else np.float64)
    a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"), copy=False))
    out = {"dtype": _TYPED[np.dtype(a.dtype.str.lstrip("<|="))], "bdata": base64.b64encode(a.tobytes()).decode()}
    if a.ndim > 1:
        out["shape"] = ",".join(map(str, a.shape))
    return out


def _default(obj):
    if isinstance(obj, np.ndarray):
        return _typed(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (tuple, set)):
        return list(obj)
    raise TypeError(f"cannot send {type(obj).__name__} in a figure")


def dumps(fig: dict) -> str:
    """The figure as JSON text for the browser."""
    if orjson is not None:
        return orjson.dumps(fig, default=_default).decode()
    return json.dumps(fig, default=_default, separators=(",", ":"))


def to_go(fig: dict):
    """A plotly.graph_objects.Figure (validated), for writing HTML or PNG files."""
    import plotly.graph_objects as go
    return go.Figure(fig)
