"""Every word of the library panel, in English and Chinese. Plain data."""

WORDS = {
    "en": {
        "lib_h": "### Adapter library: one frozen base, one adapter per task",
        "lib_tab": "Library", "lib_run": "Build the library", "lib_ready": "Press **Build the library**: one adapter per shifted task, on the current settings.",
        "lib_done": "**Done**: {n} adapters in {seconds:.1f} s. Switching and mixing below happen in your browser.",
        "lib_intro": "The run's LoRA settings (rank, α, target layers, steps, learning rate) train one adapter for "
                     "each shifted version of the source task, all on the same frozen base and from the same "
                     "starting A. Nothing below needs a server call once it is drawn.",
        "lib_busy": "training one adapter per task",
        "lib_kind_rotate": "rotated {angle:g}°", "lib_kind_translate": "moved {offset:+g} along x",
        "lib_kind_scale": "scaled ×{factor:g}", "lib_kind_dataset": "other dataset: {dataset}",
        "lib_base": "base (no adapter)", "lib_source": "source task",
        "lib_adapter_for": "adapter: {task}",
        "lib_cap_switch": "What you see: the frozen base with one adapter switched on at a time. Each button shows "
                          "that adapter's class field with its own task's points (filled: train, hollow: test); "
                          "\"base\" shows the base alone on the source task. The base weights are the same in "
                          "every view: only A and B change.",
        "lib_switch_title": "Base + adapter for {task} · on that task {acc:.0f}%",
        "lib_switch_base_title": "Frozen base alone on the source task · {acc:.0f}%",
        "lib_cap_mix": "What you see: two adapters on at once with strengths w and 1 − w, i.e. "
                       "ΔW = w·ΔW({first}) + (1 − w)·ΔW({second}), built as PEFT's "
                       "add_weighted_adapter(…, combination_type=\"cat\") builds it. Move the slider: w = 1 is the "
                       "first adapter alone, w = 0 the second. Circles are the first task's test points, crosses "
                       "the second's; the title gives the mix's test accuracy on both tasks.",
        "lib_mix_title": "{w:g} × {first} + {w2:g} × {second}<br>test accuracy · {first}: {acc1:.0f}% · "
                         "{second}: {acc2:.0f}%",
        "lib_mix_weight": "w ({first})",
        "lib_mix_points": "{task} (test)",
        "lib_cap_matrix": "What you see: test accuracy of every model (rows) on every task (columns). Row \"base\" "
                          "is the frozen base with no adapter; each other row switches on one adapter. Outlined "
                          "cells are each model on the task it was trained for (the base on the source task). On "
                          "the default settings each adapter is the best of the adapters on its own task on "
                          "{c[library.own_task].seeds} seeds (0–29).",
        "lib_matrix_title": "Which adapter for which task: test accuracy (%)",
        "lib_matrix_rows": "model", "lib_matrix_cols": "task",
        "lib_cap_storage": "What you see: bytes of the real float32 tensors. A library keeps one frozen base and a "
                           "small A and B per task; fully fine-tuning for each task would keep a whole copy of the "
                           "model per task.",
        "lib_storage_title": "Storage for {n} tasks (float32)",
        "lib_storage_library": "1 base + {n} adapters", "lib_storage_finetuned": "{n} fine-tuned models",
        "lib_storage_base": "frozen base", "lib_storage_adapters": "adapters (A and B)",
        "lib_storage_copies": "fine-tuned copies", "lib_bytes": "bytes",
        "lib_storage_total": "{kb:.1f} kB",
        "lib_download": "Download the library (PEFT multi-adapter folder, zip)",
        "lib_download_note": "The folder holds the first adapter at its root and every other adapter in a subfolder "
                             "named after it, plus the frozen base and load_with_peft.py. Load it with "
                             "PeftModel.from_pretrained(base, folder), then model.load_adapter(folder / name, "
                             "adapter_name=name) for each other adapter, and model.set_adapter(name) to switch.",
    },
    "zh": {
        "lib_h": "### 适配器库：一个冻结的基础模型，每个任务一个适配器",
        "lib_tab": "适配器库", "lib_run": "构建适配器库", "lib_ready": "点 **构建适配器库**：用当前设置为每个变化后的任务训练一个适配器。",
        "lib_done": "**完成**：{n} 个适配器，用时 {seconds:.1f} 秒。下面的切换和混合都在你的浏览器里完成。",
        "lib_intro": "用本次运行的 LoRA 设置（秩、α、目标层、步数、学习率），为源任务的每一种变化各训练一个适配器；"
                     "它们共用同一个冻结的基础模型，也从同一个初始 A 出发。下面的图画出来之后，操作都不需要再请求服务器。",
        "lib_busy": "为每个任务训练一个适配器",
        "lib_kind_rotate": "旋转 {angle:g}°", "lib_kind_translate": "沿 x 平移 {offset:+g}",
        "lib_kind_scale": "缩放 ×{factor:g}", "lib_kind_dataset": "换数据集：{dataset}",
        "lib_base": "基础模型（无适配器）", "lib_source": "源任务",
        "lib_adapter_for": "适配器：{task}",
        "lib_cap_switch": "看点：冻结的基础模型，每次只打开一个适配器。每个按钮显示该适配器的类别区域，以及它自己任务的数据点"
                          "（实心为训练点，空心为测试点）；“基础模型”按钮显示不带适配器的基础模型在源任务上的样子。"
                          "所有视图里基础模型的权重都相同，变的只有 A 和 B。",
        "lib_switch_title": "基础模型 + {task} 的适配器 · 在该任务上 {acc:.0f}%",
        "lib_switch_base_title": "仅冻结的基础模型 · 源任务 {acc:.0f}%",
        "lib_cap_mix": "看点：同时打开两个适配器，强度分别为 w 和 1 − w，即 "
                       "ΔW = w·ΔW({first}) + (1 − w)·ΔW({second})，构造方式与 PEFT 的 "
                       "add_weighted_adapter(…, combination_type=\"cat\") 相同。拖动滑块：w = 1 只有第一个适配器，"
                       "w = 0 只有第二个。圆点是第一个任务的测试点，叉号是第二个任务的测试点；标题给出混合后在两个任务上的测试准确率。",
        "lib_mix_title": "{w:g} × {first} + {w2:g} × {second}<br>测试准确率 · {first}：{acc1:.0f}% · {second}：{acc2:.0f}%",
        "lib_mix_weight": "w（{first}）",
        "lib_mix_points": "{task}（测试）",
        "lib_cap_matrix": "看点：每个模型（行）在每个任务（列）上的测试准确率。“基础模型”一行不带适配器；其余每行打开一个适配器。"
                          "加框的格子是每个模型在它自己训练的任务上的结果（基础模型对应源任务）。在默认设置下，"
                          "每个适配器在它自己的任务上都是所有适配器里最好的，这在 {c[library.own_task].seeds} 个种子上成立（种子 0–29）。",
        "lib_matrix_title": "哪个适配器适合哪个任务：测试准确率（%）",
        "lib_matrix_rows": "模型", "lib_matrix_cols": "任务",
        "lib_cap_storage": "看点：真实 float32 张量占用的字节数。适配器库只保存一个冻结的基础模型，外加每个任务一对很小的 A 和 B；"
                           "若每个任务都做全量微调，就要为每个任务保存一整份模型。",
        "lib_storage_title": "{n} 个任务所需的存储（float32）",
        "lib_storage_library": "1 个基础模型 + {n} 个适配器", "lib_storage_finetuned": "{n} 个全量微调模型",
        "lib_storage_base": "冻结的基础模型", "lib_storage_adapters": "适配器（A 和 B）",
        "lib_storage_copies": "全量微调的副本", "lib_bytes": "字节",
        "lib_storage_total": "{kb:.1f} 千字节",
        "lib_download": "下载适配器库（PEFT 多适配器文件夹，zip）",
        "lib_download_note": "文件夹根目录是第一个适配器，其余每个适配器各在一个以其名字命名的子文件夹里，另有冻结的基础模型和 "
                             "load_with_peft.py。加载方法：PeftModel.from_pretrained(base, folder)，再对其余每个适配器调用 "
                             "model.load_adapter(folder / name, adapter_name=name)，用 model.set_adapter(name) 切换。",
    },
}
