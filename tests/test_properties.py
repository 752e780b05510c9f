"""Property tests over whole configurations, drawn from the rules in lora_demo.config:

- every valid configuration runs: in the engine, through the live /train API and through the command line,
  and each gives back a result for exactly the configuration sent (or, for rates that really are too
  large, a clear "diverged" message);
- settings that are each valid but clash are refused up front, naming the setting and what would work,
  and the refusal is justified: scikit-learn or the model really could not do it;
- every link the app writes restores exactly its configuration, in both languages.

Runs use tiny step counts (10 + 10), so the file takes about a minute with the app's startup.

    python -m pytest tests/test_properties.py
"""
import contextlib
import io
import json
import math
import time
from functools import lru_cache
from urllib.parse import parse_qsl

import numpy as np
import pytest
import torch
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lora_demo import cli
from lora_demo.config import (DATASET_NAMES, FLAT_FIELDS, INIT_NAMES, MAX_CLASSIFICATION_CLASSES, MULTI_CLASS,
                              SHIFT_KINDS, ConfigError, DataConfig, Layers, Num, ShiftConfig, config_from_flat,
                              flat_from_config, lora_scaling, rule_of)
from lora_demo.data import make_tasks
from lora_demo.links import query_from_settings, settings_from_query
from lora_demo.methods import METHODS
from lora_demo.text import LANGUAGES, config_error_text, field_text, t
from lora_demo.engine import TrainingDiverged, start, train

LAYERS = rule_of("target_modules").choices  # fc1 … fc4
TINY_STEPS = st.just(10)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """As the app's workers and the CLI run: one thread, so that every run here is reproducible."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ strategies

def within(name: str):
    """Any value a numeric setting's rule allows."""
    rule = rule_of(name)
    assert isinstance(rule, Num)
    if rule.integer:
        return st.integers(int(rule.lo), int(rule.hi))
    return st.floats(rule.lo, rule.hi, exclude_min=rule.lo_open)


def split_fits(n_samples: int, test_fraction: float, classes: int) -> bool:
    """A stratified split keeps at least one test and one training point of every class
    (scikit-learn counts the test points as ceil(n · fraction))."""
    n_test = math.ceil(n_samples * test_fraction)
    return n_test >= classes and n_samples - n_test >= classes


@st.composite
def valid_settings(draw, steps=TINY_STEPS, lr=None, alpha=None):
    """A whole flat configuration that the rules allow, cross-field rules included."""
    dataset = draw(st.sampled_from(DATASET_NAMES))
    shift_kind = draw(st.sampled_from(SHIFT_KINDS))
    shift_dataset = draw(st.sampled_from(DATASET_NAMES))
    used = {dataset} | ({shift_dataset} if shift_kind == "dataset" else set())
    n_classes = draw(st.integers(2, MAX_CLASSIFICATION_CLASSES if "classification" in used else 5))
    classes = max(n_classes if name in MULTI_CLASS else 2 for name in used)
    n_samples = draw(st.sampled_from([40, 1000]) | st.integers(40, 160) | within("n_samples"))
    test_fraction = draw(within("test_fraction").filter(lambda f: split_fits(n_samples, f, classes)))
    hidden_layers = draw(within("hidden_layers"))
    targets = draw(st.lists(st.sampled_from(LAYERS[:hidden_layers + 1]), min_size=1, unique=True))
    return {
        "dataset": dataset, "n_samples": n_samples, "noise": draw(within("noise")), "n_classes": n_classes,
        "test_fraction": test_fraction, "seed": draw(within("seed")),
        "shift_kind": shift_kind, "angle": draw(within("angle")), "offset": draw(within("offset")),
        "factor": draw(within("factor")), "shift_dataset": shift_dataset,
        "hidden_size": draw(within("hidden_size")), "hidden_layers": hidden_layers,
        "rank": draw(within("rank")), "alpha": draw(within("alpha") if alpha is None else alpha),
        "use_rslora": draw(st.booleans()), "target_modules": targets, "init": draw(st.sampled_from(INIT_NAMES)),
        "lr": draw(within("lr") if lr is None else lr), "pretrain_steps": draw(steps), "adapt_steps": draw(steps),
    }


