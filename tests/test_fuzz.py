"""Property-based tests: random values of any type against the settings check and the /train HTTP API.

The config part calls lora_demo.config.config_from_flat directly and is fast. The HTTP part
sends a bounded number of random requests (hypothesis max_examples=25 per test) to the app
launched in-process by the `app_url` fixture; valid requests run on small settings
(80 samples, 20 + 20 steps), so the whole file stays well under a minute on 2 cores.

    python -m pytest tests/test_fuzz.py
"""
import json
import math

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sse import sse_events

from lora_demo.config import (FLAT_FIELDS, ConfigError, Choice, Flag, Layers, Num, RunConfig, config_from_flat,
                              flat_from_config, rule_of)

NAMES = list(FLAT_FIELDS)
PATH = {name: ".".join(FLAT_FIELDS[name]) for name in NAMES}
SMALL = dict(flat_from_config(RunConfig()), n_samples=80, pretrain_steps=20, adapt_steps=20)

# integers far outside float range; JSON carries them as plain digit strings
HUGE_INTS = st.builds(lambda digits, sign: sign * 10 ** digits, st.integers(309, 1000), st.sampled_from([1, -1]))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=-1e308, max_value=1e308),
    st.text(max_size=12), st.sampled_from(["", " ", "fc1", "fc1,fc2", "moons", "rotate", "peft", "1", "2.5", "NaN"]),
)
ANY = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                        max_size=3), max_leaves=8)


def near_valid(name: str):
    """Values at and around a field's allowed range, so that valid settings come up often too."""
    rule = rule_of(name)
    if isinstance(rule, Num):
        lo, hi = rule.lo, rule.hi
        edges = [lo, hi, (lo + hi) / 2, lo - 1, hi + 1, lo + 0.5, math.nextafter(hi, math.inf)]
        numbers = st.integers(int(lo) - 2, int(hi) + 2) if rule.integer else st.floats(lo - 1, hi + 1)
        return st.sampled_from(edges) | numbers
    if isinstance(rule, Choice):
        return st.sampled_from(rule.choices) | st.sampled_from([c.upper() for c in rule.choices])
    if isinstance(rule, Flag):
        return st.booleans() | st.sampled_from([0, 1, "true"])
    assert isinstance(rule, Layers)
    names = list(rule.choices) + ["fc0", "fc5", "FC1"]
    return st.lists(st.sampled_from(names), max_size=5) | st.sampled_from(["fc1, fc3", "fc2,fc2", ","])


def value_for(name: str):
    return ANY | near_valid(name)


def check_outcome(values: dict):
    """config_from_flat(values) is either a RunConfig or a ConfigError naming one of the given settings."""
    try:
        cfg = config_from_flat(values)
    except ConfigError as e:
        assert e.field in {PATH[k] for k in values}, (e.field, values)
        assert "must be" in str(e), str(e)
        return None
    assert isinstance(cfg, RunConfig)
    for name, value in values.items():
        rule = rule_of(name)
        section, field = FLAT_FIELDS[name]
        cleaned = getattr(getattr(cfg, section), field)
        assert rule(PATH[name], cleaned) == cleaned  # the stored value passes its own rule again
        if isinstance(rule, Layers):
            assert set(cleaned) == set(rule(PATH[name], value))
        elif isinstance(rule, Num):
            assert cleaned == value and not isinstance(value, bool)
        else:
            assert cleaned == value and type(cleaned) is type(value)
    return cfg


# ------------------------------------------------------------------ the settings check, in-process

@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_value_for_one_field(name, data):
    check_outcome({name: data.draw(value_for(name), label=name)})


HOSTILE = [10 ** 400, -(10 ** 400), 10 ** 5000, float("nan"), float("inf"), -float("inf"), 1e308 * 10, -0.0,
           True, None, [], {}, "", [None], {"fc1": 1}]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_values_for_every_field(name):
    for value in HOSTILE:
        check_outcome({name: value})


def several(values_for, min_size=1, max_size=6):
    """{distinct settings: a value drawn from values_for(name)}."""
    return st.sets(st.sampled_from(NAMES), min_size=min_size, max_size=max_size).flatmap(
        lambda keys: st.fixed_dictionaries({k: values_for(k) for k in sorted(keys)}))


@settings(max_examples=300, deadline=None)
@given(several(value_for))
def test_any_values_for_several_fields(values):
    check_outcome(values)


@settings(max_examples=200, deadline=None)
@given(key=st.one_of(st.text(max_size=15), st.integers(), st.none(), st.booleans(), st.floats(allow_nan=True),
                     st.tuples(st.integers())).filter(lambda k: k not in FLAT_FIELDS),
       value=ANY, others=several(value_for, min_size=0, max_size=3))
def test_unknown_setting_is_a_config_error(key, value, others):
    with pytest.raises(ConfigError) as err:
        config_from_flat({**others, key: value})
    assert err.value.field == str(key) and "must be" in str(err.value)


# ------------------------------------------------------------------ the HTTP API, against the running app

@pytest.fixture(scope="module")
def train_params(app_url) -> dict:
    """The /train endpoint's parameters in call order, with their defaults (from the app's API description)."""
    info = httpx.get(f"{app_url}/gradio_api/info", timeout=20).json()
    params = info["named_endpoints"]["/train"]["parameters"]
    assert set(NAMES) <= {p["parameter_name"] for p in params}
    return {p["parameter_name"]: p["parameter_default"] for p in params}


