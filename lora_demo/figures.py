"""The five figures of a run, built from one snapshot, in the user's language.

Shared by the app (which streams them) and the command line (which saves them), so both
draw the same pictures. plotly only, no gradio.
"""
from __future__ import annotations

import plotly.graph_objects as go

from . import plots
from .config import RunConfig
from .text import t
from .train import Snapshot

# file and key names, in the order the app shows the figures
FIGURE_NAMES = ("base_source", "base_target", "lora_target", "loss", "params")


def param_labels(cfg: RunConfig, lang: str = "en") -> dict:
    """Bar labels of the parameter chart."""
    return {"pretrain": t(lang, "m_pretrain"), "full_finetune": t(lang, "m_full"), "lora": f"LoRA r={cfg.lora.rank}"}


def base_figures(snap: Snapshot, lang: str = "en") -> tuple[go.Figure, go.Figure]:
    """The base model's field with the source points, and the same field with the target points."""
    acc = snap.accuracy
    return (plots.boundary_figure(snap.ticks, snap.base_probs, snap.source, t(lang, "base_source"),
                                  acc.get("base_source")),
            plots.boundary_figure(snap.ticks, snap.base_probs, snap.target, t(lang, "base_target"),
                                  acc.get("base_target")))


def lora_figure(snap: Snapshot, lang: str = "en") -> go.Figure:
    """Base + LoRA on the target; before adaptation, the target points and a note."""
    if snap.lora_probs is None:
        return plots.boundary_figure(snap.ticks, None, snap.target, t(lang, "lora_target"), note=t(lang, "lora_waits"))
    return plots.boundary_figure(snap.ticks, snap.lora_probs, snap.target, t(lang, "lora_target"),
                                 snap.accuracy.get("lora_target"))


def loss_figure(snap: Snapshot, cfg: RunConfig, lang: str = "en") -> go.Figure:
    return plots.loss_figure(snap.curves, cfg.train.pretrain_steps, lang=lang)


def params_figure(snap: Snapshot, cfg: RunConfig, lang: str = "en") -> go.Figure:
    return plots.params_figure(snap.params, param_labels(cfg, lang), lang=lang)


def final_figures(snap: Snapshot, cfg: RunConfig, lang: str = "en") -> dict[str, go.Figure]:
    """name -> figure: base on source, base on target, base + LoRA on target, loss, parameters."""
    src, tgt = base_figures(snap, lang)
    return {"base_source": src, "base_target": tgt, "lora_target": lora_figure(snap, lang),
            "loss": loss_figure(snap, cfg, lang), "params": params_figure(snap, cfg, lang)}