# learning rates and alphas as people set them (the app's defaults among them), and the whole allowed range
USUAL_LR = st.sampled_from([0.03, 0.01, 0.003]) | st.floats(1e-4, 0.1) | within("lr")
USUAL_ALPHA = st.sampled_from([16.0, 2.0, 1.0]) | st.floats(0.1, 32) | within("alpha")


# ------------------------------------------------------------------ what the engine does with a configuration

@lru_cache(maxsize=None)
def engine_outcome(cfg):
    """The final snapshot of a run of cfg in this process, or the TrainingDiverged it raised."""
    try:
        return train(cfg, grid_size=4)
    except TrainingDiverged as e:
        return e


def check_divergence_is_real(cfg, error: TrainingDiverged) -> None:
    """A run may stop as diverged only where its rates really are too large: pretraining at a learning
    rate above 0.1, LoRA training where lr · α (how far one Adam step moves ΔW) is above 0.25, about half of
    the app's defaults (0.03 · 16). Anything else diverging is a finding."""
    message = str(error)
    assert "diverged" in message and "Lower the learning rate" in message, message
    lr, alpha = cfg.train.lr, cfg.lora.alpha
    if message.startswith("pretraining"):
        assert lr > 0.1, f"pretraining diverged at lr {lr}: {message}"
    else:
        assert message.startswith("LoRA training"), message
        assert lr > 0.1 or lr * alpha > 0.25, f"LoRA diverged at lr {lr}, alpha {alpha}: {message}"


def expected_trainable(cfg, n_out: int) -> int:
    """r · (d_in + d_out) summed over the adapted layers, from the network's shape alone."""
    sizes = [2] + [cfg.model.hidden_size] * cfg.model.hidden_layers + [n_out]
    return sum(cfg.lora.rank * (sizes[int(name[2:]) - 1] + sizes[int(name[2:])]) for name in cfg.lora.target_modules)


@settings(max_examples=60, deadline=None)
@given(flat=valid_settings())
def test_every_valid_configuration_runs_in_the_engine(flat):
    cfg = config_from_flat(flat)  # the rules accept what the strategy calls valid
    outcome = engine_outcome(cfg)
    if isinstance(outcome, TrainingDiverged):
        check_divergence_is_real(cfg, outcome)
        return
    result = outcome.result
    assert set(result.accuracy) == {"base_source", "base_target", "lora_target", "lora_source"}
    assert all(math.isfinite(a) and 0 <= a <= 1 for a in result.accuracy.values()), result.accuracy
    assert tuple(result.layers) == cfg.lora.target_modules
    n_out = max(outcome.source.n_classes, outcome.target.n_classes)
    assert result.params["lora"]["trainable"] == expected_trainable(cfg, n_out)
    assert result.scaling == pytest.approx(lora_scaling(cfg.lora.rank, cfg.lora.alpha, cfg.lora.use_rslora))
    assert result.base_unchanged


def test_default_rates_on_a_short_run_at_high_rank_do_not_stop_as_diverged():
    cfg = config_from_flat({"n_samples": 120, "seed": 5, "rank": 64, "alpha": 16.0, "use_rslora": True,
                            "target_modules": ["fc1", "fc2", "fc3"], "pretrain_steps": 10, "adapt_steps": 10})
    assert cfg.train.lr == 0.03 and cfg.lora.alpha == 16.0  # the app's own learning rate and alpha
    snap = train(cfg, grid_size=4)
    assert math.isfinite(snap.result.accuracy["lora_target"])


# ------------------------------------------------------------------ the same through the API and the CLI