def post(app_url: str, body: str) -> tuple[int, str]:
    """POST a hand-written body to the queue-backed REST route; the event stream's text if accepted."""
    r = httpx.post(f"{app_url}/gradio_api/call/train", content=body.encode(),
                   headers={"content-type": "application/json"}, timeout=20)
    if r.status_code != 200:
        return r.status_code, r.text
    event_id = r.json()["event_id"]
    with httpx.stream("GET", f"{app_url}/gradio_api/call/train/{event_id}", timeout=90) as s:
        return 200, "".join(s.iter_text())


def error_message(text: str) -> str | None:
    """The message of the stream's error event (None if the event has none); fails if there is no error."""
    errors = [json.loads(d) for k, d in sse_events(text) if k == "error"]
    assert errors, text[:500]
    return errors[-1].get("error") if isinstance(errors[-1], dict) else None


def expect(status: int, text: str, data: list, params: list[str]) -> None:
    """The oracle for a full argument list: the local settings check decides what the server must answer."""
    assert status == 200, (status, text[:300])
    assert "Traceback" not in text
    values = {n: v for n, v in zip(params, data) if n in FLAT_FIELDS}  # arguments past the last are ignored
    language = dict(zip(params, data)).get("language", "en")
    if not (isinstance(language, str) and language in ("en", "zh")):  # checked first, so named first
        msg = error_message(text)
        assert msg and "language" in msg and "must be" in msg, msg
        return
    try:
        cfg, local = config_from_flat(values), None
    except Exception as e:  # a ConfigError, or the local check itself broke
        cfg, local = None, e
    if isinstance(local, ConfigError):
        msg = error_message(text)
        # a single setting's rule says "must be"; a clash between settings says "must name layers this model has"
        assert msg and local.field in msg and ("must be" in msg or "must name" in msg), (msg, local)
    elif local is not None:
        msg = error_message(text)
        assert msg, f"{type(local).__name__} ({local}) reached the client as an error without a message"
    else:
        events = sse_events(text)
        if events and events[-1][0] == "complete":
            metrics = json.loads(events[-1][1])[-1]
            assert metrics["config"] == cfg.to_dict()
            assert math.isfinite(metrics["accuracy"]["lora_target"])
        else:  # a valid setting may still diverge (a huge learning rate): a clear message then
            assert error_message(text), text[:500]


def call_data(train_params: dict, changes: dict) -> list:
    """Every /train argument in order: SMALL settings, the changes, the API's defaults for the rest."""
    values = {**train_params, **SMALL, **changes}
    return [values[n] for n in train_params]


def body_for(data: list) -> str:
    return json.dumps({"data": data})  # NaN and ±Infinity go out as JSON's common extension tokens


JSON_ANY = st.recursive(
    SCALARS.filter(lambda v: not (isinstance(v, int) and abs(v) > 10 ** 1000)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
HTTP_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HTTP_SETTINGS
@given(changes=several(lambda name: JSON_ANY | near_valid(name), max_size=3))
@example(changes={"rank": 10 ** 400})
@example(changes={"rank": 3, "target_modules": ["fc2"]})
@example(changes={"target_modules": ["fc4"]})  # a layer the depth does not have: a clash, worded as one
def test_random_values_for_random_parameters(app_url, train_params, changes):
    body = body_for(call_data(train_params, changes))
    status, text = post(app_url, body)
    expect(status, text, json.loads(body)["data"], list(train_params))


@HTTP_SETTINGS
@given(body=st.one_of(
    JSON_ANY.map(json.dumps),
    st.text(max_size=30),
    st.lists(JSON_ANY, max_size=25).map(lambda d: json.dumps({"data": d})),
    st.tuples(st.integers(0, 25), st.dictionaries(st.text(max_size=8), JSON_ANY, max_size=2)).map(
        lambda t: {"cut": t[0], "extra": t[1]}),
))
@example(body={"cut": 99, "extra": {}})
def test_random_bodies(app_url, train_params, body):
    if isinstance(body, dict):  # the first `cut` arguments of a valid call, plus random top-level keys
        data = call_data(train_params, {})
        body = json.dumps({"data": data[:body["cut"]] + [1, 2] * (body["cut"] > len(data)), **body["extra"]})
    status, text = post(app_url, body)
    assert "Traceback" not in text
    if status != 200:  # refused before the queue: a client error with a reason, never a server error
        assert 400 <= status < 500 and "detail" in text, (status, text[:300])
        return
    data = json.loads(body)["data"]
    if len(data) >= len(train_params):
        expect(status, text, data, list(train_params))
    else:  # too few arguments: Gradio refuses the call and (with show_error=True) says how many it needed
        assert [k for k, _ in sse_events(text)] == ["error"], text[:300]
        assert "input values" in (error_message(text) or ""), text[:300]


def test_server_still_serves_after_the_fuzzing(app_url, train_params):
    status, text = post(app_url, body_for(call_data(train_params, {})))
    events = sse_events(text)
    assert status == 200 and events[-1][0] == "complete", text[:300]
    metrics = json.loads(events[-1][1])[-1]
    assert metrics["config"] == config_from_flat(SMALL).to_dict()
