"""What a browser tab does to the app, over plain HTTP: open the page, click a button, read the queue's stream.

The load benchmark's clients share this machine's two cores with the app they measure. Fifty
`gradio_client` sessions in fifty threads took 0.13–0.16 CPU-s per run (each builds HTTP clients and parses
the app's whole API description); a real room's browsers run on fifty other machines. A `Tab` speaks the
page's own protocol from one asyncio loop, so a whole room costs the machine little:

    open:  GET /config (the page fetches it), then the page's load events (queue=False: POST /run/predict)
    click: POST /queue/join with the button's event, then GET /queue/data, the session's event stream
           (sse_v3), until that event's process_completed, whose data are the final outputs

    async with httpx.AsyncClient(timeout=None) as http:
        page = await Page.fetch(http, url)
        tab = Tab(http, page, address="9.0.0.1")
        await tab.open()
        final = await tab.click("train", values)      # the list of final output values
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import httpx


class ClickFailed(RuntimeError):
    """The event ended with success = false: its message is the app's (title: text)."""


@dataclass(frozen=True)
class Page:
    """The parts of the app's /config a tab needs: where the API lives, each named event, the load events."""
    url: str
    api: str                                   # e.g. http://127.0.0.1:7860/gradio_api
    events: dict = field(default_factory=dict)  # api_name -> (fn_index, trigger_id)
    on_load: tuple = ()                         # fn_index of each load event that skips the queue

    @classmethod
    async def fetch(cls, http: httpx.AsyncClient, url: str) -> "Page":
        url = url.rstrip("/")
        config = (await http.get(f"{url}/config")).raise_for_status().json()
        events, on_load = {}, []
        for dep in config["dependencies"]:
            if dep.get("api_name"):
                events[dep["api_name"]] = (dep["id"], dep["targets"][0][0] if dep["targets"] else None)
            if any(kind == "load" for _, kind in dep["targets"]) and not dep.get("queue", True):
                on_load.append(dep["id"])
        return cls(url, url + config.get("api_prefix", "/gradio_api"), events, tuple(on_load))


class Tab:
    """One browser tab: its own session hash, and (for a proxy-aware server) its own address."""

    def __init__(self, http: httpx.AsyncClient, page: Page, address: str | None = None):
        self.http, self.page = http, page
        self.session = secrets.token_hex(6)
        self.headers = {"X-Forwarded-For": address} if address else {}
        self.messages = 0  # server-sent messages read so far (each one cost the server an update)

    async def open(self) -> None:
        """What loading the page costs the server: its config, then its load events."""
        (await self.http.get(f"{self.page.url}/config", headers=self.headers)).raise_for_status()
        for fn_index in self.page.on_load:
            body = {"data": [], "fn_index": fn_index, "trigger_id": None, "event_data": None,
                    "session_hash": self.session}
            (await self.http.post(f"{self.page.api}/run/predict", json=body, headers=self.headers)).raise_for_status()

    async def click(self, api_name: str, data: list, on_message=None) -> list:
        """Send the event as the page does; the final outputs once it completes. on_message(msg) sees every
        message of this event on the way (progress, generating updates, …)."""
        fn_index, trigger_id = self.page.events[api_name]
        body = {"data": data, "fn_index": fn_index, "trigger_id": trigger_id, "event_data": None,
                "session_hash": self.session}
        joined = await self.http.post(f"{self.page.api}/queue/join", json=body, headers=self.headers)
        if joined.status_code != 200:
            raise ClickFailed(f"join refused ({joined.status_code}): {joined.text[:200]}")
        event_id = joined.json()["event_id"]
        async with self.http.stream("GET", f"{self.page.api}/queue/data", params={"session_hash": self.session},
                                    headers=self.headers) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                self.messages += 1
                # a browser parses every message, but it runs on another machine; here the tabs share the
                # app's two cores, so a message that can neither end the event nor be watched stays unparsed
                if on_message is None and '"process_completed"' not in line and '"close_stream"' not in line:
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") not in (event_id, None):
                    continue
                if on_message is not None:
                    on_message(msg)
                if msg.get("msg") == "process_completed":
                    output = msg.get("output") or {}
                    if not msg.get("success", False):
                        raise ClickFailed(f"{msg.get('title') or output.get('title') or 'Error'}: "
                                          f"{output.get('error')}")
                    return output["data"]
                if msg.get("msg") == "close_stream":
                    break
        raise ClickFailed("the stream closed before the event completed")
