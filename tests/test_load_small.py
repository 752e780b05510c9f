"""Small versions of the load and soak benchmarks against the in-process app (the `app_url` fixture).

    python -m pytest tests/test_load_small.py

Load: 4 concurrent gradio_client sessions with distinct settings all finish, each with its own
config and its own trainable-parameter count. Soak: 15 small runs in a row leave open file
descriptors and threads where they started (within the slack bench.soak allows) and grow resident
memory by less than 50 MB.
"""
from bench.load import expected_trainable, run_load, session_settings
from bench.soak import FD_SLACK, RSS_LIMIT_MB, SMALL, THREAD_SLACK, soak


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
