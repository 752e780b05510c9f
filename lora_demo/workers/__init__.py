"""Where the work runs: a pool of local worker processes (the default) or a Ray cluster.

    LORA_WORKERS=N        local worker processes (default: the cores this process may use);
                          0 runs jobs in threads of the web process (what a ZeroGPU Space does)
    LORA_RAY_ADDRESS=…    run jobs on Ray instead: "auto" (a local Ray started by `ray start --head`,
                          or a new one), or a cluster's address such as "ray://head:10001"

No torch, no gradio: the web process imports this without the engine.
"""
from __future__ import annotations

import os

from .base import Pool


def make_pool(environ=os.environ) -> Pool:
    address = environ.get("LORA_RAY_ADDRESS", "").strip()
    if address:
        from .ray_pool import RayPool
        return RayPool(address)
    size = environ.get("LORA_WORKERS", "").strip()
    if size and not size.isdigit():
        raise ValueError(f"LORA_WORKERS must be a whole number (0 for no worker processes); got {size!r}")
    if size == "0" or environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "true"):
        # on ZeroGPU the GPU is lent to the web process's own @spaces.GPU functions
        from .inline import InlinePool
        return InlinePool(1)
    from .local import LocalPool
    return LocalPool(int(size) if size else None)


__all__ = ["Pool", "make_pool"]
