"""The "From toy to real" numbers against PEFT and transformers on the real architectures.

Each model is built from its configuration on the meta device (shapes only, no memory, no download) and
wrapped with PEFT for every target and two ranks; our arithmetic must equal get_nb_trainable_parameters()
exactly. The configuration numbers below are typed in again from the models' config.json files on the
Hugging Face Hub (the URLs are in lora_demo.real_models.CATALOGUE), not read from the catalogue, so a wrong
number in the catalogue fails here. transformers and peft are test-only dependencies.
"""
from __future__ import annotations

import re
import string
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

from lora_demo import real_models as rm  # noqa: E402
from lora_demo.methods.lora import lora_scaling  # noqa: E402
from lora_demo.plots import real as plots  # noqa: E402
from lora_demo.text import real as words  # noqa: E402

_LLAMA3 = dict(num_attention_heads=32, num_key_value_heads=8, vocab_size=128256)
SPECS = {  # catalogue key -> (transformers config class, model class, config.json values)
    "llama-3.2-1b": ("LlamaConfig", "LlamaForCausalLM", dict(
        _LLAMA3, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, head_dim=64,
        tie_word_embeddings=True)),
    "qwen2.5-0.5b": ("Qwen2Config", "Qwen2ForCausalLM", dict(
        hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
        num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True)),
    "mistral-7b-v0.1": ("MistralConfig", "MistralForCausalLM", dict(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
        num_key_value_heads=8, vocab_size=32000, tie_word_embeddings=False)),
    "llama-3.1-8b": ("LlamaConfig", "LlamaForCausalLM", dict(
        _LLAMA3, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, tie_word_embeddings=False)),
    "llama-3.1-70b": ("LlamaConfig", "LlamaForCausalLM", dict(
        _LLAMA3, hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64,
        tie_word_embeddings=False)),
    "bert-base-uncased": ("BertConfig", "BertModel", dict(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, vocab_size=30522,
        max_position_embeddings=512, type_vocab_size=2)),
    "vit-base-patch16-224": ("ViTConfig", "ViTModel", dict(
        hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=224,
        patch_size=16, num_channels=3)),
}
# (rank, α, rsLoRA): two ranks, and α/rsLoRA varied too, since the panel says they change no count
SETTINGS = ((4, 16, False), (16, 8, True))


def build(key: str):
    config_cls, model_cls, values = SPECS[key]
    with torch.device("meta"):
        return getattr(transformers, model_cls)(getattr(transformers, config_cls)(**values))


