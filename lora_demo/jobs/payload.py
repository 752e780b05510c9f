"""What a job sends back from its worker: plain, picklable values the web process only relays.

No torch, no gradio: the web process imports this module without importing the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MILESTONES = 6     # the page shows a short job as this many evenly spaced frames, start and end included
STALE_S = 1.0      # a slow job shows its latest frame at least this often


@dataclass(frozen=True)
class Plot:
    """A figure already serialised to the JSON text plotly.js draws (see plots.encode)."""
    json: str


@dataclass(frozen=True)
class File:
    """A file for the user to download; the web process stores it in its bounded download folder."""
    name: str
    data: bytes


@dataclass(frozen=True)
class Update:
    """New values for some of a tab's outputs (by output name); the others keep what they show.

    progress runs from 0 to 1 over the job, so a relay can spread a few frames evenly over the run."""
    outputs: dict = field(default_factory=dict)
    progress: float = 0.0
    final: bool = False


class JobError(Exception):
    """A job that ended without its result, with a reason the user can act on.

    kind: "invalid" (a setting), "diverged", "too_long", "cancelled", "worker_died", "busy" or "internal"."""

    def __init__(self, kind: str, message: str = ""):
        super().__init__(message or kind)
        self.kind = kind
        self.message = message

    def __reduce__(self):  # travels between processes with both fields
        return (JobError, (self.kind, self.message))
