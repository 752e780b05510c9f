"""From toy to real: the user's LoRA rank and target layers applied to the shapes of seven well-known models.

Plain data and arithmetic; no torch, no transformers. Each model is kept as the handful of architecture
numbers its Hugging Face `config.json` gives; from them we list every nn.Linear (with the name PEFT sees),
every other parameter tensor, and so the counts PEFT's `get_nb_trainable_parameters()` reports. The tests
build each model from its transformers config on the meta device and check every count here against PEFT.

Targets. "attention" and "mlp" are the projections inside each block; "all" mirrors PEFT's "all-linear":
every nn.Linear except the output layer (`get_output_embeddings()`, i.e. lm_head). So on BertModel and
ViTModel, which have no output layer, "all" includes the pooler. α and rsLoRA change only the scaling
(α/r or α/√r), never a count or a byte, so they are not inputs here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil

TARGETS = ("attention", "mlp", "all")
_TARGET_KINDS = {"attention": ("attention",), "mlp": ("mlp",), "all": ("attention", "mlp", "other")}
SETUPS = ("full_finetune", "lora", "qlora")
PARTS = ("weights", "gradients", "optimizer_state")
GB = 10**9  # decimal gigabytes, as the figures say


@dataclass(frozen=True)
class Model:
    """The architecture numbers of one model; `source` is the config.json they were read from."""
    key: str
    name: str
    family: str            # "decoder" (Llama, Qwen2, Mistral), "bert" or "vit"
    source: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int = 0      # grouped-query attention: fewer key/value heads than query heads
    head_dim: int = 0
    vocab: int = 0
    tied_embeddings: bool = False  # lm_head shares the input embedding's weight
    qkv_bias: bool = False         # Qwen2 has biases on q, k and v (not on o)
    max_positions: int = 0         # BERT's learned position embeddings
    token_types: int = 0
    image_size: int = 0
    patch_size: int = 0
    channels: int = 3


def _hub(repo: str) -> str:
    return f"https://huggingface.co/{repo}/blob/main/config.json"


CATALOGUE = (
    Model("llama-3.2-1b", "Llama 3.2 1B", "decoder", _hub("meta-llama/Llama-3.2-1B"), hidden=2048,
          intermediate=8192, layers=16, heads=32, kv_heads=8, head_dim=64, vocab=128256, tied_embeddings=True),
    Model("qwen2.5-0.5b", "Qwen2.5 0.5B", "decoder", _hub("Qwen/Qwen2.5-0.5B"), hidden=896, intermediate=4864,
          layers=24, heads=14, kv_heads=2, head_dim=64, vocab=151936, tied_embeddings=True, qkv_bias=True),
    Model("mistral-7b-v0.1", "Mistral 7B v0.1", "decoder", _hub("mistralai/Mistral-7B-v0.1"), hidden=4096,
          intermediate=14336, layers=32, heads=32, kv_heads=8, head_dim=128, vocab=32000),
    Model("llama-3.1-8b", "Llama 3.1 8B", "decoder", _hub("meta-llama/Llama-3.1-8B"), hidden=4096,
          intermediate=14336, layers=32, heads=32, kv_heads=8, head_dim=128, vocab=128256),
    Model("llama-3.1-70b", "Llama 3.1 70B", "decoder", _hub("meta-llama/Llama-3.1-70B"), hidden=8192,
          intermediate=28672, layers=80, heads=64, kv_heads=8, head_dim=128, vocab=128256),
    Model("bert-base-uncased", "BERT base uncased", "bert", _hub("google-bert/bert-base-uncased"), hidden=768,
          intermediate=3072, layers=12, heads=12, vocab=30522, max_positions=512, token_types=2),
    Model("vit-base-patch16-224", "ViT-B/16 224", "vit", _hub("google/vit-base-patch16-224"), hidden=768,
          intermediate=3072, layers=12, heads=12, image_size=224, patch_size=16),
)
BY_KEY = {m.key: m for m in CATALOGUE}


@dataclass(frozen=True)
class Linear:
    """`count` nn.Linear modules of one shape; `pattern` is their module name with * for the block index."""
    pattern: str
    d_in: int
    d_out: int
    count: int
    kind: str              # "attention", "mlp", "other" (a pooler) or "head" (the output layer)
    bias: bool = False
    tied: bool = False     # the weight is the input embedding's: no parameters of its own

    @property
    def params(self) -> int:
        """Parameters these modules add to the model (a tied weight is counted once, with the embedding)."""
        weight = 0 if self.tied else self.d_in * self.d_out
        return self.count * (weight + (self.d_out if self.bias else 0))


def _decoder(m: Model) -> tuple[list[Linear], dict[str, int]]:
    """Llama, Qwen2 and Mistral: grouped-query attention, a gated MLP, RMSNorm (a weight, no bias)."""
    q, kv, h, L = m.heads * m.head_dim, m.kv_heads * m.head_dim, m.hidden, m.layers
    block = "model.layers.*."
    linears = [Linear(block + "self_attn.q_proj", h, q, L, "attention", m.qkv_bias),
               Linear(block + "self_attn.k_proj", h, kv, L, "attention", m.qkv_bias),
               Linear(block + "self_attn.v_proj", h, kv, L, "attention", m.qkv_bias),
               Linear(block + "self_attn.o_proj", q, h, L, "attention"),
               Linear(block + "mlp.gate_proj", h, m.intermediate, L, "mlp"),
               Linear(block + "mlp.up_proj", h, m.intermediate, L, "mlp"),
               Linear(block + "mlp.down_proj", m.intermediate, h, L, "mlp"),
               Linear("lm_head", h, m.vocab, 1, "head", tied=m.tied_embeddings)]
    # two norms per block (before attention, before the MLP) and one after the last block
    return linears, {"token embedding": m.vocab * h, "RMSNorm weights": (2 * L + 1) * h}


def _bert(m: Model) -> tuple[list[Linear], dict[str, int]]:
    """BERT: biases everywhere, LayerNorm (weight and bias), learned position and token-type embeddings."""
    h, L = m.hidden, m.layers
    block = "encoder.layer.*."
    linears = [Linear(block + "attention.self.query", h, h, L, "attention", True),
               Linear(block + "attention.self.key", h, h, L, "attention", True),
               Linear(block + "attention.self.value", h, h, L, "attention", True),
               Linear(block + "attention.output.dense", h, h, L, "attention", True),
               Linear(block + "intermediate.dense", h, m.intermediate, L, "mlp", True),
               Linear(block + "output.dense", m.intermediate, h, L, "mlp", True),
               Linear("pooler.dense", h, h, 1, "other", True)]
    return linears, {"token embedding": m.vocab * h, "position embedding": m.max_positions * h,
                     "token-type embedding": m.token_types * h, "LayerNorms": (2 * L + 1) * 2 * h}


def _vit(m: Model) -> tuple[list[Linear], dict[str, int]]:
    """ViT (transformers 5.x module names): a conv patch embedding, a [CLS] token, LayerNorm, biases everywhere."""
    h, L = m.hidden, m.layers
    block = "layers.*."
    linears = [Linear(block + "attention.q_proj", h, h, L, "attention", True),
               Linear(block + "attention.k_proj", h, h, L, "attention", True),
               Linear(block + "attention.v_proj", h, h, L, "attention", True),
               Linear(block + "attention.o_proj", h, h, L, "attention", True),
               Linear(block + "mlp.fc1", h, m.intermediate, L, "mlp", True),
               Linear(block + "mlp.fc2", m.intermediate, h, L, "mlp", True),
               Linear("pooler.dense", h, h, 1, "other", True)]
    patches = (m.image_size // m.patch_size) ** 2
    return linears, {"patch embedding (conv)": m.channels * m.patch_size ** 2 * h + h,
                     "[CLS] token": h, "position embedding": (patches + 1) * h,
                     "LayerNorms": (2 * L + 1) * 2 * h}


_FAMILIES = {"decoder": _decoder, "bert": _bert, "vit": _vit}


def all_linears(model: Model) -> list[Linear]:
    """Every nn.Linear of the model, the output layer included."""
    return _FAMILIES[model.family](model)[0]


def other_params(model: Model) -> dict[str, int]:
    """Every parameter outside the nn.Linear modules, by what it is."""
    return _FAMILIES[model.family](model)[1]


def linear_layers(model: Model, target: str) -> list[Linear]:
    """The nn.Linear modules LoRA adapts for target "attention", "mlp" or "all" (all but the output layer)."""
    if target not in _TARGET_KINDS:
        raise ValueError(f"target must be one of {TARGETS}; got {target!r}")
    return [lin for lin in all_linears(model) if lin.kind in _TARGET_KINDS[target]]


def _unique_suffix(lin: Linear, linears: list[Linear]) -> str | None:
    """The shortest end of lin's name that no other module's name ends with, or None if it needs the block."""
    parts = lin.pattern.split(".")
    for k in range(1, len(parts) + 1):
        end = ".".join(parts[-k:])
        if "*" in end:
            return None
        if not any(o.pattern != lin.pattern and (o.pattern == end or o.pattern.endswith("." + end)) for o in linears):
            return end
    return None


def peft_target_modules(model: Model, target: str) -> list[str] | str:
    """What to pass as LoraConfig(target_modules=...) to adapt exactly `linear_layers(model, target)`.

    PEFT matches a list entry against the end of each module name, and a string as a regular expression
    against the whole name. A list of short names is what people write, so we give one where each name is
    unambiguous; BERT's MLP output is not ("output.dense" also ends "attention.output.dense"), so it gets a
    regular expression. "all" is PEFT's own "all-linear"."""
    if target == "all":
        return "all-linear"
    everything, chosen = all_linears(model), linear_layers(model, target)
    ends = [_unique_suffix(lin, everything) for lin in chosen]
    if None not in ends:
        return ends
    return "|".join(re.escape(lin.pattern).replace(r"\*", r"\d+") for lin in chosen)


