"""Relaying a job from a worker to the page: take a place in the scheduler's queue, show the position
while waiting, then pass the job's updates on at a pace the browser can draw, and stop the job as
soon as its caller is gone, presses Stop, or replaces it with a new click.

The handlers are async generators: a cancel reaches them at once (no thread to wait for), and a
waiting user costs no thread at all.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable

import gradio as gr
from gradio.components.plot import PlotData

from ..jobs.payload import MILESTONES, STALE_S, File, JobError, Plot, Update
from ..scheduler import Refused, Scheduler, client_key
from ..text import t
from .downloads import Downloads

log = logging.getLogger("lora_demo")

GAP = 0.2          # seconds between two updates sent to the page (faster makes the browser lag)
CHECK_S = 0.5      # how often a waiting relay looks whether its caller is still there
PLACE_GAP_S = 1.0  # a waiting page's place in the queue is updated at most this often

ERROR_TITLES = {"diverged": "err_stopped", "too_long": "err_stopped", "invalid": "err_invalid",
                "cancelled": "err_stopped", "worker_died": "err_worker", "internal": "err_internal_title"}


class _Gone(Exception):
    """The caller left, or replaced this job with a newer one."""


READER_GRACE_S = 5.0  # a job started by POST /gradio_api/call waits this long for someone to read its stream


@dataclass
class Services:
    """What the handlers of one app share: the scheduler (and its pool), the download folder, the readers
    of REST-route result streams (filled by guards.CallWatch), and a way to ask about the caller of the
    current event: caller(seconds since the handler started) -> "here", "gone" or "unread"."""
    scheduler: Scheduler
    downloads: Downloads
    call_readers: dict = field(default_factory=dict)
    caller: Callable[[float], str] = lambda waited: "here"


def caller_check(demo: gr.Blocks, readers: dict) -> Callable[[float], str]:
    """Whether the page or client that started the current event is still there.

    A page or gradio_client reads its session's messages on one stream: Gradio marks its events dead when
    that stream closes ("gone"); while no stream of the session is open the event is "unread", and "gone"
    after READER_GRACE_S (a client that joined the queue and left before it ever listened). A raw
    `POST /gradio_api/call/<api>` has no stream of its own (its session is the event): it is "unread"
    until someone opens its result stream, and "gone" when nobody has within READER_GRACE_S or when that
    reader left. Reads Gradio's own queue (a private part: if it changes, every caller counts as here)."""
    def caller(waited: float) -> str:
        try:
            from gradio.context import LocalContext
            event_id = LocalContext.event_id.get(None)
            event = demo._queue.event_ids_to_events.get(event_id)
            if event is None:
                return "here"
            if not event.alive:
                return "gone"
            if event.session_hash == event_id:  # started through the REST route
                seen = readers.get(event_id, "never")
                if seen is None or (seen == "never" and waited > READER_GRACE_S):
                    return "gone"
                return "unread" if seen == "never" else "here"
            if readers.get(("session", event.session_hash), 0) > 0:
                return "here"
            return "gone" if waited > READER_GRACE_S else "unread"
        except Exception:
            return "here"
    return caller


def behind_proxy() -> bool:
    """On a Hugging Face Space (SPACE_ID is set there) or when the host says so (LORA_BEHIND_PROXY=1)."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("LORA_BEHIND_PROXY") == "1"


def identity(request: gr.Request | None) -> tuple[str, str]:
    """(client key, session) of a request."""
    if request is None:
        return "local", "local"
    headers = getattr(request, "headers", {}) or {}
    peer = request.client.host if getattr(request, "client", None) else None
    session = request.session_hash or ""
    return client_key(peer, headers.get("x-forwarded-for"), session, behind_proxy()), session


class _Frames:
    """Buffers a job's updates and releases them as evenly spaced frames; output values merge in order."""

    def __init__(self):
        self.pending: list[Update] = []
        self.next_milestone = 0.0
        self.last_sent = -1e9

    def due(self, now: float) -> Update | None:
        """The update to show now, if one is due; older buffered ones are folded into it."""
        if not self.pending or now - self.last_sent < GAP:
            return None
        ready = [i for i, u in enumerate(self.pending)
                 if u.final or u.progress >= self.next_milestone or now - self.last_sent >= STALE_S]
        if not ready:
            return None
        upto = ready[0]
        merged = {}
        for u in self.pending[:upto + 1]:
            merged.update(u.outputs)
        chosen = self.pending[upto]
        del self.pending[:upto + 1]
        self.last_sent = now
        self.next_milestone = chosen.progress + 1.0 / (MILESTONES - 1) - 1e-9
        return Update(merged, chosen.progress, chosen.final)


