"""backprop: the hand-written backward pass against its oracle, loss.backward(), bit for bit; and the networks it
must leave to autograd."""
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from lora_demo import backprop, engine, fit
from lora_demo.config import DataConfig, LoRAConfig, ModelConfig, RunConfig, ShiftConfig, TrainConfig
from lora_demo.data import make_tasks
from lora_demo.methods import METHODS
from lora_demo.methods.lora import add_lora, adapter_strength, lora_layers
from lora_demo.model import BaseModel


def data(seed=0, n=90, classes=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g), torch.randint(0, classes, (n,), generator=g)


def network(layers=2, width=16, classes=3, lora=None, rank=2, rslora=False, init="peft", freeze=(), seed=0):
    g = torch.Generator().manual_seed(seed)
    model = BaseModel(2, width, classes, layers, generator=g)
    if lora:
        add_lora(model, lora, rank=rank, alpha=8, use_rslora=rslora, init=init, generator=g)
        with torch.no_grad():  # B starts at zero; give it values so every gradient path carries numbers
            for m in lora_layers(model).values():
                m.B.weight.normal_(generator=g)
    for name in freeze:
        getattr(model, name).requires_grad_(False)
    return model


def autograd_grads(model, X, y):
    for p in model.parameters():
        p.grad = None
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def hand_grads(model, X, y):
    for p in model.parameters():
        p.grad = None
    loss_fn = backprop.hand_written(model, X, y)
    assert loss_fn is not None, "the hand-written pass should know this network"
    loss = loss_fn()
    return loss, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


