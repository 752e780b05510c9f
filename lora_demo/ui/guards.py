"""What the web server refuses before Gradio sees it, and what it notices about its callers.

- BodyGuard: the app takes no uploads, so Gradio's upload routes answer 403 (Gradio would store any file
  anyone sends); request bodies over MAX_BODY bytes get 413 (counted as they arrive, with or without a
  Content-Length); a JSON body for the queue that is not an object gets 422 instead of Gradio's 500.
- CallWatch: remembers which events started through Gradio's REST route (`POST /gradio_api/call/<api>`)
  have a reader on their result stream, and how many message streams (`GET /gradio_api/queue/data`) each
  page or client session holds open, so a job nobody reads can be dropped instead of run.
- A KeyError from Gradio's routing (an unknown fn_index) becomes 404 instead of 500.

Plain ASGI: no gradio import needed here, so it can be tested on its own.
"""
from __future__ import annotations

import json
import math
import re
import time

MAX_BODY = 256 * 1024   # the largest real request (every setting of /train) is under 2 kB; uploads are off
QUEUE_PATHS = re.compile(r"^/gradio_api/(queue/join|call/[^/]+|call/v2/[^/]+)/?$")
UPLOAD_PATHS = re.compile(r"^/(gradio_api/)?upload/?$")
STREAM_PATH = re.compile(r"^/gradio_api/call/[^/]+/(?P<event>[0-9a-f]{16,64})/?$")
SESSION_STREAM_PATH = re.compile(r"/gradio_api/queue/data/?$")  # searched: a root path may precede it
SESSION_HASH = re.compile(rb"(?:^|&)session_hash=([A-Za-z0-9_-]{1,64})(?:&|$)")


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    def __init__(self, app, max_body: int = MAX_BODY):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        if UPLOAD_PATHS.match(scope["path"]):
            return await _reply(send, 403, "this app takes no uploads")
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await _reply(send, 413, f"request body too large: at most {self.max_body:,} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await _reply(send, 413, f"request body too large: at most {self.max_body:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if QUEUE_PATHS.match(scope["path"]) and body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # not JSON at all: Gradio answers that itself with a 422
            else:
                if not isinstance(parsed, dict) or not isinstance(parsed.get("data", []), list):
                    return await _reply(send, 422, 'the body must be a JSON object like {"data": [...]}')
                # Gradio quotes a bad field's value in its 422, and a NaN or Infinity there crashes that reply
                # (500); inside "data" the app's own checks name the setting, so only the rest is refused here
                if any(not _finite(v) for k, v in parsed.items() if k != "data"):
                    return await _reply(send, 422, "numbers outside data must be finite")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        return await self.app(scope, replay, send)


def _finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class CallWatch:
    """Tracks result streams of REST-route events: event id -> when its reader came, or None once it left."""

    def __init__(self, app, watched: dict):
        self.app, self.watched = app, watched

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        match = STREAM_PATH.match(path)
        if match is not None:
            return await self._rest_reader(match.group("event"), scope, receive, send)
        session = SESSION_HASH.search(scope.get("query_string", b"")) if SESSION_STREAM_PATH.search(path) else None
        if session is not None:
            return await self._session_reader(session.group(1).decode(), scope, receive, send)
        return await self.app(scope, receive, send)

    async def _rest_reader(self, event: str, scope, receive, send):
        self.watched[event] = time.monotonic()
        try:
            return await self.app(scope, receive, send)
        finally:
            self.watched[event] = None  # the reader is gone (or has read to the end)
            self._forget_oldest()

    async def _session_reader(self, session: str, scope, receive, send):
        """A page or client reading its session's messages: counted while open (("open", n) under the key)."""
        key = ("session", session)
        self.watched[key] = self.watched.get(key, 0) + 1
        try:
            return await self.app(scope, receive, send)
        finally:
            left = self.watched.get(key, 1) - 1
            if left > 0:
                self.watched[key] = left
            else:
                self.watched.pop(key, None)
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        if len(self.watched) > 10_000:  # forget the oldest; a dict keeps insertion order
            for key in list(self.watched)[:5_000]:
                self.watched.pop(key, None)


async def unknown_function(request, exc):
    """Gradio looks a raw request's fn_index up in a dict: a KeyError there is a bad request, not a crash."""
    from starlette.responses import JSONResponse
    return JSONResponse({"detail": f"unknown function or event: {exc}"}, status_code=404)
