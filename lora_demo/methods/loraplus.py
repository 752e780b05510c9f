"""LoRA+: the same layers and starting point as LoRA, and one change to the optimizer: B learns faster.

PEFT builds it with `peft.optimizers.create_loraplus_optimizer(model, optimizer_cls, lr=η, loraplus_lr_ratio=λ)`:
every lora_B weight, and every other trainable tensor with one dimension (DoRA's magnitude, for one), goes
into a group at η·λ; everything else (the A weights) stays at η. Imports torch only.
"""
from __future__ import annotations

from .base import trainable_parameters
from .lora import LoRAMethod, lora_layers

# λ = 16 is the value in PEFT's own LoRA+ example (docs/source/developer_guides/lora.md, "LoRA+ optimized
# LoRA"); PEFT itself has no default and requires the argument. The LoRA+ paper treats λ as task-dependent.
DEFAULT_RATIO = 16.0


class LoRAPlusMethod(LoRAMethod):
    """LoRA whose optimizer gives B (and any 1-D trainable tensor) the learning rate lr × ratio."""
    key = "loraplus"

    def __init__(self, ratio: float = DEFAULT_RATIO):
        super().__init__("loraplus")
        self.ratio = ratio

    def param_groups(self, model, lr):
        """[A group at lr, B group at lr·ratio], as create_loraplus_optimizer sorts them (its two groups that
        stay empty here, embeddings and no-decay B, are left out; Adam skips empty groups anyway)."""
        fast_ids = {id(m.B.weight) for m in lora_layers(model).values()}
        slow, fast = [], []
        for p in trainable_parameters(model):
            (fast if id(p) in fast_ids or p.ndim == 1 else slow).append(p)
        return [{"params": slow, "lr": lr}, {"params": fast, "lr": lr * self.ratio}]
