"""LoRA's variants against PEFT itself: each test builds the PEFT model on a copy of the same base, puts the
same numbers into both, and compares outputs, counts, merges, initial factors, optimizer groups and steps."""
import copy
import json

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from lora_demo.config import LoRAConfig
from lora_demo.methods import METHODS, count_parameters, trainable_parameters
from lora_demo.methods.dora import DoRA, row_norms
from lora_demo.methods.lora import adapter_strength, lora_layers
from lora_demo.methods.svd_init import DecomposedLoRA, rank_limit, to_plain_lora
from lora_demo.model import BaseModel

peft = pytest.importorskip("peft")
from peft.optimizers import create_loraplus_optimizer  # noqa: E402

TOL = dict(atol=1e-5, rtol=0)
TARGETS = ("fc1", "fc2", "fc3")
PEFT_OPTIONS = {"lora": {}, "rslora": {}, "dora": {"use_dora": True},
                "pissa": {"init_lora_weights": "pissa"}, "olora": {"init_lora_weights": "olora"}, "loraplus": {}}
VARIANTS = tuple(PEFT_OPTIONS)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second intra-op thread only adds waiting on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_base(seed=0):
    return BaseModel(2, 16, 3, hidden_layers=2, generator=torch.Generator().manual_seed(seed))


def inputs(n=40, seed=5):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


def peft_twin(base, key, lora):
    """PEFT's model for the variant, on its own copy of base."""
    use_rslora = lora.use_rslora or key == "rslora"
    cfg = peft.LoraConfig(r=lora.rank, lora_alpha=lora.alpha, target_modules=list(lora.target_modules),
                          lora_dropout=0.0, use_rslora=use_rslora, **PEFT_OPTIONS[key])
    return peft.get_peft_model(copy.deepcopy(base), cfg)


def peft_layer(theirs, name):
    return theirs.base_model.model.get_submodule(name)


@torch.no_grad()
def move_off_start(model, seed=1):
    """Change every trainable tensor, as training would, so that no comparison rests on B = 0."""
    g = torch.Generator().manual_seed(seed)
    for p in trainable_parameters(model):
        p.add_(0.3 * torch.randn(p.shape, generator=g))


@torch.no_grad()
def copy_into_peft(ours, theirs):
    for name, m in lora_layers(ours).items():
        layer = peft_layer(theirs, name)
        layer.lora_A["default"].weight.copy_(m.A.weight)
        layer.lora_B["default"].weight.copy_(m.B.weight)
        if isinstance(m, DoRA):
            layer.lora_magnitude_vector["default"].weight.copy_(m.magnitude)


def peft_name(ours_name: str) -> str:
    """fc2.A.weight -> base_model.model.fc2.lora_A.default.weight; fc2.magnitude -> …lora_magnitude_vector…"""
    layer, rest = ours_name.split(".", 1)
    part = {"A.weight": "lora_A.default.weight", "B.weight": "lora_B.default.weight",
            "magnitude": "lora_magnitude_vector.default.weight"}[rest]
    return f"base_model.model.{layer}.{part}"


