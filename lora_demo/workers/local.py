"""A pool of worker processes on this machine: the default, standard library only.

Workers are forked from a forkserver that has imported the engine once, so a replacement for a
killed worker is ready in milliseconds. Each worker has a pipe to the web process, read by one
thread that hands messages to the asyncio loop, and a shared word the web process writes a job id
into to ask that job to stop (checked at every training step). A job that does not stop within
STOP_GRACE_S, or runs past its budget, has its worker killed and replaced.
"""
from __future__ import annotations

import asyncio
import itertools
import multiprocessing as mp
import os
import sys
import threading
import types
import weakref

from .base import HARD_CAP_SLACK_S, STOP_GRACE_S, JobError, Pool

SERVE_MODULE = "lora_demo.workers.serve"
_MAIN_SWAP = threading.Lock()  # one process start at a time swaps the main module (see _new_worker)


def _serve(conn, stop) -> None:
    """The worker's entry point (imports the engine only in the worker)."""
    from .serve import serve
    serve(conn, stop)


def usable_cores() -> int:
    """Cores this process may run on (a container's limit, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Worker:
    """One worker process, its pipe, its stop word and the reader thread feeding `inbox`."""

    def __init__(self, ctx):
        """Start the process (blocking: call it off the event loop)."""
        self.stop = ctx.RawValue("q", 0)
        self.conn, child = ctx.Pipe()
        # the target is named by module and function: the forkserver has that module loaded already
        self.process = ctx.Process(target=_serve, args=(child, self.stop), daemon=True, name="lora-worker")
        self.process.start()
        child.close()
        self.job_id = None
        self.inbox: asyncio.Queue | None = None
        self.dead = False
        self.loop = None

    def wait_ready(self, timeout: float = 120.0) -> "_Worker":
        """Block until the process says it is ready (it has imported the engine)."""
        if not self.conn.poll(timeout) or self.conn.recv() != ("ready",):
            self.kill()
            raise JobError("worker_died", "a worker process failed to start")
        return self

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver the pipe's messages into this loop from now on (call from the loop's thread)."""
        first = getattr(self, "loop", None) is None
        self.loop = loop
        if first:
            threading.Thread(target=self._read, daemon=True, name="lora-worker-reader").start()

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                msg = ("died",)
            try:
                self.loop.call_soon_threadsafe(self._deliver, msg)
            except RuntimeError:  # that loop is closed (shutting down, or a test's loop ended): drop it
                pass
            if msg[0] == "died":
                return

    def _deliver(self, msg) -> None:
        if msg[0] == "died":
            self.dead = True
        elif msg[1] != self.job_id:
            return  # a late message of a job that was given up
        if self.inbox is not None:
            self.inbox.put_nowait(msg)

    def kill(self) -> None:
        self.dead = True
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()
        self.process.close()


def _stop_workers(*groups: list) -> None:
    for group in groups:
        for worker in group:
            try:
                worker.conn.send(("quit",))
            except OSError:
                pass
            worker.kill()
        group.clear()


