"""Where GPU-worthy work runs: K models trained as one batched loop (the rank sweep, the α explorer) go to
a GPU when one is there, through @spaces.GPU on a Hugging Face ZeroGPU Space; everything else, and all
of it elsewhere, stays on the CPU. A tiny model's single run is faster on a CPU than the trip to a GPU.

`spaces` is imported only on ZeroGPU (SPACES_ZERO_GPU is set there); its decorator does nothing elsewhere.
"""
from __future__ import annotations

import os

import torch

GPU_SECONDS = 60  # what a decorated call may take on a lent GPU (ZeroGPU's own default)


def on_zerogpu() -> bool:
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true")


def gpu_task(fn):
    """fn under @spaces.GPU on ZeroGPU; fn itself everywhere else."""
    if not on_zerogpu():
        return fn
    try:
        import spaces
    except ImportError:  # ZeroGPU without the package: run on the CPU rather than fail
        return fn
    return spaces.GPU(duration=GPU_SECONDS)(fn)


def device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