CASES = {
    "pretraining, 1 hidden layer": dict(layers=1),
    "pretraining, 2 hidden layers": dict(layers=2),
    "pretraining, 3 hidden layers, 2 classes": dict(layers=3, classes=2),
    "fc1 frozen, the rest trains": dict(freeze=("fc1",)),
    "the middle layer frozen": dict(freeze=("fc2",)),
    "LoRA on fc2 (the default)": dict(lora=["fc2"]),
    "LoRA on fc1": dict(lora=["fc1"]),
    "LoRA on the output layer": dict(lora=["fc3"]),
    "LoRA on fc1 and fc3": dict(lora=["fc1", "fc3"], rank=1),
    "LoRA on every layer, rank 8, rsLoRA": dict(lora=["fc1", "fc2", "fc3"], rank=8, rslora=True),
    "LoRA, 3 hidden layers, gaussian A": dict(layers=3, lora=["fc2", "fc4"], init="gaussian"),
    "LoRA, 1 hidden layer, seed A": dict(layers=1, lora=["fc1", "fc2"], init="seed"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_gradients_are_autograds_bit_for_bit(case):
    model, (X, y) = network(**CASES[case]), data(classes=CASES[case].get("classes", 3))
    want_loss, want = autograd_grads(model, X, y)
    loss, got = hand_grads(model, X, y)
    assert torch.equal(loss, want_loss)
    assert got.keys() == want.keys() and got
    for name in want:
        assert torch.equal(got[name], want[name]), name


def test_a_scaled_adapter_is_backpropagated_at_its_strength():
    model, (X, y) = network(lora=["fc2"]), data()
    with adapter_strength(model, 0.35):
        want_loss, want = autograd_grads(model, X, y)
        loss, got = hand_grads(model, X, y)
    assert torch.equal(loss, want_loss) and all(torch.equal(got[n], want[n]) for n in want)


@pytest.mark.parametrize("case", ["pretraining, 2 hidden layers", "LoRA on every layer, rank 8, rsLoRA"])
def test_many_adam_steps_stay_identical(case):
    """The gradients feed Adam, whose updates feed the next step: 60 steps must not drift by one bit."""
    runs = []
    for by_hand in (False, True):
        model, (X, y) = network(**CASES[case]), data()
        loss_fn = (backprop.hand_written(model, X, y) if by_hand
                   else (lambda m=model, X=X, y=y: F.cross_entropy(m(X), y)))
        opt = fit.adam([p for p in model.parameters() if p.requires_grad], 0.05)
        curve = list(fit.train(loss_fn, opt, 60))
        runs.append((curve, [p.detach().clone() for p in model.parameters()]))
    (c0, p0), (c1, p1) = runs
    assert c0 == c1 and all(torch.equal(a, b) for a, b in zip(p0, p1))


def test_a_whole_run_gives_the_same_numbers_as_autograd(monkeypatch):
    """engine.train with and without the hand-written pass: every curve, accuracy, probability and weight."""
    cfg = RunConfig(data=DataConfig(n_samples=160, seed=3), shift=ShiftConfig(angle=60),
                    model=ModelConfig(hidden_size=24), lora=LoRAConfig(rank=3, target_modules=("fc1", "fc2")),
                    train=TrainConfig(pretrain_steps=80, adapt_steps=80))
    fast = engine.train(cfg)
    monkeypatch.setattr(backprop, "hand_written", lambda *a: None)
    slow = engine.train(cfg)
    assert replace(fast.result, seconds=0) == replace(slow.result, seconds=0)
    assert fast.model_state.keys() == slow.model_state.keys()
    assert all((fast.model_state[k] == slow.model_state[k]).all() for k in fast.model_state)
    for name in fast.curves:
        assert [list(map(float, v)) for v in fast.curves[name]] == [list(map(float, v)) for v in slow.curves[name]]
    assert (fast.lora_probs == slow.lora_probs).all() and (fast.base_probs == slow.base_probs).all()


def test_it_is_used_where_a_run_trains():
    """Both phases of a default run go through it (otherwise the speed it exists for is silently gone)."""
    cfg = RunConfig()
    source, target = make_tasks(cfg.data, cfg.shift)
    base = BaseModel(2, 64, 2, 2)
    assert getattr(backprop.task_loss(base, source), "sets_grads", False)
    lora = METHODS["lora"].attach(base.requires_grad_(False), cfg.lora, torch.Generator().manual_seed(0))
    assert getattr(backprop.task_loss(lora, target), "sets_grads", False)
    loraplus = METHODS["loraplus"].attach(base, cfg.lora, torch.Generator().manual_seed(0))
    assert getattr(backprop.task_loss(loraplus, target), "sets_grads", False)


@pytest.mark.parametrize("method", ["dora", "adapter"])
def test_networks_it_does_not_know_go_to_autograd(method):
    cfg = RunConfig()
    source, _ = make_tasks(cfg.data, cfg.shift)
    base = BaseModel(2, 64, 2, 2).requires_grad_(False)
    model = METHODS[method].attach(base, cfg.lora, torch.Generator().manual_seed(0))
    X, y = torch.from_numpy(source.X_train), torch.from_numpy(source.y_train)
    assert backprop.hand_written(model, X, y) is None
    assert not getattr(backprop.task_loss(model, source), "sets_grads", False)


def test_merged_hooked_or_untrainable_networks_go_to_autograd():
    X, y = data()
    merged = network(lora=["fc2"])
    lora_layers(merged)["fc2"].merge()
    hooked = network()
    hooked.fc2.register_forward_hook(lambda *a: None)
    frozen = network().requires_grad_(False)
    switched_off = network(lora=["fc2"])
    lora_layers(switched_off)["fc2"].strength = 0
    for model in (merged, hooked, frozen, switched_off):
        assert backprop.hand_written(model, X, y) is None


def test_the_fallback_trains_like_before():
    """A network left to autograd still trains through fit.steps (zero_grad + backward)."""
    cfg = replace(RunConfig(), train=TrainConfig(pretrain_steps=10, adapt_steps=10))
    source, target = make_tasks(cfg.data, cfg.shift)
    base = BaseModel(2, 64, 2, 2).requires_grad_(False)
    model = METHODS["dora"].attach(base, cfg.lora, torch.Generator().manual_seed(0))
    method = METHODS["dora"]
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    curve = fit.train(backprop.task_loss(model, target), fit.adam(method.param_groups(model, 0.03), 0.03), 10)
    after = [p.detach() for p in model.parameters() if p.requires_grad]
    assert curve[-1] < curve[0] and any(not torch.equal(a, b) for a, b in zip(before, after))


def test_a_frozen_layer_below_is_read_again_after_it_changes():
    """fc1's output under a LoRA on fc2 is computed once; a change to fc1 made in place must still be seen."""
    model, (X, y) = network(lora=["fc2"]), data()
    loss_fn = backprop.hand_written(model, X, y)
    loss_fn()
    with torch.no_grad():
        model.fc1.weight.mul_(1.5)
        model.fc1.bias.add_(0.1)
    for p in model.parameters():
        p.grad = None
    loss = loss_fn()
    got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    want_loss, want = autograd_grads(model, X, y)
    assert torch.equal(loss, want_loss) and got.keys() == want.keys()
    assert all(torch.equal(got[n], want[n]) for n in want)
