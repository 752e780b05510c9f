"""LoRA Playground: watch a LoRA adapter learn a shifted toy task, with PEFT's semantics.

The settings import nothing heavy; run, train and the engine behind them import torch on first use, so
the web process (which only relays work to worker processes) never loads it.
"""
from .config import ConfigError, DataConfig, LoRAConfig, ModelConfig, RunConfig, ShiftConfig, TrainConfig

_ENGINE = ("Snapshot", "TrainingDiverged", "run", "train")

__all__ = ["ConfigError", "DataConfig", "LoRAConfig", "ModelConfig", "RunConfig", "ShiftConfig",
           "TrainConfig", *_ENGINE]


def __getattr__(name: str):
    if name in _ENGINE:
        from . import engine  # the module is `engine`, so `lora_demo.train` stays the function the README shows
        return getattr(engine, name)
    raise AttributeError(f"module 'lora_demo' has no attribute {name!r}")
