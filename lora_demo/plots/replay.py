"""Watch it again: one figure holding every frame of a finished run, with a step slider that replays
the decision field and the loss curve in the browser. Moving the slider sends nothing to the server.

Each frame's picture travels with the figure; a slider step swaps the picture, the points (source
task while pretraining, target task while adapting), the title, and moves a veil that hides the
loss curve after that step. No torch, no gradio.
"""
from __future__ import annotations

from ..text import t
from .run import _points, field_trace, loss_traces, phase_marker
from .style import GRID, MUTED, axis, figure, layout, probability_image

HEIGHT = 420


def _frame_parts(snap, pretrain_steps: int):
    """(global step, picture, task, probs) of a snapshot: the model being trained, on its own task."""
    adapting = snap.phase == "adapt"
    probs = snap.lora_probs if adapting else snap.base_probs
    step = snap.step + (pretrain_steps if adapting else 0)
    return step, probs, snap.target if adapting else snap.source


def replay_figure(frames: list, cfg, lang: str = "en", picture=probability_image) -> dict:
    """frames: the run's snapshots in order (the last one finished). Returns one figure with a slider."""
    P = cfg.train.pretrain_steps
    total = P + cfg.train.adapt_steps
    last = frames[-1]
    parts = [_frame_parts(s, P) for s in frames]
    n_classes = last.base_probs.shape[-1]
    # left: the field and the points of both tasks (one set visible at a time); right: the loss
    (bx, bxr), (by, byr) = axis("x", 1), axis("y", 1)
    (lx, lxr), (ly, lyr) = axis("x", 2), axis("y", 2)
    field = dict(field_trace(last.ticks, parts[0][1], picture), xaxis=bxr, yaxis=byr)
    src = [dict(tr, xaxis=bxr, yaxis=byr, visible=True) for tr in _points(last.source, n_classes)]
    tgt = [dict(tr, xaxis=bxr, yaxis=byr, visible=False) for tr in _points(last.target, n_classes)]
    curves = loss_traces(last.curves, lang, xaxis=lxr, yaxis=lyr, showlegend=False)
    data = [field, *src, *tgt, *curves]
    w = float(last.ticks[-1])
    line, note = phase_marker(P, lang, xref=lxr, yref="paper")
    veil = dict(type="rect", xref=lxr, yref="paper", x0=0, x1=total, y0=0, y1=1, layer="above",
                fillcolor="white", opacity=0.85, line=dict(width=0))
    steps = []
    for (step, probs, _task), snap in zip(parts, frames):
        adapting = snap.phase == "adapt"
        visible = [True] + [not adapting] * len(src) + [adapting] * len(tgt) + [True] * len(curves)
        title = t(lang, "replay_adapt" if adapting else "replay_pretrain", step=step, total=total)
        steps.append(dict(method="update", label=str(step),
                          args=[{"source": [picture(probs)] + [None] * (len(data) - 1), "visible": visible},
                                {"title.text": title, "shapes[1].x0": max(step, 0.5)}]))
    start = len(steps) - 1
    first_title = steps[start]["args"][1]["title.text"]
    box = dict(range=[-w, w], showgrid=False, zeroline=False, ticks="outside", mirror=True, showline=True,
               linecolor="#9ca3af")
    lay = layout(first_title, HEIGHT, margin=dict(l=36, r=12, t=40, b=96), showlegend=False,
                 shapes=[line, dict(veil, x0=total)], annotations=[note],
                 sliders=[dict(active=start, steps=steps, pad=dict(t=36), len=1.0, x=0, font=dict(size=10),
                               currentvalue=dict(prefix=t(lang, "replay_step") + ": ", font=dict(size=12)))])
    lay[bx] = dict(box, domain=[0, 0.42], constrain="domain")
    lay[by] = dict(box, scaleanchor=bxr, scaleratio=1, autorange=False)
    lay[lx] = dict(domain=[0.52, 1], anchor=lyr, showgrid=False, range=[0, total], title=dict(text=t(lang, "step")))
    lay[ly] = dict(anchor=lxr, type="log", dtick=1, showgrid=True, gridcolor=GRID,
                   title=dict(text=t(lang, "loss_axis"), font=dict(color=MUTED)))
    data[0]["source"] = steps[start]["args"][0]["source"][0]
    return figure(data, lay)
