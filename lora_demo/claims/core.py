"""Claims as code: the machinery. A claim names the sentence it backs, the experiment it reads (a
scenario, run once per seed and shared by every claim that reads it), the number the texts quote and
the condition that must hold on a seed. Measured over seeds, a claim becomes a Figure: mean, lowest,
highest, and on how many seeds it held.

No gradio. The scenarios import the engine (torch) only when they run.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MEASURED = Path(__file__).resolve().parent / "measured.json"  # written by `python -m bench.claims`
HOLD_SHARE = 0.9  # a claim is true when it holds on at least this share of the seeds


@dataclass(frozen=True)
class Claim:
    name: str                          # dotted, e.g. "default.lora_target"
    says: str                          # the sentence (or the part of it) this backs, in English
    scenario: str | tuple              # the experiment(s) it reads: keys of scenarios.scenarios()
    value: Callable[[dict], float]     # one seed's outcome -> the number the texts quote
    holds: Callable[[dict], bool]      # one seed's outcome -> does the sentence hold on this seed
    # (with several scenarios, the outcome is {scenario: outcome})
    unit: str = "pct"                  # "pct" (0.97 reads 97 %), "pp" (0.017 reads 2: points), "x" (a factor),
    #                                    "n" (a count), "sci" (1e-6)
    condition: str = ""                # the condition, in words, for docs/claims.md


def _fmt(value: float, unit: str, down: bool | None = None) -> str:
    """One number as the texts write it. down=True rounds towards −∞ (a range's low end), False towards +∞."""
    if unit == "pct":
        v = 100 * value
        v = math.floor(v + 1e-9) if down is True else math.ceil(v - 1e-9) if down is False else round(v)
        return f"{v:.0f}"
    if unit == "pp":  # percentage points, written without a unit (the sentence names it)
        return _fmt(value, "pct", down)
    if unit == "x":  # a factor: two decimals below 1, one below 10, two significant digits above
        digits = 2 if abs(value) < 1 else 1 if abs(value) < 10 else -(int(math.floor(math.log10(abs(value)))) - 1)
        step = 10.0 ** digits
        v = value * step
        v = math.floor(v + 1e-9) if down is True else math.ceil(v - 1e-9) if down is False else round(v)
        v /= step
        return f"{v:,.{digits}f}" if digits > 0 else f"{v:,.0f}"
    if unit == "n":
        v = math.floor(value) if down is True else math.ceil(value) if down is False else round(value)
        return f"{v:.0f}"
    return f"{value:.0e}".replace("e-0", "e-")  # sci


@dataclass(frozen=True)
class Figure:
    """A claim measured over seeds; its attributes are the strings texts quote, e.g. {c[default.lora_target].range}."""
    name: str
    unit: str
    values: tuple
    held: tuple

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def held_count(self) -> int:
        return sum(self.held)

    @property
    def true(self) -> bool:
        return self.n > 0 and self.held_count >= HOLD_SHARE * self.n

    @property
    def mean_value(self) -> float:
        return sum(self.values) / self.n

    def _suffix(self) -> str:
        return " %" if self.unit == "pct" else ""

    @property
    def mean(self) -> str:
        return _fmt(self.mean_value, self.unit) + self._suffix()

    @property
    def min(self) -> str:
        return _fmt(min(self.values), self.unit, down=True) + self._suffix()

    @property
    def max(self) -> str:
        return _fmt(max(self.values), self.unit, down=False) + self._suffix()

    @property
    def range(self) -> str:
        lo, hi = _fmt(min(self.values), self.unit, True), _fmt(max(self.values), self.unit, False)
        return (lo if lo == hi else f"{lo}–{hi}") + self._suffix()

    @property
    def seeds(self) -> str:
        """"28/30": on how many of the seeds the sentence held."""
        return f"{self.held_count}/{self.n}"


class Figures(dict):
    """name -> Figure, for str.format: "{c[default.lora_target].range}". A missing name is an error."""

    def __missing__(self, key):
        raise KeyError(f"no measured claim named {key!r}: run python -m bench.claims")


def load(path: Path = MEASURED) -> Figures:
    """The measured figures the texts quote (empty when nothing has been measured yet)."""
    if not path.exists():
        return Figures()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Figures({name: Figure(name, c["unit"], tuple(c["values"]), tuple(c["held"]))
                    for name, c in data["claims"].items()})


def measure(claims: list[Claim], seeds: list[int], scenarios: dict, on_seed=None) -> dict:
    """name -> {"values": [...], "held": [...]} over seeds: each scenario runs once per seed."""
    out = {c.name: {"values": [], "held": []} for c in claims}
    for seed in seeds:
        outcomes: dict = {}
        for c in claims:
            names = (c.scenario,) if isinstance(c.scenario, str) else c.scenario
            for n in names:
                if n not in outcomes:
                    outcomes[n] = scenarios[n](seed)
            o = outcomes[c.scenario] if isinstance(c.scenario, str) else {n: outcomes[n] for n in names}
            out[c.name]["values"].append(float(c.value(o)))
            out[c.name]["held"].append(bool(c.holds(o)))
        if on_seed:
            on_seed(seed)
    return out


def save(claims: list[Claim], seeds: list[int], measured: dict, path: Path = MEASURED) -> None:
    data = {"seeds": list(seeds), "hold_share": HOLD_SHARE,
            "claims": {c.name: {"unit": c.unit, "scenario": c.scenario, "says": c.says, "condition": c.condition,
                                **measured[c.name]} for c in claims}}
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
