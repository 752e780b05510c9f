"""Who runs next: a fair queue in front of a pool of workers, for a room of users pressing Train at once.

- One job per session and kind: a new click replaces the session's previous job of that kind.
- Each client (an address, see client_key) holds at most PER_CLIENT waiting-or-running jobs; beyond
  that, and beyond MAX_WAITING jobs in all, a request is refused at once with a reason.
- Of the waiting jobs, the next worker goes to the one whose client has the fewest jobs running, then
  to the oldest: one client's burst cannot keep another client's single request waiting.
- Heavy jobs (predicted to take longer than HEAVY_S) may hold at most size − 1 workers, so a
  default run always finds a free worker within about one default run's time.

Pure asyncio; no torch, no gradio. The pool does the work (lora_demo.workers).
"""
from __future__ import annotations

import asyncio
import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import AsyncIterator

from .jobs.payload import JobError, Update

PER_CLIENT = 4       # waiting + running jobs one client may hold
MAX_WAITING = 100    # jobs waiting in all; Gradio must be able to run this many handlers at once
HEAVY_S = 3.0        # predicted seconds above which a job counts as heavy


class Refused(Exception):
    """A request the scheduler will not take; key and fields name a text in lora_demo.text."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key, self.fields = key, fields


@dataclass(eq=False)
class Ticket:
    """One request: waiting for a worker, then holding one."""
    client: str
    session: str
    kind: str
    heavy: bool
    order: int
    granted: asyncio.Future = field(default=None, repr=False)
    running: bool = False
    replaced: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


def _public(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip()).is_global
    except ValueError:
        return False


def client_key(peer: str | None, forwarded_for: str | None, session: str | None, behind_proxy: bool = False) -> str:
    """The address a request comes from.

    On a laptop serving a room the peer itself tells laptops apart, and a header a client writes is not
    trusted. Behind a proxy (a Hugging Face Space: behind_proxy) the peer is the proxy; then the right-most
    public address in X-Forwarded-For is the one the proxy saw (entries to its left are whatever the client
    wrote). Uvicorn already resolves the header for a proxy on this machine (a loopback peer)."""
    if behind_proxy and forwarded_for and (peer is None or not _public(peer)):
        for hop in reversed(forwarded_for.split(",")):
            if _public(hop):
                return hop.strip()
    return peer or session or "unknown"


class Scheduler:
    def __init__(self, pool, per_client: int = PER_CLIENT, max_waiting: int = MAX_WAITING, heavy_s: float = HEAVY_S):
        self.pool = pool
        self.per_client, self.max_waiting, self.heavy_s = per_client, max_waiting, heavy_s
        self._order = itertools.count()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._by_session: dict[tuple[str, str], Ticket] = {}

    # ---------------------------------------------------------------- bookkeeping

    @property
    def heavy_cap(self) -> int:
        return max(1, self.pool.size - 1)

    def _held(self, client: str) -> int:
        return sum(t.client == client for t in self._waiting + self._running)

    def _queue(self) -> list[Ticket]:
        """Waiting tickets in the order they will get workers."""
        running = {}
        for t in self._running:
            running[t.client] = running.get(t.client, 0) + 1
        return sorted(self._waiting, key=lambda t: (running.get(t.client, 0), t.order))

    def _grant(self) -> None:
        free = self.pool.size - len(self._running)
        heavy_running = sum(t.heavy for t in self._running)
        for ticket in self._queue():
            if free <= 0:
                break
            if ticket.heavy and heavy_running >= self.heavy_cap:
                continue
            self._waiting.remove(ticket)
            self._running.append(ticket)
            ticket.running = True
            heavy_running += ticket.heavy
            free -= 1
            if not ticket.granted.done():
                ticket.granted.set_result(True)

    def position(self, ticket: Ticket) -> int:
        """How many waiting jobs will get a worker before this one (0: it is next)."""
        queue = self._queue()
        return queue.index(ticket) if ticket in queue else 0

    def stats(self) -> dict:
        return {"waiting": len(self._waiting), "running": len(self._running),
                "clients": len({t.client for t in self._waiting + self._running})}

    # ---------------------------------------------------------------- the public steps

    def open(self, client: str, session: str, kind: str, predicted_s: float) -> Ticket:
        """Take a request or refuse it (Refused). Replaces the session's previous job of this kind."""
        old = self._by_session.get((session, kind))
        if old is not None:
            old.replaced.set()
            self.close(old)
        if self._held(client) >= self.per_client:
            raise Refused("busy_client", most=self.per_client)
        if len(self._waiting) >= self.max_waiting:
            raise Refused("busy_server", waiting=len(self._waiting))
        ticket = Ticket(client, session, kind, predicted_s > self.heavy_s, next(self._order),
                        asyncio.get_running_loop().create_future())
        self._waiting.append(ticket)
        self._by_session[(session, kind)] = ticket
        self._grant()
        return ticket

    def close(self, ticket: Ticket) -> None:
        """The request is over (finished, failed, stopped or replaced): free its place or its worker."""
        for queue in (self._waiting, self._running):
            if ticket in queue:
                queue.remove(ticket)
        if self._by_session.get((ticket.session, ticket.kind)) is ticket:
            del self._by_session[(ticket.session, ticket.kind)]
        if not ticket.granted.done():
            ticket.granted.cancel()
        self._grant()

    def release(self, ticket: Ticket) -> None:
        """The job's work is over but its caller is still being shown the result: give the worker to the
        next job now. The ticket stays the session's (a new click still replaces it) until close()."""
        if ticket in self._running:
            self._running.remove(ticket)
            ticket.running = False
            self._grant()

    async def wait(self, ticket: Ticket, every: float = 0.5) -> AsyncIterator[int]:
        """Until the ticket has a worker: its position now and then (at once, then every `every` seconds)."""
        while not ticket.granted.done():
            yield self.position(ticket)
            await asyncio.wait({ticket.granted}, timeout=every)
        if ticket.granted.cancelled():
            raise JobError("cancelled")

    def run(self, ticket: Ticket, kind: str, values: dict, lang: str, seconds: float) -> AsyncIterator[Update]:
        """The job's updates from the pool; the ticket must hold a worker (after wait()).

        The worker is released the moment its job's stream ends, in the task that reads the stream: not when
        the caller gets round to the end (it may still be pacing frames out, or waiting for Gradio to send
        the last one). Under a full room every hop between one job's end and the next one's start is a
        worker standing idle."""
        if not ticket.running:
            raise RuntimeError("the ticket holds no worker yet")
        return self._run(ticket, self.pool.stream(kind, values, lang, seconds))

    async def _run(self, ticket: Ticket, stream: AsyncIterator[Update]) -> AsyncIterator[Update]:
        try:
            async for update in stream:
                yield update
        finally:
            await stream.aclose()
            self.release(ticket)
