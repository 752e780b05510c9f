"""Claims as code: every outcome the app or the README states is a named claim measured over seeds.

    figures()["default.lora_target"].range   ->  "96–100 %"   (the texts write {c[default.lora_target].range})

core (the machinery), registry (the claims), scenarios (the experiments). No gradio.
"""
from __future__ import annotations

from functools import lru_cache

from .core import HOLD_SHARE, MEASURED, Claim, Figure, Figures, load, measure, save
from .registry import CLAIMS, NAMES


@lru_cache(maxsize=1)
def figures() -> Figures:
    """The measured figures (read once from measured.json; never changed while the app runs)."""
    return load()


__all__ = ["CLAIMS", "HOLD_SHARE", "MEASURED", "NAMES", "Claim", "Figure", "Figures", "figures", "load", "measure",
           "save"]