async def relay(services: Services, request: gr.Request | None, kind: str, values: dict, lang: str,
                names: tuple, blank: dict, seconds: float, predicted_s: float,
                status: str, prepare: Callable) -> AsyncIterator[tuple]:
    """The handler body: yields one tuple of output values (in `names` order) per update; the output
    named `status` carries the waiting and stopping messages. prepare(name, value) turns a value into what
    the page is sent (see `prepared`), once per new value."""
    scheduler = services.scheduler
    shown = {n: prepare(n, blank.get(n)) for n in names}  # what the page shows; every yield re-sends these
    client, session = identity(request)
    began = time.monotonic()
    while services.caller(time.monotonic() - began) == "unread":  # a REST call: wait for its reader first
        await asyncio.sleep(0.05)
    if services.caller(time.monotonic() - began) == "gone":
        return  # nobody will read the result: do not take anyone's worker for it
    try:
        ticket = scheduler.open(client, session, kind, predicted_s)
    except Refused as e:
        raise gr.Error(t(lang, e.key, **e.fields), title=t(lang, "err_busy"), print_exception=False) from None

    def out() -> tuple:
        return tuple(shown[n] for n in names)

    began = time.monotonic()

    def gone() -> bool:
        return ticket.replaced.is_set() or services.caller(time.monotonic() - began) == "gone"

    stream = pull = None
    try:
        shown[status] = prepare(status, t(lang, "starting") if scheduler.pool.ready else t(lang, "starting_workers"))
        yield out()
        place, placed_at = None, -PLACE_GAP_S
        async for ahead in scheduler.wait(ticket):
            if gone():
                raise _Gone
            # each update costs the web process a pass over every output, and a full room has many waiting
            # pages: a place is sent when it changed, and at most every PLACE_GAP_S
            if ahead != place and time.monotonic() - placed_at >= PLACE_GAP_S:
                place, placed_at = ahead, time.monotonic()
                waiting = t(lang, "waiting", ahead=ahead + 1) if ahead else t(lang, "waiting_next")
                shown[status] = prepare(status, waiting)
                yield out()
        stream = scheduler.run(ticket, kind, values, lang, seconds)
        frames = _Frames()
        pull = asyncio.ensure_future(anext(stream, None))
        finished = False
        while not finished or frames.pending:
            now = time.monotonic()
            update = frames.due(now)
            if update is not None:
                _apply(update, shown, services.downloads, prepare)
                yield out()
                continue
            wait = CHECK_S if not frames.pending else max(0.0, GAP - (now - frames.last_sent)) + 1e-3
            if not finished:
                done, _ = await asyncio.wait({pull}, timeout=wait)
                if done:
                    item = pull.result()
                    if item is None:
                        finished = True  # the worker is free already (Scheduler.run); the frames go out paced
                    else:
                        frames.pending.append(item)
                        pull = asyncio.ensure_future(anext(stream, None))
            else:
                await asyncio.sleep(wait)
            if gone():
                raise _Gone
    except _Gone:
        if ticket.replaced.is_set():
            shown[status] = prepare(status, t(lang, "replaced"))
            yield out()
    except JobError as e:
        if ticket.replaced.is_set():  # stopped because the same session started a newer job of this kind
            shown[status] = prepare(status, t(lang, "replaced"))
            yield out()
            return
        if e.kind == "internal":
            log.error("%s job failed for %s", kind, values)
        raise gr.Error(_message(e, lang), title=t(lang, ERROR_TITLES.get(e.kind, "err_stopped")),
                       print_exception=False) from None
    finally:
        if pull is not None and not pull.done():
            pull.cancel()  # the job's stream notices at once and asks its worker to stop
            await asyncio.wait({pull})
        if stream is not None:
            await stream.aclose()
        scheduler.close(ticket)


def _message(e: JobError, lang: str) -> str:
    if e.kind == "internal":
        return t(lang, "err_internal")
    if e.kind == "worker_died":
        return t(lang, "err_worker_died")
    return e.message or t(lang, "err_stopped")


def _apply(update: Update, shown: dict, downloads: Downloads, prepare: Callable) -> None:
    """Fold an update's outputs into what the page shows, converted to what gradio components take."""
    for name, value in update.outputs.items():
        if isinstance(value, Plot):
            value = PlotData(type="plotly", plot=value.json)
        elif isinstance(value, File):
            value = str(downloads.store(value.name, value.data))
        if name in shown:
            shown[name] = prepare(name, value)


def prepared(components: dict) -> Callable:
    """prepare(name, value): what Gradio's postprocess makes of a value for the output `name`, serialised.

    The job events are registered with postprocess=False and send these. Otherwise Gradio postprocesses
    every output on every update, each in a thread of its own: eleven thread hops per /train update,
    although most updates change one or two outputs, and a full room sends thousands of updates."""
    def prepare(name: str, value):
        component = components.get(name)
        if component is None or value is None:
            return value
        value = component.postprocess(value)
        return value.model_dump() if hasattr(value, "model_dump") else value
    return prepare
