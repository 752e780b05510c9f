"""Our LoRA training step against Hugging Face PEFT's, on the same model, data and thread.

For each case one BaseModel is built; one deep copy gets our adapter (lora_demo.lora.add_lora),
another PEFT's (peft.get_peft_model with LoraConfig(r, lora_alpha, target_modules,
lora_dropout=0.0)), and PEFT's A and B are set to ours so that both train the same numbers. A step
is what the app does in its adaptation phase: full batch forward, cross-entropy, backward, Adam
step on the adapter weights only. Our side computes its gradients as the app does
(lora_demo.backprop: by hand, bit for bit what autograd gives); PEFT's calls loss.backward(); both step
torch.optim.Adam. Blocks of --steps steps are timed alternately (ours first, then
PEFT first, ...) for --repeats rounds after a warm-up, with torch.set_num_threads(1). Each block
records wall time and this thread's CPU time; the result is the median per step of each and the
ratio ours / PEFT (target <= 1.0, judged on CPU time: on a shared 2-core machine the wall clock
also measures the neighbours, the thread's CPU time measures the code). The final losses of
both are compared to show that the two did the same work.

Cases: the app default (2 → 64 → 64 → 2, r = 2, α = 16 on fc2, the 280 training points of the
default task) and a bigger one (hidden 128, r = 8, α = 16 on fc1, fc2, fc3).

    python -m bench.peft_step [--repeats 21] [--steps 50] [--json]
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

from lora_demo.backprop import hand_written
from lora_demo.config import RunConfig
from lora_demo.data import make_tasks
from lora_demo.methods.lora import add_lora, lora_layers, lora_parameters
from lora_demo.model import BaseModel

TARGET = 1.0
CASES = {
    "app default: 2-64-64-2, r=2 on fc2": dict(hidden=64, rank=2, alpha=16.0, targets=("fc2",)),
    "bigger: 2-128-128-2, r=8 on fc1-fc3": dict(hidden=128, rank=8, alpha=16.0, targets=("fc1", "fc2", "fc3")),
}


def build(hidden: int, rank: int, alpha: float, targets: tuple[str, ...], lr: float = 0.01):
    """(X, y, (our model, its Adam), (PEFT model, its Adam)), both adapters holding the same numbers."""
    from peft import LoraConfig, get_peft_model

    cfg = RunConfig()
    _, target = make_tasks(cfg.data, cfg.shift)
    X, y = torch.from_numpy(target.X_train), torch.from_numpy(target.y_train)
    gen = torch.Generator().manual_seed(0)
    base = BaseModel(2, hidden, 2, hidden_layers=2, generator=gen)

    ours = add_lora(copy.deepcopy(base), targets, rank, alpha, generator=gen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PEFT notes that a plain nn.Module has no task type
        theirs = get_peft_model(copy.deepcopy(base), LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(targets),
                                                                lora_dropout=0.0))
    with torch.no_grad():
        for name, layer in lora_layers(ours).items():
            peft_layer = theirs.get_submodule(f"base_model.model.{name}")
            assert peft_layer.scaling["default"] == layer.scaling
            peft_layer.lora_A["default"].weight.copy_(layer.A.weight)
            peft_layer.lora_B["default"].weight.copy_(layer.B.weight)
    peft_params = [p for p in theirs.parameters() if p.requires_grad]
    assert sum(p.numel() for p in peft_params) == sum(p.numel() for p in lora_parameters(ours))
    return X, y, (ours, torch.optim.Adam(lora_parameters(ours), lr=lr)), (theirs, torch.optim.Adam(peft_params, lr=lr))


def train_steps(model, opt, X, y, steps: int, by_hand=None) -> float:
    """steps full-batch Adam steps; returns the last loss. by_hand: the app's loss function that also sets the
    gradients (lora_demo.backprop), for our side; without it, backward()."""
    for _ in range(steps):
        if by_hand is not None:
            loss = by_hand()  # sets every .grad, as backward() would
        else:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(X), y)
            loss.backward()
        opt.step()
    return loss.item()


def measure(case: dict, repeats: int, steps: int) -> dict:
    X, y, ours, theirs = build(**case)
    sides = {"ours": ours, "peft": theirs}
    by_hand = {"ours": hand_written(ours[0], X, y), "peft": None}  # made once, outside the timed blocks
    last = {name: train_steps(m, o, X, y, steps, by_hand[name])
            for name, (m, o) in sides.items()}  # warm-up, same steps
    wall = {name: [] for name in sides}
    cpu = {name: [] for name in sides}
    for i in range(repeats):
        for name in (("ours", "peft") if i % 2 == 0 else ("peft", "ours")):
            model, opt = sides[name]
            w, c = time.perf_counter(), time.thread_time()
            last[name] = train_steps(model, opt, X, y, steps, by_hand[name])
            cpu[name].append((time.thread_time() - c) / steps)
            wall[name].append((time.perf_counter() - w) / steps)
    med = {k: {name: statistics.median(v[name]) * 1e6 for name in sides} for k, v in (("wall", wall), ("cpu", cpu))}
    ratio = med["cpu"]["ours"] / med["cpu"]["peft"]
    return {"ours_us": med["cpu"]["ours"], "peft_us": med["cpu"]["peft"], "ratio": ratio,
            "ours_wall_us": med["wall"]["ours"], "peft_wall_us": med["wall"]["peft"],
            "wall_ratio": med["wall"]["ours"] / med["wall"]["peft"],
            "target": TARGET, "meets_target": ratio <= TARGET,
            "loss_ours": last["ours"], "loss_peft": last["peft"],
            "same_training": abs(last["ours"] - last["peft"]) <= 1e-4 * max(1.0, abs(last["peft"])),
            "steps_per_block": steps, "repeats": repeats}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.peft_step", description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=21, help="timed blocks per side (default 21)")
    ap.add_argument("--steps", type=int, default=50, help="training steps per block (default 50)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    results = {name: measure(case, a.repeats, a.steps) for name, case in CASES.items()}
    if a.json:
        print(json.dumps(results))
        return
    print(f"one LoRA training step (forward, backward, Adam), 280 points, 1 torch thread, median of {a.repeats} "
          f"blocks of {a.steps} steps")
    print(f"  {'':38}{'--- CPU µs per step ---':>30}{'--- wall µs per step ---':>30}")
    print(f"  {'case':38}{'ours':>9}{'PEFT':>9}{'ours/PEFT':>12}{'ours':>9}{'PEFT':>9}{'ours/PEFT':>12}"
          f"  same loss  target <= {TARGET:g} (CPU)")
    for name, r in results.items():
        print(f"  {name:38}{r['ours_us']:>9.0f}{r['peft_us']:>9.0f}{r['ratio']:>12.3f}"
              f"{r['ours_wall_us']:>9.0f}{r['peft_wall_us']:>9.0f}{r['wall_ratio']:>12.3f}"
              f"  {'yes' if r['same_training'] else 'NO':>9}  {'met' if r['meets_target'] else 'MISSED'}")


if __name__ == "__main__":
    main()
