"""fit.Adam against its oracle, torch.optim.Adam(fused=True): the same parameters, bit for bit."""
import pytest
import torch
import torch.nn.functional as F

from lora_demo import fit
from lora_demo.methods.lora import add_lora, lora_layers
from lora_demo.model import BaseModel


def model_and_data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    model = BaseModel(2, 16, 3, 2, generator=g)
    X = torch.randn(64, 2, generator=g)
    y = torch.randint(0, 3, (64,), generator=g)
    return model, X, y


def trained(make_optimizer, steps: int = 25, seed: int = 0, lora: bool = False) -> list[torch.Tensor]:
    model, X, y = model_and_data(seed)
    if lora:
        add_lora(model, ["fc1", "fc3"], rank=2, alpha=8, generator=torch.Generator().manual_seed(seed))
        a_params = [m.A.weight for m in lora_layers(model).values()]
        b_params = [m.B.weight for m in lora_layers(model).values()]
        params = [{"params": a_params, "lr": 0.02}, {"params": b_params, "lr": 0.32}]  # LoRA+'s two groups
    else:
        params = list(model.parameters())
    opt = make_optimizer(params, 0.02)
    for _ in range(steps):
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def torch_fused(params, lr):
    return torch.optim.Adam(params, lr=lr, fused=True)


@pytest.mark.parametrize("lora", [False, True], ids=["every parameter", "LoRA+ groups"])
@pytest.mark.parametrize("seed", [0, 1])
def test_adam_equals_torch_fused_adam_bit_for_bit(lora, seed):
    ours = trained(fit.adam, seed=seed, lora=lora)
    theirs = trained(torch_fused, seed=seed, lora=lora)
    assert len(ours) == len(theirs)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    assert not all(torch.equal(a, b) for a, b in zip(ours, trained(fit.adam, steps=1, seed=seed, lora=lora)))


def test_adam_takes_the_fast_path_after_the_first_step():
    model, X, y = model_and_data()
    opt = fit.adam(list(model.parameters()), 0.02)
    calls = []
    original = opt.torch.step
    opt.torch.step = lambda: calls.append(1) or original()
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    assert len(calls) == 1  # only the first step went through torch's own step
    assert all(int(opt.state[p]["step"]) == 5 for p in model.parameters())


def test_a_parameter_without_gradient_is_left_alone_as_torch_does():
    def run(make_optimizer):
        model, X, y = model_and_data()
        opt = make_optimizer(list(model.parameters()), 0.02)
        for k in range(6):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(X), y).backward()
            if k >= 3:
                model.fc1.bias.grad = None  # as if fc1's bias took no part in these steps
            opt.step()
        return [p.detach().clone() for p in model.parameters()], int(opt.state[model.fc1.bias]["step"])

    (ours, our_steps), (theirs, their_steps) = run(fit.adam), run(torch_fused)
    assert our_steps == their_steps == 3
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
