"""A worker's memory of pretrained bases: a run that recalls its base yields, bit for bit, what a run that
pretrains gives; only runs that share every setting phase 1 depends on share a base; the memory stays bounded."""
import numpy as np
import pytest
import torch

from lora_demo.bases import Bases
from lora_demo.config import config_from_flat
from lora_demo.fit import Cancelled, Guard
from lora_demo.links import DEFAULTS
from lora_demo.engine import run

SMALL = dict(DEFAULTS, n_samples=120, pretrain_steps=60, adapt_steps=40)
SCHEDULE = dict(every_steps=10, max_snapshots=20)


def snapshots(values, bases=None, **kw):
    return list(run(config_from_flat(values), bases=bases, **{**SCHEDULE, **kw}))


def assert_same_run(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert (a.phase, a.step, a.phase_steps, a.accuracy) == (b.phase, b.step, b.phase_steps, b.accuracy)
        assert a.curves.keys() == b.curves.keys()
        assert all(np.array_equal(a.curves[k], b.curves[k]) for k in a.curves)
        assert np.array_equal(a.base_probs, b.base_probs)
        assert (a.lora_probs is None) == (b.lora_probs is None)
        assert a.lora_probs is None or np.array_equal(a.lora_probs, b.lora_probs)
        assert {k: c.to_dict() for k, c in a.params.items()} == {k: c.to_dict() for k, c in b.params.items()}
    ra, rb = got[-1].result.to_dict(), expected[-1].result.to_dict()
    ra.pop("seconds"), rb.pop("seconds")
    assert ra == rb
    sa, sb = got[-1].model_state, expected[-1].model_state
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("adapter", [dict(rank=5), dict(alpha=3.0, target_modules=["fc1", "fc3"]),
                                     dict(init="gaussian", adapt_steps=30), dict(use_rslora=True)])
def test_a_run_that_recalls_its_base_gives_what_a_run_that_pretrains_gives(adapter):
    bases = Bases()
    first = snapshots(SMALL, bases)
    assert len(bases) == 1 and bases.hits == 0
    assert_same_run(first, snapshots(SMALL))   # keeping a base changes nothing in the run that keeps it
    other = dict(SMALL, **adapter)
    recalled = snapshots(other, bases)
    assert bases.hits == 1
    assert_same_run(recalled, snapshots(other))
    pretrain_frames = [s for s in recalled if s.phase == "pretrain"]
    assert pretrain_frames and all(a is b for a, b in zip(pretrain_frames, first))  # the kept snapshots


@pytest.mark.parametrize("change", [dict(seed=1), dict(dataset="circles"), dict(noise=0.2), dict(angle=45.0),
                                    dict(hidden_size=32), dict(lr=0.02), dict(pretrain_steps=50)])
def test_a_change_to_anything_pretraining_depends_on_pretrains_again(change):
    bases = Bases()
    snapshots(SMALL, bases)
    assert_same_run(snapshots(dict(SMALL, **change), bases), snapshots(dict(SMALL, **change)))
    assert bases.hits == 0 and len(bases) == 2


def test_a_different_snapshot_schedule_or_a_timed_one_is_not_recalled():
    bases = Bases()
    snapshots(SMALL, bases)
    snapshots(SMALL, bases, every_steps=7)
    assert bases.hits == 0 and len(bases) == 2
    snapshots(SMALL, bases, every_seconds=0.01)  # snapshots by time differ from run to run
    assert bases.hits == 0 and len(bases) == 2


def test_the_memory_drops_the_least_recently_used_within_its_bounds():
    bases = Bases(max_bases=2)
    for seed in (0, 1, 2):
        snapshots(dict(SMALL, seed=seed), bases)
    assert len(bases) == 2
    snapshots(dict(SMALL, seed=0, rank=3), bases)  # seed 0 was dropped first
    assert bases.hits == 0
    snapshots(dict(SMALL, seed=2, rank=3), bases)
    assert bases.hits == 1
    one = bases.bytes / len(bases)
    small = Bases(max_bytes=int(1.5 * one))
    for seed in (0, 1, 2):
        snapshots(dict(SMALL, seed=seed), small)
    assert len(small) == 1 and small.bytes <= small.max_bytes


def test_a_stop_reaches_a_run_while_it_replays_its_base():
    bases = Bases()
    snapshots(SMALL, bases)
    asked = {"stop": False}
    replay = run(config_from_flat(dict(SMALL, rank=4)), bases=bases, guard=Guard(stop=lambda: asked["stop"]),
                 **SCHEDULE)
    next(replay)
    asked["stop"] = True
    with pytest.raises(Cancelled):
        next(replay)


def test_the_kept_base_is_not_touched_by_the_runs_that_recall_it():
    bases = Bases()
    snapshots(SMALL, bases)
    (kept,) = bases.values()
    before = {k: v.clone() for k, v in kept.state.items()}
    for rank in (1, 2, 3):
        snapshots(dict(SMALL, rank=rank), bases)
    assert all(torch.equal(before[k], kept.state[k]) for k in before)
