"""Jobs in threads of the web process itself: for a ZeroGPU Space, where the `spaces` package runs
functions decorated with @spaces.GPU on a GPU it lends to the web process (not to processes of ours),
and for LORA_WORKERS=0. One thread per job; a stop request ends the job at its next training step.

Imports the engine (torch) when the first job runs.
"""
from __future__ import annotations

import asyncio
import threading

from .base import HARD_CAP_SLACK_S, JobError, Pool


class InlinePool(Pool):
    name = "threads of the web process"

    def __init__(self, size: int = 1):
        self.size = max(1, size)

    def wait_ready(self, timeout: float = 120.0) -> bool:
        return True

    async def stream(self, kind, values, lang, seconds):
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def work():
            from ..fit import Guard
            from ..jobs.registry import run_job
            try:
                for update in run_job(kind, values, lang, Guard.within(seconds, stop=stop.is_set)):
                    loop.call_soon_threadsafe(inbox.put_nowait, ("update", update))
                loop.call_soon_threadsafe(inbox.put_nowait, ("done", None))
            except JobError as e:
                loop.call_soon_threadsafe(inbox.put_nowait, ("error", e))
            except Exception:  # a bug: the log gets the traceback, the user a plain message
                import logging
                logging.getLogger("lora_demo").exception("job %s failed", kind)
                loop.call_soon_threadsafe(inbox.put_nowait, ("error", JobError("internal")))
            except BaseException:  # the loop closed under us: nobody is listening any more
                pass

        threading.Thread(target=work, daemon=True, name=f"lora-job-{kind}").start()
        deadline = loop.time() + seconds + HARD_CAP_SLACK_S
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        tag, item = await inbox.get()
                except TimeoutError:
                    raise JobError("too_long", f"the work went past its {seconds:g} s budget and was stopped") from None
                if tag == "update":
                    yield item
                elif tag == "done":
                    return
                else:
                    raise item
        finally:
            stop.set()  # the job ends at its next step (a thread cannot be killed)

    def stats(self) -> dict:
        return {"pool": self.name, "size": self.size}
