"""Requests whose caller is gone, or never listened, do not take a worker: a raw REST call nobody reads, and a
queue join whose session never opens its message stream (a client that joined and left at once)."""
import time

import httpx
import pytest

from lora_demo.config import RunConfig, flat_from_config
from lora_demo.ui.relay import READER_GRACE_S

SETTINGS = dict(flat_from_config(RunConfig()), n_samples=80, pretrain_steps=20, adapt_steps=20)


@pytest.fixture
def opened(app, monkeypatch):
    """The sessions the scheduler was asked to give a worker to, during the test."""
    demo, _ = app
    scheduler, seen = demo.services.scheduler, []
    real_open = scheduler.open

    def open_(client, session, kind, predicted_s):
        seen.append(session)
        return real_open(client, session, kind, predicted_s)
    monkeypatch.setattr(scheduler, "open", open_)
    return seen


def train_index(demo) -> int:
    return next(i for i, fn in demo.fns.items() if fn.api_name == "train")


def settle(demo, sessions: set[str]) -> None:
    """Wait until Gradio's queue holds none of these sessions' events (their handlers returned)."""
    deadline = time.monotonic() + READER_GRACE_S + 10
    while time.monotonic() < deadline:
        if not {e.session_hash for e in demo._queue.event_ids_to_events.values()} & sessions:
            return
        time.sleep(0.2)
    raise AssertionError("the abandoned events are still queued")


def test_a_join_whose_session_never_listens_is_dropped_and_a_listening_one_runs(app, opened):
    demo, url = app
    data = list(SETTINGS.values()) + ["en"]
    silent = {f"silent-{i}" for i in range(3)}
    for session in silent:
        r = httpx.post(f"{url}/gradio_api/queue/join", timeout=20,
                       json={"data": data, "fn_index": train_index(demo), "session_hash": session})
        assert r.status_code == 200, r.text
    settle(demo, silent)
    assert not silent & set(opened)  # none of them asked for a worker
    # the same join, with its stream read, runs to the end
    r = httpx.post(f"{url}/gradio_api/queue/join", timeout=20,
                   json={"data": data, "fn_index": train_index(demo), "session_hash": "listening"})
    assert r.status_code == 200
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": "listening"},
                      timeout=60) as stream:
        lines = [line for line in stream.iter_lines() if "process_completed" in line]
    assert "listening" in opened and '"success":true' in lines[-1].replace(" ", "")


def test_a_rest_call_nobody_reads_is_dropped(app, opened):
    demo, url = app
    data = list(SETTINGS.values()) + ["en"]
    events = {httpx.post(f"{url}/gradio_api/call/train", json={"data": data}, timeout=20).json()["event_id"]
              for _ in range(3)}
    settle(demo, events)  # a REST call's session is its event id
    assert not events & set(opened)