def base_params(model: Model) -> int:
    """The model's parameter count (transformers' and PEFT's, a tied weight once)."""
    return sum(lin.params for lin in all_linears(model)) + sum(other_params(model).values())


def lora_trainable(model: Model, rank: int, target: str) -> int:
    """LoRA's trainable parameters: A is r × d_in and B is d_out × r for every adapted layer."""
    return sum(lin.count * rank * (lin.d_in + lin.d_out) for lin in linear_layers(model, target))


def trainable_share(model: Model, rank: int, target: str) -> float:
    """Trainable over all parameters (base + adapter), in percent: PEFT's print_trainable_parameters()."""
    n = lora_trainable(model, rank, target)
    return 100 * n / (base_params(model) + n)


# ---------------------------------------------------------------- memory (no activations)
# Bytes per parameter. Full fine-tuning in mixed precision keeps bf16 weights and gradients plus an fp32 master
# copy and Adam's two fp32 moments: 2 + 2 + 12 = 16 B, the master copy counted with the optimizer state as the
# ZeRO paper does (Rajbhandari et al. 2019, arXiv:1910.02054, §3.1: "2Ψ + 2Ψ + KΨ" with K = 12). Hugging Face's
# "Model training anatomy" guide counts 18 B (6 weights, 4 gradients, 8 Adam), keeping fp32 gradients too.
BF16, FP32, ADAM = 2, 4, 8
MASTER_AND_ADAM = FP32 + ADAM
# The adapter trains in fp32: PEFT's get_peft_model(autocast_adapter_dtype=True), its default, upcasts bf16
# adapter weights to float32; gradients are fp32 then, and Adam's moments follow the parameter dtype.
NF4_BLOCK, DQ_BLOCK = 64, 256  # QLoRA (Dettmers et al. 2023, arXiv:2305.14314, §3): 4-bit NF4 in blocks of 64;
# double quantisation stores each block's absmax in 8 bits and one fp32 constant per 256 of those, i.e.
# 8/64 + 32/(64·256) ≈ 0.127 bit per parameter instead of 32/64 = 0.5.


