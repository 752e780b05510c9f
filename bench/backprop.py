"""A default run with its gradients computed by hand (lora_demo.backprop) against the same run through autograd.

Both sides are `engine.train(RunConfig(...))` in this process with one torch thread; the autograd side is the
same call with the hand-written pass switched off (`backprop.hand_written` answering None), which is what every
network it does not know gets. Rounds alternate the order (hand first, then autograd first, ...), each round
training --seeds new data seeds on both sides; reported: the median CPU seconds per run of each side, the ratio
hand / autograd, and whether the two sides' results were identical (they must be: the pass is bit for bit).

    python -m bench.backprop [--rounds 8] [--seeds 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace

import torch

from lora_demo import backprop, engine
from lora_demo.config import DataConfig, RunConfig


def one_side(by_hand: bool, seeds: list[int]) -> tuple[float, list]:
    """CPU seconds per run, and each run's result with its timing taken out."""
    original = backprop.hand_written
    if not by_hand:
        backprop.hand_written = lambda *args: None
    try:
        t0 = time.process_time()
        results = [engine.train(RunConfig(data=DataConfig(seed=s))).result for s in seeds]
        return (time.process_time() - t0) / len(seeds), [replace(r, seconds=0.0) for r in results]
    finally:
        backprop.hand_written = original


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.backprop", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=3, help="runs per side per round, each on a new data seed")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    one_side(True, [999]), one_side(False, [999])  # warm-up
    cpu = {True: [], False: []}
    identical = True
    for k in range(a.rounds):
        seeds = [100 + a.seeds * k + i for i in range(a.seeds)]
        results = {}
        for by_hand in ((True, False) if k % 2 == 0 else (False, True)):
            seconds, results[by_hand] = one_side(by_hand, seeds)
            cpu[by_hand].append(seconds)
        identical &= results[True] == results[False]
    hand, auto = statistics.median(cpu[True]), statistics.median(cpu[False])
    out = {"hand_cpu_s": hand, "autograd_cpu_s": auto, "ratio": hand / auto, "identical": identical,
           "rounds": a.rounds, "seeds_per_round": a.seeds}
    if a.json:
        print(json.dumps(out))
        return
    print(f"a default run, 1 torch thread, median of {a.rounds} alternating rounds of {a.seeds} seeds")
    print(f"  gradients by hand   {hand:.3f} CPU-s per run")
    print(f"  through autograd    {auto:.3f} CPU-s per run")
    print(f"  ratio hand / autograd {hand / auto:.3f}; identical results: {identical}")


if __name__ == "__main__":
    main()
