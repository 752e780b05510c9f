"""A worker's memory of pretrained bases: phase 1 of a run, kept for the next run that differs only after it.

In a workshop the room changes the adapter (rank, α, target layers, init, adaptation steps) far more often
than the data: every such run pretrains the very same base. Phase 1 depends only on the data, the shift,
the model, the learning rate, the pretraining steps and the snapshot schedule, and the engine draws every
random number from the run's own seeded generator, so a base pretrained once is bit for bit the base any
later run with that key would pretrain. `engine.run` recalls it: it yields the kept phase-1 snapshots again
(immutable), loads the kept parameters into its freshly initialised base (which leaves the run's generator
where pretraining would have left it: pretraining draws nothing), and adapts as usual.

Least recently used dropped first, within MAX_BYTES and MAX_BASES. Owned by one worker process
(workers/serve.py); nothing here is shared between processes or module-level. Imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .lru import LRU

MAX_BYTES = 4 * 2**20  # per worker; a default base with its 9 snapshots is 0.84 MB (mostly the 100 × 100 grids),
MAX_BASES = 8          # the largest the guard admits about 2.2 MB; a room rarely works on more than a few data sets


@dataclass(frozen=True)
class Pretrained:
    """What phase 1 leaves behind: its snapshots as yielded, and the state phase 2 starts from."""
    snapshots: tuple        # the phase's Snapshots, in order
    state: dict             # the base's parameters after pretraining (tensors owned by this record)
    curves: dict            # the loss curves so far: name -> (steps, losses), as lists
    accuracy: dict          # base_source, base_target
    end: dict               # pretrain_train, pretrain_test
    base_probs: np.ndarray  # the frozen base's class probabilities on the grid

    @property
    def nbytes(self) -> int:
        arrays = {id(a): a.nbytes for s in self.snapshots for a in (s.base_probs, *s.curves.values())}
        arrays[id(self.base_probs)] = self.base_probs.nbytes
        return sum(arrays.values()) + sum(t.numel() * t.element_size() for t in self.state.values())


class Bases(LRU):
    """Pretrained bases by key, least recently used dropped first."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_bases: int = MAX_BASES):
        super().__init__(max_bytes, max_bases)

    @staticmethod
    def key(cfg, schedule: tuple) -> tuple:
        """Everything phase 1 depends on. schedule: whatever else decides when run() snapshots (step gap,
        every_steps, grid size); a run that snapshots by time must not be recalled."""
        return (cfg.data, cfg.shift, cfg.model, cfg.train.lr, cfg.train.pretrain_steps, schedule)

    def keep(self, key: tuple, pretrained: Pretrained) -> None:
        self.put(key, pretrained, pretrained.nbytes)


def state_of(model: torch.nn.Module) -> dict:
    """A copy of the model's parameters that later changes to the model cannot touch."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
