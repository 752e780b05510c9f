"""The loop a local worker process runs: receive a job, run it under a Guard, send back every update.

Imported once by the forkserver that every worker is forked from, so torch and the engine are already
loaded when a worker (or its replacement) starts. One torch thread per worker: the pool has one worker
per core, and a tiny model gains nothing from a second thread.
"""
from __future__ import annotations

import logging
import os
from functools import partial

import torch

from ..bases import Bases
from ..fit import Guard
from ..jobs.registry import run_job
from ..jobs.payload import JobError
from ..jobs.recent import Recent

log = logging.getLogger("lora_demo.worker")
WORKER_NICENESS = 5  # added to the worker's scheduling niceness (lower priority than the web process)


def _warm_up() -> None:
    """One tiny run, so that the first visitor does not pay for torch's lazy start-up."""
    from ..links import DEFAULTS
    for _ in run_job("train", dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10), "en", Guard()):
        pass


def become_worker() -> None:
    """What a worker process does before its first job (bench.ceiling's processes do the same)."""
    torch.set_num_threads(1)
    try:  # the web process admits, queues and relays for everyone: under full load it goes first
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):
        pass
    _warm_up()


def serve(conn, stop) -> None:
    """Messages in: ("run", job_id, kind, values, lang, seconds) or ("quit",).
    Messages out: ("ready",), then per job ("update", job_id, Update)… and one of ("done", job_id) or
    ("error", job_id, kind, message). `stop.value == job_id` asks the running job to end at its next step."""
    become_worker()
    recent = Recent()  # the same job again (a room pressing Train on the defaults) is answered from memory
    bases = Bases()    # a job that differs only in its adapter starts from the base pretrained here already
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the web process went away
            return
        if msg[0] != "run":
            return
        _, job_id, kind, values, lang, seconds = msg
        guard = Guard.within(seconds, stop=lambda job_id=job_id: stop.value == job_id)
        try:
            for update in recent.run(kind, values, lang, partial(run_job, kind, values, lang, guard, bases)):
                conn.send(("update", job_id, update))
            conn.send(("done", job_id))
        except JobError as e:
            conn.send(("error", job_id, e.kind, e.message))
        except (BrokenPipeError, EOFError, OSError):
            return
        except Exception:  # a bug: one line in the log with the traceback, a plain message for the user
            log.exception("job %s failed (%s)", kind, values)
            conn.send(("error", job_id, "internal", ""))
