"""Every word of the Insights tab, in English and Chinese. Plain data."""

WORDS = {
    "en": {
        "tab_train": "Train", "tab_insights": "Insights",
        "insights_intro": "Each panel below repeats the run with the current settings (same seed, same frozen base) "
                          "and asks one question of it. Press **Run insights**; it takes a few seconds.",
        "run_insights": "Run insights", "insights_ready": "Press **Run insights** to compute every panel.",
        "insights_busy": "Computing: {what} …", "insights_done": "**Done** in {seconds:.1f} s.",
        "step_base": "pretraining the base", "step_methods": "full fine-tuning, Adapter and LoRA",
        "step_sweep": "the rank sweep", "step_alpha": "the α explorer", "step_rest": "ΔW, merging and memory",
        "h_methods": "### 1 · LoRA, full fine-tuning and an Adapter, same target, same steps",
        "cap_methods": "What you see: full fine-tuning, the seed article's Adapter and LoRA after the same number of "
                       "Adam steps on the shifted task, the Adapter's bottleneck m chosen so that its count comes "
                       "closest to LoRA's (table). Full fine-tuning moves every weight; the Adapter adds a bottleneck "
                       "after the adapted layer, which cannot be merged away; LoRA changes W by a low-rank ΔW. Each "
                       "method also ran at other learning rates, because one rate can rank them either way. On the "
                       "default settings (seeds 0–29) the Adapter at the smallest rate falls "
                       "{c[methods.adapter_lr].mean} points below its own best on average (up to "
                       "{c[methods.adapter_lr].max}), LoRA's accuracy moves by at most "
                       "{c[methods.lora_steady].max} points across the rates, and at the run's rate LoRA does at least "
                       "as well as the Adapter on {c[methods.lora_vs_adapter].seeds} seeds.",
        "m_adapter": "Adapter", "adapter_after": "Adapter (m={m}) after {layer}",
        "col_method": "method", "col_trainable": "trainable params", "col_final_loss": "final train loss",
        "h_sweep": "### 2 · Rank sweep",
        "cap_sweep": "What you see: accuracy on the shifted task for r = 1, 2, 4, … trained together on the same base. "
                     "Past the red line (break-even) the adapter holds more numbers than the layers it adapts; past "
                     "the grey line ΔW cannot gain rank any more.",
        "sweep_title": "Target accuracy vs trainable parameters (LoRA on {layers})", "accuracy_pct": "test accuracy (%)",
        "break_even_mark": " break-even r*≈{r:.3g}", "useful_mark": " max useful r={r}",
        "h_delta": "### 3 · ΔW inspector",
        "cap_delta": "What you see: the trained A and B, their product ΔW (red +, blue −) and its singular values. "
                     "LoRA's ΔW has at most r non-zero singular values. Full fine-tuning, free to change all of fc2, "
                     "changes it along a few directions only: on the default settings its change has an effective "
                     "rank of {c[delta.full].range} of 64, against {c[delta.random].range} for a random matrix of the "
                     "same size (seeds 0–29). That low intrinsic rank is what LoRA bets on.",
        "delta_title": "A, B and ΔW per adapted layer, with the singular values of ΔW",
        "sv_title": "singular values · effective rank ({pct}% of energy): LoRA {r}", "full_eff": ", full FT {r}, random {rand}",
        "random_matrix": "random matrix, same size",
        "lr_title": "Target accuracy by learning rate", "learning_rate": "learning rate (log scale)", "run_lr_mark": " your rate",
        "h_merge": "### 4 · Merge lab",
        "cap_merge": "What you see: the adapter scaled by a strength from 0 (the frozen base, exactly) to 1 (the "
                     "trained adapter) without retraining, and what merging W ← W + ΔW costs. In float32 a merge "
                     "moves the outputs by rounding only ({c[default.merge].range} on the default settings); merged in "
                     "bfloat16 they move by {c[merge.bf16].range} (seeds 0–29): precision is part of the lesson.",
        "strength": "Adapter strength", "strength_info": "0 = base model, 1 = trained adapter, 2 = twice the update",
        "strength_plot": "Base + {s:g} × LoRA on target",
        "merge_table": "| | max \\|merged − unmerged\\| on the target's test points |\n|---|---|\n"
                       "| float32 | {f32:.1e} |\n| bfloat16 (merged in bfloat16) | {bf16:.1e} |\n"
                       "| bfloat16 without merging | {bf16u:.1e} |\n\n"
                       "One forward pass, median of {n}: plain base {t_base:.0f} µs, base + adapter unmerged {t_un:.0f} µs, "
                       "merged {t_m:.0f} µs. The merged model is a plain BaseModel: no adapter left to compute.",
        "h_alpha": "### 5 · α explorer",
        "cap_alpha": "What you see: ranks 1, 4 and 16 on fc2 under three rules for α, each rank starting from the "
                     "same A, trained with Adam at lr 0.01 (at larger rates the biggest scaling overshoots and hides "
                     "the effect). With α fixed the scaling α/r shrinks as r grows, and the larger rank gains little: "
                     "at step 30 the loss at r = 16 is on average {c[alpha.fixed].mean} times the loss at r = 1 "
                     "(range {c[alpha.fixed].range}). With rsLoRA's α/√r it learns much faster: "
                     "{c[alpha.rslora].mean} times on average ({c[alpha.rslora].range}), a lower ratio than under α fixed on "
                     "{c[alpha.contrast].seeds} seeds (default settings, seeds 0–29). α = r keeps the scaling at 1. "
                     "The legend gives each run's scaling and accuracy.",
        "alpha_title": "LoRA loss by step under three α rules", "alpha_fixed": "α fixed (α/r)",
        "alpha_alpha_equals_rank": "α = r (scaling 1)", "alpha_rslora": "rsLoRA (α/√r)",
        "h_memory": "### 6 · Memory",
        "cap_memory": "What you see: bytes held by the real tensors after one Adam step. LoRA's weights are the "
                      "base's plus A and B; gradients and Adam's two moments exist only for what trains, so LoRA "
                      "saves there.",
        "mem_title": "Training memory, measured from the tensors", "mem_weights": "weights",
        "mem_gradients": "gradients", "mem_optimizer_state": "Adam state",
    },
    "zh": {
        "tab_train": "训练", "tab_insights": "深入分析",
        "insights_intro": "下面每个面板都用当前设置（同一个种子、同一个冻结的基础模型）重跑一遍，并回答一个问题。"
                          "点 **运行分析**，几秒钟就好。",
        "run_insights": "运行分析", "insights_ready": "点 **运行分析** 计算所有面板。",
        "insights_busy": "正在计算：{what} …", "insights_done": "**完成**，用时 {seconds:.1f} 秒。",
        "step_base": "预训练基础模型", "step_methods": "全量微调、Adapter 和 LoRA",
        "step_sweep": "秩扫描", "step_alpha": "α 对比", "step_rest": "ΔW、合并与显存",
        "h_methods": "### 1 · LoRA、全量微调和 Adapter：同一目标任务，同样的步数",
        "cap_methods": "看点：全量微调、原文拿来对比的 Adapter 和 LoRA，在变化后的任务上训练同样多的 Adam 步数；Adapter 的"
                       "瓶颈宽度 m 选成参数量最接近 LoRA 的那个（见表）。全量微调改动所有权重；Adapter 在被调整的层后面加一个"
                       "瓶颈，无法合并掉；LoRA 用低秩的 ΔW 修改 W。每种方法还在其他学习率下各跑了一遍，因为只看一个学习率，"
                       "方法的排名可能颠倒。在默认设置下（种子 0–29），Adapter 在最小学习率下比它自己的最好成绩平均低 "
                       "{c[methods.adapter_lr].mean} 个百分点（最多 {c[methods.adapter_lr].max}），LoRA 在各学习率之间最多相差 {c[methods.lora_steady].max} "
                       "个百分点；在本次运行的学习率下，LoRA 在 {c[methods.lora_vs_adapter].seeds} 个种子上不比 Adapter 差。",
        "m_adapter": "Adapter", "adapter_after": "Adapter（m={m}），位于 {layer} 之后",
        "col_method": "方法", "col_trainable": "可训练参数", "col_final_loss": "最终训练损失",
        "h_sweep": "### 2 · 秩扫描",
        "cap_sweep": "看点：r = 1, 2, 4, … 在同一个基础模型上一起训练后，在变化后任务上的准确率。越过红线（临界秩）后，"
                     "适配器的参数比它所调整的层还多；越过灰线后，ΔW 的秩再也无法增加。",
        "sweep_title": "目标任务准确率 vs 可训练参数（LoRA 作用于 {layers}）", "accuracy_pct": "测试准确率（%）",
        "break_even_mark": " 临界秩 r*≈{r:.3g}", "useful_mark": " 最大有效秩 r={r}",
        "h_delta": "### 3 · ΔW 观察",
        "cap_delta": "看点：训练好的 A 和 B、它们的乘积 ΔW（红为正，蓝为负）以及 ΔW 的奇异值。LoRA 的 ΔW 最多只有 r 个"
                     "非零奇异值。全量微调可以任意改动 fc2，却只沿少数几个方向改动它：在默认设置下，它的改动的有效秩为 "
                     "{c[delta.full].range}（满秩 64），而同样大小的随机矩阵为 {c[delta.random].range}（种子 0–29）。"
                     "这种“低内在秩”正是 LoRA 所依赖的。",
        "delta_title": "每个适配层的 A、B 和 ΔW，以及 ΔW 的奇异值",
        "sv_title": "奇异值 · 有效秩（占 {pct}% 能量）：LoRA {r}", "full_eff": "，全量微调 {r}，随机矩阵 {rand}",
        "random_matrix": "同尺寸随机矩阵",
        "lr_title": "不同学习率下的目标任务准确率", "learning_rate": "学习率（对数坐标）", "run_lr_mark": " 当前学习率",
        "h_merge": "### 4 · 合并实验",
        "cap_merge": "看点：不重新训练，把适配器乘上一个强度，从 0（完全等于冻结的基础模型）到 1（训练好的适配器）；"
                     "以及合并 W ← W + ΔW 的代价。在 float32 中合并只带来舍入误差（默认设置下为 {c[default.merge].range}）；"
                     "在 bfloat16 中合并，输出会变动 {c[merge.bf16].range}（种子 0–29）：精度也是这一课的一部分。",
        "strength": "适配器强度", "strength_info": "0 = 基础模型，1 = 训练好的适配器，2 = 两倍的改动",
        "strength_plot": "基础模型 + {s:g} × LoRA · 目标任务",
        "merge_table": "| | 目标任务测试点上 \\|合并 − 未合并\\| 的最大值 |\n|---|---|\n"
                       "| float32 | {f32:.1e} |\n| bfloat16（在 bfloat16 中合并） | {bf16:.1e} |\n"
                       "| bfloat16，不合并 | {bf16u:.1e} |\n\n"
                       "一次前向计算，取 {n} 次的中位数：普通基础模型 {t_base:.0f} 微秒，基础模型 + 未合并的适配器 {t_un:.0f} 微秒，"
                       "合并后 {t_m:.0f} 微秒。合并后就是一个普通的 BaseModel，没有额外的适配器计算。",
        "h_alpha": "### 5 · α 对比",
        "cap_alpha": "看点：fc2 上秩为 1、4、16 的 LoRA，在三种 α 规则下训练，同一个秩从同一个 A 出发，用学习率 0.01 "
                     "的 Adam（学习率更大时，最大的缩放系数会冲过头，掩盖要看的效果）。α 固定时缩放系数 α/r 随 r 增大而变小，"
                     "大秩快不了多少：第 30 步时 r = 16 的损失平均是 r = 1 的 {c[alpha.fixed].mean} 倍（范围 {c[alpha.fixed].range}）。"
                     "用 rsLoRA 的 α/√r，大秩学得快得多：平均 {c[alpha.rslora].mean} 倍（{c[alpha.rslora].range}），在 {c[alpha.contrast].seeds} 个种子上这个比值都低于 α 固定时"
                     "（默认设置，种子 0–29）。α = r 让缩放系数恒为 1。"
                     "图例给出每次训练的缩放系数和准确率。",
        "alpha_title": "三种 α 规则下 LoRA 的损失随步数变化", "alpha_fixed": "α 固定（α/r）",
        "alpha_alpha_equals_rank": "α = r（缩放为 1）", "alpha_rslora": "rsLoRA（α/√r）",
        "h_memory": "### 6 · 显存",
        "cap_memory": "看点：一次 Adam 更新之后真实张量占用的字节数。LoRA 的权重是基础模型的权重再加上 A 和 B；梯度和 "
                      "Adam 的两个动量只为参与训练的参数存在，LoRA 就省在这里。",
        "mem_title": "训练时的内存，按张量实测", "mem_weights": "权重",
        "mem_gradients": "梯度", "mem_optimizer_state": "Adam 状态",
    },
}
