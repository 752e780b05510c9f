"""The variants race's job: LoRA and its variants trained side by side on the run's frozen base, streamed
as the figures and the table are ready. Runs in a worker process."""
from __future__ import annotations

import time
from typing import Iterator

from ..config import config_from_flat
from ..fit import Guard
from ..insights.common import frozen_base
from ..insights.race import race
from ..plots import encode
from ..plots import race as race_plots
from ..text import t
from .payload import Plot, Update


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    cell = lambda text: str(text).replace("|", "\\|")  # noqa: E731  (a bar inside a cell would end it)
    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, r)) + " |" for r in rows]
    return "\n".join(lines)


def race_job(values: dict, lang: str, guard: Guard) -> Iterator[Update]:
    cfg = config_from_flat(values)
    start = time.monotonic()
    fb = frozen_base(cfg, guard)
    yield Update({"race_status": t(lang, "race_busy")}, progress=0.2)
    r = race(fb)
    out = {"race_status": t(lang, "race_done", seconds=time.monotonic() - start),
           "race_intro": t(lang, "race_intro", steps=r.steps, lr=r.lr, rank=r.rank, alpha=r.alpha,
                           layers="+".join(r.targets), budget=r.lora_budget),
           "race_boundaries": Plot(encode.dumps(race_plots.boundaries_figure(r, fb.ticks, fb.target, lang))),
           "race_loss": Plot(encode.dumps(race_plots.loss_figure(r, lang))),
           "race_summary": Plot(encode.dumps(race_plots.summary_figure(r, lang))),
           "race_table": markdown_table(*race_plots.summary_table(r, lang)),
           "race_notes": "\n".join(f"- {n}" for n in race_plots.notes(r, lang))}
    yield Update(out, progress=1.0, final=True)
