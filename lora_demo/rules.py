"""What a setting may be: the rule types (a bounded number, one of some names, a yes/no, a set of layer
names), the error a broken rule raises, and the base that checks a settings section with its rules.

config.py states the rules of every setting with these. Imports nothing from torch or gradio.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any


class ConfigError(ValueError):
    """A setting outside its allowed range; `field` names the setting.

    A setting that is fine alone but clashes with others also carries `key`, `involves` and `fields`: the
    sentence in lora_demo.text that explains the clash, the other settings it names, and what it quotes."""

    def __init__(self, field_name: str, value: Any, allowed: str, key: str | None = None,
                 involves: tuple[str, ...] = (), **fields):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        self.key = key
        self.involves = involves
        self.fields = fields
        super().__init__(f"{field_name} must be {allowed}; got {short_repr(value)}")


def short_repr(value: Any, limit: int = 80) -> str:
    """repr for messages: cut to limit characters, and safe for ints too long to print."""
    try:
        text = repr(value)
    except ValueError:  # int beyond Python's digit limit for str()
        return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Num:
    """A finite number in [lo, hi] (or (lo, hi] when lo_open); integer=True also demands a whole number."""
    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False

    @property
    def allowed(self) -> str:
        kind, fmt = ("an integer", "{:,.0f}") if self.integer else ("a number", "{:g}")
        return f"{kind} in {'(' if self.lo_open else '['}{fmt.format(self.lo)}, {fmt.format(self.hi)}]"

    def __call__(self, name: str, value: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(name, value, self.allowed)
        try:
            v = float(value)
        except OverflowError:  # an int too large for a float
            raise ConfigError(name, value, self.allowed) from None
        if not math.isfinite(v) or (self.integer and v != int(v)):
            raise ConfigError(name, value, self.allowed)
        if v < self.lo or v > self.hi or (self.lo_open and v == self.lo):
            raise ConfigError(name, value, self.allowed)
        return int(v) if self.integer else v + 0.0  # + 0.0 turns -0.0 into 0.0 (NumPy refuses a scale of -0.0)


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of names."""
    choices: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return "one of " + ", ".join(self.choices)

    def __call__(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ConfigError(name, value, self.allowed)
        return value


@dataclass(frozen=True)
class Flag:
    allowed: str = "true or false"

    def __call__(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(name, value, self.allowed)
        return value


@dataclass(frozen=True)
class Layers:
    """A non-empty set of layer names fc1 … fc{most}; a comma-separated string is accepted too."""
    most: int = 4

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(f"fc{i}" for i in range(1, self.most + 1))

    @property
    def allowed(self) -> str:
        return f"a non-empty list of distinct layer names fc1 … fc{self.most}"

    def __call__(self, name: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = tuple(t.strip() for t in value.split(",") if t.strip())
        if not isinstance(value, (tuple, list)) or not value:
            raise ConfigError(name, value, self.allowed)
        if any(not isinstance(t, str) or t not in self.choices for t in value) or len(set(value)) != len(value):
            raise ConfigError(name, value, self.allowed)
        return tuple(sorted(value, key=lambda t: int(t[2:])))


class _Validated:
    """Checks and cleans every field with the rule in RULES after construction."""

    RULES: dict = {}
    PREFIX = ""

    def __post_init__(self):
        for f in fields(self):
            rule = self.RULES[f.name]
            object.__setattr__(self, f.name, rule(f"{self.PREFIX}{f.name}", getattr(self, f.name)))
