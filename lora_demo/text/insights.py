"""Every word of the Insights tab, in English and Chinese. Plain data."""

WORDS = {
    "en": {
        "too_much_work": "With these settings the insights would need about {seconds:.0f} s of computing, and this server allows {most:.0f} s per request. Lower the steps, samples, hidden width or hidden layers.",
        "tab_train": "Train", "tab_insights": "Insights",
        "insights_intro": "Each panel below repeats the run with the current settings (same seed, same frozen base) "
                          "and asks one question of it. Press **Run insights**; it takes a few seconds.",
        "run_insights": "Run insights", "insights_ready": "Press **Run insights** to compute every panel.",
        "insights_busy": "Computing: {what} …", "insights_done": "**Done** in {seconds:.1f} s.",
        "step_base": "pretraining the base", "step_methods": "full fine-tuning, Adapter and LoRA",
        "step_sweep": "the rank sweep", "step_alpha": "the α explorer", "step_rest": "ΔW, merging and memory",
        "h_methods": "### 1 · LoRA, full fine-tuning and an Adapter, same target, same steps",
        "cap_methods": "What you see: the three methods after the same number of Adam steps on the shifted task. "
                       "Full fine-tuning moves every weight; the Adapter (the seed article's comparison) adds a small "
                       "bottleneck after the first target layer, which cannot be merged away; LoRA changes W by a low-rank ΔW.",
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
                     "LoRA's ΔW has at most r non-zero singular values; full fine-tuning's change to the same layer "
                     "is usually dominated by a few as well: the low intrinsic rank LoRA bets on.",
        "delta_title": "A, B and ΔW per adapted layer, with the singular values of ΔW",
        "sv_title": "singular values · effective rank ({pct}% of energy): LoRA {r}", "full_eff": ", full FT {r}, random {rand}",
        "random_matrix": "random matrix, same size",
        "lr_title": "Target accuracy by learning rate", "learning_rate": "learning rate (log scale)", "run_lr_mark": " your rate",
        "h_merge": "### 4 · Merge lab",
        "cap_merge": "What you see: the adapter scaled by a strength from 0 (the frozen base, exactly) to 1 (the "
                     "trained adapter) without retraining, and what merging W ← W + ΔW costs in precision and saves in time.",
        "strength": "Adapter strength", "strength_info": "0 = base model, 1 = trained adapter, 2 = twice the update",
        "strength_plot": "Base + {s:g} × LoRA on target",
        "merge_table": "| | max \\|merged − unmerged\\| on the target's test points |\n|---|---|\n"
                       "| float32 | {f32:.1e} |\n| bfloat16 (merged in bfloat16) | {bf16:.1e} |\n"
                       "| bfloat16 without merging | {bf16u:.1e} |\n\n"
                       "One forward pass, median of {n}: plain base {t_base:.0f} µs, base + adapter unmerged {t_un:.0f} µs, "
                       "merged {t_m:.0f} µs. The merged model is a plain BaseModel: no adapter left to compute.",
        "h_alpha": "### 5 · α explorer",
        "cap_alpha": "What you see: the same ranks trained under three rules for α. With α fixed, scaling α/r "
                     "shrinks as r grows, so large ranks learn slowly; α = r keeps the scaling at 1; rsLoRA's α/√r "
                     "sits in between. The legend gives each run's effective scaling and accuracy.",
        "alpha_title": "LoRA loss by step under three α rules", "alpha_fixed": "α fixed (α/r)",
        "alpha_alpha_equals_rank": "α = r (scaling 1)", "alpha_rslora": "rsLoRA (α/√r)",
        "h_memory": "### 6 · Memory",
        "cap_memory": "What you see: bytes held by the real tensors after one Adam step. Weights are the same for "
                      "both; gradients and Adam's two moments exist only for what trains, so LoRA saves there.",
        "mem_title": "Training memory, measured from the tensors", "mem_weights": "weights",
        "mem_gradients": "gradients", "mem_optimizer_state": "Adam state",
    },
    "zh": {
        "too_much_work": "按当前设置，深入分析大约需要 {seconds:.0f} 秒的计算，而本服务器每个请求最多允许 {most:.0f} 秒。请减少步数、样本数、隐藏层宽度或隐藏层数。",
        "tab_train": "训练", "tab_insights": "深入分析",
        "insights_intro": "下面每个面板都用当前设置（同一个种子、同一个冻结的基础模型）重跑一遍，并回答一个问题。"
                          "点 **运行分析**，几秒钟就好。",
        "run_insights": "运行分析", "insights_ready": "点 **运行分析** 计算所有面板。",
        "insights_busy": "正在计算：{what} …", "insights_done": "**完成**，用时 {seconds:.1f} 秒。",
        "step_base": "预训练基础模型", "step_methods": "全量微调、Adapter 和 LoRA",
        "step_sweep": "秩扫描", "step_alpha": "α 对比", "step_rest": "ΔW、合并与显存",
        "h_methods": "### 1 · LoRA、全量微调和 Adapter：同一目标任务，同样的步数",
        "cap_methods": "看点：三种方法在变化后的任务上训练同样多的 Adam 步数。全量微调改动所有权重；"
                       "Adapter（原文拿来对比的方法）在第一个目标层之后加一个小瓶颈层，无法合并掉；LoRA 用低秩的 ΔW 修改 W。",
        "m_adapter": "Adapter", "adapter_after": "Adapter（m={m}），位于 {layer} 之后",
        "col_method": "方法", "col_trainable": "可训练参数", "col_final_loss": "最终训练损失",
        "h_sweep": "### 2 · 秩扫描",
        "cap_sweep": "看点：r = 1, 2, 4, … 在同一个基础模型上一起训练后，在变化后任务上的准确率。越过红线（临界秩）后，"
                     "适配器的参数比它所调整的层还多；越过灰线后，ΔW 的秩再也无法增加。",
        "sweep_title": "目标任务准确率 vs 可训练参数（LoRA 作用于 {layers}）", "accuracy_pct": "测试准确率（%）",
        "break_even_mark": " 临界秩 r*≈{r:.3g}", "useful_mark": " 最大有效秩 r={r}",
        "h_delta": "### 3 · ΔW 观察",
        "cap_delta": "看点：训练好的 A 和 B、它们的乘积 ΔW（红为正，蓝为负）以及 ΔW 的奇异值。LoRA 的 ΔW 最多只有 r 个"
                     "非零奇异值；全量微调对同一层的改动通常也由少数几个奇异值主导——这正是 LoRA 所依赖的“低内在秩”。",
        "delta_title": "每个适配层的 A、B 和 ΔW，以及 ΔW 的奇异值",
        "sv_title": "奇异值 · 有效秩（占 {pct}% 能量）：LoRA {r}", "full_eff": "，全量微调 {r}，随机矩阵 {rand}",
        "random_matrix": "同尺寸随机矩阵",
        "lr_title": "不同学习率下的目标任务准确率", "learning_rate": "学习率（对数坐标）", "run_lr_mark": " 当前学习率",
        "h_merge": "### 4 · 合并实验",
        "cap_merge": "看点：不重新训练，把适配器乘上一个强度，从 0（完全等于冻结的基础模型）到 1（训练好的适配器）；"
                     "以及把 W ← W + ΔW 合并后，精度上损失多少、速度上省下多少。",
        "strength": "适配器强度", "strength_info": "0 = 基础模型，1 = 训练好的适配器，2 = 两倍的改动",
        "strength_plot": "基础模型 + {s:g} × LoRA · 目标任务",
        "merge_table": "| | 目标任务测试点上 \\|合并 − 未合并\\| 的最大值 |\n|---|---|\n"
                       "| float32 | {f32:.1e} |\n| bfloat16（在 bfloat16 中合并） | {bf16:.1e} |\n"
                       "| bfloat16，不合并 | {bf16u:.1e} |\n\n"
                       "一次前向计算，取 {n} 次的中位数：普通基础模型 {t_base:.0f} 微秒，基础模型 + 未合并的适配器 {t_un:.0f} 微秒，"
                       "合并后 {t_m:.0f} 微秒。合并后就是一个普通的 BaseModel，没有额外的适配器计算。",
        "h_alpha": "### 5 · α 对比",
        "cap_alpha": "看点：同样几个秩，在三种 α 规则下训练。α 固定时，缩放系数 α/r 随 r 增大而变小，大秩学得慢；"
                     "α = r 让缩放系数恒为 1；rsLoRA 的 α/√r 介于两者之间。图例给出每次训练的实际缩放系数和准确率。",
        "alpha_title": "三种 α 规则下 LoRA 的损失随步数变化", "alpha_fixed": "α 固定（α/r）",
        "alpha_alpha_equals_rank": "α = r（缩放为 1）", "alpha_rslora": "rsLoRA（α/√r）",
        "h_memory": "### 6 · 显存",
        "cap_memory": "看点：一次 Adam 更新之后真实张量占用的字节数。两者的权重一样；梯度和 Adam 的两个动量只为参与训练的参数"
                      "存在，LoRA 就省在这里。",
        "mem_title": "训练时的内存，按张量实测", "mem_weights": "权重",
        "mem_gradients": "梯度", "mem_optimizer_state": "Adam 状态",
    },
}