def linears(model) -> dict[str, tuple[int, int, bool]]:
    return {name: (m.in_features, m.out_features, m.bias is not None)
            for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def expand(layers: list[rm.Linear]) -> set[str]:
    """Our name patterns as the module names they stand for."""
    return {lin.pattern.replace("*", str(i)) if "*" in lin.pattern else lin.pattern
            for lin in layers for i in range(lin.count)}


@pytest.fixture(scope="module", params=list(SPECS))
def facts(request):
    """What transformers and PEFT say about one model: built once for its own counts, and afresh for each
    LoRA wrap (get_peft_model changes the model it is given)."""
    from transformers.quantizers.base import HfQuantizer
    from transformers.quantizers.quantizers_utils import should_convert_module
    key = request.param
    model = build(key)
    out = dict(key=key, model=rm.BY_KEY[key], params=sum(p.numel() for p in model.parameters()),
               linears=linears(model), peft={})
    # the modules a bitsandbytes 4-bit load replaces: the quantizer's skip list, matched as transformers does
    skip = HfQuantizer.get_modules_to_not_convert(model, None, model._keep_in_fp32_modules)
    out["quantised"] = {name for name in out["linears"] if should_convert_module(name, skip)}
    for target in rm.TARGETS:
        for rank, alpha, rslora in SETTINGS:
            # init_lora_weights=False skips drawing A (no count depends on it: a sixth of the time on meta)
            config = peft.LoraConfig(r=rank, lora_alpha=alpha, use_rslora=rslora, init_lora_weights=False,
                                     target_modules=rm.peft_target_modules(rm.BY_KEY[key], target))
            # low_cpu_mem_usage: adapters are created on the meta device too, ~5× faster than on the CPU
            wrapped = peft.get_peft_model(build(key), config, low_cpu_mem_usage=True)
            layer = next(m for m in wrapped.modules() if isinstance(m, peft.tuners.lora.LoraLayer))
            out["peft"][target, rank] = dict(counts=wrapped.get_nb_trainable_parameters(),
                                             targeted=set(wrapped.targeted_module_names),
                                             scaling=(layer.scaling["default"], alpha, rslora))
    return out


def test_base_params_equal_transformers_count(facts):
    assert rm.base_params(facts["model"]) == facts["params"]


def test_every_linear_layer_has_our_name_shape_and_bias(facts):
    ours = {name: (lin.d_in, lin.d_out, lin.bias)
            for lin in rm.all_linears(facts["model"]) for name in expand([lin])}
    assert ours == facts["linears"]


@pytest.mark.parametrize("target", rm.TARGETS)
def test_lora_counts_equal_peft(facts, target):
    """Trainable and all parameters as PEFT counts them, for two ranks and α/rsLoRA settings."""
    model = facts["model"]
    for rank, _, _ in SETTINGS:
        trainable, total = facts["peft"][target, rank]["counts"]
        assert rm.lora_trainable(model, rank, target) == trainable
        assert rm.base_params(model) + rm.lora_trainable(model, rank, target) == total
        assert rm.trainable_share(model, rank, target) == pytest.approx(100 * trainable / total, rel=1e-12)


@pytest.mark.parametrize("target", rm.TARGETS)
def test_peft_adapts_exactly_the_layers_we_list(facts, target):
    for rank, _, _ in SETTINGS:
        assert facts["peft"][target, rank]["targeted"] == expand(rm.linear_layers(facts["model"], target))


def test_all_is_peft_all_linear_without_the_output_layer(facts):
    """"all" = every linear layer but lm_head; on encoders (no output layer) that includes the pooler."""
    targeted = facts["peft"]["all", SETTINGS[0][0]]["targeted"]
    assert targeted == set(facts["linears"]) - {"lm_head"}
    assert ("pooler.dense" in targeted) == (facts["model"].family in ("bert", "vit"))


def test_alpha_and_rslora_set_only_the_scaling(facts):
    for rank, _, _ in SETTINGS:
        peft_scaling, alpha, rslora = facts["peft"]["attention", rank]["scaling"]
        assert peft_scaling == pytest.approx(lora_scaling(rank, alpha, rslora))


def test_qlora_quantises_what_transformers_quantises(facts):
    """Every linear layer but the output layer (transformers 5.x quantises BERT's and ViT's pooler too)."""
    assert expand(rm.quantized_linears(facts["model"])) == facts["quantised"]
    assert "lm_head" not in facts["quantised"]


def test_memory_against_an_independent_count(facts):
    """Bytes from the meta model's tensors and PEFT's count, at the QLoRA paper's per-parameter rates."""
    model, n = facts["model"], facts["params"]
    quantised = sum(i * o for name, (i, o, _) in facts["linears"].items() if name in facts["quantised"])
    nf4 = Fraction(4 + Fraction(8, 64) + Fraction(32, 64 * 256), 8)  # bytes per weight, 4.127 bits
    for target in rm.TARGETS:
        for rank, _, _ in SETTINGS:
            a = facts["peft"][target, rank]["counts"][0]
            mem = rm.memory(model, rank, target)
            assert set(mem) == set(rm.SETUPS) and all(set(m) == set(rm.PARTS) for m in mem.values())
            assert sum(mem["full_finetune"].values()) == 16 * n
            assert mem["full_finetune"]["gradients"] == 2 * n
            assert mem["lora"] == {"weights": 2 * n + 4 * a, "gradients": 4 * a, "optimizer_state": 8 * a}
            assert mem["qlora"]["weights"] == quantised * nf4 + 2 * (n - quantised) + 4 * a
            assert mem["qlora"]["gradients"] == mem["lora"]["gradients"]
            assert mem["qlora"]["optimizer_state"] == mem["lora"]["optimizer_state"]


def test_llama_8b_totals_in_gigabytes():
    """Llama 3.1 8B, r=16 on all linear layers, in the units the chart shows: the totals an earlier,
    separate script got from a meta-device build (16 B per parameter for full fine-tuning; bf16 base + 16 B per
    adapter parameter; NF4 with double quantisation for every linear weight but lm_head)."""
    row = rm.table(16, "all", [rm.BY_KEY["llama-3.1-8b"]])[0]
    assert row.base == 8_030_261_248 and row.trainable == 41_943_040
    assert row.total("full_finetune") / rm.GB == pytest.approx(128.48, abs=0.01)
    assert row.total("lora") / rm.GB == pytest.approx(16.73, abs=0.01)
    assert row.total("qlora") / rm.GB == pytest.approx(6.37, abs=0.01)


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="target must be one of"):
        rm.linear_layers(rm.CATALOGUE[0], "embeddings")


def test_bert_mlp_regex_leaves_the_attention_output_alone():
    pattern = rm.peft_target_modules(rm.BY_KEY["bert-base-uncased"], "mlp")
    assert re.fullmatch(pattern, "encoder.layer.11.output.dense")
    assert re.fullmatch(pattern, "encoder.layer.0.intermediate.dense")
    assert not re.fullmatch(pattern, "encoder.layer.0.attention.output.dense")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("target", rm.TARGETS)
def test_figures_carry_the_table_and_plotly_accepts_them(lang, target):
    go = pytest.importorskip("plotly.graph_objects")
    rows = rm.table(8, target)
    share = plots.share_figure(rows, 8, target, lang)
    memory = plots.memory_figure(rows, 8, target, lang)
    for fig in (share, memory):
        go.Figure(fig)
        assert fig["layout"]["template"] == "none" and fig["layout"]["height"] > 0
    base, trainable = share["data"]
    assert list(base["x"]) == [r.base for r in rows] and list(trainable["x"]) == [r.trainable for r in rows]
    assert [f"{r.share:.2f}%" in text for r, text in zip(rows, trainable["text"])] == [True] * len(rows)
    assert [d["y"].tolist() for d in memory["data"]] == [[r.total(s) / rm.GB for r in rows] for s in rm.SETUPS]
    assert memory["layout"]["annotations"][0]["text"] == words.WORDS[lang]["real_no_activations"]
    headers, body = plots.table_rows(rows, lang)
    assert len(body) == len(rm.CATALOGUE) and all(len(line) == len(headers) for line in body)


def test_text_has_the_same_keys_and_placeholders_in_both_languages():
    en, zh = words.WORDS["en"], words.WORDS["zh"]
    assert set(en) == set(zh)
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    assert {k: fields(v) for k, v in en.items()} == {k: fields(v) for k, v in zh.items()}
