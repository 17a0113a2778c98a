"""Limits in front of the Gradio app, so that a public link survives hostile clients.

``harden(app)`` sets the queue and upload-cleanup limits on the ``gr.Blocks``; ``launch_options()``
is what ``app.launch`` needs on top (the :class:`Guard` middleware, no monitoring, short error
messages, optional login). digitpad/app.py's ``launch()`` calls both.

:class:`Guard` is an ASGI middleware installed through ``app_kwargs={"middleware": [...]}`` (inside
Gradio's own CORS middleware, before any route). Per request it:

- refuses a body over ``max_body`` bytes with 413: at once from ``Content-Length``, and by
  counting the bytes of a body streamed without one;
- closes routes the app does not use with 404: the usage dashboard (``/monitoring``), the
  vibe editor, the run history, MCP and FastAPI's docs;
- refuses a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin`` is not the host
  it was sent to with 403. Gradio 6.31 only leaves the CORS headers out for a foreign origin
  (and only when served on localhost): the request itself still runs, so a page elsewhere could
  make a visitor's browser call the app. Clients that send no ``Origin`` (gradio_client, curl)
  are not browsers on someone else's page, and pass;
- bounds the sketchpad's blob route (``POST /gradio_api/component_server``, ``accept_blobs``):
  Gradio 6.31's ``ImageEditor.accept_blobs`` pads ``layers`` with ``None`` up to any
  client-given ``index``, so one small request with ``index=10**8`` allocates ~800 MB. An index
  above ``MAX_LAYER_INDEX`` is refused with 400. (The number of blob sets kept is bounded by
  ``digitpad.app.RecentBlobs``; the size of each by ``max_body``.)
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

MAX_UPLOAD = "20mb"  # gr.Blocks.launch(max_file_size=...): a phone photo is a few MB
MAX_BODY_BYTES = 21 * 2**20  # one upload of MAX_UPLOAD plus the multipart envelope
MAX_LAYER_INDEX = 3  # the sketchpad has one layer (index 0); a little room for Gradio's own use
# The app's work is a few ms of CPU per prediction on 2 cores: a few workers keep both busy while
# one waits on I/O; more only adds memory. Beyond QUEUE_SIZE waiting events, Gradio answers
# "queue full" at once instead of letting the wait (and memory) grow without end.
CONCURRENCY = 4
QUEUE_SIZE = 64
# Uploads and outputs in Gradio's cache folder: every 10 minutes, delete those over an hour old.
DELETE_CACHE = (600, 3600)  # (frequency, age) in seconds

CLOSED = re.compile(
    r"^(/gradio_api)?/(monitoring|vibe-edit|undo-vibe-edit|runs|mcp|docs|redoc|openapi\.json)(/|$)",
    re.IGNORECASE,
)
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
BLOB_ROUTE = re.compile(r"^(/gradio_api)?/component_server/?$")


class BodyTooLarge(Exception):
    pass


class Guard:
    """ASGI middleware: body size, closed routes, foreign origins, the blob route's index."""

    def __init__(self, app, max_body: int = MAX_BODY_BYTES, max_layer_index: int = MAX_LAYER_INDEX,
                 allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_body = max_body
        self.max_layer_index = max_layer_index
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if CLOSED.match(path):
            await respond(send, 404, "Not found")
            return
        if method in STATE_CHANGING and not self.origin_ok(headers):
            log.info("refused %s %s from origin %s", method, path, headers.get("origin"))
            await respond(send, 403, "Cross-origin request refused")
            return
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await respond(send, 400, "Bad Content-Length")
                return
            if int(length) > self.max_body:
                await respond(send, 413, f"Request body over {self.max_body:,} bytes")
                return
        if method == "POST" and BLOB_ROUTE.match(path):
            await self.check_blob_request(scope, receive, send)
            return
        await self.call_counted(scope, receive, send)

    def origin_ok(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = headers.get("x-forwarded-host") or headers.get("host", "")
        netloc = re.sub(r"^[a-z][a-z0-9+.-]*://", "", origin)
        return bool(host) and netloc == host.lower()

    async def call_counted(self, scope, receive, send) -> None:
        """Pass the request on, counting the body's bytes as the app reads them."""
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await respond(send, 413, f"Request body over {self.max_body:,} bytes")

    async def check_blob_request(self, scope, receive, send) -> None:
        """Read the (bounded) body, refuse a layer index over the maximum, then replay it."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await respond(send, 413, f"Request body over {self.max_body:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        indices = await form_values(scope, body, "index")
        if indices is None:
            await respond(send, 400, "Malformed form")
            return
        for value in indices:
            value = value.strip()
            if value in ("", "null"):
                continue
            if not re.fullmatch(r"\d{1,6}", value) or int(value) > self.max_layer_index:
                await respond(send, 400, f"Layer index must be 0..{self.max_layer_index}")
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def form_values(scope, body: bytes, name: str) -> list[str] | None:
    """Every value of the form field ``name`` in a (multipart or urlencoded) body; [] when the
    body is not a form; None when it is a form that cannot be parsed."""
    from starlette.requests import Request

    content_type = next((v.decode("latin-1") for k, v in scope["headers"]
                         if k.lower() == b"content-type"), "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return []

    async def once():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form(max_files=16, max_fields=64)
    except Exception:  # noqa: BLE001 - any parse error of a hostile body
        return None
    try:
        # a file sent as "index" is no number: "x" makes the caller refuse it
        return [v if isinstance(v, str) else "x" for v in form.getlist(name)]
    finally:
        await form.close()


async def respond(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def harden(blocks) -> None:
    """Queue limits (and no queue-bypassing REST routes) and upload cleanup on a ``gr.Blocks``,
    before it is launched."""
    # api_open=False: /gradio_api/run/... and /api/... refuse queued events, so nothing skips the
    # queue's limits; the browser and gradio_client both use the queue.
    blocks.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE, api_open=False)
    blocks.delete_cache = DELETE_CACHE


def launch_options(auth: tuple[str, str] | None = None,
                   allowed_origins: tuple[str, ...] = ()) -> dict:
    """Keyword arguments for ``gr.Blocks.launch`` beyond the app's own."""
    from starlette.middleware import Middleware

    return {
        "app_kwargs": {"middleware": [Middleware(Guard, allowed_origins=allowed_origins)],
                       "docs_url": None, "redoc_url": None, "openapi_url": None},
        "enable_monitoring": False,
        "show_error": False,  # an exception in a handler: "Error", never its text or traceback
        "allowed_paths": [],
        "auth": auth,
        "auth_message": "digitpad: a private demo" if auth else None,
    }


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"USER:PASSWORD"`` -> (user, password); None -> None. Raises ValueError otherwise."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth wants USER:PASSWORD")
    return user, password
