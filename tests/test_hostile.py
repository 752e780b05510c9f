"""Hostile input at every door of the app: /train and /insights (a real gradio_client, and raw HTTP),
the link parser, the upload route, raw protocol requests, and the command line.

Each case must end in a clear message that names the setting and says what is allowed, with a title
where the protocol carries one; never a stack trace, never the generic "Something went wrong", and
the server keeps serving: the last test runs a small valid job.

    python -m pytest tests/test_hostile.py
"""
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from starlette.datastructures import QueryParams

from lora_demo import cli
from sse import sse_events
from lora_demo.config import FLAT_FIELDS, RunConfig, config_from_flat, flat_from_config
from lora_demo.links import DEFAULTS, settings_from_query
from lora_demo.text import field_text, t

ROOT = Path(__file__).resolve().parents[1]
VALID = flat_from_config(RunConfig())
QUICK = dict(VALID, n_samples=80, pretrain_steps=20, adapt_steps=20)
INVALID_TITLE = t("en", "err_invalid")
FLAT_NAME = {".".join(path): name for name, path in FLAT_FIELDS.items()}  # "lora.rank" -> "rank"


# ------------------------------------------------------------------ helpers

class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))  # with the stack trace, when the record carries one


@pytest.fixture
def server_log(capfd):
    """A function returning what this process (and so the in-process server) printed or logged so far
    during the test: stdout, stderr, and every record of the root and uvicorn loggers."""
    records = _Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]  # uvicorn's do not reach the root
    for logger in loggers:
        logger.addHandler(records)

    def text() -> str:
        out, err = capfd.readouterr()
        return "\n".join([out, err, *records.lines])
    yield text
    for logger in loggers:
        logger.removeHandler(records)


