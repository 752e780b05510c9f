"""The settings' labels and help texts, their choices, and every word of the Train tab, in English and
Chinese. Plain data."""
from __future__ import annotations

FIELDS = {  # flat setting name -> (label, help)
    "en": {
        "dataset": ("Dataset", "scikit-learn generator for the source task"),
        "n_samples": ("Samples", "points per task (train + test)"),
        "noise": ("Noise", "jitter of the points (label flips for classification)"),
        "n_classes": ("Classes", "for blobs, gaussian quantiles and classification"),
        "test_fraction": ("Test fraction", "held out: hollow points, dotted curves"),
        "seed": ("Seed", "same seed, same run: data, split and initial weights"),
        "shift_kind": ("Shift", "how the target task differs from the source"),
        "angle": ("Angle (°)", "rotate the target's points about the centre"),
        "offset": ("Offset", "move the target's points along x (standardised units)"),
        "factor": ("Factor", "stretch (>1) or shrink (<1) the target's points"),
        "shift_dataset": ("Target dataset", "a different problem altogether"),
        "hidden_size": ("Hidden width", "neurons in each hidden layer"),
        "hidden_layers": ("Hidden layers", "1 = the seed article's fc1 → ReLU → fc2"),
        "rank": ("Rank r", "A is r × d_in, B is d_out × r: trainable = r·(d_in + d_out) per layer"),
        "alpha": ("Alpha α", "ΔW is scaled by α/r; PEFT calls it lora_alpha"),
        "use_rslora": ("rsLoRA", "scale by α/√r instead of α/r"),
        "target_modules": ("Target layers", "layers that get an adapter; every base weight stays frozen"),
        "init": ("Init of A", "B always starts at 0, so a fresh adapter changes nothing"),
        "lr": ("Learning rate", "Adam, full batch, both phases"),
        "pretrain_steps": ("Pretraining steps", "phase 1: all weights, source task"),
        "adapt_steps": ("LoRA steps", "phase 2: only A and B, target task"),
    },
    "zh": {
        "dataset": ("数据集", "源任务使用的 scikit-learn 生成器"),
        "n_samples": ("样本数", "每个任务的点数（训练 + 测试）"),
        "noise": ("噪声", "点的抖动（classification 中为标签翻转）"),
        "n_classes": ("类别数", "用于 blobs、gaussian quantiles 和 classification"),
        "test_fraction": ("测试比例", "留作测试：空心点、虚线"),
        "seed": ("随机种子", "种子相同，结果相同：数据、划分和初始权重"),
        "shift_kind": ("任务变化", "目标任务与源任务有何不同"),
        "angle": ("角度（°）", "绕中心旋转目标任务的点"),
        "offset": ("平移量", "沿 x 方向移动目标任务的点（标准化单位）"),
        "factor": ("缩放倍数", "放大（>1）或缩小（<1）目标任务的点"),
        "shift_dataset": ("目标数据集", "换成一个完全不同的问题"),
        "hidden_size": ("隐藏层宽度", "每个隐藏层的神经元数"),
        "hidden_layers": ("隐藏层数", "1 = 原文的 fc1 → ReLU → fc2"),
        "rank": ("秩 r", "A 为 r × d_in，B 为 d_out × r：每层可训练参数 = r·(d_in + d_out)"),
        "alpha": ("Alpha α", "ΔW 乘以 α/r；PEFT 中叫 lora_alpha"),
        "use_rslora": ("rsLoRA", "缩放系数改用 α/√r，而不是 α/r"),
        "target_modules": ("目标层", "加适配器的层；基础模型的所有权重都冻结"),
        "init": ("A 的初始化", "B 总是从 0 开始，所以新适配器不改变任何输出"),
        "lr": ("学习率", "Adam，全批量，两个阶段相同"),
        "pretrain_steps": ("预训练步数", "阶段 1：全部权重，源任务"),
        "adapt_steps": ("LoRA 步数", "阶段 2：只训练 A 和 B，目标任务"),
    },
}

CHOICES = {  # flat setting name -> value -> shown text
    "en": {
        "shift_kind": {"rotate": "rotate", "translate": "translate", "scale": "scale",
                       "dataset": "other dataset", "none": "none (same task)"},
        "init": {"peft": "PEFT default", "seed": "seed article", "gaussian": "gaussian"},
        "dataset": {"moons": "moons", "circles": "circles", "blobs": "blobs",
                    "gaussian_quantiles": "gaussian quantiles", "classification": "classification"},
    },
    "zh": {
        "shift_kind": {"rotate": "旋转", "translate": "平移", "scale": "缩放", "dataset": "换数据集",
                       "none": "不变（同一任务）"},
        "init": {"peft": "PEFT 默认", "seed": "原文方式", "gaussian": "高斯"},
        "dataset": {"moons": "双月 moons", "circles": "同心圆 circles", "blobs": "团簇 blobs",
                    "gaussian_quantiles": "高斯分位 quantiles", "classification": "classification"},
    },
}

