"""Measure every claim the app and the README make, over many seeds, with the app's own code.

    python -m bench.claims                 # seeds 0–29 on 2 processes; writes measured.json, docs/claims.md, README
    python -m bench.claims --seeds 10 --no-write

Prints per claim the mean, lowest and highest value and on how many seeds its condition held; a claim is
true when it held on at least 90 % of the seeds. Writes lora_demo/claims/measured.json (what the texts
quote), docs/claims.md (the table), and the measured numbers between the README's claim markers.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "claims.md"
README = ROOT / "README.md"
MARKER = re.compile(r"<!--c:(?P<name>[a-z0-9_.]+)\.(?P<stat>range|mean|min|max|seeds)-->(?P<text>.*?)<!--/c-->")


def measure_seeds(seeds: list[int]) -> dict:
    """In a worker process: every claim on these seeds, one torch thread."""
    import torch
    torch.set_num_threads(1)
    from lora_demo.claims import CLAIMS, measure
    from lora_demo.claims.scenarios import scenarios
    return measure(CLAIMS, seeds, scenarios(), on_seed=lambda s: print(f"  seed {s} done", file=sys.stderr,
                                                                             flush=True))


def measure_parallel(seeds: list[int], processes: int = 2) -> dict:
    """Every claim over seeds, split across processes; values in seed order."""
    from lora_demo.claims import CLAIMS
    chunks = [seeds[i::processes] for i in range(processes) if seeds[i::processes]]
    with mp.get_context("forkserver").Pool(len(chunks)) as pool:
        parts = pool.map(measure_seeds, chunks)
    out = {}
    for c in CLAIMS:
        by_seed = {}
        for chunk, part in zip(chunks, parts):
            for seed, v, h in zip(chunk, part[c.name]["values"], part[c.name]["held"]):
                by_seed[seed] = (v, h)
        out[c.name] = {"values": [by_seed[s][0] for s in seeds], "held": [by_seed[s][1] for s in seeds]}
    return out


def markdown(figs, claims) -> str:
    seeds = next(iter(figs.values())).n if figs else 0
    lines = ["# Claims", "",
             "Every sentence the app or the README shows that states an outcome is one of these claims, measured "
             f"with the app's own code on seeds 0–{seeds - 1} by `python -m bench.claims`. A claim is true when its "
             "condition holds on at least 90 % of the seeds; the numbers the texts quote are the measured range "
             "(lowest–highest) or mean. Do not edit: this file is written by the benchmark.", "",
             "| claim | says | condition | mean | range | held | true |", "|---|---|---|---|---|---|---|"]
    for c in claims:
        f = figs[c.name]
        cell = lambda text: text.replace("|", "\\|")  # noqa: E731  (a bar would end the table cell)
        lines.append(f"| `{c.name}` | {cell(c.says)} | {cell(c.condition)} | {f.mean} | {f.range} | {f.seeds} | "
                     f"{'yes' if f.true else '**NO**'} |")
    return "\n".join(lines) + "\n"


def fill_readme(text: str, figs) -> str:
    """The README with every <!--c:name.stat-->…<!--/c--> holding the measured figure."""
    return MARKER.sub(lambda m: f"<!--c:{m['name']}.{m['stat']}-->{getattr(figs[m['name']], m['stat'])}<!--/c-->",
                      text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.claims", description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="measure seeds 0 … N−1 (default 30)")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--render", action="store_true",
                    help="measure nothing: rewrite docs/claims.md and the README from measured.json")
    a = ap.parse_args(argv)
    from lora_demo.claims import CLAIMS, MEASURED, load, save
    if a.render:
        figs = load(MEASURED)
        DOC.write_text(markdown(figs, CLAIMS), encoding="utf-8")
        README.write_text(fill_readme(README.read_text(encoding="utf-8"), figs), encoding="utf-8")
        return
    seeds = list(range(a.seeds))
    t0 = time.perf_counter()
    measured = measure_parallel(seeds, a.processes)
    if a.no_write:
        import tempfile
        tmp = Path(tempfile.mkstemp(suffix=".json")[1])
        save(CLAIMS, seeds, measured, tmp)
        figs = load(tmp)
        tmp.unlink()
    else:
        save(CLAIMS, seeds, measured)
        figs = load(MEASURED)
        DOC.write_text(markdown(figs, CLAIMS), encoding="utf-8")
        README.write_text(fill_readme(README.read_text(encoding="utf-8"), figs), encoding="utf-8")
    width = max(len(c.name) for c in CLAIMS)
    print(f"{'claim':<{width}}  {'mean':>8}  {'range':>14}  held   true")
    for c in CLAIMS:
        f = figs[c.name]
        print(f"{c.name:<{width}}  {f.mean:>8}  {f.range:>14}  {f.seeds:>5}  {'yes' if f.true else 'NO'}")
    false = [c.name for c in CLAIMS if not figs[c.name].true]
    print(f"\n{len(CLAIMS) - len(false)} of {len(CLAIMS)} claims true on seeds 0–{a.seeds - 1}; "
          f"{time.perf_counter() - t0:.0f} s" + (f"; FALSE: {', '.join(false)}" if false else ""))


if __name__ == "__main__":
    main()
