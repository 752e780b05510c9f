"""Every field of every config section rejects bad values with an error that names it."""
import dataclasses
import math

import pytest

from lora_demo.config import (ConfigError, Num, DataConfig, LoRAConfig, ModelConfig, RunConfig,
                              ShiftConfig, TrainConfig)

NOT_NUMBERS = [None, "3", [1], {"a": 1}, True, float("nan"), float("inf"), -float("inf")]

BAD = {
    DataConfig: {
        "dataset": ["iris", "", None, 3, "MOONS"],
        "n_samples": [39, 1001, 100.5, *NOT_NUMBERS],
        "noise": [-0.01, 0.51, *NOT_NUMBERS],
        "n_classes": [1, 6, 2.5, *NOT_NUMBERS],
        "test_fraction": [0.0, 0.09, 0.6, *NOT_NUMBERS],
        "seed": [-1, 2**31, 0.5, *NOT_NUMBERS],
    },
    ShiftConfig: {
        "kind": ["shear", None, 1],
        "angle": [-181, 181, *NOT_NUMBERS],
        "offset": [-2.1, 2.1, *NOT_NUMBERS],
        "factor": [0.29, 3.1, 0, *NOT_NUMBERS],
        "dataset": ["mnist", None],
    },
    ModelConfig: {
        "hidden_size": [1, 129, 8.5, *NOT_NUMBERS],
        "hidden_layers": [0, 4, 1.5, *NOT_NUMBERS],
    },
    LoRAConfig: {
        "rank": [0, -1, 65, 2.5, *NOT_NUMBERS],
        "alpha": [0, -1, 257, *NOT_NUMBERS],
        "use_rslora": ["yes", 1, None, {"a": 1}],
        "target_modules": [[], "", ["fc0"], ["fc5"], ["fc1", "fc1"], [None], None, 3],
        "init": ["xavier", None],
    },
    TrainConfig: {
        "lr": [0, -0.1, 10.5, *NOT_NUMBERS],
        "pretrain_steps": [9, 2001, 100.5, *NOT_NUMBERS],
        "adapt_steps": [9, 2001, 100.5, *NOT_NUMBERS],
    },
}
CASES = [(cls, f, v) for cls, fs in BAD.items() for f, vs in fs.items() for v in vs]


@pytest.mark.parametrize("cls,field,value", CASES, ids=[f"{c.__name__}.{f}={v!r}" for c, f, v in CASES])
def test_bad_value_names_the_field_and_range(cls, field, value):
    with pytest.raises(ConfigError) as err:
        cls(**{field: value})
    assert err.value.field.endswith("." + field)
    msg = str(err.value)
    assert field in msg and "must be" in msg
    if isinstance(cls.RULES[field], Num):
        assert "[" in msg or "(" in msg  # numeric fields state their range


def test_every_field_is_covered():
    for cls, fs in BAD.items():
        assert set(fs) == set(cls.__dataclass_fields__), cls


def test_good_values_are_cleaned():
    assert LoRAConfig(rank=4.0).rank == 4 and isinstance(LoRAConfig(rank=4.0).rank, int)
    assert LoRAConfig(target_modules="fc2, fc1").target_modules == ("fc1", "fc2")
    assert RunConfig().lora.target_modules == ("fc2",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().lora.rank = 3  # frozen


def test_cross_field_check_and_dict_round_trip():
    with pytest.raises(ConfigError, match="lora.target_modules"):
        RunConfig(model=ModelConfig(hidden_layers=1), lora=LoRAConfig(target_modules=("fc3",)))
    cfg = RunConfig(lora=LoRAConfig(rank=3, target_modules=("fc1", "fc2")))
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="lora.rnak"):
        RunConfig.from_dict({"lora": {"rnak": 2}})
    with pytest.raises(ConfigError, match="optim"):
        RunConfig.from_dict({"optim": {}})
    with pytest.raises(ConfigError, match="data"):
        RunConfig(data={"seed": 1})
    assert math.isfinite(RunConfig().train.lr)
