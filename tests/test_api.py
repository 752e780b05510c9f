"""The /train endpoint through a real gradio_client and raw HTTP: streaming, hostile input, isolation."""
import json
import math
import threading
import time

import httpx
import pytest
from gradio_client import Client

from lora_demo.config import RunConfig, flat_from_config

VALID = flat_from_config(RunConfig())
QUICK = dict(VALID, n_samples=120, pretrain_steps=60, adapt_steps=60)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def finish(job, seconds=60):
    """Wait for a job with a deadline (iterating a rejected job can block), then return its result."""
    deadline = time.time() + seconds
    while not job.done():
        assert time.time() < deadline, "job did not finish in time"
        time.sleep(0.05)
    return job.result(timeout=5)


def test_streams_and_finishes_with_metrics(client):
    job = client.submit(**VALID, api_name="/train")
    result = finish(job)
    updates = job.outputs()
    assert len(updates) >= 5  # start, pretraining frames, phase change, adaptation frames, end
    assert any("Pretraining" in u[0] for u in updates) and "Done" in result[0]
    metrics = result[-1]
    assert metrics["config"] == RunConfig().to_dict()
    acc = metrics["accuracy"]
    assert acc["base_source"] >= 0.95 and acc["base_target"] <= 0.75 and acc["lora_target"] >= 0.95
    assert metrics["params"]["lora"]["trainable"] == 2 * (64 + 64)
    assert metrics["base_unchanged"] is True
    assert metrics["merge_max_abs_diff"] <= 1e-6 * max(1, metrics["merge_output_scale"])
    assert set(metrics["final_loss"]) == {"pretrain_train", "pretrain_test", "adapt_train", "adapt_test"}
    for plot in result[1:6]:
        assert plot["type"] == "plotly"
        fig = json.loads(plot["plot"])
        assert fig["layout"]["height"] > 0 and fig["data"]
    assert "trainable params: 256 || all params: 4,738" in result[6]
    zip_path, code = result[7], result[8]
    import zipfile
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
    assert {"lora_adapter/adapter_config.json", "lora_adapter/adapter_model.safetensors",
            "lora_adapter/base_model.safetensors"} <= names
    assert "PeftModel.from_pretrained" in code and '["fc2"]' in code


HOSTILE = [
    ("rank", 0, "lora.rank"), ("rank", 2.5, "lora.rank"), ("rank", 65, "lora.rank"), ("rank", "2", "lora.rank"),
    ("alpha", -1, "lora.alpha"), ("alpha", 1e308, "lora.alpha"), ("lr", 0, "train.lr"), ("lr", 1e9, "train.lr"),
    ("dataset", "iris", "data.dataset"), ("dataset", None, "data.dataset"), ("shift_kind", "shear", "shift.kind"),
    ("use_rslora", "yes", "lora.use_rslora"), ("use_rslora", {"a": 1}, "lora.use_rslora"),
    ("target_modules", ["fc9"], "lora.target_modules"), ("target_modules", [], "lora.target_modules"),
    ("target_modules", None, "lora.target_modules"), ("n_samples", 10**9, "data.n_samples"),
    ("seed", -1, "data.seed"), ("seed", None, "data.seed"), ("init", ["peft"], "lora.init"),
    ("pretrain_steps", "100", "train.pretrain_steps"), ("hidden_size", 10**6, "model.hidden_size"),
    ("angle", 720, "shift.angle"), ("test_fraction", 1.0, "data.test_fraction"),
]


@pytest.mark.parametrize("name,value,field", HOSTILE, ids=[f"{n}={v!r}" for n, v, _ in HOSTILE])
def test_hostile_input_gets_a_clear_error(client, name, value, field):
    job = client.submit(**dict(VALID, **{name: value}), api_name="/train")
    with pytest.raises(Exception) as err:
        finish(job, 20)
    msg = str(err.value)
    assert field in msg and "must be" in msg, msg
    assert "Traceback" not in msg


def test_cross_field_and_divergence_messages(client):
    job = client.submit(**dict(QUICK, hidden_layers=1, target_modules=["fc3"]), api_name="/train")
    with pytest.raises(Exception, match="fc1 … fc2"):
        finish(job, 20)
    job = client.submit(**dict(QUICK, lr=10), api_name="/train")
    with pytest.raises(Exception, match="diverged.*Lower the learning rate"):
        finish(job, 30)