@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def api_run(client, flat: dict, seconds: float = 60):
    job = client.submit(**flat, language="en", api_name="/train")
    deadline = time.time() + seconds
    while not job.done():
        assert time.time() < deadline, "the run did not finish in time"
        time.sleep(0.05)
    return job.result(timeout=5)[-1]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat=valid_settings(lr=USUAL_LR, alpha=USUAL_ALPHA))
def test_valid_configurations_through_the_api(client, flat):
    cfg = config_from_flat(flat)
    outcome = engine_outcome(cfg)
    if isinstance(outcome, TrainingDiverged):
        with pytest.raises(AppError) as err:
            api_run(client, flat)
        assert "diverged" in err.value.message and err.value.title == t("en", "err_stopped")
        assert "something went wrong" not in err.value.message.lower()
        return
    metrics = api_run(client, flat)
    assert metrics["config"] == cfg.to_dict()
    assert metrics["accuracy"] == outcome.result.accuracy  # the worker ran exactly this configuration


def cli_args(flat: dict) -> list[str]:
    """The command line for a flat configuration; --name=value, so that negative numbers stay values."""
    args = []
    for name, value in flat.items():
        flag, rule = cli.flag_of(name), rule_of(name)
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + flag[2:])
        elif isinstance(rule, Layers):
            args.append(f"{flag}={','.join(value)}")
        else:
            args.append(f"{flag}={value!r}" if isinstance(value, float) else f"{flag}={value}")
    return args


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat=valid_settings(lr=USUAL_LR, alpha=USUAL_ALPHA))
def test_valid_configurations_through_the_cli(tmp_path_factory, flat):
    cfg = config_from_flat(flat)
    out = tmp_path_factory.mktemp("cli") / "run"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main([*cli_args(flat), "--no-png", "--out", str(out)])
    assert "Traceback" not in stderr.getvalue()
    outcome = engine_outcome(cfg)
    if isinstance(outcome, TrainingDiverged):
        assert code == 1 and "training stopped:" in stderr.getvalue() and "diverged" in stderr.getvalue()
        return
    assert code == 0, stderr.getvalue()[-500:]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["config"] == cfg.to_dict()
    assert metrics["accuracy"] == outcome.result.accuracy


# ------------------------------------------------------------------ clashes: refused up front, by name, with a way out

@st.composite
def clashing_settings(draw):
    """(settings each valid alone but not together, which clash it is)."""
    flat = draw(valid_settings())
    kind = draw(st.sampled_from(["classification", "depth", "test_fraction"]))
    if kind == "classification":  # classification's two features give at most four classes
        if draw(st.booleans()):
            flat["dataset"] = "classification"
        else:
            flat.update(shift_kind="dataset", shift_dataset="classification")
        flat["n_classes"] = 5
    elif kind == "depth":  # an adapter on a layer the network does not have
        flat["hidden_layers"] = depth = draw(st.integers(1, 2))
        missing = draw(st.lists(st.sampled_from(LAYERS[depth + 1:]), min_size=1, unique=True))
        present = draw(st.lists(st.sampled_from(LAYERS[:depth + 1]), unique=True))
        flat["target_modules"] = draw(st.permutations(present + missing))
    else:  # 40 points, a tenth held out: 4 test points cannot hold 5 classes
        multi = draw(st.sampled_from(["blobs", "gaussian_quantiles"]))
        flat.update(n_samples=40, test_fraction=0.1, n_classes=5)
        if draw(st.booleans()):
            flat["dataset"] = multi
        else:
            flat.update(shift_kind="dataset", shift_dataset=multi)
        for key in ("dataset", "shift_dataset"):
            if flat[key] == "classification":
                flat[key] = "moons"
    return flat, kind


FIELD = {"classification": "data.n_classes", "depth": "lora.target_modules", "test_fraction": "data.test_fraction"}


