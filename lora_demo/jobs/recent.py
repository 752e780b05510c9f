"""A worker's memory of the jobs it finished lately: the same settings again are answered from it.

A room that has just opened the page presses Train on the same default settings, and a job's updates
depend on nothing but its kind, settings and language (the engine draws every random number from the
run's own seeded generator; tests/test_workers.py checks that any worker gives the same metrics). So a
worker keeps the updates of its last finished jobs, up to MAX_BYTES, and sends them again when the same
job comes back. A job that failed, was stopped or ran out of time is not kept. Imports neither torch
nor gradio.

Used by the local pool's workers (workers/serve.py), which live as long as the app. Ray tasks and the
inline pool's threads start fresh for every job, so they have no memory to keep.
"""
from __future__ import annotations

import json
from typing import Callable, Iterator

from ..lru import LRU
from .payload import File, Plot, Update

MAX_BYTES = 8 * 2**20   # per worker, so two stay well inside the soak's 50 MB; a default /train job is ~0.5 MB
MAX_JOBS = 16


def _size(update: Update) -> int:
    """About how many bytes an update holds (its figures, files and texts)."""
    total = 0
    for value in update.outputs.values():
        if isinstance(value, Plot):
            total += len(value.json)
        elif isinstance(value, File):
            total += len(value.data)
        else:
            total += len(str(value))
    return total + 200


class Recent(LRU):
    """Updates of recently finished jobs, least recently used dropped first, within max_bytes and max_jobs."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_jobs: int = MAX_JOBS):
        super().__init__(max_bytes, max_jobs)

    @staticmethod
    def key(kind: str, values: dict, lang: str) -> str:
        return json.dumps([kind, values, lang], sort_keys=True, default=repr)

    def run(self, kind: str, values: dict, lang: str, job: Callable[[], Iterator[Update]]) -> Iterator[Update]:
        """The job's updates: remembered ones if this job finished here lately, else job()'s, remembered
        once it has run to its end."""
        key = self.key(kind, values, lang)
        kept = self.get(key)
        if kept is not None:
            yield from kept
            return
        updates = []
        for update in job():  # an exception (stopped, diverged, too long) leaves nothing behind
            updates.append(update)
            yield update
        self.put(key, updates, sum(_size(u) for u in updates))
