"""LoRA layer invariants, checked against PyTorch arithmetic written out and against PEFT itself."""
import copy
import math

import pytest
import torch
from torch import nn

from lora_demo.methods import count_parameters
from lora_demo.methods.lora import (LoRA, ModelWithLoRA, add_lora, adapter_strength, break_even_rank,
                                    lora_param_count, lora_parameters, max_useful_rank, merged_copy)
from lora_demo.model import BaseModel

peft = pytest.importorskip("peft")

SHAPES = [(1, 64), (2, 64), (3, 32)]  # (hidden_layers, hidden_size)


def make_base(hidden_layers=2, hidden=64, out=3, seed=0):
    return BaseModel(2, hidden, out, hidden_layers, generator=torch.Generator().manual_seed(seed))


def randomise_B(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, LoRA):
            nn.init.normal_(m.B.weight, std=0.5, generator=g)


def test_base_model_names_match_the_seed():
    m = BaseModel(2, 16, 2)
    assert [n for n, _ in m.named_children()] == ["fc1", "fc2"]
    x = torch.randn(5, 2)
    expected = m.fc2(torch.relu(m.fc1(x)))
    assert torch.equal(m(x), expected)
    deep = BaseModel(2, 16, 2, hidden_layers=3)
    assert [n for n, _ in deep.named_children()] == ["fc1", "fc2", "fc3", "fc4"]


def test_lora_layer_shapes_names_and_forward_formula():
    layer = nn.Linear(5, 7)
    lora = LoRA(layer, rank=3, alpha=6)
    assert lora.A.weight.shape == (3, 5) and lora.B.weight.shape == (7, 3)
    assert lora.A.bias is None and lora.B.bias is None
    assert lora.scaling == 2.0 and lora.rank == 3 and lora.alpha == 6
    assert LoRA(nn.Linear(5, 7), rank=4, alpha=6, use_rslora=True).scaling == 3.0  # 6 / √4
    randomise_B(lora)
    x = torch.randn(11, 5)
    by_hand = x @ layer.weight.T + layer.bias + 2.0 * (x @ lora.A.weight.T @ lora.B.weight.T)
    torch.testing.assert_close(lora(x), by_hand)
    torch.testing.assert_close(lora.delta_weight(), 2.0 * lora.B.weight @ lora.A.weight)
    assert lora.delta_weight().shape == layer.weight.shape


@pytest.mark.parametrize("layers,hidden", SHAPES)
@pytest.mark.parametrize("init", ["peft", "seed", "gaussian"])
def test_fresh_adapter_is_bit_for_bit_the_base(layers, hidden, init):
    base = make_base(layers, hidden)
    x = torch.randn(50, 2)
    before = base(x)
    targets = [f"fc{i + 1}" for i in range(layers + 1)]
    model = add_lora(copy.deepcopy(base), targets, rank=4, alpha=8, init=init)
    assert torch.equal(model(x), before)


def test_init_bounds_follow_the_contract():
    d_in, r = 64, 8
    peft_like = LoRA(nn.Linear(d_in, 32), rank=r, alpha=8, init="peft").A.weight
    seed_like = LoRA(nn.Linear(d_in, 32), rank=r, alpha=8, init="seed").A.weight
    assert peft_like.abs().max() <= 1 / math.sqrt(d_in)
    assert peft_like.abs().max() > 0.9 / math.sqrt(d_in)
    seed_bound = math.sqrt(6 / ((1 + 0.01 ** 2) * d_in))  # kaiming_uniform with a = 0.01
    assert seed_like.abs().max() <= seed_bound and seed_like.abs().max() > 0.9 / math.sqrt(d_in) * 2
    g = LoRA(nn.Linear(d_in, 512), rank=r, alpha=8, init="gaussian",
             generator=torch.Generator().manual_seed(0))
    big = LoRA(nn.Linear(4096, 4), rank=r, alpha=8, init="gaussian").A.weight
    assert abs(big.std().item() - 1 / r) < 0.01
    for m in (g,):
        assert torch.count_nonzero(m.B.weight) == 0


def test_training_changes_only_A_and_B():
    base = make_base()
    model = add_lora(copy.deepcopy(base), ["fc1", "fc2"], rank=2, alpha=4)
    frozen = {k: v.clone() for k, v in base.state_dict().items()}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(trainable) == ["fc1.A.weight", "fc1.B.weight", "fc2.A.weight", "fc2.B.weight"]
    assert lora_parameters(model) == [model.fc1.A.weight, model.fc1.B.weight,
                                      model.fc2.A.weight, model.fc2.B.weight]
    opt = torch.optim.Adam(lora_parameters(model), lr=0.05)
    x, y = torch.randn(64, 2), torch.randint(0, 3, (64,))
    A0 = model.fc1.A.weight.clone()
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert not torch.equal(model.fc1.A.weight, A0) and torch.count_nonzero(model.fc1.B.weight) > 0
    after = {k.replace("original_layer.", ""): v for k, v in model.state_dict().items()
             if ".A." not in k and ".B." not in k}
    assert set(after) == set(frozen)
    for k, v in frozen.items():
        assert torch.equal(after[k], v), k
    # adapter off restores the base exactly: no forgetting, by construction
    with adapter_strength(model, 0.0):
        assert torch.equal(model(x), base(x))


