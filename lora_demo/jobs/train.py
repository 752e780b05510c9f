"""The Train tab's job: a run streamed as ready-to-send updates (status, figures, results, download).

Runs in a worker process: it builds and serialises every figure there, so the web process only relays.
"""
from __future__ import annotations

import time
from typing import Iterator

from .. import export, report
from ..bases import Bases
from ..config import config_from_flat
from ..fit import Guard
from ..plots import encode
from ..plots import run as run_plots
from ..plots.replay import replay_figure
from ..plots.style import probability_image
from ..engine import run
from .payload import MILESTONES, STALE_S, File, Plot, Update

FRAMES = 16  # step-based snapshots per run, on top of start, phase change and end: the replay's frames


class Pictures:
    """Each field drawn once per job: the live figures and the replay show the same pictures."""

    def __init__(self):
        self._by_array: dict[int, tuple] = {}  # id -> (array, PNG); holding the array keeps its id unique

    def __call__(self, probs) -> str:
        kept = self._by_array.get(id(probs))
        if kept is None or kept[0] is not probs:
            kept = self._by_array[id(probs)] = (probs, probability_image(probs))
        return kept[1]


def train_job(values: dict, lang: str, guard: Guard, bases: Bases | None = None) -> Iterator[Update]:
    """bases: the worker's memory of pretrained bases, if it keeps one (see lora_demo.bases)."""
    cfg = config_from_flat(values)
    total = cfg.train.pretrain_steps + cfg.train.adapt_steps
    frames = []          # every snapshot, for the replay
    picture = Pictures()
    base_sent = None     # the base field the two base figures were last drawn from
    shown_at, next_shown = -STALE_S, 0.0
    for snap in run(cfg, every_steps=max(1, total // FRAMES), max_snapshots=FRAMES + 8, guard=guard, bases=bases):
        frames.append(snap)
        done = (snap.step + (cfg.train.pretrain_steps if snap.phase == "adapt" else 0)) / total
        # The page shows MILESTONES evenly spaced frames, or the latest every STALE_S when a job is slow (see
        # ui.relay); a frame it would skip is kept for the replay but its figures are not drawn or sent.
        if not (snap.done or done >= next_shown or time.monotonic() - shown_at >= STALE_S / 2):
            continue
        shown_at, next_shown = time.monotonic(), done + 1.0 / (MILESTONES - 1) - 1e-9
        out = {"status": report.status_line(snap, cfg, lang)}
        if snap.base_probs is not base_sent:  # changes while pretraining, frozen after
            base_sent = snap.base_probs
            src, tgt = run_plots.base_figures(snap, lang, picture)
            out.update(base_source=Plot(encode.dumps(src)), base_target=Plot(encode.dumps(tgt)))
        out["lora_target"] = Plot(encode.dumps(run_plots.lora_figure(snap, lang, picture)))
        out["loss"] = Plot(encode.dumps(run_plots.run_loss_figure(snap, cfg, lang)))
        out["params"] = Plot(encode.dumps(run_plots.run_params_figure(snap, cfg, lang)))
        if snap.done:
            model = export.model_from_state(snap.model_state, cfg.lora)
            out.update(results=report.results_markdown(snap, cfg, lang),
                       download=File("lora_adapter.zip", export.adapter_zip(model, init=cfg.lora.init)),
                       code=export.peft_loading_code("lora_adapter", cfg.lora.target_modules),
                       metrics=report.metrics(snap, cfg),
                       replay=Plot(encode.dumps(replay_figure(frames, cfg, lang, picture))))
        yield Update(out, progress=done, final=snap.done)
