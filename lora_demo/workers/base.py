"""The small interface every pool of workers offers, whatever runs the work (local processes, Ray).

A pool runs jobs by name (see lora_demo.jobs) on `size` workers and streams back what each job
yields. No torch, no gradio: the web process imports this without the engine.
"""
from __future__ import annotations

from typing import AsyncIterator

from ..jobs.payload import JobError, Update

STOP_GRACE_S = 0.5   # a job asked to stop has this long to end before its worker is killed
HARD_CAP_SLACK_S = 0.5  # past its budget plus this, a job's worker is killed


class Pool:
    """Runs jobs on `size` workers. Callers must not start more than `size` jobs at once (the
    scheduler sees to that); a job's stream is an async iterator, and leaving it early (break, an
    exception, cancellation of the awaiting task) stops the job in its worker."""
    size: int = 0
    name: str = ""

    def stream(self, kind: str, values: dict, lang: str, seconds: float) -> AsyncIterator[Update]:
        """The updates of one job, at most `seconds` long. Raises JobError when it ends without its result."""
        raise NotImplementedError

    def launch(self) -> None:
        """Start bringing the workers up in the background; returns at once (idempotent)."""

    @property
    def ready(self) -> bool:
        """Whether the workers are up (a job started before then waits for them)."""
        return True

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Block until the workers are up (for scripts and tests); False on timeout."""
        return True

    async def start(self) -> None:
        """Bring the workers up (idempotent); a pool may also start lazily on its first job."""

    def close(self) -> None:
        """Stop every worker; running streams end with JobError("worker_died")."""

    def stats(self) -> dict:
        """Process ids and counts, for benchmarks and health checks."""
        return {}


__all__ = ["HARD_CAP_SLACK_S", "JobError", "Pool", "STOP_GRACE_S", "Update"]
