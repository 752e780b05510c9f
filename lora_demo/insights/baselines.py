"""LoRA beside full fine-tuning and the seed article's Adapter, on the same frozen base and target:
the Adapter at a trainable budget matched to LoRA's, and every method at a few learning rates,
because one learning rate can rank the methods either way (LoRA's best rate sits higher)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..methods.adapter import bottleneck_for_budget
from .common import FitResult, FrozenBase, train_method

LR_FACTORS = (0.1, 0.3, 1.0, 3.0)   # learning rates tried per method, as multiples of the run's
METHOD_KEYS = ("full_finetune", "adapter", "lora")


@dataclass(frozen=True)
class Baselines:
    at_run_lr: dict          # method -> FitResult at the run's learning rate, with grid probabilities
    by_lr: dict              # method -> tuple of FitResult, one per learning rate (ascending)
    adapter_bottleneck: int  # the Adapter's width m, chosen so its count is closest to LoRA's
    lora_model: object = None  # the run's trained LoRA (live), for the panels that inspect it

    def best_lr(self, method: str) -> float:
        return max(self.by_lr[method], key=lambda r: (r.accuracy, -r.final_train_loss)).lr


def matched_adapter(fb: FrozenBase) -> int:
    """The Adapter width whose trainable count is closest to the run's LoRA (Adapters after the same layers)."""
    lora_budget = sum(fb.cfg.lora.rank * sum(fb.layer_shape(n)) for n in fb.cfg.lora.target_modules)
    return bottleneck_for_budget([fb.layer_shape(n)[1] for n in fb.cfg.lora.target_modules], lora_budget)


def compare(fb: FrozenBase, lr_factors=LR_FACTORS) -> Baselines:
    m = matched_adapter(fb)
    settings = {"full_finetune": fb.cfg.lora, "adapter": replace(fb.cfg.lora, rank=m), "lora": fb.cfg.lora}
    at_lr, by_lr, lora_model = {}, {}, None
    for key in METHOD_KEYS:
        runs = []
        for factor in sorted(lr_factors):
            lr = fb.cfg.train.lr * factor
            model, res = train_method(fb, key, settings[key], lr=lr, with_probs=factor == 1.0)
            runs.append(res)
            if factor == 1.0:
                at_lr[key] = res
                lora_model = model if key == "lora" else lora_model
        by_lr[key] = tuple(runs)
    return Baselines(at_lr, by_lr, m, lora_model)


__all__ = ["Baselines", "FitResult", "compare", "matched_adapter"]
