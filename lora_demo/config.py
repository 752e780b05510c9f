"""Frozen, self-validating settings for one run: data, shift, model, LoRA, training.

Every field has bounds; a bad value raises ConfigError naming the field, the
value and what is allowed. Imports nothing from torch or gradio.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields, asdict
from typing import Any

DATASET_NAMES = ("moons", "circles", "blobs", "gaussian_quantiles", "classification")
SHIFT_KINDS = ("rotate", "translate", "scale", "dataset", "none")
INIT_NAMES = ("peft", "seed", "gaussian")


class ConfigError(ValueError):
    """A setting outside its allowed range; `field` names the setting."""

    def __init__(self, field_name: str, value: Any, allowed: str):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field_name} must be {allowed}; got {value!r}")


def _number(name: str, value: Any, lo: float, hi: float, *, integer: bool = False,
            lo_open: bool = False) -> float | int:
    """Return value as int/float if it is a finite number in range, else raise ConfigError."""
    lo_txt = "(" if lo_open else "["
    kind = "an integer" if integer else "a number"
    allowed = f"{kind} in {lo_txt}{lo:g}, {hi:g}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(name, value, allowed)
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(name, value, allowed)
    if integer:
        if v != int(v):
            raise ConfigError(name, value, allowed)
        v = int(v)
    if v < lo or v > hi or (lo_open and v == lo):
        raise ConfigError(name, value, allowed)
    return v


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(name, value, "one of " + ", ".join(choices))
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(name, value, "true or false")
    return value


class _Validated:
    """Runs _check(name, value) -> cleaned value for every field after construction."""

    _RULES: dict = {}

    def __post_init__(self):
        for f in fields(self):
            rule = self._RULES[f.name]
            object.__setattr__(self, f.name, rule(f"{self._PREFIX}{f.name}", getattr(self, f.name)))


@dataclass(frozen=True)
class DataConfig(_Validated):
    dataset: str = "moons"        # the source task's scikit-learn generator
    n_samples: int = 400          # points per task, before the train/test split
    noise: float = 0.15           # generator noise (std of jitter, or label flips)
    n_classes: int = 3            # used by blobs, gaussian_quantiles, classification
    test_fraction: float = 0.3    # share of points held out for test curves and accuracy
    seed: int = 0                 # data draw, split and weight init all follow this

    _PREFIX = "data."
    _RULES = {
        "dataset": lambda n, v: _choice(n, v, DATASET_NAMES),
        "n_samples": lambda n, v: _number(n, v, 40, 1000, integer=True),
        "noise": lambda n, v: _number(n, v, 0.0, 0.5),
        "n_classes": lambda n, v: _number(n, v, 2, 5, integer=True),
        "test_fraction": lambda n, v: _number(n, v, 0.1, 0.5),
        "seed": lambda n, v: _number(n, v, 0, 2**31 - 1, integer=True),
    }


@dataclass(frozen=True)
class ShiftConfig(_Validated):
    kind: str = "rotate"          # how the target task differs from the source
    angle: float = 90.0           # rotate: degrees, counter-clockwise about the origin
    offset: float = 1.0           # translate: move along x, in standardised units
    factor: float = 1.8           # scale: multiply both coordinates
    dataset: str = "circles"      # dataset: the target task's generator

    _PREFIX = "shift."
    _RULES = {
        "kind": lambda n, v: _choice(n, v, SHIFT_KINDS),
        "angle": lambda n, v: _number(n, v, -180, 180),
        "offset": lambda n, v: _number(n, v, -2, 2),
        "factor": lambda n, v: _number(n, v, 0.3, 3),
        "dataset": lambda n, v: _choice(n, v, DATASET_NAMES),
    }


@dataclass(frozen=True)
class ModelConfig(_Validated):
    hidden_size: int = 64         # width of every hidden layer
    hidden_layers: int = 2        # 1 = the seed's fc1, fc2; N gives fc1 … fc(N+1)

    _PREFIX = "model."
    _RULES = {
        "hidden_size": lambda n, v: _number(n, v, 2, 128, integer=True),
        "hidden_layers": lambda n, v: _number(n, v, 1, 3, integer=True),
    }


def _targets(name: str, value: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of distinct layer names fc1 … fc4"
    if isinstance(value, str):
        value = tuple(t.strip() for t in value.split(",") if t.strip())
    if not isinstance(value, (tuple, list)) or not value:
        raise ConfigError(name, value, allowed)
    ok = {f"fc{i}" for i in range(1, 5)}
    if any(not isinstance(t, str) or t not in ok for t in value) or len(set(value)) != len(value):
        raise ConfigError(name, value, allowed)
    return tuple(sorted(value, key=lambda t: int(t[2:])))


@dataclass(frozen=True)
class LoRAConfig(_Validated):
    rank: int = 2                 # r: width of the bottleneck A (r × d_in), B (d_out × r)
    alpha: float = 4.0            # α: the update is scaled by α / r (or α / √r)
    use_rslora: bool = False      # rsLoRA: scaling α / √r instead of α / r
    target_modules: tuple = ("fc1",)  # layers that get an adapter; all others stay frozen
    init: str = "peft"            # A's init: peft (kaiming a=√5), seed (kaiming a=0.01), gaussian

    _PREFIX = "lora."
    _RULES = {
        "rank": lambda n, v: _number(n, v, 1, 64, integer=True),
        "alpha": lambda n, v: _number(n, v, 0, 256, lo_open=True),
        "use_rslora": _flag,
        "target_modules": _targets,
        "init": lambda n, v: _choice(n, v, INIT_NAMES),
    }


@dataclass(frozen=True)
class TrainConfig(_Validated):
    lr: float = 0.01              # Adam learning rate, both phases (full batch)
    pretrain_steps: int = 300     # Adam steps on the source task
    adapt_steps: int = 300        # Adam steps for the LoRA adapter on the target task

    _PREFIX = "train."
    _RULES = {
        "lr": lambda n, v: _number(n, v, 0, 10, lo_open=True),
        "pretrain_steps": lambda n, v: _number(n, v, 10, 2000, integer=True),
        "adapt_steps": lambda n, v: _number(n, v, 10, 2000, integer=True),
    }


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    shift: ShiftConfig = field(default_factory=ShiftConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        for f in fields(self):
            if not isinstance(getattr(self, f.name), f.default_factory):
                raise ConfigError(f.name, getattr(self, f.name), f"a {f.default_factory.__name__}")
        n_linear = self.model.hidden_layers + 1
        for t in self.lora.target_modules:
            if int(t[2:]) > n_linear:
                raise ConfigError("lora.target_modules", list(self.lora.target_modules),
                                  f"layers of this model: fc1 … fc{n_linear}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lora"]["target_modules"] = list(self.lora.target_modules)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Build from nested dicts (missing keys take defaults); unknown keys are errors."""
        parts = {}
        for f in fields(cls):
            sub = d.get(f.name, {})
            if not isinstance(sub, dict):
                raise ConfigError(f.name, sub, "a mapping of settings")
            known = {g.name for g in fields(f.default_factory)}
            for k in sub:
                if k not in known:
                    raise ConfigError(f"{f.name}.{k}", sub[k], "a known setting: " + ", ".join(sorted(known)))
            parts[f.name] = f.default_factory(**sub)
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            k = sorted(unknown)[0]
            raise ConfigError(k, d[k], "a known section: data, shift, model, lora, train")
        return cls(**parts)
