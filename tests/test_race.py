"""The variants race: structure, trainable budgets, determinism, agreement with train_method, merge checks,
what "adapter off" leaves, and figures Plotly accepts, in both languages."""
import copy
import re

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from lora_demo import evaluate
from lora_demo.config import DataConfig, LoRAConfig, ModelConfig, RunConfig, TrainConfig
from lora_demo.insights.common import frozen_base, train_method
from lora_demo.insights.race import VARIANTS, race
from lora_demo.methods.lora import lora_scaling
from lora_demo.plots import race as plots
from lora_demo.text import race as words

# rank 3 on fc1 (2 → 16) and fc2 (16 → 16): fc1's W has only 2 directions, so PiSSA and OLoRA hit a rank limit
CFG = RunConfig(data=DataConfig(n_samples=120), model=ModelConfig(hidden_size=16),
                lora=LoRAConfig(rank=3, alpha=6, target_modules=("fc1", "fc2")),
                train=TrainConfig(pretrain_steps=60, adapt_steps=30, lr=0.02))
BUDGET = 3 * (2 + 16) + 3 * (16 + 16)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second intra-op thread only adds waiting on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fb():
    return frozen_base(CFG, grid_size=8)


@pytest.fixture(scope="module")
def result(fb):
    return race(fb)


def test_every_variant_is_read_off_the_same_way(result):
    assert tuple(e.key for e in result.entries) == VARIANTS
    assert (result.rank, result.alpha, result.targets, result.steps) == (3, 6, ("fc1", "fc2"), 30)
    for e in result.entries:
        assert e.probs.shape == (8, 8, 2) and not e.probs.flags.writeable
        assert e.loss_curve.shape == (30,) and np.isfinite(e.loss_curve).all()
        assert 0 <= e.accuracy <= 1 and 0 <= e.off_source_accuracy <= 1
        assert e.mergeable and e.merge_diff is not None
    kinds = {e.key: (e.merge_kind, e.changes_base) for e in result.entries}
    assert kinds == {"lora": ("add", False), "rslora": ("add", False), "loraplus": ("add", False),
                     "dora": ("rescale", False), "pissa": ("residual", True), "olora": ("residual", True)}


def test_budgets_are_matched_and_differences_reported(result):
    assert result.lora_budget == BUDGET
    trainable = {e.key: e.params.trainable for e in result.entries}
    extra = {e.key: e.extra for e in result.entries}
    for key in ("lora", "rslora", "loraplus"):
        assert trainable[key] == BUDGET and extra[key] == 0
    assert trainable["dora"] == BUDGET + 16 + 16 and extra["dora"] == 32      # one magnitude per output row
    for key in ("pissa", "olora"):                                            # fc1 keeps 2 of 3 directions
        assert trainable[key] == 2 * 18 + 3 * 32 and extra[key] == -18
        assert [(lim.layer, lim.max_rank) for lim in result.entry(key).rank_limits] == [("fc1", 2)]
    assert all(e.rank_limits == () for e in result.entries if e.key not in ("pissa", "olora"))
    assert len({e.params.total - e.params.trainable for e in result.entries}) == 1  # one base under all


def test_lora_in_the_race_is_train_method_lora(fb, result):
    _, alone = train_method(fb, "lora")
    lora = result.entry("lora")
    assert lora.accuracy == alone.accuracy
    np.testing.assert_array_equal(lora.loss_curve, alone.loss_curve)
    # LoRA+ shares LoRA's layers and start, so its first loss is LoRA's; its faster B then moves it elsewhere
    plus = result.entry("loraplus")
    assert plus.loss_curve[0] == lora.loss_curve[0] and not np.array_equal(plus.loss_curve, lora.loss_curve)


def test_same_settings_give_identical_numbers(fb, result):
    again = race(fb)
    for a, b in zip(result.entries, again.entries):
        assert (a.accuracy, a.params, a.extra, a.final_train_loss, a.merge_diff, a.off_source_accuracy) == \
               (b.accuracy, b.params, b.extra, b.final_train_loss, b.merge_diff, b.off_source_accuracy)
        np.testing.assert_array_equal(a.loss_curve, b.loss_curve)
        np.testing.assert_array_equal(a.probs, b.probs)


def test_merging_moves_outputs_by_float_rounding_only(result):
    for e in result.entries:
        assert e.merge_diff < 1e-5, e.key


@torch.no_grad()
def test_adapter_off_is_the_base_or_the_residual_base(fb, result):
    for key in ("lora", "rslora", "dora", "loraplus"):
        assert result.entry(key).off_source_accuracy == result.base_source_accuracy
    # the residual base built here from W by hand: W − (best rank-k part) for PiSSA, W − s·Q_k·R_k for OLoRA
    s = lora_scaling(3, 6)
    for key in ("pissa", "olora"):
        residual = copy.deepcopy(fb.base)
        for name in ("fc1", "fc2"):
            W = residual.get_submodule(name).weight
            if key == "pissa":
                U, S, Vh = torch.linalg.svd(W, full_matrices=False)
                W -= U[:, :3] @ torch.diag(S[:3]) @ Vh[:3]
            else:
                Q, R = torch.linalg.qr(W)
                W -= s * Q[:, :3] @ R[:3]
        assert result.entry(key).off_source_accuracy == evaluate.accuracy(residual, fb.source), key


def all_arrays_typed(obj) -> bool:
    """Numbers travel as numpy arrays (typed arrays in the browser), never as long Python lists."""
    if isinstance(obj, dict):
        return all(all_arrays_typed(v) for v in obj.values())
    if isinstance(obj, list):
        return len(obj) <= 12 and all(all_arrays_typed(v) for v in obj)
    return True


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_figures_table_and_notes(fb, result, lang):
    figs = [plots.boundaries_figure(result, fb.ticks, fb.target, lang), plots.loss_figure(result, lang),
            plots.summary_figure(result, lang)]
    for fig in figs:
        go.Figure(fig)  # Plotly's own validation accepts the plain dict
        assert fig["layout"]["template"] == "none" and fig["layout"]["height"] > 0
        assert not any(re.fullmatch(r"[xy]axis1", k) for k in fig["layout"])
        assert all(all_arrays_typed(trace) for trace in fig["data"])
    boundaries = figs[0]
    assert sum(tr["type"] == "image" for tr in boundaries["data"]) == len(VARIANTS)
    titles = [a["text"] for a in boundaries["layout"]["annotations"]]
    assert titles[0].startswith("LoRA") and f"{100 * result.entry('lora').accuracy:.0f}%" in titles[0]
    assert len(figs[1]["data"]) == len(VARIANTS)
    headers, rows = plots.summary_table(result, lang)
    assert len(rows) == len(VARIANTS) and all(len(r) == len(headers) for r in rows)
    notes = plots.notes(result, lang)
    assert sum("fc1" in n for n in notes) == 1  # the rank limit, said once
    if lang == "en":
        assert result.entry("pissa").rank_limits[0].sentence() in notes


def test_race_words_exist_in_both_languages_with_the_same_fields():
    en, zh = words.WORDS["en"], words.WORDS["zh"]
    assert set(en) == set(zh) and all(k.startswith("race_") for k in en)
    for key in en:
        assert set(re.findall(r"{(\w+)", en[key])) == set(re.findall(r"{(\w+)", zh[key])), key
        assert re.search(r"[\u4e00-\u9fff]", zh[key]), key