@pytest.mark.parametrize("key", VARIANTS)
def test_variant_agrees_with_peft(key):
    """Same numbers in ours and PEFT's: step-0 output, scaling, counts, forward, adapter off and merge."""
    base, x = make_base(), inputs()
    lora = LoRAConfig(rank=2, alpha=6, target_modules=TARGETS)
    method = METHODS[key]
    ours, theirs = method.attach(base, lora, torch.Generator().manual_seed(3)), peft_twin(base, key, lora)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), base(x), atol=1e-6, rtol=0)  # every variant starts as the base
        torch.testing.assert_close(ours(x), theirs(x), **TOL)
    for name, m in lora_layers(ours).items():
        layer = peft_layer(theirs, name)
        assert m.scaling == pytest.approx(layer.scaling["default"])
        torch.testing.assert_close(m.original_layer.weight, layer.base_layer.weight, **TOL)  # W, or W_res
    trainable, total = theirs.get_nb_trainable_parameters()
    assert (count_parameters(ours).trainable, count_parameters(ours).total) == (trainable, total)
    assert method.trainable_count(base, lora) == trainable
    move_off_start(ours)
    copy_into_peft(ours, theirs)
    with torch.no_grad():
        out = ours(x)
        torch.testing.assert_close(out, theirs(x), **TOL)
        assert (out - base(x)).abs().max() > 1e-2  # the comparison is not between two copies of the base
        with adapter_strength(ours, 0.0), theirs.disable_adapter():
            torch.testing.assert_close(ours(x), theirs(x), **TOL)  # "adapter off" means the same in both
            if not method.changes_base:
                assert torch.equal(ours(x), base(x))
        merged = method.merged(ours)
        assert type(merged) is BaseModel
        torch.testing.assert_close(merged(x), out, **TOL)
        torch.testing.assert_close(merged(x), theirs.merge_and_unload()(x), **TOL)


def test_dora_magnitude_gradient_and_merge_follow_peft():
    base, x = make_base(), inputs()
    lora = LoRAConfig(rank=3, alpha=4, target_modules=("fc2", "fc3"))
    ours, theirs = METHODS["dora"].attach(base, lora), peft_twin(base, "dora", lora)
    for name in lora.target_modules:
        m, layer = ours.get_submodule(name), peft_layer(theirs, name)
        torch.testing.assert_close(m.magnitude, layer.lora_magnitude_vector["default"].weight, atol=1e-6, rtol=0)
        torch.testing.assert_close(m.magnitude, row_norms(base.get_submodule(name).weight), atol=1e-6, rtol=0)
    assert sorted(n for n, p in ours.named_parameters() if p.requires_grad) == [
        "fc2.A.weight", "fc2.B.weight", "fc2.magnitude", "fc3.A.weight", "fc3.B.weight", "fc3.magnitude"]
    move_off_start(ours)
    copy_into_peft(ours, theirs)
    # gradients: PEFT detaches the row norm, so gradients do not flow through it; ours must agree
    ours(x).pow(2).sum().backward()
    theirs(x).pow(2).sum().backward()
    named = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(p.grad, named[peft_name(n)].grad, atol=1e-5, rtol=1e-5)
    # merged weight: (m / ‖W + ΔW‖)·(W + ΔW) row by row, where get_delta_weight is plain s·B·A
    fc2 = ours.fc2
    torch.testing.assert_close(fc2.delta_weight(), peft_layer(theirs, "fc2").get_delta_weight("default"), **TOL)
    W0 = fc2.original_layer.weight.detach().clone()
    with torch.no_grad():
        before = ours(x)
        fc2.merge()
        torch.testing.assert_close(ours(x), before, **TOL)
        fc2.unmerge()
    torch.testing.assert_close(fc2.original_layer.weight, W0, atol=1e-6, rtol=0)
    theirs.merge_adapter()
    torch.testing.assert_close(fc2.merged_weight(), peft_layer(theirs, "fc2").base_layer.weight, **TOL)