@settings(max_examples=150, deadline=None)
@given(case=clashing_settings())
def test_clashing_settings_are_refused_by_name_with_what_would_work(case):
    flat, kind = case
    with pytest.raises(ConfigError) as err:
        config_from_flat(flat)
    e = err.value
    assert e.field == FIELD[kind]
    name = next(n for n, path in FLAT_FIELDS.items() if ".".join(path) == e.field)
    for lang in LANGUAGES:
        message = config_error_text(e, lang)
        assert e.field in message and field_text(lang, name)[0] in message
    english = config_error_text(e, "en")
    if kind == "classification":
        assert f"at most {e.fields['most']}" in english
        fix = {"n_classes": e.fields["most"]}
        data, shift = DataConfig(**{k: flat[k] for k in ("dataset", "n_samples", "noise", "n_classes",
                                                         "test_fraction", "seed")}), shift_of(flat)
        with pytest.raises(ValueError):  # justified: scikit-learn cannot draw it
            make_tasks(data, shift)
    elif kind == "depth":
        most = flat["hidden_layers"] + 1
        assert f"fc1 … fc{most}" in english
        fix = {"target_modules": [x for x in flat["target_modules"] if int(x[2:]) <= most] or ["fc1"]}
    else:
        assert f"at least {e.fields['least']:g}" in english
        fix = {"test_fraction": e.fields["least"]}
        data = DataConfig(n_samples=40, test_fraction=0.1, n_classes=5, dataset=flat["dataset"], seed=flat["seed"])
        with pytest.raises(ValueError):  # justified: the stratified split cannot keep a test point per class
            make_tasks(data, shift_of(flat))
    config_from_flat({**flat, **fix})  # what the message says would work, does


def shift_of(flat: dict) -> ShiftConfig:
    return ShiftConfig(kind=flat["shift_kind"], angle=flat["angle"], offset=flat["offset"], factor=flat["factor"],
                       dataset=flat["shift_dataset"])


def each_alone():
    """Every setting drawn from its own rule, independently of the others (the edges that clash drawn often)."""
    def one(name):
        rule = rule_of(name)
        if isinstance(rule, Num):
            edges = {"n_samples": [40], "test_fraction": [0.1], "n_classes": [5]}.get(name, [])
            return st.sampled_from(edges) | within(name) if edges else within(name)
        if isinstance(rule, Layers):
            return st.lists(st.sampled_from(rule.choices), min_size=1, unique=True)
        return st.booleans() if name == "use_rslora" else st.sampled_from(rule.choices)
    return st.fixed_dictionaries({name: one(name) for name in FLAT_FIELDS})


@settings(max_examples=200, deadline=None)
@given(flat=each_alone())
def test_whatever_the_rules_accept_the_data_and_the_model_can_build(flat):
    """Either the whole configuration is refused for a clash (every setting alone is valid here), or
    scikit-learn draws and splits its tasks keeping every class on both sides, and the adapters attach."""
    try:
        cfg = config_from_flat(flat)
    except ConfigError as e:
        assert e.key in ("must_depth", "must_classification", "must_test_fraction"), e
        assert e.field in config_error_text(e, "en")
        return
    for task in make_tasks(cfg.data, cfg.shift):
        assert set(np.unique(task.y_test)) == set(np.unique(task.y_train)) == set(range(task.n_classes))
    s = start(cfg)
    model = METHODS["lora"].attach(s.model, cfg.lora, s.generator)
    n_out = max(s.source.n_classes, s.target.n_classes)
    assert model(torch.from_numpy(s.source.X_test)).shape == (len(s.source.X_test), n_out)


# ------------------------------------------------------------------ links

@settings(max_examples=200, deadline=None)
@given(flat=valid_settings(steps=within("pretrain_steps")))
def test_the_apps_own_link_restores_exactly_its_configuration(flat):
    cfg = config_from_flat(flat)
    shown = flat_from_config(cfg)  # what the controls hold when Share is pressed
    for lang in LANGUAGES:
        params = dict(parse_qsl(query_from_settings(shown, lang).lstrip("?"), keep_blank_values=True))
        assert params["lang"] == lang and set(FLAT_FIELDS) <= set(params)
        found, problems = settings_from_query(params)
        assert problems == []
        assert found == shown
        assert config_from_flat(found) == cfg