def test_merge_unmerge_and_merged_copy():
    model = add_lora(make_base(), ["fc1", "fc2", "fc3"], rank=3, alpha=5)
    randomise_B(model)
    x = torch.randn(200, 2)
    unmerged = model(x)
    W0 = model.fc2.original_layer.weight.clone()
    plain = merged_copy(model)
    assert type(plain) is BaseModel and all(type(m) is nn.Linear for m in plain.layers())
    assert (plain(x) - unmerged).abs().max() < 1e-5
    model.fc2.merge()
    assert (model(x) - unmerged).abs().max() < 1e-5
    model.fc2.unmerge()
    torch.testing.assert_close(model.fc2.original_layer.weight, W0, atol=1e-6, rtol=0)
    assert not torch.equal(plain.fc2.weight, W0)  # the copy holds W + ΔW, the model is untouched


def test_strength_interpolates_between_base_and_adapter():
    base = make_base()
    model = add_lora(copy.deepcopy(base), ["fc2"], rank=2, alpha=2)
    randomise_B(model)
    x = torch.randn(30, 2)
    full = model(x)
    with adapter_strength(model, 0.0):
        assert torch.equal(model(x), base(x))
    with adapter_strength(model, 1.0):
        assert torch.equal(model(x), full)
    assert torch.equal(model(x), full)


def test_counts_and_break_even():
    base = make_base(2, 64, 2)  # 2 → 64 → 64 → 2: 4,482 parameters, as in the contract
    assert count_parameters(base).total == 4482
    model = add_lora(base, ["fc1", "fc2", "fc3"], rank=4, alpha=8)
    c = count_parameters(model)
    shapes = {"fc1": (2, 64), "fc2": (64, 64), "fc3": (64, 2)}
    assert c.trainable == lora_param_count(shapes, 4) == 1040
    assert c.peft_line() == "trainable params: 1,040 || all params: 5,522 || trainable%: 18.8338"
    assert break_even_rank(2, 64) == pytest.approx(1.939, abs=1e-3)
    assert break_even_rank(64, 64) == 32
    assert max_useful_rank(2, 64) == 2


def test_seed_article_model():
    m = ModelWithLoRA(2, 16, 2)
    assert isinstance(m.fc1, LoRA) and m.fc1.rank == 4 and isinstance(m.fc2, nn.Linear)
    assert not any(p.requires_grad for p in m.fc1.original_layer.parameters())


@pytest.mark.parametrize("layers,hidden", SHAPES)
@pytest.mark.parametrize("rslora", [False, True])
def test_agrees_with_peft(layers, hidden, rslora):
    """Same A and B in our LoRA and in PEFT's: same outputs, same counts, same merge."""
    targets = ["fc1", f"fc{layers + 1}"]
    base = make_base(layers, hidden, out=3)
    ours = add_lora(copy.deepcopy(base), targets, rank=4, alpha=6, use_rslora=rslora)
    cfg = peft.LoraConfig(r=4, lora_alpha=6, target_modules=targets, use_rslora=rslora,
                          lora_dropout=0.0)
    theirs = peft.get_peft_model(copy.deepcopy(base), cfg)
    x = torch.randn(40, 2)
    torch.testing.assert_close(theirs(x), base(x), atol=0, rtol=0)  # PEFT's fresh adapter is a no-op too
    randomise_B(ours)
    with torch.no_grad():
        for t in targets:
            peft_layer = theirs.base_model.model.get_submodule(t)
            assert peft_layer.scaling["default"] == pytest.approx(ours.get_submodule(t).scaling)
            peft_layer.lora_A["default"].weight.copy_(ours.get_submodule(t).A.weight)
            peft_layer.lora_B["default"].weight.copy_(ours.get_submodule(t).B.weight)
            torch.testing.assert_close(peft_layer.get_delta_weight("default"),
                                       ours.get_submodule(t).delta_weight())
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-6, rtol=1e-6)
    trainable, total = theirs.get_nb_trainable_parameters()
    c = count_parameters(ours)
    assert (c.trainable, c.total) == (trainable, total)
    merged_theirs = theirs.merge_and_unload()
    torch.testing.assert_close(merged_copy(ours)(x), merged_theirs(x), atol=1e-6, rtol=1e-6)