def assert_clean(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text[-2000:]
        assert "something went wrong" not in text.lower(), text[-2000:]


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def refusal(client, api: str, values: dict, seconds: float = 20) -> AppError:
    """The error a job ends with (failing if it finishes, or takes too long)."""
    job = client.submit(**values, api_name=api)
    deadline = time.time() + seconds
    while not job.done():
        assert time.time() < deadline, "the request was neither refused nor finished in time"
        time.sleep(0.05)
    with pytest.raises(AppError) as err:
        job.result(timeout=5)
    return err.value


def raw_call(app_url: str, api: str, body: str) -> tuple[int, str]:
    """POST a hand-written body to the REST route of `api`; (status, event stream text) once accepted."""
    r = httpx.post(f"{app_url}/gradio_api/call/{api}", content=body.encode(),
                   headers={"content-type": "application/json"}, timeout=20)
    if r.status_code != 200:
        return r.status_code, r.text
    event_id = r.json()["event_id"]
    with httpx.stream("GET", f"{app_url}/gradio_api/call/{api}/{event_id}", timeout=60) as s:
        return 200, "".join(s.iter_text())


def body_with(name: str, json_token: str) -> str:
    """A /train or /insights body of QUICK settings, with `name` set to a raw JSON token (NaN, 1e999 …)."""
    tokens = [json.dumps(v) for v in QUICK.values()] + ['"en"']
    tokens[list(QUICK).index(name)] = json_token
    return '{"data": [' + ", ".join(tokens) + "]}"


# ------------------------------------------------------------------ /train and /insights, through gradio_client

BAD_VALUES = [  # (changes, the setting the message must name, words saying what is allowed)
    # numbers as strings
    ({"rank": "2"}, "lora.rank", "an integer in [1, 64]"),
    ({"alpha": "16"}, "lora.alpha", "(0, 256]"),
    ({"noise": "0.1"}, "data.noise", "[0, 0.5]"),
    # lists, dicts, None, booleans where a number, a choice or a flag belongs
    ({"n_samples": [400]}, "data.n_samples", "[40, 1,000]"),
    ({"angle": [90, 90]}, "shift.angle", "[-180, 180]"),
    ({"hidden_size": {"value": 64}}, "model.hidden_size", "[2, 128]"),
    ({"use_rslora": {"on": True}}, "lora.use_rslora", "true or false"),
    ({"use_rslora": 1}, "lora.use_rslora", "true or false"),
    ({"seed": None}, "data.seed", "[0, 2,147,483,647]"),
    ({"init": None}, "lora.init", "one of peft, seed, gaussian"),
    ({"rank": True}, "lora.rank", "an integer in [1, 64]"),
    ({"dataset": False}, "data.dataset", "one of moons, circles"),
    # huge integers
    ({"seed": 10 ** 30}, "data.seed", "[0, 2,147,483,647]"),
    ({"alpha": 10 ** 400}, "lora.alpha", "(0, 256]"),
    # out of range, or not whole
    ({"rank": 0}, "lora.rank", "an integer in [1, 64]"),
    ({"n_samples": 39}, "data.n_samples", "[40, 1,000]"),
    ({"test_fraction": 0.05}, "data.test_fraction", "[0.1, 0.5]"),
    ({"factor": 0.29}, "shift.factor", "[0.3, 3]"),
    ({"hidden_layers": 4}, "model.hidden_layers", "[1, 3]"),
    ({"lr": -0.01}, "train.lr", "(0, 10]"),
    ({"adapt_steps": 2001}, "train.adapt_steps", "[10, 2,000]"),
    ({"hidden_size": 64.5}, "model.hidden_size", "an integer in [2, 128]"),
    # unknown choices
    ({"dataset": "iris"}, "data.dataset", "one of moons, circles"),
    ({"shift_kind": "shear"}, "shift.kind", "one of rotate, translate, scale, dataset, none"),
    ({"shift_dataset": "MOONS"}, "shift.dataset", "one of moons, circles"),
    ({"init": "xavier"}, "lora.init", "one of peft, seed, gaussian"),
    # bad layer lists
    ({"target_modules": ["fc1", "fc1"]}, "lora.target_modules", "distinct layers from fc1 … fc4"),
    ({"target_modules": ["fc0"]}, "lora.target_modules", "fc1 … fc4"),
    ({"target_modules": ["FC2"]}, "lora.target_modules", "fc1 … fc4"),
    ({"target_modules": [1, 2]}, "lora.target_modules", "fc1 … fc4"),
    ({"target_modules": "fc1;fc2"}, "lora.target_modules", "fc1 … fc4"),
    ({"target_modules": []}, "lora.target_modules", "non-empty"),
    # settings fine alone that clash with others
    ({"dataset": "classification", "n_classes": 5}, "data.n_classes", "at most 4"),
    ({"shift_kind": "dataset", "shift_dataset": "classification", "n_classes": 5}, "data.n_classes", "at most 4"),
    ({"dataset": "blobs", "n_classes": 5, "n_samples": 40, "test_fraction": 0.1}, "data.test_fraction",
     "at least 0.11"),
    ({"hidden_layers": 1, "target_modules": ["fc3"]}, "lora.target_modules", "fc1 … fc2"),
    ({"hidden_layers": 2, "target_modules": ["fc1", "fc4"]}, "lora.target_modules", "fc1 … fc3"),
    # the language
    ({"language": "fr"}, "language", "one of en, zh"),
    ({"language": None}, "language", "one of en, zh"),
    ({"language": ["en"]}, "language", "one of en, zh"),
]
API_CASES = [(api, *case) for api in ("/train", "/insights") for case in BAD_VALUES]


def case_id(case) -> str:
    api, changes, *_ = case
    return api[1:] + ":" + ",".join(f"{k}={v!r}"[:40] for k, v in changes.items())


@pytest.mark.parametrize("api,changes,field,allowed", API_CASES, ids=[case_id(c) for c in API_CASES])
def test_api_refuses_a_bad_setting_by_name(client, server_log, api, changes, field, allowed):
    error = refusal(client, api, dict(QUICK, **changes))
    assert field in error.message and allowed in error.message, error.message
    assert "must" in error.message
    assert error.title == INVALID_TITLE
    assert_clean(error.message, server_log())


def test_api_refusals_speak_the_callers_language(client, server_log):
    error = refusal(client, "/train", dict(QUICK, rank=0, language="zh"))
    assert "lora.rank" in error.message and field_text("zh", "rank")[0] in error.message
    assert error.title == t("zh", "err_invalid") != INVALID_TITLE
    assert_clean(error.message, server_log())


# ------------------------------------------------------------------ raw HTTP: tokens no JSON library sends

RAW_CASES = [  # (endpoint, setting, raw JSON token, the name in the message)
    ("train", "rank", "NaN", "lora.rank"),
    ("train", "alpha", "Infinity", "lora.alpha"),
    ("train", "lr", "-Infinity", "train.lr"),
    ("train", "angle", "NaN", "shift.angle"),
    ("insights", "noise", "Infinity", "data.noise"),
    ("insights", "seed", "-Infinity", "data.seed"),
    ("insights", "seed", "1" + "0" * 400, "data.seed"),
    ("train", "n_samples", "1e999", "data.n_samples"),  # a float literal too large: Python reads inf
]


@pytest.mark.parametrize("api,name,token,field", RAW_CASES, ids=[f"{a}:{n}={tok[:12]}" for a, n, tok, _ in RAW_CASES])
def test_raw_http_error_event_has_a_title_and_names_the_setting(app_url, server_log, api, name, token, field):
    status, text = raw_call(app_url, api, body_with(name, token))
    assert status == 200, text
    errors = [json.loads(d) for kind, d in sse_events(text) if kind == "error"]
    assert len(errors) == 1 and "complete" not in text, text[:500]
    assert errors[0]["title"] == INVALID_TITLE
    assert field in errors[0]["error"] and "must be" in errors[0]["error"]
    assert_clean(text, server_log())


def test_integer_beyond_pythons_digit_limit_is_a_client_error(app_url, server_log):
    status, text = raw_call(app_url, "train", body_with("seed", "1" + "0" * 5000))
    assert status == 400 and "detail" in json.loads(text), text[:300]
    assert_clean(text, server_log())


# ------------------------------------------------------------------ the link parser

LINKS = [  # (query string, settings kept, settings reported)
    ("", {}, set()),
    ("rank=abc", {}, {"lora.rank"}),
    ("rank=", {}, {"lora.rank"}),
    ("rank=%00", {}, {"lora.rank"}),
    ("dataset=%F0%9F%98%80", {}, {"data.dataset"}),                     # an emoji
    ("shift_kind=%D7%A1%D7%99%D7%91%D7%95%D7%91&seed=4", {"seed": 4}, {"shift.kind"}),  # right-to-left text
    ("init=pe%CC%81ft", {}, {"lora.init"}),                             # a combining accent
    ("use_rslora=maybe&hidden_size=32", {"hidden_size": 32}, {"lora.use_rslora"}),
    ("use_rslora=YES", {"use_rslora": True}, set()),
    ("rank=3&rank=abc", {}, {"lora.rank"}),                             # a repeated key: the last one counts
    ("rank=abc&rank=3", {"rank": 3}, set()),
    ("seed=1e400", {}, {"data.seed"}),
    ("dataset=" + "x" * 10_000, {}, {"data.dataset"}),
    ("seed=" + "9" * 5000, {}, {"data.seed"}),
    ("alpha=nan&lr=inf&noise=-0.1&angle=-180", {"angle": -180.0}, {"lora.alpha", "train.lr", "data.noise"}),
    ("n_samples=1e2&rank=2.0", {"n_samples": 100, "rank": 2}, set()),
    ("target_modules=fc1,,fc9&rank=4", {"rank": 4}, {"lora.target_modules"}),
    ("target_modules=fc2,fc1,fc2", {}, {"lora.target_modules"}),
    ("no_such_setting=1&=&lang=", {}, set()),                          # unknown names are ignored
    ("hidden_layers=1&target_modules=fc3", {"hidden_layers": 1}, {"lora.target_modules"}),
    ("dataset=classification&n_classes=5", {"dataset": "classification"}, {"data.n_classes"}),
    ("dataset=blobs&n_classes=5&n_samples=40&test_fraction=0.1",
     {"dataset": "blobs", "n_classes": 5, "n_samples": 40}, {"data.test_fraction"}),
    ("rank=abc&alpha=nan&use_rslora=maybe&dataset=iris&seed=3&hidden_layers=1&target_modules=fc1,fc3",
     {"seed": 3, "hidden_layers": 1}, {"lora.rank", "lora.alpha", "lora.use_rslora", "data.dataset",
                                       "lora.target_modules"}),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("query,kept,reported", LINKS, ids=[q[:40] or "empty" for q, _, _ in LINKS])
def test_link_keeps_good_settings_and_names_each_bad_one(query, kept, reported, lang):
    params = dict(QueryParams(query + f"&lang={lang}"))  # exactly what the page's load handler does
    found, problems = settings_from_query(params)
    assert found == kept
    assert len(problems) == len(reported), problems
    for field in reported:
        message = next((p for p in problems if field in p), None)
        assert message is not None, (field, problems)
        assert field_text(lang, FLAT_NAME[field])[0] in message  # the control's label, in the link's language
        assert len(message) < 400  # a long or huge value is cut short in the message
    config_from_flat({**DEFAULTS, **found})  # what is kept opens the app with a valid configuration


def test_page_shows_what_a_bad_link_held(app_url, server_log):
    """The page's load handler (as the browser calls it, with the page's query) restores the good settings
    and shows one notice line per bad one."""
    deps = httpx.get(f"{app_url}/config", timeout=20).json()["dependencies"]
    fn_index = next(d["id"] for d in deps if d.get("api_name") == "apply_query")
    query = "rank=abc&seed=7&hidden_layers=1&target_modules=fc3&lang=zh"
    r = httpx.post(f"{app_url}/gradio_api/run/predict?{query}", timeout=20,
                   json={"fn_index": fn_index, "data": [], "session_hash": "hostile-link", "trigger_id": None})
    assert r.status_code == 200, r.text[:300]
    *settings, lang, notice = r.json()["data"]
    values = dict(zip(DEFAULTS, settings))
    assert values["seed"] == 7 and values["hidden_layers"] == 1 and lang == "zh"
    assert values["target_modules"]["choices"] == [["fc1", "fc1"], ["fc2", "fc2"]]
    lines = [line for line in notice.splitlines() if line.strip()]  # one line or paragraph per bad setting
    assert len(lines) == 2 and all(line.startswith("⚠️") for line in lines)
    assert "lora.rank" in lines[0] and "lora.target_modules" in lines[1] and "fc1 … fc2" in lines[1]
    assert_clean(notice, server_log())


# ------------------------------------------------------------------ the upload route (the app takes no uploads)

@pytest.mark.parametrize("size", [1, 20_000])
def test_any_upload_is_refused(app_url, server_log, size):
    r = httpx.post(f"{app_url}/gradio_api/upload", files={"files": ("a.txt", b"x" * size)}, timeout=20)
    assert r.status_code == 403 and "no uploads" in r.json()["detail"], r.text[:300]
    assert_clean(r.text, server_log())


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_over_the_body_limit_is_refused(app_url, server_log, chunked):
    head = b'--xx\r\nContent-Disposition: form-data; name="files"; filename="a.bin"\r\n\r\n'
    parts = [head] + [b"x" * 10_000] * 30 + [b"\r\n--xx--\r\n"]
    content = iter(parts) if chunked else b"".join(parts)  # an iterator goes out without a Content-Length
    r = httpx.post(f"{app_url}/gradio_api/upload", content=content, timeout=20,
                   headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code == 403 and "no uploads" in r.json()["detail"], r.text[:300]
    assert_clean(r.text, server_log())


@pytest.mark.parametrize("content", [
    b'--xx\r\nContent-Disposition: form-data; name="files"; filename=""\r\n\r\n\r\n--xx--\r\n',  # a form sent empty
    b'--xx\r\nContent-Disposition: form-data; name="files"; filename="empty.txt"\r\n\r\n\r\n--xx--\r\n',
    b"",
    b"--xx\r\ngarbage",
], ids=["no-file-chosen", "empty-file", "no-body", "cut-off"])
def test_empty_or_broken_upload_does_not_hurt_the_server(app_url, server_log, content):
    r = httpx.post(f"{app_url}/gradio_api/upload", content=content, timeout=20,
                   headers={"content-type": "multipart/form-data; boundary=xx"})
    assert r.status_code < 500, r.text[:300]
    assert httpx.get(f"{app_url}/gradio_api/info", timeout=20).status_code == 200
    assert_clean(r.text, server_log())


def test_upload_of_a_text_field_is_a_client_error(app_url, server_log):
    content = b'--xx\r\nContent-Disposition: form-data; name="files"\r\n\r\nhello\r\n--xx--\r\n'
    r = httpx.post(f"{app_url}/gradio_api/upload", content=content, timeout=20,
                   headers={"content-type": "multipart/form-data; boundary=xx"})
    time.sleep(0.5)  # uvicorn logs a crash after it has answered: wait for that line, here and not in the next test
    log = server_log()
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert_clean(r.text, log)


# ------------------------------------------------------------------ raw protocol requests

NOT_OBJECTS = ["[1, 2]", '"text"', "42", "null", "true", '{"data": 5}', '{"data": {"rank": 2}}']


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/call/insights"])
@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_gets_422(app_url, server_log, path, body):
    r = httpx.post(app_url + path, content=body, headers={"content-type": "application/json"}, timeout=20)
    assert r.status_code == 422 and "detail" in r.json(), r.text[:300]
    assert_clean(r.text, server_log())


@pytest.mark.parametrize("fn_index", [9999, -1, 10 ** 6])
def test_an_unknown_function_gets_404(app_url, server_log, fn_index):
    r = httpx.post(f"{app_url}/gradio_api/queue/join", timeout=20,
                   json={"data": [], "fn_index": fn_index, "session_hash": "hostile-fn"})
    assert r.status_code == 404 and "unknown function" in r.json()["detail"], r.text[:300]
    assert_clean(r.text, server_log())


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/call/train"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_300_kb_body_gets_413(app_url, server_log, path, chunked):
    parts = [b'{"data": ["'] + [b"x" * 10_000] * 30 + [b'"]}']
    content = iter(parts) if chunked else b"".join(parts)
    r = httpx.post(app_url + path, content=content, headers={"content-type": "application/json"}, timeout=20)
    assert r.status_code == 413 and "too large" in r.json()["detail"], r.text[:300]
    if chunked:
        assert "content-length" not in {k.lower() for k in r.request.headers}
    assert_clean(r.text, server_log())


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b'{"data": [], "fn_index": 0, "session_hash": NaN}'],
                         ids=["cut-off", "not-utf8", "nan-outside-data"])
def test_malformed_json_gets_422(app_url, server_log, body):
    r = httpx.post(f"{app_url}/gradio_api/queue/join", content=body, headers={"content-type": "application/json"},
                   timeout=20)
    assert r.status_code == 422 and "detail" in r.json(), r.text[:300]
    assert_clean(r.text, server_log())


# ------------------------------------------------------------------ the command line

def call_main(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as e:  # argparse's own refusals
        return e.code


CLI_CASES = [  # (arguments, words the one-line message must hold)
    (["--rank", "two"], ["--rank", "an integer in [1, 64]"]),
    (["--rank", ""], ["--rank"]),
    (["--rank", "1e400"], ["--rank", "an integer in [1, 64]", "inf"]),
    (["--seed", "9" * 5000], ["--seed", "[0, 2,147,483,647]"]),
    (["--alpha", "nan"], ["--alpha", "(0, 256]"]),
    (["--lr=-inf"], ["--lr", "(0, 10]"]),
    (["--n-samples", "39"], ["--n-samples", "[40, 1,000]"]),
    (["--hidden-size", "64.5"], ["--hidden-size", "an integer in [2, 128]"]),
    (["--shift-kind", "shear"], ["--shift-kind", "one of rotate"]),
    (["--init", ""], ["--init", "one of peft, seed, gaussian"]),
    (["--target-modules", ""], ["--target-modules", "non-empty"]),
    (["--target-modules", "fc1,fc1"], ["--target-modules", "distinct"]),
    (["--target-modules", "ｆｃ1"], ["--target-modules", "fc1 … fc4"]),
    (["--hidden-layers", "2", "--target-modules", "fc4"], ["--target-modules", "fc1 … fc3"]),
    (["--dataset", "blobs", "--n-classes", "5", "--n-samples", "40", "--test-fraction", "0.1"],
     ["--test-fraction", "at least 0.11"]),
    (["--shift-kind", "dataset", "--shift-dataset", "classification", "--n-classes", "5"],
     ["--n-classes", "at most 4"]),
    (["--language", "fr"], ["--language", "invalid choice"]),
    (["--use-rslora=yes"], ["--use-rslora"]),
    (["--rank"], ["--rank", "expected one argument"]),
    (["--rnak", "3"], ["--rnak"]),
]


@pytest.mark.parametrize("args,words", CLI_CASES, ids=[" ".join(a)[:40] for a, _ in CLI_CASES])
def test_cli_refuses_in_one_line_naming_the_option(args, words, capsys, tmp_path):
    assert call_main([*args, "--out", str(tmp_path / "run")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and not (tmp_path / "run").exists()
    line = err.strip()
    assert "\n" not in line and line.startswith("python -m lora_demo: error: "), err
    assert len(line) < 400
    for word in words:
        assert word in line, (word, line)
    assert_clean(err)


@pytest.mark.parametrize("args,words", [
    (["--dataset", "classification", "--n-classes", "5"], ["--n-classes", "at most 4", "got 5"]),
    (["--seed", "1e400", "--rank", "3"], ["--seed", "[0, 2,147,483,647]", "got inf"]),
], ids=["classification-5-classes", "seed-1e400"])
def test_cli_subprocess_refuses_in_one_line(args, words, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lora_demo", *args, "--out", str(tmp_path / "run")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for word in words:
        assert word in proc.stderr
    assert_clean(proc.stderr)
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ a clash names every setting involved

@pytest.mark.parametrize("changes,involved", [
    ({"hidden_layers": 1, "target_modules": ["fc3"]}, ["target_modules", "hidden_layers"]),
    ({"dataset": "classification", "n_classes": 5}, ["n_classes", "dataset"]),
], ids=["depth", "classification"])
def test_a_clash_message_names_every_setting_involved(client, changes, involved):
    message = refusal(client, "/train", dict(QUICK, **changes)).message
    for name in involved:
        assert field_text("en", name)[0].lower() in message.lower(), (name, message)


# ------------------------------------------------------------------ and afterwards

def test_server_still_serves_a_small_valid_run(client, server_log):
    job = client.submit(**QUICK, api_name="/train")
    deadline = time.time() + 60
    while not job.done():
        assert time.time() < deadline, "the valid run did not finish in time"
        time.sleep(0.1)
    metrics = job.result(timeout=5)[-1]
    assert metrics["config"] == config_from_flat(QUICK).to_dict()
    assert 0 <= metrics["accuracy"]["lora_target"] <= 1
    assert_clean(server_log())
