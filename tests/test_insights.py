"""Insights: baselines, batched rank sweep, ΔW inspector, merge lab, α explorer and memory, checked
against engine.run, against LoRA runs trained one at a time with add_lora, and against plain torch."""
import copy
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lora_demo.config import DataConfig, LoRAConfig, ModelConfig, RunConfig, TrainConfig
from lora_demo.data import grid
from lora_demo.export import model_from_state
from lora_demo.insights.alpha import ALPHA_SETTINGS, explore_alpha
from lora_demo.insights.baselines import compare, matched_adapter
from lora_demo.insights.batched import batched_forward
from lora_demo.insights.common import frozen_base, panel_targets, train_method
from lora_demo.insights.delta import effective_rank, inspect_delta, singular_values
from lora_demo.insights.memory import compare_memory, measure_memory
from lora_demo.insights.merge import merge_lab, strength_probs
from lora_demo.insights.sweep import sweep_ranks, sweep_ranks_for
from lora_demo.methods import count_parameters
from lora_demo.methods.adapter import Adapter, add_adapter
from lora_demo.methods.lora import LoRA, add_lora, lora_parameters, merged_copy
from lora_demo.engine import train

LR = 0.02
CFG = RunConfig(data=DataConfig(n_samples=120), model=ModelConfig(hidden_size=16),
                lora=LoRAConfig(rank=2, alpha=4, target_modules=("fc2",)),
                train=TrainConfig(pretrain_steps=60, adapt_steps=30, lr=LR))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: a second intra-op thread only adds waiting (20× slower on a busy 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fb():
    return frozen_base(CFG, grid_size=8)


def variant(fb, lora=None, **train):
    """The same frozen base with other LoRA or training settings."""
    cfg = dataclasses.replace(fb.cfg, lora=dataclasses.replace(fb.cfg.lora, **(lora or {})),
                              train=dataclasses.replace(fb.cfg.train, **train))
    return dataclasses.replace(fb, cfg=cfg)


def standalone_lora(fb, targets, rank, alpha, steps, use_rslora=False, init="peft"):
    """The reference: add_lora + a plain Adam loop, one rank at a time, as engine.run does it."""
    model = add_lora(copy.deepcopy(fb.base), targets, rank, alpha, use_rslora, init, fb.generator())
    opt = torch.optim.Adam(lora_parameters(model), lr=LR)
    X, y = torch.from_numpy(fb.target.X_train), torch.from_numpy(fb.target.y_train)
    curve = []
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        curve.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = F.cross_entropy(model(X), y).item()
    return np.array(curve), final, accuracy_on_test(model, fb.target)


@torch.no_grad()
def accuracy_on_test(model, task) -> float:
    logits = model(torch.from_numpy(task.X_test))
    return (logits.argmax(1) == torch.from_numpy(task.y_test)).float().mean().item()


RUN = dataclasses.replace(CFG, lora=LoRAConfig(rank=3, alpha=6, target_modules=("fc1", "fc2"), init="seed"))


@pytest.fixture(scope="module")
def finished_run():
    return train(RUN, grid_size=10)


def test_frozen_base_and_sweep_reproduce_train_run(finished_run):
    last = finished_run
    fb = frozen_base(RUN, grid_size=10)
    with torch.no_grad():
        probs = torch.softmax(fb.base(torch.tensor(fb.points)), 1).numpy().reshape(10, 10, -1)
    assert np.array_equal(probs, last.base_probs)  # the same base, bit for bit
    sweep = sweep_ranks(fb, targets=RUN.lora.target_modules, ranks=[1, 3, 8])
    three = next(p for p in sweep.points if p.rank == 3)
    assert three.accuracy == last.result.accuracy["lora_target"]
    assert abs(three.final_train_loss - last.result.final_loss["adapt_train"]) < 1e-5
    np.testing.assert_allclose(three.loss_curve, last.curves["adapt/train"][1][:-1], atol=1e-5, rtol=0)
    # the panels' "lora" is the Train tab's adapter, to the bit
    _, res = train_method(fb, "lora")
    assert res.accuracy == last.result.accuracy["lora_target"]
    np.testing.assert_array_equal(res.loss_curve, last.curves["adapt/train"][1][:-1])


def test_model_rebuilt_from_a_finished_run(finished_run):
    last = finished_run
    lora = model_from_state(last.model_state, RUN.lora)
    pts = grid(last.window, 10)[1]
    assert np.array_equal(strength_probs(lora, pts, 0.0), last.base_probs)
    assert np.array_equal(strength_probs(lora, pts, 1.0), last.lora_probs)
    assert sorted(n for n, p in lora.named_parameters() if p.requires_grad) == [
        "fc1.A.weight", "fc1.B.weight", "fc2.A.weight", "fc2.B.weight"]


@pytest.mark.parametrize("layer,m", [("fc1", 4), ("fc2", 3), ("fc3", 5)])
def test_adapter_starts_as_a_no_op_and_counts_2dm_plus_d_plus_m(fb, layer, m):
    base = fb.base
    model = add_adapter(copy.deepcopy(base), layer, m, fb.generator())
    x = torch.randn(40, 2)
    assert torch.equal(model(x), base(x))
    d = base.get_submodule(layer).out_features
    c = count_parameters(model)
    assert c.trainable == 2 * d * m + d + m
    assert c.total == count_parameters(base).total + 2 * d * m + d + m
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == [f"{layer}.1.{n}" for n in ("down.bias", "down.weight", "up.bias", "up.weight")]
    # the formula, written out: h + up(relu(down(h))) on the layer's output h
    adapter = model.get_submodule(layer)[1]
    assert isinstance(adapter, Adapter) and adapter.down.out_features == m
    nn.init.normal_(adapter.up.weight, generator=torch.Generator().manual_seed(3))
    h = base.get_submodule(layer)(torch.randn(7, base.get_submodule(layer).in_features))
    down, up = adapter.down, adapter.up
    by_hand = h + torch.relu(h @ down.weight.T + down.bias) @ up.weight.T + up.bias
    torch.testing.assert_close(adapter(h), by_hand)


def test_batched_lora_starts_as_the_base_bit_for_bit(fb):
    base = fb.base
    x = torch.from_numpy(fb.target.X_train)
    for targets in (["fc1"], ["fc2"], ["fc1", "fc3"]):
        adapters = {n: (torch.randn(3, 4, base.get_submodule(n).in_features),
                        torch.zeros(3, base.get_submodule(n).out_features, 4)) for n in targets}
        out = batched_forward(base, x, adapters, torch.tensor([1.0, 2.0, 0.5]).view(3, 1, 1))
        assert all(torch.equal(out[k], base(x)) for k in range(3))


def plain_state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_full_finetune_matches_a_plain_adam_loop(fb):
    base = fb.base
    before = plain_state(base)
    _, res = train_method(fb, "full_finetune", steps=25, with_probs=True)
    ref = copy.deepcopy(base).requires_grad_(True)
    opt = torch.optim.Adam(ref.parameters(), lr=LR)
    X, y = torch.from_numpy(fb.target.X_train), torch.from_numpy(fb.target.y_train)
    for _ in range(25):
        opt.zero_grad()
        F.cross_entropy(ref(X), y).backward()
        opt.step()
    for name in ("fc1", "fc2", "fc3"):
        expected = (getattr(ref, name).weight - getattr(base, name).weight).detach().numpy()
        np.testing.assert_allclose(res.delta_weights[name], expected, atol=1e-6, rtol=0)
    total = count_parameters(base).total
    assert res.params.trainable == res.params.total == total
    assert res.accuracy == accuracy_on_test(ref, fb.target)
    assert res.loss_curve.shape == (25,) and res.final_train_loss < res.loss_curve[0]
    assert res.probs.shape == (8, 8, 2) and res.probs.dtype == np.float32
    np.testing.assert_allclose(res.probs.sum(-1), 1, atol=1e-6)
    assert all(torch.equal(v, before[k]) for k, v in base.state_dict().items())  # base untouched
    assert not any(p.requires_grad for p in base.parameters())


def test_adapter_and_lora_baselines(fb):
    before = plain_state(fb.base)
    _, ada = train_method(fb, "adapter", LoRAConfig(rank=4, target_modules=("fc2",)))
    d, m = 16, 4
    assert ada.params.trainable == 2 * d * m + d + m
    assert ada.params.total == count_parameters(fb.base).total + ada.params.trainable
    assert ada.final_train_loss < ada.loss_curve[0] and ada.delta_weights == {}
    _, lo = train_method(fb, "lora", LoRAConfig(rank=2, alpha=4.0, target_modules=("fc1",)))
    assert lo.params.trainable == 2 * (2 + 16) and lo.final_train_loss < lo.loss_curve[0]
    assert set(lo.delta_weights) == {"fc1"} and lo.delta_weights["fc1"].shape == (16, 2)
    assert all(torch.equal(v, before[k]) for k, v in fb.base.state_dict().items())


def test_methods_panel_matches_budgets_and_sweeps_the_learning_rate(fb):
    b = compare(fb, lr_factors=(0.5, 1.0))
    lora_budget = 2 * (16 + 16)
    # the Adapter's width is the one whose count comes closest to LoRA's (2·16·m + 16 + m)
    m = matched_adapter(fb)
    counts = {k: 2 * 16 * k + 16 + k for k in (1, 2, 3)}
    assert m == min(counts, key=lambda k: abs(counts[k] - lora_budget))
    assert b.at_run_lr["adapter"].params.trainable == counts[m]
    assert [r.lr for r in b.by_lr["lora"]] == [LR / 2, LR]
    for key in ("full_finetune", "adapter", "lora"):
        assert b.at_run_lr[key].accuracy == b.by_lr[key][1].accuracy
        assert b.at_run_lr[key].probs is not None and b.by_lr[key][0].probs is None
        assert b.best_lr(key) in (LR / 2, LR)
    # the run's lora at the run's rate is the Train tab's
    _, alone = train_method(fb, "lora")
    assert alone.accuracy == b.at_run_lr["lora"].accuracy


def test_results_are_frozen_numbers_and_read_only_arrays(fb):
    _, res = train_method(variant(fb, adapt_steps=10), "adapter", with_probs=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.accuracy = 1.0
    for arr in (res.loss_curve, res.probs):
        with pytest.raises(ValueError):
            arr[0] = 1
    sweep = sweep_ranks(variant(fb, adapt_steps=10))
    with pytest.raises(ValueError):
        sweep.points[0].loss_curve[0] = 1
    for obj in (res, sweep, *sweep.points):
        assert not any(torch.is_tensor(getattr(obj, f.name)) for f in dataclasses.fields(obj))


@pytest.mark.parametrize("targets,ranks,init,rslora", [
    (("fc2",), None, "peft", False),                 # ranks 1, 2, 4, 8, 16: the max useful rank
    (("fc1", "fc3"), [1, 3, 4], "gaussian", True),   # two layers: A's drawn in add_lora's order
    (("fc3",), [2, 1], "seed", False),
])
def test_sweep_equals_each_rank_trained_alone(fb, targets, ranks, init, rslora):
    steps, alpha = 30, 6.0
    v = variant(fb, dict(alpha=alpha, init=init, use_rslora=rslora), adapt_steps=steps)
    sweep = sweep_ranks(v, targets=targets, ranks=ranks)
    expected_ranks = sorted(ranks) if ranks else [1, 2, 4, 8, 16]
    assert [p.rank for p in sweep.points] == expected_ranks
    for p in sweep.points:
        curve, final, acc = standalone_lora(fb, targets, p.rank, alpha, steps, rslora, init)
        assert p.accuracy == acc, p.rank
        assert abs(p.final_train_loss - final) < 1e-4
        np.testing.assert_allclose(p.loss_curve, curve, atol=1e-4, rtol=0)
        shapes = [(fb.base.get_submodule(t).in_features, fb.base.get_submodule(t).out_features) for t in targets]
        assert p.trainable == sum(p.rank * (i + o) for i, o in shapes)
        assert p.scaling == LoRA(nn.Linear(2, 2), p.rank, alpha, rslora).scaling


@pytest.mark.parametrize("targets", [("fc2",), ("fc1", "fc2"), ("fc1", "fc3"), ("fc3",), ("fc1", "fc2", "fc3")])
def test_the_batched_gradients_by_hand_are_autograds(fb, targets, monkeypatch):
    """train_batched steps with gradients written out by hand; the same loop on autograd's gradients (the loss
    through batched_forward and backward()) must give the same curves and results, bit for bit."""
    from lora_demo.insights import batched

    def through_autograd(base, X, y, adapters, scaling, record):
        def loss():
            losses = batched.batched_losses(batched_forward(base, X, adapters, scaling), y)
            record.append(losses.detach())
            return losses.sum()
        return loss

    args = (fb.base, fb.target, targets, [1, 3, 8], [4.0, 1.5, 0.5], "peft", 40, 0.05)
    by_hand = batched.train_batched(*args, fb.generator())
    monkeypatch.setattr(batched, "batched_loss_by_hand", through_autograd)
    reference = batched.train_batched(*args, fb.generator())
    for field in ("curves", "train_loss", "test_loss", "accuracy"):
        assert np.array_equal(getattr(by_hand, field), getattr(reference, field)), field


def test_sweep_limits(fb):
    sweep = sweep_ranks(variant(fb, adapt_steps=10), targets=["fc1", "fc2"])
    assert sweep.layers["fc1"].max_useful_rank == 2 and sweep.layers["fc2"].max_useful_rank == 16
    assert sweep.layers["fc1"].break_even_rank == pytest.approx(32 / 18)
    assert sweep.layers["fc2"].break_even_rank == 8
    # together: where r · Σ (d_in + d_out) reaches Σ d_in · d_out
    assert sweep.break_even_rank == pytest.approx((32 + 256) / (18 + 32))
    assert sweep.max_useful_rank == 16 and [p.rank for p in sweep.points] == [1, 2, 4, 8, 16]
    assert sweep.base_params == count_parameters(fb.base).total
    assert sweep_ranks_for(64) == [1, 2, 4, 8, 16, 32, 64]
    assert sweep_ranks_for(128) == [1, 2, 4, 8, 16, 32, 64]  # capped
    assert sweep_ranks_for(48) == [1, 2, 4, 8, 16, 32, 48]
    assert sweep_ranks_for(2) == [1, 2] and sweep_ranks_for(1) == [1]


def test_panels_avoid_a_layer_whose_rank_is_capped(fb):
    assert panel_targets(fb) == (("fc2",), None)
    assert panel_targets(variant(fb, dict(target_modules=("fc1",)))) == (("fc2",), "replaced")
    assert panel_targets(variant(fb, dict(target_modules=("fc1", "fc2")))) == (("fc2",), "dropped")
    one_hidden = dataclasses.replace(fb, cfg=dataclasses.replace(
        fb.cfg, model=ModelConfig(hidden_size=16, hidden_layers=1), lora=LoRAConfig(target_modules=("fc1",))))
    assert panel_targets(one_hidden) == (("fc1",), "capped")  # 2 → 16 → 2 has no uncapped layer
    assert sweep_ranks(variant(fb, dict(target_modules=("fc1",)), adapt_steps=10)).targets == ("fc2",)


def test_alpha_explorer(fb):
    ex = explore_alpha(variant(fb, adapt_steps=20), ranks=(1, 4, 16), alpha=8.0, lr=LR)
    runs = ex.runs
    assert ex.targets == ("fc2",) and ex.note is None
    assert len(runs) == 9 and {r.setting for r in runs} == set(ALPHA_SETTINGS)
    for r in runs:
        lora_alpha = 8.0 if r.setting != "alpha_equals_rank" else r.rank
        reference = LoRA(nn.Linear(16, 16), r.rank, lora_alpha, use_rslora=r.setting == "rslora")
        assert r.scaling == reference.scaling and r.alpha == lora_alpha
    assert {r.scaling for r in runs if r.setting == "alpha_equals_rank"} == {1.0}
    assert [r.scaling for r in runs if r.setting == "rslora"] == [8.0, 4.0, 2.0]
    # B = 0 at the start, so every setting starts at the base's loss
    assert len({r.loss_curve[0] for r in runs}) == 1
    rs4 = next(r for r in runs if r.rank == 4 and r.setting == "rslora")
    curve, final, acc = standalone_lora(fb, ["fc2"], 4, 8.0, 20, use_rslora=True)
    np.testing.assert_allclose(rs4.loss_curve, curve, atol=1e-4, rtol=0)
    assert rs4.accuracy == acc
    assert rs4.loss_at(10) == rs4.loss_curve[10] and rs4.loss_at(10_000) == rs4.loss_curve[-1]


@pytest.fixture(scope="module")
def trained(fb):
    v = variant(fb, dict(rank=2, alpha=4.0, target_modules=("fc1", "fc2")), adapt_steps=40)
    model, _ = train_method(v, "lora")
    _, full = train_method(v, "full_finetune")
    return model, full


def test_delta_inspector(trained):
    model, full = trained
    report = inspect_delta(model, full.delta_weights)
    assert set(report) == {"fc1", "fc2"}
    for name, ins in report.items():
        m = model.get_submodule(name)
        assert ins.A.shape == (2, m.in_features) and ins.B.shape == (m.out_features, 2)
        np.testing.assert_allclose(ins.delta_weight, ins.scaling * ins.B @ ins.A, atol=1e-6)
        assert torch.linalg.matrix_rank(torch.from_numpy(np.array(ins.delta_weight))) <= 2
        np.testing.assert_allclose(ins.singular_values, torch.linalg.svdvals(torch.from_numpy(
            np.array(ins.delta_weight, dtype=np.float64))).numpy(), rtol=1e-10, atol=1e-12)
        assert 1 <= ins.effective_rank <= 2
        np.testing.assert_allclose(ins.full_singular_values, torch.linalg.svdvals(torch.from_numpy(
            np.array(full.delta_weights[name], dtype=np.float64))).numpy(), rtol=1e-10, atol=1e-12)
        assert 1 <= ins.full_effective_rank <= min(m.in_features, m.out_features)
        # the random reference has full FT's size (Frobenius norm) and shape, and no structure
        assert ins.random_singular_values.shape == ins.full_singular_values.shape
        np.testing.assert_allclose((ins.random_singular_values ** 2).sum(), (ins.full_singular_values ** 2).sum(),
                                   rtol=1e-6)
    assert report["fc2"].random_effective_rank > report["fc1"].random_effective_rank
    assert inspect_delta(model)["fc2"].full_singular_values is None


def test_effective_rank_of_a_known_spectrum():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    V, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    s = np.array([4.0, 2.0, 1.0, 0.5, 0.0])  # energies 16, 4, 1, 0.25, 0 of 21.25
    M = U[:, :5] @ np.diag(s) @ V.T
    np.testing.assert_allclose(singular_values(M), s, atol=1e-12)
    assert effective_rank(singular_values(M), 0.9) == 2   # 20 / 21.25 = 0.94
    assert effective_rank(singular_values(M), 0.95) == 3  # 21 / 21.25 = 0.988
    assert effective_rank(singular_values(M), 0.7) == 1   # 16 / 21.25 = 0.75
    assert effective_rank(s, 1.0) == 4                    # the zero adds no energy
    assert effective_rank([3.0, 1.0], 0.9) == 1           # exactly 90%: counts
    assert effective_rank(np.zeros(3)) == 0


def test_merge_lab(trained, fb):
    model, _ = trained
    x = torch.from_numpy(fb.target.X_test)
    with torch.no_grad():
        unmerged = model(x)
        f32 = (merged_copy(model)(x) - unmerged).abs().max().item()
        low = merged_copy(copy.deepcopy(model).to(torch.bfloat16))  # merged in bfloat16
        bf16 = (low(x.bfloat16()).float() - unmerged).abs().max().item()
    rep = merge_lab(model, fb.target.X_test, base=fb.base, repeats=3)
    assert rep.max_abs_diff_float32 == f32 and f32 < 1e-5
    assert rep.max_abs_diff_bfloat16 == bf16 and bf16 > 100 * max(f32, 1e-7)
    assert rep.max_abs_diff_bfloat16_unmerged > 0
    assert min(rep.seconds_merged, rep.seconds_unmerged, rep.seconds_base) > 0 and rep.repeats == 3
    assert all(not m.merged for m in model.modules() if isinstance(m, LoRA))
    assert torch.equal(model(x), unmerged)  # the model itself was not merged


def test_strength(trained, fb):
    model, _ = trained
    pts = grid(3.0, 6)[1]
    with torch.no_grad():
        p_base = torch.softmax(fb.base(torch.from_numpy(pts)), 1).reshape(6, 6, -1)
        p_merged = torch.softmax(merged_copy(model)(torch.from_numpy(pts)), 1).reshape(6, 6, -1)
    assert torch.equal(torch.from_numpy(np.array(strength_probs(model, pts, 0.0))), p_base)
    full = strength_probs(model, pts, 1.0)
    torch.testing.assert_close(torch.from_numpy(np.array(full)), p_merged, atol=1e-5, rtol=0)
    half = strength_probs(model, pts, 0.5)
    assert not np.allclose(half, full) and not np.allclose(half, p_base.numpy())
    assert all(m.strength == 1.0 for m in model.modules() if isinstance(m, LoRA))


def adam_state_bytes(opt):
    tensors = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    return sum(t.numel() * t.element_size() for t in tensors)


def test_memory_is_what_the_tensors_hold(fb):
    v = variant(fb, dict(rank=2, alpha=4.0, target_modules=("fc1", "fc2")))
    rep = compare_memory(v)
    X, y = torch.from_numpy(fb.target.X_train), torch.from_numpy(fb.target.y_train)
    # the reference: the same two set-ups built here, one Adam step, bytes read off opt.state
    full = copy.deepcopy(fb.base).requires_grad_(True)
    lora = add_lora(copy.deepcopy(fb.base), ["fc1", "fc2"], 2, 4.0, generator=fb.generator())
    for model, params, got in ((full, list(full.parameters()), rep.full_finetune),
                               (lora, lora_parameters(lora), rep.lora)):
        opt = torch.optim.Adam(params, lr=LR)
        F.cross_entropy(model(X), y).backward()
        opt.step()
        assert got.optimizer_state == adam_state_bytes(opt)
        assert got.gradients == sum(p.grad.numel() * p.grad.element_size() for p in params)
        assert got.weights == sum(p.numel() * p.element_size() for p in model.parameters())
    n_base, n_lora = count_parameters(fb.base).total, 2 * (2 + 16) + 2 * (16 + 16)
    assert rep.full_finetune.gradients == 4 * n_base and rep.lora.gradients == 4 * n_lora
    assert rep.lora.weights == 4 * (n_base + n_lora)
    assert rep.full_finetune.optimizer_state >= 8 * n_base  # exp_avg and exp_avg_sq, plus step counters
    assert rep.lora.total < rep.full_finetune.total
    # before any step Adam holds nothing: its state is created lazily
    fresh = torch.optim.Adam(lora_parameters(lora), lr=LR)
    assert measure_memory(lora, fresh).optimizer_state == 0
