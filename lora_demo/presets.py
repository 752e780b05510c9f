"""Guided scenarios for a workshop: settings that differ from the defaults, the lesson each one teaches,
and, where the lesson says "now try this", the one change a second click applies.

Plain data: no torch, no gradio. A lesson's outcomes are measured claims (lora_demo.claims), quoted
through {c[name].range}-style fields; its arithmetic (counts, break-even ranks) is written out.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import RunConfig, config_from_flat, flat_from_config


@dataclass(frozen=True)
class FollowUp:
    title: dict        # language -> button text
    settings: dict     # changes on top of the preset's settings


@dataclass(frozen=True)
class Preset:
    key: str
    title: dict        # language -> button text
    settings: dict     # flat setting name -> value; everything else keeps its default
    lesson: dict       # language -> a few sentences
    follow_up: FollowUp | None = None

    def config(self) -> RunConfig:
        return config_from_flat({**flat_from_config(RunConfig()), **self.settings})

    def follow_up_config(self) -> RunConfig:
        return config_from_flat({**flat_from_config(RunConfig()), **self.settings, **self.follow_up.settings})


PRESETS: dict[str, Preset] = {p.key: p for p in [
    Preset("seed", {"en": "The seed article", "zh": "原文设定"},
           {"hidden_layers": 1, "rank": 4, "alpha": 16, "target_modules": ["fc1"], "init": "seed"},
           {"en": "The article's ModelWithLoRA: fc1 → ReLU → fc2, with LoRA(rank=4, alpha=16) wrapping fc1 and A "
                  "initialised as in the article. fc1 only has 2 inputs, so ΔW can never exceed rank 2: half of "
                  "this rank-4 adapter is paid for and never used. It reaches {c[seed.lora_target].range} on the "
                  "rotated task (seeds 0–29).",
            "zh": "这就是原文的 ModelWithLoRA：fc1 → ReLU → fc2，用 LoRA(rank=4, alpha=16) 包住 fc1，A 按原文方式初始化。"
                  "fc1 只有 2 个输入，ΔW 的秩最多是 2：这个 rank 为 4 的适配器有一半参数白白训练了。"
                  "它在旋转后的任务上达到 {c[seed.lora_target].range}（种子 0–29）。"}),
    Preset("fc1-rotation", {"en": "Rotation lives in fc1", "zh": "旋转在 fc1 里"},
           {"rank": 1, "alpha": 2, "target_modules": ["fc1"]},
           {"en": "Rotating a 2-D input is a change of fc1's weights of rank at most 2 (W' = W·R⁻¹), and 2 is "
                  "fc1's full rank: it has only 2 inputs. LoRA on fc1 at r = 1 reaches {c[fc1.r1].range}; at r = 2 "
                  "it reaches {c[fc1.r2].range} and beats r = 1 on {c[fc1.gain].seeds} seeds. Honest footnote: "
                  "r = 2 on fc1 trains 132 numbers for a layer of 128 weights. That is full fine-tuning of fc1 in "
                  "disguise, which is why the default adapts the 64 × 64 layer fc2 instead.",
            "zh": "旋转二维输入，相当于给 fc1 的权重加上一个秩不超过 2 的改变（W' = W·R⁻¹），而 2 正是 fc1 的满秩："
                  "它只有 2 个输入。在 fc1 上用 r = 1 的 LoRA 达到 {c[fc1.r1].range}；r = 2 达到 {c[fc1.r2].range}，"
                  "在 {c[fc1.gain].seeds} 个种子上胜过 r = 1。但要说实话：fc1 上 r = 2 要训练 132 个数，而这一层只有 "
                  "128 个权重，这其实是换了个样子的 fc1 全量微调；所以默认设置改在 64 × 64 的 fc2 上做 LoRA。"},
           FollowUp({"en": "Now r = 2 (α = 4 keeps α/r = 2)", "zh": "改成 r = 2（α = 4，α/r 仍为 2）"},
                    {"rank": 2, "alpha": 4})),
    Preset("new-dataset", {"en": "A different dataset", "zh": "换一个数据集"},
           {"shift_kind": "dataset", "shift_dataset": "circles", "rank": 1, "alpha": 8},
           {"en": "From moons to circles is a new shape, not a turn, and LoRA on fc2 has to build it from features "
                  "the base learnt for moons. At r = 1 (128 numbers) the result depends on the draw: "
                  "{c[circles.r1].range}. At r = 4 (512 numbers, α = 32 keeps α/r = 8) it lands in "
                  "{c[circles.r4].range}. Neither matches the rotation's result: a frozen base only carries so far.",
            "zh": "从“双月”换成“同心圆”不是转个角度，而是一个新形状：fc2 上的 LoRA 只能用基础模型为双月学到的特征去拼。"
                  "r = 1（128 个数）时结果取决于抽样：{c[circles.r1].range}。r = 4（512 个数，α = 32，α/r 仍为 8）"
                  "时落在 {c[circles.r4].range}。两者都比不上旋转任务：冻结的基础模型能带你走的路是有限的。"},
           FollowUp({"en": "Now r = 4 (α = 32 keeps α/r = 8)", "zh": "改成 r = 4（α = 32，α/r 仍为 8）"},
                    {"rank": 4, "alpha": 32})),
    Preset("same-task", {"en": "Same task", "zh": "同一个任务"},
           {"shift_kind": "none"},
           {"en": "The target is a fresh draw of the same task, so the frozen base already scores "
                  "{c[same.base_target].range}. LoRA changes the accuracy by at most {c[same.change].max} points "
                  "(seeds 0–29) while its loss still falls by a factor of {c[same.loss_drop].range} on the log "
                  "plot: it only sharpens margins the base already had.",
            "zh": "目标任务只是同一个任务重新采样，冻结的基础模型本来就有 {c[same.base_target].range}。"
                  "LoRA 对准确率的改变最多 {c[same.change].max} 个百分点（种子 0–29），而它的损失在对数坐标上仍下降到"
                  "原来的 {c[same.loss_drop].range} 分之一：它只是把基础模型已有的分界拉得更开。"}),
    Preset("above-break-even", {"en": "Rank above break-even", "zh": "秩超过临界点"},
           {"rank": 48},
           {"en": "fc2 is 64 × 64, so its break-even rank is 64·64/(64+64) = 32. At r = 48, A and B hold 6,144 "
                  "numbers, more than the 4,096 weights they adapt: any r below r* saves something, any r from r* "
                  "on saves nothing. This adapter reaches {c[r48.lora_target].range}: never more than "
                  "{c[r48.no_gain].max} points above the default's 256 numbers (seeds 0–29).",
            "zh": "fc2 是 64 × 64，临界秩为 64·64/(64+64) = 32。r = 48 时 A 和 B 共有 6,144 个数，比它们要调整的 "
                  "4,096 个权重还多：r 低于临界秩就能省一些参数，达到或超过临界秩就一点也不省。这个适配器达到 "
                  "{c[r48.lora_target].range}：比默认设置的 256 个数最多只高 {c[r48.no_gain].max} 个百分点（种子 0–29）。"}),
]}
