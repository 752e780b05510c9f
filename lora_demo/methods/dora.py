"""DoRA (weight-decomposed LoRA) with PEFT's numbers: each output row of W + s·B·A gets its own trained
length, the magnitude m, while B·A steers the row's direction.

    y = (m / n) ⊙ (W x + s·B·A x) + bias,    n = ‖W + s·B·A‖ per output row, treated as a constant

PEFT calls m `lora_magnitude_vector` and turns DoRA on with `LoraConfig(use_dora=True)`. The norm n is
detached, as the DoRA paper (section 4.3) and PEFT do: gradients reach m, A and B but not through n.
Imports torch only.
"""
from __future__ import annotations

import torch
from torch import nn

from .base import frozen_copy, linear_at
from .lora import LoRA, LoRAMethod, add_lora, lora_param_count, merged_copy


def row_norms(weight: torch.Tensor) -> torch.Tensor:
    """‖row‖₂ of a (d_out, d_in) weight: one number per output feature, shape (d_out,)."""
    return torch.linalg.norm(weight, dim=1)


class DoRA(LoRA):
    """LoRA plus a trainable magnitude per output row; same constructor as LoRA, so add_lora can build it.

    m starts at ‖W + s·B·A‖ per row; B starts at 0, so m/n = 1 and a fresh DoRA is the base, bit for bit.
    Switched off (strength 0, PEFT's disable_adapter) it is the base exactly as well: W is never rewritten.
    Trainable per layer: r·(d_in + d_out) + d_out."""

    def __init__(self, original_layer: nn.Linear, rank: int = 8, alpha: float = 16,
                 use_rslora: bool = False, init: str = "peft", generator: torch.Generator | None = None):
        super().__init__(original_layer, rank, alpha, use_rslora, init, generator)
        with torch.no_grad():
            start = row_norms(original_layer.weight + self.scaling * (self.B.weight @ self.A.weight))
        self.magnitude = nn.Parameter(start)  # PEFT: lora_magnitude_vector, shape (d_out,)
        self._merge_norm: torch.Tensor | None = None  # n at merge time, needed to unmerge

    def _scaling_now(self) -> float:
        # strength multiplies the scaling, as PEFT's scale_layer does; it moves the norm n as well
        return self.scaling * self.strength

    def weight_norm(self) -> torch.Tensor:
        """n = ‖W + s·B·A‖ per output row (d_out,), detached: DoRA treats it as a constant."""
        W = self.original_layer.weight
        return row_norms(W + self._scaling_now() * (self.B.weight @ self.A.weight)).detach()

    def gain(self) -> torch.Tensor:
        """m / n per output row (d_out,); all ones when the adapter is off (strength 0)."""
        if self.strength == 0:
            return torch.ones_like(self.magnitude)
        return self.magnitude / self.weight_norm()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.original_layer(x)
        if self.merged or self.strength == 0:
            return out  # merged: W already holds the rescaled weight; strength 0: PEFT's disable_adapter
        g = self.gain()
        bias = self.original_layer.bias
        wx = out if bias is None else out - bias
        # PEFT's arrangement: the base output plus a correction. (g − 1)·Wx + g·s·BAx added to Wx + bias
        # equals g·(Wx + s·BAx) + bias, and a fresh adapter (g = 1, B = 0) adds exactly zero.
        return out + (g - 1) * wx + g * (self._scaling_now() * self.B(self.A(x)))

    @torch.no_grad()
    def _merge_parts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W + ΔW, n) as PEFT's merge takes them: ΔW = get_delta_weight, n = ‖W + ΔW‖ per row."""
        W = self.original_layer.weight
        if self.strength == 0:
            return W.clone(), self.magnitude.detach().clone()  # m / n = 1: the adapter is off
        updated = W + self.strength * self.delta_weight()
        return updated, row_norms(updated)

    def merged_weight(self) -> torch.Tensor:
        """What merging writes into W: (m / n)[:, None] · (W + s·B·A). The bias is left as it is."""
        updated, n = self._merge_parts()
        return (self.magnitude / n)[:, None].detach() * updated

    @torch.no_grad()
    def merge(self) -> None:
        """W ← (m/n)·(W + s·B·A), row by row. Unlike LoRA's merge this rescales W, not only adds to it."""
        if not self.merged:
            updated, n = self._merge_parts()
            self.original_layer.weight.copy_((self.magnitude / n)[:, None] * updated)
            self._merge_norm = n  # unmerging needs the n of the unmerged W, as PEFT caches it
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W ← W / (m/n) − s·B·A with the n of the merge (float rounding aside, the old W)."""
        if self.merged:
            W = self.original_layer.weight
            W.copy_(W / (self.magnitude / self._merge_norm)[:, None] - self.strength * self.delta_weight())
            self._merge_norm = None
            self.merged = False


class DoRAMethod(LoRAMethod):
    """DoRA on the run's target layers at the run's rank and α; mergeable by rescaling W's rows."""
    key = "dora"

    def __init__(self):
        super().__init__("dora")

    def attach(self, base, lora, generator=None):
        return add_lora(frozen_copy(base), lora.target_modules, lora.rank, lora.alpha, lora.use_rslora,
                        lora.init, generator, layer_class=DoRA)

    def merged(self, model):
        return merged_copy(model)

    def trainable_count(self, base, lora):
        shapes = {n: (linear_at(base, n).in_features, linear_at(base, n).out_features) for n in lora.target_modules}
        return lora_param_count(shapes, lora.rank) + sum(d_out for _, d_out in shapes.values())