@pytest.mark.parametrize("key", ["pissa", "olora"])
def test_decomposed_start_rewrites_a_copy_of_W_as_peft_does(key):
    base, lora = make_base(), LoRAConfig(rank=2, alpha=4, target_modules=TARGETS)
    W_before = {n: base.get_submodule(n).weight.detach().clone() for n in TARGETS}
    ours, theirs = METHODS[key].attach(base, lora), peft_twin(base, key, lora)
    assert METHODS[key].changes_base and METHODS[key].mergeable
    for name in TARGETS:
        m, layer = ours.get_submodule(name), peft_layer(theirs, name)
        A, B = layer.lora_A["default"].weight, layer.lora_B["default"].weight
        torch.testing.assert_close(m.A.weight.abs(), A.abs(), atol=1e-6, rtol=0)  # SVD/QR vectors: up to sign
        torch.testing.assert_close(m.B.weight @ m.A.weight, B @ A, atol=1e-6, rtol=0)
        torch.testing.assert_close(m.original_layer.weight, layer.base_layer.weight, atol=1e-6, rtol=0)
        # W_res + s·B·A is the original W, and the caller's base still holds W
        torch.testing.assert_close(m.original_layer.weight + m.delta_weight(), W_before[name], atol=1e-6, rtol=0)
        assert torch.equal(base.get_submodule(name).weight, W_before[name])
        assert (m.original_layer.weight - W_before[name]).abs().max() > 1e-3
    if key == "pissa":  # s·B·A is W's best rank-r approximation
        U, S, Vh = torch.linalg.svd(W_before["fc2"], full_matrices=False)
        torch.testing.assert_close(ours.fc2.delta_weight(), U[:, :2] @ torch.diag(S[:2]) @ Vh[:2], atol=1e-5, rtol=0)


@pytest.mark.parametrize("key", ["pissa", "olora"])
@pytest.mark.parametrize("rslora", [False, True])
def test_rank_beyond_min_side_is_truncated_as_in_peft(key, rslora):
    """r = 4 on fc1 (2 → 16) and fc3 (16 → 3): PEFT keeps 2 and 3 directions and scales by α/r with r = 4."""
    base, x = make_base(), inputs()
    lora = LoRAConfig(rank=4, alpha=6, use_rslora=rslora, target_modules=TARGETS)
    ours, theirs = METHODS[key].attach(base, lora), peft_twin(base, key, lora)
    for name, kept in (("fc1", 2), ("fc2", 4), ("fc3", 3)):
        m, layer = ours.get_submodule(name), peft_layer(theirs, name)
        assert m.A.weight.shape == layer.lora_A["default"].weight.shape == (kept, m.in_features)
        assert m.B.weight.shape == layer.lora_B["default"].weight.shape == (m.out_features, kept)
        assert m.kept_rank == kept and m.rank == 4
        assert m.scaling == pytest.approx(layer.scaling["default"]) == pytest.approx(6 / (2 if rslora else 4))
    assert count_parameters(ours).trainable == theirs.get_nb_trainable_parameters()[0] == 2 * 18 + 4 * 32 + 3 * 19
    assert METHODS[key].trainable_count(base, lora) == 2 * 18 + 4 * 32 + 3 * 19
    move_off_start(ours)
    copy_into_peft(ours, theirs)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), **TOL)
        torch.testing.assert_close(METHODS[key].merged(ours)(x), theirs.merge_and_unload()(x), **TOL)
    limits = rank_limit(base, lora)
    assert [(r.layer, r.max_rank) for r in limits] == [("fc1", 2), ("fc3", 3)]
    assert "at most 2 directions" in limits[0].sentence() and "α/4" in limits[0].sentence()
    assert rank_limit(base, LoRAConfig(rank=2, target_modules=TARGETS)) == ()


@pytest.mark.parametrize("dora", [False, True])
def test_loraplus_groups_and_adam_steps_match_create_loraplus_optimizer(dora):
    base, lr = make_base(), 0.01
    lora = LoRAConfig(rank=2, alpha=4, target_modules=TARGETS)
    ours = METHODS["dora" if dora else "loraplus"].attach(base, lora)
    theirs = peft_twin(base, "dora" if dora else "loraplus", lora)
    move_off_start(ours)
    copy_into_peft(ours, theirs)
    groups = METHODS["loraplus"].param_groups(ours, lr)
    theirs_opt = create_loraplus_optimizer(model=theirs, optimizer_cls=torch.optim.Adam, lr=lr, loraplus_lr_ratio=16)
    names = {id(p): n for n, p in ours.named_parameters()}
    peft_names = {id(p): n for n, p in theirs.named_parameters()}
    ours_lr = {peft_name(names[id(p)]): g["lr"] for g in groups for p in g["params"]}
    theirs_lr = {peft_names[id(p)]: g["lr"] for g in theirs_opt.param_groups for p in g["params"]}
    assert ours_lr == theirs_lr
    assert sorted(set(ours_lr.values())) == [lr, 16 * lr]
    assert all(v == 16 * lr for n, v in ours_lr.items() if "lora_B" in n or "magnitude" in n)
    # three Adam steps each on the same loss give the same weights
    opt = torch.optim.Adam(groups, lr=lr)
    x, y = inputs(64), torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(2))
    for model, o in ((ours, opt), (theirs, theirs_opt)):
        for _ in range(3):
            o.zero_grad()
            F.cross_entropy(model(x), y).backward()
            o.step()
    theirs_params = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(p, theirs_params[peft_name(n)], atol=1e-6, rtol=0)


