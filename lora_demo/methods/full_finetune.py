"""Full fine-tuning: every weight and bias of a copy of the base trains. The reference every
parameter-efficient method is measured against. Imports torch only."""
from __future__ import annotations

import copy

from .base import Method


class FullFineTune(Method):
    key = "full_finetune"

    def attach(self, base, lora=None, generator=None):
        """A trainable copy; nothing is drawn at random, so generator is unused."""
        return copy.deepcopy(base).requires_grad_(True)

    def merged(self, model):
        return copy.deepcopy(model).requires_grad_(False)  # already a plain model

    def trainable_count(self, base, lora=None):
        return sum(p.numel() for p in base.parameters())
