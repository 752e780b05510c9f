"""Small versions of the load and soak benchmarks against the in-process app (the `app_url` fixture).

    python -m pytest tests/test_load_small.py

Load: 4 browser tabs (bench.page) with distinct settings, clicking at once, all finish, each with its own
config and its own trainable-parameter count. Soak: 15 small runs in a row leave open file
descriptors and threads where they started (within the slack bench.soak allows) and grow resident
memory by less than 50 MB. The machine's own 1-vs-2-process ceiling (bench.ceiling) runs every job it is given.
"""
import asyncio

import httpx
import pytest

from bench.ceiling import throughput
from bench.load import expected_trainable, run_load, session_settings
from bench.page import ClickFailed, Page, Tab
from bench.soak import FD_SLACK, RSS_LIMIT_MB, SMALL, THREAD_SLACK, soak
from lora_demo.config import FLAT_FIELDS
from lora_demo.links import DEFAULTS


def test_four_concurrent_sessions_get_their_own_results(app_url):
    r = run_load(app_url, 4, seconds=60)
    assert r["problems"] == [] and r["errors"] == 0 and r["crossed"] == 0
    assert r["completed"] == 4
    # every session expects a different count, so a result delivered to the wrong session would fail
    assert len({expected_trainable(session_settings(i)) for i in range(4)}) == 4


def test_mini_soak_leaks_nothing(app_url):
    r = soak(app_url, 15, SMALL, warmup=2, every=5, settle_s=10)  # this process and its workers
    assert r["errors"] == []
    g = r["growth"]
    assert g["fds"] <= FD_SLACK, r["samples"]
    assert g["threads"] <= THREAD_SLACK, r["samples"]
    assert g["processes"] <= 0, r["samples"]
    assert g["rss_mb"] < RSS_LIMIT_MB, r["samples"]


def test_a_tab_hears_the_apps_refusal(app_url):
    """The load benchmark's tab reports a failed event as the app's titled message, not as a result."""
    async def click_bad_rank():
        async with httpx.AsyncClient(timeout=60) as http:
            tab = Tab(http, await Page.fetch(http, app_url), "9.9.9.9")
            await tab.open()
            await tab.click("train", [dict(DEFAULTS, rank=999)[k] for k in FLAT_FIELDS] + ["en"])

    with pytest.raises(ClickFailed, match=r"lora\.rank"):
        asyncio.run(click_bad_rank())


def test_the_machine_ceiling_runs_every_job_it_is_given():
    """bench.ceiling's processes run the worker's own job to its final update, each job once."""
    tiny = [dict(DEFAULTS, n_samples=40, pretrain_steps=10, adapt_steps=10, seed=s) for s in (1, 2, 3)]
    assert throughput(tiny, 2, context="spawn") > 0
