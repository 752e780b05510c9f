"""The jobs by name, and run_job: what a worker runs. Imports the engine (torch)."""
from __future__ import annotations

from typing import Callable, Iterator

from ..bases import Bases
from ..config import ConfigError
from ..fit import Cancelled, Guard, RunTooLong, TrainingDiverged
from .insights import insights_job
from .library import library_job
from .payload import JobError, Update
from .race import race_job
from .seeds import seeds_job
from .train import train_job

JOBS: dict[str, Callable[..., Iterator[Update]]] = {
    "train": train_job,
    "insights": insights_job,
    "seeds": seeds_job,
    "race": race_job,
    "library": library_job,
}


REMEMBERS_BASES = {"train"}  # the jobs that take a worker's memory of pretrained bases (lora_demo.bases)


def run_job(kind: str, values: dict, lang: str, guard: Guard, bases: Bases | None = None) -> Iterator[Update]:
    """JOBS[kind] with the engine's exceptions turned into JobError, which crosses process boundaries.
    bases: the worker's memory of pretrained bases, for the jobs that use one."""
    try:
        yield from JOBS[kind](values, lang, guard, **({"bases": bases} if kind in REMEMBERS_BASES else {}))
    except TrainingDiverged as e:
        raise JobError("diverged", str(e)) from None
    except RunTooLong as e:
        raise JobError("too_long", str(e)) from None
    except Cancelled:
        raise JobError("cancelled") from None
    except ConfigError as e:  # the web process validated already; a worker never trusts its input
        raise JobError("invalid", str(e)) from None
