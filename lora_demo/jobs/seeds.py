"""The seeds view's job: the same settings on N seeds, one full run each, the figure redrawn as runs finish."""
from __future__ import annotations

from typing import Iterator

from ..config import config_from_flat
from ..fit import Guard
from ..insights.seeds import METRICS, N_SEEDS, run_seeds, summary
from ..plots import encode
from ..plots.seeds import seeds_figure, seeds_table
from ..text import t
from .payload import Plot, Update


def seeds_job(values: dict, lang: str, guard: Guard) -> Iterator[Update]:
    cfg = config_from_flat(values)
    runs = []
    for run in run_seeds(cfg, N_SEEDS, guard):
        runs.append(run)
        done = len(runs) == N_SEEDS
        out = {"seeds_plot": Plot(encode.dumps(seeds_figure(runs, METRICS, cfg.data.seed, lang))),
               "seeds_status": (t(lang, "seeds_done", n=N_SEEDS, first=runs[0].seed, last=runs[-1].seed) if done
                                else t(lang, "seeds_busy", k=len(runs), n=N_SEEDS))}
        if done:
            out["seeds_table"] = seeds_table(runs, summary(runs), METRICS, lang)
        yield Update(out, progress=len(runs) / N_SEEDS, final=done)
