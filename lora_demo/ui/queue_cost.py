"""Making Gradio's queue wake the web process less often, without changing what it sends.

Gradio 6.31's queue runs two loops on the web process's event loop, whatever the server is doing:

- one looks for new events and, when there are none, sleeps 1 ms (on Windows 50 ms);
- one sends pending `gr.Progress` updates and sleeps 10 ms between looks.

That is about 1,100 wake-ups a second. Measured here on an idle app: a tenth of a core. In a full room the
workers keep both cores busy, so each wake-up also takes a core from a worker for a moment, and every
worker's run then costs more CPU than it does when it has a core to itself.

The app's job events leave Gradio's queue at once (their waiting is the scheduler's), its other events
are quick, and it sends no gr.Progress. So the loops may look less often: a new event waits at most
QUEUE_POLL_S more before it starts, which nobody sees next to a run's second.
"""
from __future__ import annotations

QUEUE_POLL_S = 0.01     # Gradio's default: 0.001
PROGRESS_POLL_S = 0.1   # Gradio's default: 0.01


def quieter_queue(demo, queue_poll_s: float = QUEUE_POLL_S, progress_poll_s: float = PROGRESS_POLL_S) -> bool:
    """Lengthen the queue's idle sleeps (never shorten them); False if this Gradio's queue lacks them.

    Call after demo.queue(). These are private attributes of Gradio's Queue: if a release renames them,
    nothing changes but the cost (tests/test_queue_cost.py notices)."""
    queue = getattr(demo, "_queue", None)
    names = {"sleep_when_free": queue_poll_s, "progress_update_sleep_when_free": progress_poll_s}
    if queue is None or not all(isinstance(getattr(queue, n, None), (int, float)) for n in names):
        return False
    for name, seconds in names.items():
        setattr(queue, name, max(getattr(queue, name), seconds))
    return True
