"""Guided scenarios for a workshop: settings that differ from the defaults, and the lesson each one teaches.

Plain data: no torch, no gradio. Lessons are two sentences, in English and Chinese.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import RunConfig, config_from_flat, flat_from_config


@dataclass(frozen=True)
class Preset:
    key: str
    title: dict        # language -> button text
    settings: dict     # flat setting name -> value; everything else keeps its default
    lesson: dict       # language -> two sentences

    def config(self) -> RunConfig:
        return config_from_flat({**flat_from_config(RunConfig()), **self.settings})


PRESETS: dict[str, Preset] = {p.key: p for p in [
    Preset("seed", {"en": "The seed article", "zh": "原文设定"},
           {"hidden_layers": 1, "rank": 4, "alpha": 16, "target_modules": ["fc1"], "init": "seed"},
           {"en": "The article's ModelWithLoRA: fc1 → ReLU → fc2, with LoRA(rank=4, alpha=16) wrapping fc1 and A "
                  "initialised as in the article. fc1 only has 2 inputs, so ΔW can never exceed rank 2: half of "
                  "this rank-4 adapter is paid for and never used.",
            "zh": "这就是原文的 ModelWithLoRA：fc1 → ReLU → fc2，用 LoRA(rank=4, alpha=16) 包住 fc1，A 按原文方式初始化。"
                  "fc1 只有 2 个输入，ΔW 的秩最多是 2：这个 rank 为 4 的适配器有一半参数白白训练了。"}),
    Preset("rotate-r1", {"en": "Rotation at rank 1", "zh": "旋转：秩为 1"},
           {"rank": 1, "alpha": 2},
           {"en": "Rotating the input by 90° is exactly a rank-2 change of fc1's weights. With r = 1 LoRA can "
                  "move fc1 in one direction only, so it gets stuck around 80 %; set r = 2 and it reaches 98 %+.",
            "zh": "把输入旋转 90°，恰好等于给 fc1 的权重加上一个秩为 2 的改变。r = 1 时 LoRA 只能沿一个方向修改 fc1，"
                  "准确率停在 80% 左右；把 r 调到 2，就能达到 98% 以上。"}),
    Preset("new-dataset", {"en": "A different dataset", "zh": "换一个数据集"},
           {"shift_kind": "dataset", "shift_dataset": "circles", "rank": 1, "alpha": 2,
            "target_modules": ["fc2"], "seed": 1},
           {"en": "From moons to circles is a new shape, not a turn: LoRA has to rebuild features in the middle "
                  "layer fc2. At r = 1 it depends on luck (here it stalls near 70 %); at r = 4 it is reliably "
                  "above 93 %, still with far fewer numbers than fc2's 4,096 weights.",
            "zh": "从“双月”换成“同心圆”不是转个角度，而是一个新形状：LoRA 得在中间层 fc2 里重新组合特征。"
                  "r = 1 时要看运气（这里停在 70% 左右）；r = 4 时稳定在 93% 以上，参数仍远少于 fc2 的 4,096 个权重。"}),
    Preset("same-task", {"en": "Same task", "zh": "同一个任务"},
           {"shift_kind": "none"},
           {"en": "The target is a fresh draw of the same task, so the frozen base already solves it. LoRA's "
                  "loss starts low and barely moves: there is almost nothing left to learn.",
            "zh": "目标任务只是同一个任务重新采样，冻结的基础模型本来就会做。LoRA 的损失一开始就很低，几乎不动："
                  "已经没什么可学的了。"}),
    Preset("above-break-even", {"en": "Rank above break-even", "zh": "秩超过临界点"},
           {"rank": 48, "alpha": 96, "target_modules": ["fc2"]},
           {"en": "fc2 is 64 × 64, so its break-even rank is 64·64/(64+64) = 32. At r = 48, A and B hold "
                  "6,144 numbers, more than the 4,096 weights they adapt: LoRA only saves anything well below r*.",
            "zh": "fc2 是 64 × 64，临界秩为 64·64/(64+64) = 32。r = 48 时 A 和 B 共有 6,144 个参数，"
                  "比它们要调整的 4,096 个权重还多：只有 r 远小于临界秩时 LoRA 才真正省参数。"}),
]}
