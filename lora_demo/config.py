"""Frozen, self-validating settings for one run: data, shift, model, LoRA, training.

Every field has bounds (the rule types are in rules.py); a bad value raises ConfigError naming the field,
the value and what is allowed. Imports nothing from torch or gradio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, asdict

from .rules import Choice, ConfigError, Flag, Layers, Num, _Validated, short_repr  # noqa: F401 (importers use config)

DATASET_NAMES = ("moons", "circles", "blobs", "gaussian_quantiles", "classification")
MULTI_CLASS = ("blobs", "gaussian_quantiles", "classification")  # the generators that read n_classes
MAX_CLASSIFICATION_CLASSES = 4
SHIFT_KINDS = ("rotate", "translate", "scale", "dataset", "none")
INIT_NAMES = ("peft", "seed", "gaussian")


def lora_scaling(rank: int, alpha: float, use_rslora: bool = False) -> float:
    """What LoRA's B·A is multiplied by: α / r, or α / √r with rsLoRA (PEFT's use_rslora)."""
    return alpha / math.sqrt(rank) if use_rslora else alpha / rank


@dataclass(frozen=True)
class DataConfig(_Validated):
    dataset: str = "moons"        # the source task's scikit-learn generator
    n_samples: int = 400          # points per task, before the train/test split
    noise: float = 0.15           # generator noise (std of jitter, or label flips)
    n_classes: int = 3            # used by blobs, gaussian_quantiles, classification
    test_fraction: float = 0.3    # share of points held out for test curves and accuracy
    seed: int = 0                 # data draw, split and weight init all follow this

    PREFIX = "data."
    RULES = {
        "dataset": Choice(DATASET_NAMES),
        "n_samples": Num(40, 1000, integer=True),
        "noise": Num(0.0, 0.5),
        "n_classes": Num(2, 5, integer=True),
        "test_fraction": Num(0.1, 0.5),
        "seed": Num(0, 2**31 - 1, integer=True),
    }


@dataclass(frozen=True)
class ShiftConfig(_Validated):
    kind: str = "rotate"          # how the target task differs from the source
    angle: float = 90.0           # rotate: degrees, counter-clockwise about the origin
    offset: float = 1.0           # translate: move along x, in standardised units
    factor: float = 1.8           # scale: multiply both coordinates
    dataset: str = "circles"      # dataset: the target task's generator

    PREFIX = "shift."
    RULES = {
        "kind": Choice(SHIFT_KINDS),
        "angle": Num(-180, 180),
        "offset": Num(-2, 2),
        "factor": Num(0.3, 3),
        "dataset": Choice(DATASET_NAMES),
    }


@dataclass(frozen=True)
class ModelConfig(_Validated):
    hidden_size: int = 64         # width of every hidden layer
    hidden_layers: int = 2        # 1 = the seed's fc1, fc2; N gives fc1 … fc(N+1)

    PREFIX = "model."
    RULES = {
        "hidden_size": Num(2, 128, integer=True),
        "hidden_layers": Num(1, 3, integer=True),
    }


@dataclass(frozen=True)
class LoRAConfig(_Validated):
    rank: int = 2                 # r: width of the bottleneck A (r × d_in), B (d_out × r); fc2's r* is 32
    alpha: float = 16.0           # α: the update is scaled by α / r (or α / √r); 16 / 2 = 8, chosen by measurement
    use_rslora: bool = False      # rsLoRA: scaling α / √r instead of α / r
    target_modules: tuple = ("fc2",)  # the 64 × 64 hidden layer: 256 numbers adapt its 4,096 weights
    init: str = "peft"            # A's init: peft (kaiming a=√5), seed (kaiming a=0.01), gaussian

    PREFIX = "lora."
    RULES = {
        "rank": Num(1, 64, integer=True),
        "alpha": Num(0, 256, lo_open=True),
        "use_rslora": Flag(),
        "target_modules": Layers(),
        "init": Choice(INIT_NAMES),
    }


@dataclass(frozen=True)
class TrainConfig(_Validated):
    lr: float = 0.03              # Adam learning rate, both phases (full batch); chosen over seeds 0–89
    pretrain_steps: int = 300     # Adam steps on the source task
    adapt_steps: int = 300        # Adam steps for the LoRA adapter on the target task

    PREFIX = "train."
    RULES = {
        "lr": Num(0, 10, lo_open=True),
        "pretrain_steps": Num(10, 2000, integer=True),
        "adapt_steps": Num(10, 2000, integer=True),
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
                                  f"layers this model has, fc1 … fc{n_linear}, with model.hidden_layers = "
                                  f"{self.model.hidden_layers}", key="must_depth", involves=("model.hidden_layers",),
                                  most=n_linear, depth=self.model.hidden_layers)
        self._check_tasks()

    def _check_tasks(self) -> None:
        """Settings that are each fine alone but make a task scikit-learn cannot draw or split."""
        d = self.data
        used = {d.dataset} | ({self.shift.dataset} if self.shift.kind == "dataset" else set())
        if "classification" in used and d.n_classes > MAX_CLASSIFICATION_CLASSES:
            which = "data.dataset" if d.dataset == "classification" else "shift.dataset"
            raise ConfigError("data.n_classes", d.n_classes, f"at most {MAX_CLASSIFICATION_CLASSES} when {which} is "
                              "'classification' (its two features give four class corners)",
                              key="must_classification", involves=(which,), most=MAX_CLASSIFICATION_CLASSES)
        classes = max(d.n_classes if name in MULTI_CLASS else 2 for name in used)
        n_test = math.ceil(d.n_samples * d.test_fraction)  # how scikit-learn's split counts it
        if n_test < classes or d.n_samples - n_test < classes:
            least = math.floor(100 * (classes - 1) / d.n_samples + 1) / 100
            raise ConfigError("data.test_fraction", d.test_fraction,
                              f"at least {least:g} with data.n_samples = {d.n_samples} and {classes} classes "
                              "(the split keeps one test point per class)",
                              key="must_test_fraction", involves=("data.n_samples", "data.n_classes"),
                              least=least, n=d.n_samples, k=classes)

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


# flat names of every setting, in the order the UI, the API and the CLI list them
FLAT_FIELDS: dict[str, tuple[str, str]] = {
    "dataset": ("data", "dataset"), "n_samples": ("data", "n_samples"), "noise": ("data", "noise"),
    "n_classes": ("data", "n_classes"), "test_fraction": ("data", "test_fraction"), "seed": ("data", "seed"),
    "shift_kind": ("shift", "kind"), "angle": ("shift", "angle"), "offset": ("shift", "offset"),
    "factor": ("shift", "factor"), "shift_dataset": ("shift", "dataset"),
    "hidden_size": ("model", "hidden_size"), "hidden_layers": ("model", "hidden_layers"),
    "rank": ("lora", "rank"), "alpha": ("lora", "alpha"), "use_rslora": ("lora", "use_rslora"),
    "target_modules": ("lora", "target_modules"), "init": ("lora", "init"),
    "lr": ("train", "lr"), "pretrain_steps": ("train", "pretrain_steps"), "adapt_steps": ("train", "adapt_steps"),
}
_SECTIONS = {"data": DataConfig, "shift": ShiftConfig, "model": ModelConfig, "lora": LoRAConfig,
             "train": TrainConfig}


def rule_of(flat_name: str):
    """The validation rule (Num, Choice, Flag or Layers) behind a flat setting name."""
    section, name = FLAT_FIELDS[flat_name]
    return _SECTIONS[section].RULES[name]


def config_from_flat(values: dict) -> RunConfig:
    """RunConfig from {flat name: value}; missing names take defaults, unknown names are errors."""
    nested: dict = {}
    for key, value in values.items():
        if key not in FLAT_FIELDS:
            raise ConfigError(str(key), value, "a known setting: " + ", ".join(FLAT_FIELDS))
        section, name = FLAT_FIELDS[key]
        nested.setdefault(section, {})[name] = value
    return RunConfig.from_dict(nested)


def flat_from_config(cfg: RunConfig) -> dict:
    d = cfg.to_dict()
    return {key: d[section][name] for key, (section, name) in FLAT_FIELDS.items()}
