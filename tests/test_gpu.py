"""GPU-worthy work: decorated with @spaces.GPU only on a ZeroGPU Space, and the same numbers whichever
device the batched loop runs on (checked here on the CPU path; this machine has no GPU)."""
import importlib
import sys
import types

import numpy as np
import pytest
import torch

from lora_demo import gpu
from lora_demo.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from lora_demo.insights.common import frozen_base


def test_off_zerogpu_the_function_is_left_alone(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    f = lambda: 1  # noqa: E731
    assert gpu.gpu_task(f) is f
    assert gpu.device() == torch.device("cpu")


def test_on_zerogpu_the_function_goes_through_spaces_gpu(monkeypatch):
    calls = []
    fake = types.ModuleType("spaces")

    def GPU(duration=None):
        def wrap(fn):
            def wrapped(*a, **k):
                calls.append(duration)
                return fn(*a, **k)
            return wrapped
        return wrap
    fake.GPU = GPU
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    wrapped = gpu.gpu_task(lambda x: 2 * x)
    assert wrapped(21) == 42 and calls == [gpu.GPU_SECONDS]
    # the batched trainer (rank sweep, α explorer) is decorated when its module is imported on ZeroGPU
    import lora_demo.insights.batched as batched
    reloaded = importlib.reload(batched)
    try:
        assert reloaded.train_batched.__name__ == "wrapped"
    finally:
        monkeypatch.delenv("SPACES_ZERO_GPU")
        importlib.reload(batched)


def test_the_batched_loop_gives_the_same_numbers_on_an_explicit_device():
    from lora_demo.insights.batched import train_batched
    torch.set_num_threads(1)
    fb = frozen_base(RunConfig(data=DataConfig(n_samples=80), model=ModelConfig(hidden_size=16),
                               train=TrainConfig(pretrain_steps=20, adapt_steps=20)), grid_size=2)
    args = (fb.base, fb.target, ("fc2",), [1, 2], [2.0, 1.0], "peft", 20, 0.01)
    here = train_batched(*args, fb.generator())
    there = train_batched(*args, fb.generator(), on=torch.device("cpu"))
    for a, b in zip((here.curves, here.accuracy), (there.curves, there.accuracy)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert here.curves.shape == (2, 20)


@pytest.mark.parametrize("flag", ["", "0", "false"])
def test_zerogpu_flag(monkeypatch, flag):
    monkeypatch.setenv("SPACES_ZERO_GPU", flag)
    assert not gpu.on_zerogpu()