class LocalPool(Pool):
    name = "local processes"

    def __init__(self, size: int | None = None):
        self.size = max(1, size or usable_cores())
        self._ids = itertools.count(1)
        self._workers: list[_Worker] = []
        self._idle: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._launcher: threading.Thread | None = None
        self._launched = threading.Event()
        self._launch_error: Exception | None = None
        self._fresh: list[_Worker] = []   # started, not yet attached to an event loop
        self._cleanups: set[asyncio.Task] = set()
        self.replaced = 0
        # a pool nobody holds any more (a page replaced by `gradio app.py`'s hot reload) stops its workers
        weakref.finalize(self, _stop_workers, self._workers, self._fresh)

    # ---------------------------------------------------------------- workers

    def _context(self):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([SERVE_MODULE])
        return ctx

    def _new_worker(self) -> _Worker:
        with _MAIN_SWAP:
            # multiprocessing re-runs the parent's main script in every new process; a worker needs nothing
            # from it (and it may be app.py, a notebook, stdin, or gone after a hot reload): show it none
            real = sys.modules.get("__main__")
            sys.modules["__main__"] = types.ModuleType("__main__")
            try:
                worker = _Worker(self._context())
            finally:
                if real is not None:
                    sys.modules["__main__"] = real
        return worker.wait_ready()

    def launch(self) -> None:
        """Start the workers in the background (the first start imports the engine: seconds). Idempotent."""
        with self._lock:
            if self._launcher is None:
                self._launcher = threading.Thread(target=self._launch_all, daemon=True, name="lora-pool-launch")
                self._launcher.start()

    def _launch_all(self) -> None:
        try:
            # the first worker starts the forkserver (and its imports); the rest fork from it at once
            first = [self._new_worker()]
            self._fresh.extend(first + [self._new_worker() for _ in range(self.size - 1)])
        except Exception as e:  # reported to every job that waits for a worker
            self._launch_error = e
        self._launched.set()

    @property
    def ready(self) -> bool:
        return self._launched.is_set()

    def wait_ready(self, timeout: float = 120.0) -> bool:
        self.launch()
        return self._launched.wait(timeout) and self._launch_error is None

    async def start(self) -> None:
        """Wait until the workers are up and reading into this event loop."""
        self.launch()
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if not self._launched.is_set():
            await loop.run_in_executor(None, self._launched.wait)
        if self._launch_error is not None:
            raise JobError("worker_died", f"the worker processes did not start: {self._launch_error}")
        if self._loop is loop:  # another caller attached meanwhile
            return
        # the first loop, or a new one (each test's asyncio.run): every live worker now reports to it
        self._loop, self._idle = loop, asyncio.Queue()
        self._workers.extend(self._fresh)
        self._fresh.clear()
        for worker in self._workers:
            worker.attach(loop)
            worker.job_id, worker.inbox = None, None
            self._idle.put_nowait(worker)

    async def _spawn(self) -> _Worker:
        worker = await self._loop.run_in_executor(None, self._new_worker)
        worker.attach(self._loop)
        self._workers.append(worker)
        return worker

    async def _replace(self, worker: _Worker) -> None:
        loop = self._loop
        if loop is None:  # closed meanwhile
            worker.kill()
            return
        await loop.run_in_executor(None, worker.kill)
        if worker in self._workers:
            self._workers.remove(worker)
        self.replaced += 1
        if self._loop is loop:
            self._idle.put_nowait(await self._spawn())

    async def _finish(self, worker: _Worker, finished: bool) -> None:
        """Return the worker to the idle queue once its job has surely ended; kill and replace it otherwise."""
        if not finished and not worker.dead:
            worker.stop.value = worker.job_id  # ask the job to stop at its next step
            try:
                async with asyncio.timeout(STOP_GRACE_S):
                    while True:
                        msg = await worker.inbox.get()
                        if msg[0] in ("done", "error", "died"):
                            finished = msg[0] != "died"
                            break
            except TimeoutError:
                pass
        worker.job_id, worker.inbox = None, None
        if finished and not worker.dead:
            self._idle.put_nowait(worker)
        else:
            await self._replace(worker)

    # ---------------------------------------------------------------- jobs

    async def stream(self, kind, values, lang, seconds):
        await self.start()
        worker: _Worker = await self._idle.get()
        job_id = next(self._ids)
        worker.job_id, worker.inbox = job_id, asyncio.Queue()
        worker.stop.value = 0
        finished = False
        try:
            worker.conn.send(("run", job_id, kind, values, lang, seconds))
            deadline = self._loop.time() + seconds + HARD_CAP_SLACK_S
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        msg = await worker.inbox.get()
                except TimeoutError:
                    raise JobError("too_long", f"the work went past its {seconds:g} s budget and was stopped") from None
                if msg[0] == "update":
                    yield msg[2]
                elif msg[0] == "done":
                    finished = True
                    return
                elif msg[0] == "error":
                    finished = True
                    raise JobError(msg[2], msg[3])
                else:  # "died"
                    raise JobError("worker_died", "the worker running this job stopped unexpectedly")
        except (BrokenPipeError, OSError):
            raise JobError("worker_died", "the worker running this job stopped unexpectedly") from None
        finally:
            if finished and not worker.dead:  # back to work at once: the next job may be waiting for it
                worker.job_id, worker.inbox = None, None
                self._idle.put_nowait(worker)
            else:  # in a task of its own: a cancelled caller must not wait for (or interrupt) the clean-up
                task = self._loop.create_task(self._finish(worker, finished))
                self._cleanups.add(task)
                task.add_done_callback(self._cleanups.discard)

    def close(self) -> None:
        for task in list(self._cleanups):
            task.cancel()
        if self._launcher is not None:
            self._launcher.join(timeout=120)
        _stop_workers(self._workers, self._fresh)
        self._loop = None

    def stats(self) -> dict:
        pids = [w.process.pid for w in self._workers + self._fresh if not w.dead]
        return {"pool": self.name, "size": self.size, "pids": pids, "replaced": self.replaced}