WORDS = {
    "en": {
        "intro": "# LoRA Playground\nA small network learns a toy task, then the task **shifts**. Instead of "
                 "retraining it, we freeze every weight and train a tiny **LoRA** adapter, ΔW = (α/r)·B·A with B "
                 "starting at zero. Press **Train** and watch the boundary bend back into place.",
        "train": "Train", "stop": "Stop", "ready": "Press **Train** to start.",
        "group_data": "1 · Data", "group_shift": "2 · Shift", "group_lora": "3 · LoRA",
        "group_model": "4 · Model and training", "presets": "Guided scenarios (one click: sets up and trains)",
        "share": "Link to these settings", "share_box": "Shareable link (opens the app with every setting; "
                 "add &run=1 to start training on open)",
        "metrics_json": "Metrics as JSON (what the /train API returns)",
        "cap_boundaries": "Shading is the model's belief about the class at each point (pale = unsure). Filled "
                          "dots are training points, hollow dots test points. Left: the pretrained base on its own "
                          "task. Middle: the same frozen base on the shifted task. Right: base + LoRA on the "
                          "shifted task.",
        "cap_loss": "Grey: pretraining every weight on the source task. Pink: only A and B train on the target; "
                    "the jump at the dashed line is the base model meeting the new task.",
        "cap_params": "How many numbers each approach trains. LoRA trains A and B only; all params = base + "
                      "adapter, as PEFT's print_trainable_parameters() counts them.",
        "base_source": "Base on source", "base_target": "Base on target", "lora_target": "Base + LoRA on target",
        "lora_waits": "starts after pretraining",
        "loss_title": "Loss (cross-entropy, log scale) by step", "lora_starts": " base frozen, LoRA starts",
        "curve_pretrain_train": "pretraining · train (source)", "curve_pretrain_test": "pretraining · test (source)",
        "curve_adapt_train": "LoRA · train (target)", "curve_adapt_test": "LoRA · test (target)",
        "params_title": "Parameters: trainable vs all (log scale)", "all_params": "all params",
        "trainable": "trainable", "m_pretrain": "pretraining", "m_full": "full fine-tuning",
        "status_done": "**Done** in {seconds:.1f} s. On the shifted task the frozen base scores {base}; LoRA "
                       "brings it to **{lora}** by training {trainable:,} parameters ({percent:.1f}% of the model).",
        "status_pretrain": "**1 · Pretraining** every weight on *{task}* — step {step}/{steps} · test accuracy {acc}",
        "status_adapt": "**2 · Adapting** with {lora}, base frozen, on *{task}* — step {step}/{steps} · test "
                        "accuracy {acc} (base alone: {base})",
        "lora_label": "LoRA r={rank} on {layers} ({scale})",
        "col_model": "model", "col_task": "task", "col_acc": "test accuracy",
        "row_base": "base (pretrained)", "row_frozen": "base, frozen", "row_lora": "base + LoRA",
        "row_lora_src": "base + LoRA", "row_off": "base + LoRA, adapter off",
        "task_source": "source", "task_target": "target", "adapter_on": "source (adapter on)",
        "identical": "the base weights are bit-identical to before",
        "scaling": "Scaling", "merge": "Merge check", "merge_text": "W + ΔW as a plain model gives the same "
                   "outputs: max |difference| = {diff:.1e} on outputs as large as {scale:.3g}, float32 rounding",
        "break_even": "break-even rank r* = {d_in}·{d_out}/({d_in}+{d_out}) ≈ {r_star:.2f}",
        "above": "at r = {rank} ≥ r* the adapter holds at least as many numbers as the layer's {weights:,} weights",
        "below": "r = {rank} stays below it",
        "capped": "; ΔW's rank can never exceed {cap}, so r = {rank} buys nothing extra",
        "err_invalid": "Invalid setting", "err_stopped": "Training stopped",
        "err_internal": "Something went wrong in this run; the server is fine. Try other settings.",
        "must_int": "{label} ({field}) must be an integer in [{lo}, {hi}]; got {value}",
        "must_num": "{label} ({field}) must be a number in {open}{lo}, {hi}]; got {value}",
        "must_choice": "{label} ({field}) must be one of {choices}; got {value}",
        "must_flag": "{label} ({field}) must be true or false; got {value}",
        "must_layers": "{label} ({field}) must be a non-empty list of distinct layers from fc1 … fc{most}; got {value}",
        "must_other": "{message}",
        "language": "Language / 语言",
        "export_file": "Download: the adapter in PEFT's format, with the base model's weights (.zip)",
        "export_code": "Load it with PEFT (or run load_with_peft.py from the zip)",
    },
    "zh": {
        "intro": "# LoRA 实验场\n一个小网络先学会一个玩具任务，然后任务**变了**。我们不重新训练它，而是冻结所有权重，"
                 "只训练一个很小的 **LoRA** 适配器：ΔW = (α/r)·B·A，B 从零开始。点 **训练**，看决策边界如何被掰回原位。",
        "train": "训练", "stop": "停止", "ready": "点 **训练** 开始。",
        "group_data": "1 · 数据", "group_shift": "2 · 任务变化", "group_lora": "3 · LoRA",
        "group_model": "4 · 模型与训练", "presets": "引导场景（点一下：自动设置并训练）",
        "share": "生成当前设置的链接", "share_box": "分享链接（打开后恢复全部设置；加上 &run=1 会自动开始训练）",
        "metrics_json": "JSON 格式的指标（/train 接口返回的内容）",
        "cap_boundaries": "底色表示模型认为每个位置属于哪一类（颜色越浅越不确定）。实心点是训练点，空心点是测试点。"
                          "左：预训练的基础模型做它自己的任务。中：同一个冻结的基础模型做变化后的任务。"
                          "右：基础模型 + LoRA 做变化后的任务。",
        "cap_loss": "灰色：在源任务上训练全部权重的预训练阶段。粉色：只在目标任务上训练 A 和 B；"
                    "虚线处的跳变，就是基础模型第一次遇到新任务。",
        "cap_params": "每种方法要训练多少个数。LoRA 只训练 A 和 B；“全部参数” = 基础模型 + 适配器，"
                      "与 PEFT 的 print_trainable_parameters() 算法相同。",
        "base_source": "基础模型 · 源任务", "base_target": "基础模型 · 目标任务", "lora_target": "基础模型 + LoRA · 目标任务",
        "lora_waits": "预训练结束后开始",
        "loss_title": "损失（交叉熵，对数坐标）随步数变化", "lora_starts": " 基础模型冻结，LoRA 开始",
        "curve_pretrain_train": "预训练 · 训练集（源任务）", "curve_pretrain_test": "预训练 · 测试集（源任务）",
        "curve_adapt_train": "LoRA · 训练集（目标任务）", "curve_adapt_test": "LoRA · 测试集（目标任务）",
        "params_title": "参数：可训练 vs 全部（对数坐标）", "all_params": "全部参数",
        "trainable": "可训练", "m_pretrain": "预训练", "m_full": "全量微调",
        "status_done": "**完成**，用时 {seconds:.1f} 秒。在变化后的任务上，冻结的基础模型准确率为 {base}；"
                       "LoRA 只训练了 {trainable:,} 个参数（占模型的 {percent:.1f}%），就把它提高到 **{lora}**。",
        "status_pretrain": "**1 · 预训练**：在 *{task}* 上训练全部权重 — 第 {step}/{steps} 步 · 测试准确率 {acc}",
        "status_adapt": "**2 · 适配**：{lora}，基础模型冻结，任务 *{task}* — 第 {step}/{steps} 步 · "
                        "测试准确率 {acc}（仅基础模型：{base}）",
        "lora_label": "LoRA r={rank}，作用于 {layers}（{scale}）",
        "col_model": "模型", "col_task": "任务", "col_acc": "测试准确率",
        "row_base": "基础模型（预训练后）", "row_frozen": "基础模型，冻结", "row_lora": "基础模型 + LoRA",
        "row_lora_src": "基础模型 + LoRA", "row_off": "基础模型 + LoRA，关闭适配器",
        "task_source": "源任务", "task_target": "目标任务", "adapter_on": "源任务（适配器开启）",
        "identical": "基础模型的权重与训练前逐位相同",
        "scaling": "缩放系数", "merge": "合并检查", "merge_text": "把 W + ΔW 合并成普通模型，输出不变，"
                   "输出最大可达 {scale:.3g}，最大 |差值| = {diff:.1e}，只是 float32 的舍入误差",
        "break_even": "临界秩 r* = {d_in}·{d_out}/({d_in}+{d_out}) ≈ {r_star:.2f}",
        "above": "r = {rank} ≥ r*，适配器的参数不少于该层自身的 {weights:,} 个权重",
        "below": "r = {rank} 低于临界秩",
        "capped": "；ΔW 的秩不可能超过 {cap}，所以 r = {rank} 多出来的部分没有用",
        "err_invalid": "设置无效", "err_stopped": "训练已停止",
        "err_internal": "这次运行出了问题，服务器一切正常。请换个设置再试。",
        "must_int": "{label}（{field}）必须是 [{lo}, {hi}] 之间的整数；收到的是 {value}",
        "must_num": "{label}（{field}）必须是 {open}{lo}, {hi}] 之间的数；收到的是 {value}",
        "must_choice": "{label}（{field}）必须是以下之一：{choices}；收到的是 {value}",
        "must_flag": "{label}（{field}）必须是 true 或 false；收到的是 {value}",
        "must_layers": "{label}（{field}）必须是 fc1 … fc{most} 中互不重复的层名组成的非空列表；收到的是 {value}",
        "must_other": "{message}",
        "language": "Language / 语言",
        "export_file": "下载：PEFT 格式的适配器，以及基础模型的权重（.zip）",
        "export_code": "用 PEFT 加载（或直接运行压缩包里的 load_with_peft.py）",
    },
}
