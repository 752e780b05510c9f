"""LoRA Playground: watch a LoRA adapter learn a shifted toy task, with PEFT's semantics."""
from .config import ConfigError, DataConfig, LoRAConfig, ModelConfig, RunConfig, ShiftConfig, TrainConfig
from .train import Snapshot, TrainingDiverged, run, train

__all__ = ["ConfigError", "DataConfig", "LoRAConfig", "ModelConfig", "RunConfig", "ShiftConfig",
           "TrainConfig", "Snapshot", "TrainingDiverged", "run", "train"]
