"""Training runs: the default makes the point, snapshots are immutable copies, runs are reproducible."""
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from lora_demo.config import DataConfig, LoRAConfig, RunConfig, ShiftConfig, TrainConfig
from lora_demo.engine import Snapshot, TrainingDiverged, run, train

SMALL = RunConfig(data=DataConfig(n_samples=120), train=TrainConfig(pretrain_steps=60, adapt_steps=60))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_run_shows_the_point(seed):
    res = train(RunConfig(data=DataConfig(seed=seed))).result
    acc = res.accuracy
    assert acc["base_source"] >= 0.95
    assert acc["base_target"] <= 0.75
    assert acc["lora_target"] >= 0.93  # the full measurement over seeds is the claims test's (test_claims.py)
    assert res.base_unchanged and res.base_max_abs_change == 0.0
    assert res.merge_ok
    assert res.params["lora"]["trainable"] == 2 * (64 + 64)  # r · (d_in + d_out) on fc2
    assert res.params["lora"]["total"] == res.params["pretrain"]["total"] + 256
    assert res.adapted_weights == 64 * 64 and 256 / res.adapted_weights <= 0.10


def test_same_task_leaves_little_to_learn():
    res = train(RunConfig(shift=ShiftConfig(kind="none"))).result
    assert res.accuracy["base_target"] >= 0.93
    assert res.final_loss["adapt_train"] <= res.final_loss["pretrain_train"] * 1.5 + 0.05


def assert_same_snapshots(a: list[Snapshot], b: list[Snapshot]):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert (x.phase, x.step, x.accuracy) == (y.phase, y.step, y.accuracy)
        assert np.array_equal(x.base_probs, y.base_probs)
        assert (x.lora_probs is None) == (y.lora_probs is None)
        if x.lora_probs is not None:
            assert np.array_equal(x.lora_probs, y.lora_probs)
        for k in x.curves:
            assert np.array_equal(x.curves[k], y.curves[k])


def test_reproducible_even_with_concurrent_runs():
    cfg = replace(SMALL, lora=LoRAConfig(rank=3, init="seed"))
    alone = list(run(cfg, every_steps=10))
    results = {}

    def worker(i, c):
        results[i] = list(run(c, every_steps=10))

    others = [replace(cfg, data=DataConfig(n_samples=120, seed=s)) for s in (7, 8)]
    threads = [threading.Thread(target=worker, args=(0, cfg))]
    threads += [threading.Thread(target=worker, args=(i + 1, c)) for i, c in enumerate(others)]
    torch.manual_seed(123)  # process-wide seeding must not matter
    for t in threads:
        t.start()
    for _ in range(50):
        torch.rand(10)  # someone else touching the global generator
    for t in threads:
        t.join()
    assert_same_snapshots(alone, results[0])
    assert not np.array_equal(results[1][-1].base_probs, alone[-1].base_probs)


def test_snapshots_are_bounded_immutable_and_complete():
    cfg = RunConfig(train=TrainConfig(pretrain_steps=2000, adapt_steps=2000), data=DataConfig(n_samples=60))
    snaps = list(run(cfg, every_steps=1, max_snapshots=50))
    assert len(snaps) <= 50
    first, last = snaps[0], snaps[-1]
    assert first.phase == "pretrain" and first.step == 0 and first.lora_probs is None
    assert last.done and sum(s.done for s in snaps) == 1
    assert last.base_probs.shape == (100, 100, 2) and last.lora_probs.shape == (100, 100, 2)
    np.testing.assert_allclose(last.lora_probs.sum(-1), 1, atol=1e-5)
    with pytest.raises(ValueError):
        last.base_probs[0, 0, 0] = 1  # read-only copies, not live tensors
    assert all(isinstance(v, np.ndarray) for v in last.curves.values())
    steps = last.curves["adapt/train"][0]
    assert steps[0] == 2000 and steps[-1] == 4000  # one step axis for both phases
    assert set(last.result.accuracy) == {"base_source", "base_target", "lora_target", "lora_source"}
    # the frozen base field is the same object through the whole adaptation phase
    adapt = [s for s in snaps if s.phase == "adapt"]
    assert all(s.base_probs is adapt[0].base_probs for s in adapt)
    # time-based throttling: a fake clock that advances 1 s per reading gives a snapshot each check
    ticks = iter(range(10**6))
    timed = list(run(SMALL, every_seconds=0.5, clock=lambda: next(ticks)))
    assert 10 < len(timed) <= 120


def test_drained_equals_last_snapshot_and_json_result():
    import json
    last = list(run(SMALL))[-1]
    again = train(SMALL)
    assert last.result.accuracy == again.result.accuracy
    json.dumps(again.result.to_dict())
    assert len(list(run(SMALL))) == 3  # no interval: start, phase change, end


def test_diverging_run_raises_a_clear_error():
    cfg = replace(SMALL, train=TrainConfig(lr=10, pretrain_steps=200, adapt_steps=200))
    with pytest.raises(TrainingDiverged, match="learning rate"):
        train(cfg)


@pytest.mark.parametrize("kind", ["translate", "scale", "dataset"])
def test_other_shifts_run(kind):
    res = train(replace(SMALL, shift=ShiftConfig(kind=kind))).result
    assert 0 <= res.accuracy["lora_target"] <= 1 and res.base_unchanged


def test_the_readme_core_example_runs_as_written():
    """The README's "core without the UI" block, in a fresh interpreter: `from lora_demo import train` is the
    engine's function (it once returned the module `lora_demo.train`, or recursed), and what it prints is a run's."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    section = (root / "README.md").read_text(encoding="utf-8").split("## The core without the UI", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    for prelude in ("", "import lora_demo.engine\n"):  # also when the engine module is already loaded
        out = subprocess.run([sys.executable, "-c", prelude + code], cwd=root, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        accuracy, peft_line = out.stdout.strip().splitlines()
        assert set(eval(accuracy)) == {"base_source", "base_target", "lora_target", "lora_source"}
        assert peft_line == train(RunConfig()).result.peft_line


def test_the_package_names_the_engine_functions():
    import lora_demo
    from lora_demo import engine
    assert lora_demo.train is engine.train and lora_demo.run is engine.run
    assert lora_demo.Snapshot is Snapshot and lora_demo.TrainingDiverged is TrainingDiverged
