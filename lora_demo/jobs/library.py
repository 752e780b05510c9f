"""The adapter library's job: one adapter per shifted task on the run's frozen base; the switch and mix
figures carry every picture, so the browser redraws them with no further call. Runs in a worker process."""
from __future__ import annotations

import time
from typing import Iterator

from ..config import config_from_flat
from ..fit import Guard
from ..insights.common import frozen_base
from ..insights.library import build_library, library_models
from ..library_export import library_zip
from ..plots import encode
from ..plots.library import library_figures, task_label
from ..text import t
from .payload import File, Plot, Update


def library_job(values: dict, lang: str, guard: Guard) -> Iterator[Update]:
    cfg = config_from_flat(values)
    start = time.monotonic()
    fb = frozen_base(cfg, guard)
    yield Update({"lib_status": t(lang, "lib_busy") + " …"}, progress=0.2)
    lib = build_library(fb)
    figs = library_figures(lib, lang)
    models = library_models(fb.base, lib)
    data = library_zip(models, init=cfg.lora.init, descriptions={a.name: task_label(a, "en") for a in lib.adapters})
    out = {f"lib_{name}": Plot(encode.dumps(fig)) for name, fig in figs.items()}
    out.update(lib_status=t(lang, "lib_done", n=len(lib.adapters), seconds=time.monotonic() - start),
               lib_download=File("lora_library.zip", data))
    yield Update(out, progress=1.0, final=True)
