"""The same pool interface on Ray: every job is a Ray streaming-generator task, so the work can run on
any machine of a Ray cluster while the web process only relays.

    LORA_RAY_ADDRESS=auto             a local Ray (the one `ray start --head` runs, or a new one)
    LORA_RAY_ADDRESS=ray://head:10001 a cluster; this package is shipped to it with each job

Needs `pip install -r requirements-ray.txt`. Imports ray lazily, never torch: the engine is imported by
the task on the Ray worker.
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from .base import HARD_CAP_SLACK_S, JobError, Pool

PACKAGE = Path(__file__).resolve().parent.parent  # lora_demo/, shipped to the cluster's workers


def _job(kind: str, values: dict, lang: str, seconds: float):
    """The task body, on a Ray worker: one torch thread, the job under its time budget."""
    import torch

    from ..fit import Guard
    from ..jobs.registry import run_job
    torch.set_num_threads(1)
    yield from run_job(kind, values, lang, Guard.within(seconds))


class RayPool(Pool):
    name = "Ray"

    def __init__(self, address: str = "auto", num_cpus: int | None = None):
        self.address, self.num_cpus = address, num_cpus
        self._remote = None
        self.size = 0

    def _connect(self) -> None:
        import ray
        if not ray.is_initialized():
            env = {"py_modules": [str(PACKAGE)]}
            try:
                ray.init(address=self.address, runtime_env=env, log_to_driver=False,
                         **({"num_cpus": self.num_cpus} if self.address == "local" else {}))
            except ConnectionError:
                if self.address != "auto":
                    raise
                # "auto" with no Ray running here: start one of our own on this machine's cores
                from .local import usable_cores
                ray.init(num_cpus=self.num_cpus or usable_cores(), runtime_env=env, log_to_driver=False)
        self.size = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_job)

    def launch(self) -> None:
        if self._remote is None:
            self._connect()

    def wait_ready(self, timeout: float = 120.0) -> bool:
        self.launch()
        return True

    async def start(self) -> None:
        self.launch()

    async def stream(self, kind, values, lang, seconds):
        import ray
        from ray.exceptions import RayTaskError, TaskCancelledError
        self.launch()
        refs = self._remote.options(num_returns="streaming").remote(kind, values, lang, seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds + HARD_CAP_SLACK_S
        finished = False
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        ref = await refs.__anext__()
                        update = await ref
                except StopAsyncIteration:
                    finished = True
                    return
                except TimeoutError:
                    raise JobError("too_long", f"the work went past its {seconds:g} s budget and was stopped") from None
                yield update
        except RayTaskError as e:
            finished = True
            cause = getattr(e, "cause", None)
            if isinstance(cause, JobError):
                raise JobError(cause.kind, cause.message) from None
            if isinstance(cause, TaskCancelledError):
                raise JobError("cancelled") from None
            raise JobError("internal") from None
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.RaySystemError):
            finished = True
            raise JobError("worker_died", "the worker running this job stopped unexpectedly") from None
        finally:
            if not finished:
                ray.cancel(refs, force=False)  # interrupts the task at its next Python line

    def close(self) -> None:
        import ray
        if ray.is_initialized() and os.environ.get("LORA_RAY_KEEP") != "1":
            ray.shutdown()
        self._remote = None

    def stats(self) -> dict:
        return {"pool": self.name, "size": self.size, "address": self.address}