def nf4_bytes(n: int) -> int:
    """One weight tensor of n values in NF4 with double quantisation: 4-bit codes, 8-bit absmax per block of 64,
    an fp32 constant per 256 absmax. bitsandbytes adds a few hundred bytes of per-tensor bookkeeping, left out."""
    blocks = ceil(n / NF4_BLOCK)
    return ceil(n / 2) + blocks + FP32 * ceil(blocks / DQ_BLOCK)


def quantized_linears(model: Model) -> list[Linear]:
    """The modules a 4-bit load quantises: every nn.Linear but the output layer, which transformers keeps in
    bf16 (get_keys_to_not_convert). It also names the module of the last parameter, but as "pooler.dense.bias",
    which matches no module name in 5.x, so the poolers of BERT and ViT are quantised (4.x skipped them).
    Biases, norms and embeddings are not nn.Linear weights and stay bf16. (PEFT's prepare_model_for_kbit_training,
    if called, upcasts all of those to fp32: 2 more bytes each, about 2.1 GB more for Llama 3.1 8B.)"""
    return [lin for lin in all_linears(model) if lin.kind != "head"]


def memory(model: Model, rank: int, target: str) -> dict[str, dict[str, int]]:
    """Bytes of weights, gradients and optimizer state for full fine-tuning, LoRA on a bf16 base and QLoRA.

    setup -> part -> bytes, setups in SETUPS and parts in PARTS. Activations are not included: they depend
    on batch size, sequence length and checkpointing, not on the model alone."""
    n, a = base_params(model), lora_trainable(model, rank, target)
    adapter = {"gradients": FP32 * a, "optimizer_state": ADAM * a}
    q = quantized_linears(model)
    q_params = sum(lin.count * lin.d_in * lin.d_out for lin in q)
    q_bytes = sum(lin.count * nf4_bytes(lin.d_in * lin.d_out) for lin in q)
    return {
        "full_finetune": {"weights": BF16 * n, "gradients": BF16 * n, "optimizer_state": MASTER_AND_ADAM * n},
        "lora": {"weights": BF16 * n + FP32 * a, **adapter},
        "qlora": {"weights": q_bytes + BF16 * (n - q_params) + FP32 * a, **adapter},
    }


@dataclass(frozen=True)
class Row:
    """One model under one LoRA setting: what the figures and the table show."""
    model: Model
    base: int
    trainable: int
    memory: dict

    @property
    def share(self) -> float:
        return 100 * self.trainable / (self.base + self.trainable)

    def total(self, setup: str) -> int:
        return sum(self.memory[setup].values())


def table(rank: int, target: str, models=CATALOGUE) -> list[Row]:
    return [Row(m, base_params(m), lora_trainable(m, rank, target), memory(m, rank, target)) for m in models]