def raw_call(app_url, body_text: str) -> str:
    """POST to the queue-backed REST route with a hand-written JSON body, then read the event stream."""
    r = httpx.post(f"{app_url}/gradio_api/call/train", content=body_text,
                   headers={"content-type": "application/json"}, timeout=20)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    event_id = r.json()["event_id"]
    with httpx.stream("GET", f"{app_url}/gradio_api/call/train/{event_id}", timeout=60) as s:
        return "".join(s.iter_text())


@pytest.mark.parametrize("token,field", [("NaN", "lora.rank"), ("Infinity", "lora.rank"), ("-Infinity", "lora.rank")])
def test_non_finite_numbers_over_raw_http(app_url, token, field):
    values = [json.dumps(v) for v in VALID.values()] + ['"en"']
    values[list(VALID).index("rank")] = token
    text = raw_call(app_url, '{"data": [' + ",".join(values) + "]}")
    assert "event: error" in text and field in text, text[:500]


def test_too_few_values_over_raw_http_say_so(app_url):
    text = raw_call(app_url, json.dumps({"data": list(VALID.values())[:5]}))
    assert "event: error" in text and "enough input values" in text, text[:300]


def test_unknown_language_is_refused(client):
    with pytest.raises(Exception, match="language must be one of en, zh"):
        finish(client.submit(**QUICK, language="fr", api_name="/train"), 20)


def test_garbage_bodies_over_raw_http(app_url):
    for body in ["{", '{"data": 5}', '{"data": []}', '{"data": [' + "1," * 40 + "1]}", "null"]:
        text = raw_call(app_url, body)
        assert "Traceback" not in text
        assert "event: complete" not in text or "error" in text.lower(), (body, text[:300])


def test_direct_route_is_closed_and_server_still_serves(app_url, client):
    r = httpx.post(f"{app_url}/gradio_api/run/train", json={"data": list(VALID.values()) + ["en"]}, timeout=20)
    assert r.status_code >= 400  # api_open=False: nothing bypasses the queue
    result = finish(client.submit(**QUICK, api_name="/train"))
    assert math.isfinite(result[-1]["accuracy"]["lora_target"])


def test_concurrent_sessions_get_their_own_results(app_url):
    settings = [dict(QUICK, rank=1, seed=1, dataset="moons"), dict(QUICK, rank=5, seed=2, dataset="circles",
                                                                    target_modules=["fc1", "fc2"])]
    results = [None, None]

    def go(i):
        results[i] = finish(Client(app_url, verbose=False).submit(**settings[i], api_name="/train"))

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    one, two = (r[-1] for r in results)
    assert one["params"]["lora"]["trainable"] == 1 * (64 + 64)  # the default target fc2
    assert two["params"]["lora"]["trainable"] == 5 * (2 + 64) + 5 * (64 + 64)
    assert one["config"]["data"]["dataset"] == "moons" and two["config"]["data"]["dataset"] == "circles"


def test_insights_endpoint_returns_every_panel(client):
    result = finish(client.submit(**QUICK, language="en", api_name="/insights"), 120)
    status, *panels = result
    assert "Done" in status
    names = ["m_full", "m_adapter", "m_lora", "m_table", "m_params", "m_lr", "sweep", "delta", "strength_plot",
             "merge", "alpha", "memory"]
    got = dict(zip(names, panels))
    for name in ("m_full", "m_adapter", "m_lora", "m_params", "m_lr", "sweep", "delta", "strength_plot", "alpha",
                 "memory"):
        assert isinstance(got[name], dict) and "plot" in got[name], (name, str(got[name])[:200])
        assert json.loads(got[name]["plot"])["data"], name
    strength = json.loads(got["strength_plot"]["plot"])
    assert len(strength["layout"]["sliders"][0]["steps"]) == 21
    assert "Adapter (m=" in got["m_table"] and "lr 0.03" in got["m_table"] and "float32" in got["merge"]
    with pytest.raises(Exception, match="lora.rank"):
        finish(client.submit(**dict(QUICK, rank=0), api_name="/insights"), 20)


def test_insights_refuse_settings_too_costly_for_a_shared_machine(client):
    heavy = dict(VALID, n_samples=1000, hidden_size=128, hidden_layers=3, pretrain_steps=2000, adapt_steps=2000)
    start = time.time()
    with pytest.raises(Exception, match="this server allows 15 s per request"):
        finish(client.submit(**heavy, api_name="/insights"), 20)
    assert time.time() - start < 10  # refused up front, not after training