def train_briefly(model, steps=15, lr=0.02):
    opt = torch.optim.Adam(trainable_parameters(model), lr=lr)
    x, y = inputs(64, seed=7), torch.randint(0, 3, (64,), generator=torch.Generator().manual_seed(8))
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("key,rslora", [("pissa", False), ("olora", False), ("pissa", True)])
def test_conversion_to_plain_lora_equals_peft(key, rslora, tmp_path):
    """to_plain_lora == save_pretrained(path_initial_model_for_weight_conversion=…), and the converted adapter
    on the original base computes what the trained model computes."""
    base, x = make_base(), inputs()
    lora = LoRAConfig(rank=2, alpha=6, use_rslora=rslora, target_modules=("fc2", "fc3"))
    ours, theirs = METHODS[key].attach(base, lora), peft_twin(base, key, lora)
    theirs.peft_config["default"].init_lora_weights = True  # PEFT's recipe: save the start as a plain adapter
    theirs.save_pretrained(tmp_path / "init")
    theirs.peft_config["default"].init_lora_weights = key
    train_briefly(ours)
    copy_into_peft(ours, theirs)
    with pytest.warns(UserWarning):  # PEFT warns that PiSSA/OLoRA change the base
        theirs.save_pretrained(tmp_path / "converted", path_initial_model_for_weight_conversion=str(tmp_path / "init"))
    saved = load_file(tmp_path / "converted" / "adapter_model.safetensors")
    config = json.loads((tmp_path / "converted" / "adapter_config.json").read_text())
    plain = to_plain_lora(ours)
    assert set(plain.tensors) == set(saved)
    for k, v in saved.items():
        torch.testing.assert_close(plain.tensors[k], v, atol=1e-6, rtol=0)
    assert (plain.r, plain.use_rslora) == (config["r"], config["use_rslora"]) == (4, rslora)
    assert plain.lora_alpha == pytest.approx(config["lora_alpha"])
    loaded = peft.PeftModel.from_pretrained(copy.deepcopy(base), tmp_path / "converted")
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), ours(x), **TOL)


def test_conversion_after_a_rank_limit_keeps_the_scaling():
    """PEFT's converter fails when a layer kept fewer than r directions; ours writes per-layer ranks instead."""
    base, x = make_base(), inputs()
    lora = LoRAConfig(rank=4, alpha=6, target_modules=TARGETS)
    ours = METHODS["pissa"].attach(base, lora)
    train_briefly(ours)
    plain = to_plain_lora(ours)
    assert plain.rank_pattern == {"^fc1": 4, "^fc3": 6} and plain.r == 8
    loaded = peft.get_peft_model(copy.deepcopy(base), peft.LoraConfig(**plain.config_kwargs()))
    peft.set_peft_model_state_dict(loaded, plain.tensors)
    for name, m in lora_layers(ours).items():
        assert peft_layer(loaded, name).scaling["default"] == pytest.approx(m.scaling)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), ours(x), **TOL)
    with pytest.raises(ValueError):
        to_plain_lora(METHODS["lora"].attach(base, lora))
    assert all(isinstance(m, DecomposedLoRA) for m in lora_layers(ours).values())
