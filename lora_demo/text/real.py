"""Every word of the real panel, in English and Chinese. Plain data."""

WORDS = {
    "en": {
        "real_tab": "From toy to real", "real_show": "Show for my rank and α",
        "real_heading": "### From toy to real: your LoRA settings on well-known models",
        "real_intro": "The rank and target layers you chose, applied to the layer shapes of seven published models. "
                      "Nothing is downloaded or trained: each count follows from the model's configuration, and "
                      "the tests check every one against PEFT's own count on the real architecture.",
        "real_caption": "What you see: the left chart compares each model's parameters with what LoRA would train, "
                        "r × (d_in + d_out) for every adapted linear layer, and gives the trainable share. The right "
                        "chart adds up the memory for weights, gradients and Adam's state in three set-ups. "
                        "Activations are not included: they depend on batch size, sequence length and "
                        "checkpointing, not on the model alone.",
        "real_scaling_note": "α = {alpha:g} with {rule} gives a scaling of {scaling:.3g}. The scaling changes how "
                             "strongly the adapter acts, not how many numbers it trains or stores, so both charts "
                             "ignore α and rsLoRA.",
        "real_rule_plain": "α/r", "real_rule_rslora": "rsLoRA's α/√r",
        "real_target_label": "LoRA on",
        "real_target_info": "Which linear layers get an adapter. “All linear layers” is PEFT's all-linear: every "
                            "linear layer except the output layer (lm_head).",
        "real_target_attention": "attention projections", "real_target_mlp": "MLP layers",
        "real_target_all": "all linear layers",
        "real_family_decoder": "decoder LLM", "real_family_bert": "text encoder", "real_family_vit": "vision transformer",
        "real_params_title": "Parameters: base model and LoRA r={rank} on {target} (log scale)",
        "real_base": "base model", "real_trainable": "LoRA trainable",
        "real_memory_title": "Training memory, LoRA r={rank} on {target}",
        "real_memory_axis": "GB (10⁹ bytes, log scale)",
        "real_setup_full_finetune": "full fine-tuning (mixed precision)", "real_setup_lora": "LoRA, bf16 base",
        "real_setup_qlora": "QLoRA, 4-bit NF4 base",
        "real_weights": "weights", "real_gradients": "gradients", "real_optimizer_state": "Adam state",
        "real_total": "total",
        "real_no_activations": "Activations are not included.",
        "real_assumptions": "Bytes counted per parameter. Full fine-tuning: 2 (bf16 weights) + 2 (bf16 gradients) "
                            "+ 12 (an fp32 master copy and Adam's two fp32 moments) = 16; Hugging Face's training "
                            "guide counts 18 by keeping fp32 gradients as well. LoRA: the base in bf16 (2 per base "
                            "parameter) and the adapter in fp32 with its gradients and Adam state (4 + 4 + 8 per "
                            "adapter parameter). QLoRA: as LoRA, but the weights of every linear layer except the output layer are stored in "
                            "4-bit NF4 with double quantisation, about 4.127 bits each; embeddings, norms, biases "
                            "and the output layer stay in bf16 (PEFT's prepare_model_for_kbit_training would "
                            "upcast them to fp32). GB means 10⁹ bytes.",
        "real_col_model": "model", "real_col_kind": "kind", "real_col_base": "base params",
        "real_col_trainable": "LoRA trainable", "real_col_share": "trainable %",
        "real_col_full_finetune": "full FT (GB)", "real_col_lora": "LoRA (GB)", "real_col_qlora": "QLoRA (GB)",
    },
    "zh": {
        "real_tab": "从玩具到真实模型", "real_show": "按我的秩和 α 显示",
        "real_heading": "### 从玩具到真实模型：把你的 LoRA 设置用在知名模型上",
        "real_intro": "把你选的秩和目标层套用到七个公开模型的层形状上。这里既不下载也不训练：每个数字都由模型的配置算出，"
                      "测试会在真实的网络结构上逐一与 PEFT 自己的统计结果核对。",
        "real_caption": "看点：左图比较每个模型的参数量和 LoRA 要训练的参数量（每个被适配的线性层为 r × (d_in + d_out)），"
                        "并给出可训练参数的占比。右图把三种方案下权重、梯度和 Adam 状态所占的内存加起来。"
                        "激活值不计在内：它取决于批大小、序列长度和是否使用检查点，而不只取决于模型本身。",
        "real_scaling_note": "α = {alpha:g}，按 {rule} 计算，缩放系数为 {scaling:.3g}。缩放系数只改变适配器作用的强弱，"
                             "不改变它要训练和存储多少个数，所以两张图都与 α 和 rsLoRA 无关。",
        "real_rule_plain": "α/r", "real_rule_rslora": "rsLoRA 的 α/√r",
        "real_target_label": "LoRA 作用于",
        "real_target_info": "哪些线性层加上适配器。“全部线性层”即 PEFT 的 all-linear：除输出层（lm_head）以外的所有线性层。",
        "real_target_attention": "注意力投影层", "real_target_mlp": "MLP 层",
        "real_target_all": "全部线性层",
        "real_family_decoder": "解码器大语言模型", "real_family_bert": "文本编码器", "real_family_vit": "视觉 Transformer",
        "real_params_title": "参数：基础模型与 LoRA r={rank}（作用于{target}）（对数坐标）",
        "real_base": "基础模型", "real_trainable": "LoRA 可训练",
        "real_memory_title": "训练内存，LoRA r={rank}（作用于{target}）",
        "real_memory_axis": "GB（10⁹ 字节，对数坐标）",
        "real_setup_full_finetune": "全量微调（混合精度）", "real_setup_lora": "LoRA，bf16 基础模型",
        "real_setup_qlora": "QLoRA，4 位 NF4 基础模型",
        "real_weights": "权重", "real_gradients": "梯度", "real_optimizer_state": "Adam 状态",
        "real_total": "合计",
        "real_no_activations": "不含激活值。",
        "real_assumptions": "按每个参数的字节数计算。全量微调：2（bf16 权重）+ 2（bf16 梯度）+ 12（fp32 主权重副本和 Adam 的两个 "
                            "fp32 动量）= 16；Hugging Face 的训练指南另外保留 fp32 梯度，记为 18。LoRA：基础模型用 bf16"
                            "（每个基础参数 2 字节），适配器用 fp32，连同梯度和 Adam 状态（每个适配器参数 4 + 4 + 8 字节）。"
                            "QLoRA：与 LoRA 相同，只是除输出层外所有线性层的权重以 4 位 NF4 存储并做双重量化，每个约 4.127 位；"
                            "嵌入、归一化层、偏置和输出层仍为 bf16（若调用 PEFT 的 prepare_model_for_kbit_training，它们会被转成 fp32）。GB 指 10⁹ 字节。",
        "real_col_model": "模型", "real_col_kind": "类型", "real_col_base": "基础参数",
        "real_col_trainable": "LoRA 可训练", "real_col_share": "可训练占比 %",
        "real_col_full_finetune": "全量微调（GB）", "real_col_lora": "LoRA（GB）", "real_col_qlora": "QLoRA（GB）",
    },
}
