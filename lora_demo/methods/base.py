"""What every fine-tuning method shares: the Method interface, counting as PEFT counts, and the small
helpers that attach a module to a frozen copy of a base model.

A method takes a frozen, pretrained base and returns a *new* model (the base itself is never touched)
in which exactly the method's own parameters have requires_grad. Imports torch only.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from ..config import LoRAConfig


class NotMergeable(ValueError):
    """The method's change cannot be folded into the base weights (it adds computation)."""


@dataclass(frozen=True)
class ParamCount:
    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def peft_line(self) -> str:
        """The line PEFT's print_trainable_parameters() prints."""
        return (f"trainable params: {self.trainable:,d} || all params: {self.total:,d} "
                f"|| trainable%: {self.percent:.4f}")

    def to_dict(self) -> dict:
        return {"trainable": self.trainable, "total": self.total, "percent": self.percent}


def count_parameters(model: nn.Module) -> ParamCount:
    """Trainable and all parameters, as PEFT counts them (all = base + what the method added)."""
    params = list(model.parameters())
    return ParamCount(sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params))


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Exactly what the optimizer gets: the parameters the method left trainable."""
    return [p for p in model.parameters() if p.requires_grad]


def frozen_copy(base: nn.Module) -> nn.Module:
    """A deep copy of base with every parameter frozen: the starting point of every method."""
    return copy.deepcopy(base).requires_grad_(False)


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put new where the submodule called name (e.g. "fc2" or "block.0.fc") was."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def linear_at(model: nn.Module, name: str) -> nn.Linear:
    layer = model.get_submodule(name)
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"{name} is not an nn.Linear layer")
    return layer


class Method:
    """One way to adapt a frozen base to a new task.

    Subclasses set `key` and implement `attach`; the rest has defaults that fit most methods.
    `lora` carries the user's adapter settings (rank, α, target layers, init); each method reads the
    ones it has a use for (the Adapter reads the rank as its bottleneck width)."""
    key: str = ""
    mergeable: bool = True       # can the change be folded into W, leaving a plain base model?
    changes_base: bool = False   # does attaching rewrite the frozen weights (PiSSA, OLoRA)?

    def attach(self, base: nn.Module, lora: LoRAConfig, generator: torch.Generator | None = None) -> nn.Module:
        """A new model: a frozen copy of base with this method's trainable parts added."""
        raise NotImplementedError

    def param_groups(self, model: nn.Module, lr: float) -> list[dict]:
        """What Adam gets; one group at lr unless the method says otherwise (LoRA+)."""
        return [{"params": trainable_parameters(model), "lr": lr}]

    def merged(self, model: nn.Module) -> nn.Module:
        """A plain base model computing what model computes; NotMergeable where that cannot be."""
        raise NotMergeable(f"{self.key} adds computation that cannot be folded into the weights")

    def trainable_count(self, base: nn.Module, lora: LoRAConfig) -> int:
        """How many numbers this method trains on base with these settings (from the shapes)."""
        return count_parameters(self.attach(base, lora, torch.Generator().manual_seed(0))).trainable
