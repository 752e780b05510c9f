"""Gradio's queue, made to wake less often: its own loops sleep what we set, and the app's queue is set so."""
import asyncio
import threading

import gradio as gr
import gradio.queueing
import pytest

from lora_demo.ui import queue_cost


def page() -> gr.Blocks:
    with gr.Blocks() as demo:
        box = gr.Number(3)
        gr.Button("go").click(lambda x: x, box, box)
    demo.queue()
    return demo


def sleeps_of(loop_of, monkeypatch, looks: int = 5) -> list[float]:
    """The sleeps one of the queue's loops asks for while it has nothing to do (its first `looks` of them)."""
    asked, here, real_sleep = [], threading.get_ident(), asyncio.sleep

    class Enough(Exception):
        pass

    async def sleep(seconds, *args):
        if threading.get_ident() != here:  # the app another test started runs its own queue in its thread
            return await real_sleep(seconds, *args)
        asked.append(seconds)
        if len(asked) >= looks:
            raise Enough

    monkeypatch.setattr(gradio.queueing.asyncio, "sleep", sleep)
    loop_of.__self__.stopped = False  # the other loop, ending, stopped the queue
    with pytest.raises(Enough):
        asyncio.run(loop_of())
    return asked


def test_the_queues_idle_loops_sleep_what_we_set(monkeypatch):
    """If a Gradio release renamed what its loops read, they would sleep their own 1 ms and 10 ms again."""
    demo = page()
    assert queue_cost.quieter_queue(demo, queue_poll_s=0.02, progress_poll_s=0.3)
    queue = demo._queue
    queue.active_jobs = [None] * queue.max_thread_count  # what Queue.start() sets before its loops run
    assert set(sleeps_of(queue.start_processing, monkeypatch)) == {0.02}
    assert set(sleeps_of(queue.start_progress_updates, monkeypatch)) == {0.3}


def test_gradios_own_loops_sleep_less_than_ours(monkeypatch):
    """The default this module changes: without it, the loops wake hundreds of times a second."""
    queue = page()._queue
    queue.active_jobs = [None] * queue.max_thread_count
    assert max(sleeps_of(queue.start_processing, monkeypatch)) < queue_cost.QUEUE_POLL_S
    assert max(sleeps_of(queue.start_progress_updates, monkeypatch)) < queue_cost.PROGRESS_POLL_S


def test_never_shortens_a_sleep_and_leaves_an_unknown_queue_alone():
    demo = page()
    demo._queue.sleep_when_free = 0.5
    assert queue_cost.quieter_queue(demo)
    assert demo._queue.sleep_when_free == 0.5
    assert demo._queue.progress_update_sleep_when_free == queue_cost.PROGRESS_POLL_S

    class Renamed:
        pass
    odd = type("Demo", (), {"_queue": Renamed()})()
    assert not queue_cost.quieter_queue(odd)
    assert not hasattr(odd._queue, "sleep_when_free")
    assert not queue_cost.quieter_queue(object())


def test_the_app_runs_with_the_quieter_queue(app):
    queue = app[0]._queue
    assert queue.sleep_when_free == queue_cost.QUEUE_POLL_S
    assert queue.progress_update_sleep_when_free == queue_cost.PROGRESS_POLL_S
    # its own queue positions go out on a clock, not to every waiting event each time one starts
    assert not queue.live_updates and queue.update_intervals == 1.0
