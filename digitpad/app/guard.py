"""Limits in front of the Gradio app, so that a public link survives hostile clients.

``launch_options()`` is what ``app.launch`` needs for a public link (the :class:`Guard` and
:class:`OneShotSessions` middlewares, bounded sessions, no monitoring, short error messages,
optional login); digitpad.app.launch's ``launch()`` passes it, after setting up the queue's limits.
Its bounds on what one request may carry are here too: ``MAX_UPLOAD``, ``MAX_BODY_BYTES``,
``MAX_BULK``.

:class:`Guard` is an ASGI middleware installed through ``app_kwargs={"middleware": [...]}`` (inside
Gradio's own CORS middleware, before any route). Per request it:

- refuses a body over ``max_body`` bytes with 413: at once from ``Content-Length``, and by
  counting the bytes of a body streamed without one;
- closes routes the app does not use with 404: the usage dashboard (``/monitoring``), the
  vibe editor, the run history, MCP, FastAPI's docs, and the components' server route
  (``/gradio_api/component_server``);
- refuses a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin`` is not the host
  it was sent to with 403. Gradio 6.31 only leaves the CORS headers out for a foreign origin
  (and only when served on localhost): the request itself still runs, so a page elsewhere could
  make a visitor's browser call the app. Clients that send no ``Origin`` (gradio_client, curl)
  are not browsers on someone else's page, and pass.

The components' server route is where Gradio 6.31's sketchpad (``gr.ImageEditor``) uploads its
layers: ``accept_blobs`` pads ``layers`` with ``None`` up to any client-given ``index``, so one
small request with a huge ``index`` allocates a list that long, and it keeps every blob until an
event uses it. The app draws with digitpad.strokes instead, which sends strokes with the event, and no
component of the app serves anything there: the route is closed, and with it that hole.

Memory per request (measured before and after in docs/measurements.md, "Under load"). Gradio 6.31
builds a ``SessionState`` for every session hash it sees, a copy of every block's config, and
keeps up to 10,000 of them (``state_session_capacity``) whether or not the session is still
there. A raw API call (``POST /gradio_api/call/<api>`` with no session hash, as
curl sends it, or ``scripts/load_test.py --sessions request``) gets a new session named after its
event id, used once. So:

- :class:`OneShotSessions`, an ASGI middleware, forgets such a session (its state, its message
  queue and its entry in the queue's pending ids) once ``GET /gradio_api/call/<api>/<event_id>``
  has streamed the result: API traffic no longer pushes visitors' sessions (and their
  ``gr.State``) out, nor grows memory;
- ``state_session_capacity`` bounds what is left (browser tabs, gradio_client, an API client
  that never reads its result): at most digitpad.app.sessions.CAPACITY copies, as many as the
  app keeps records of;
- digitpad.app.launch stops the queue's event analytics, kept for the monitoring dashboard (off
  here): up to 10,000 records, and a pandas summary of all of them rebuilt after every event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from digitpad.app.gradio_internals import CALL_RESULT, CLOSED, forget_session
from digitpad.app.sessions import CAPACITY

log = logging.getLogger(__name__)

MAX_UPLOAD = "20mb"  # gr.Blocks.launch(max_file_size=...): a phone photo is a few MB
MAX_BODY_BYTES = 21 * 2**20  # one upload of MAX_UPLOAD plus the multipart envelope
# A bulk call (/predict_sketches, /predict_images) reads at most this many inputs: a few seconds
# of work, inside the body limit, and one queue place like any other call.
MAX_BULK = 1000

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class BodyTooLarge(Exception):
    """A streamed body passed the limit (raised inside the receive wrapper, answered with 413)."""


class Guard:
    """ASGI middleware: body size, closed routes, foreign origins."""

    def __init__(
        self, app: Any, max_body: int = MAX_BODY_BYTES, allowed_origins: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
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
        await self.call_counted(scope, receive, send)

    def origin_ok(self, headers: dict[str, str]) -> bool:
        """No Origin (not a browser), an allowed one, or the host the request was sent to."""
        origin = headers.get("origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = headers.get("x-forwarded-host") or headers.get("host", "")
        netloc = re.sub(r"^[a-z][a-z0-9+.-]*://", "", origin)
        return bool(host) and netloc == host.lower()

    async def call_counted(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Pass the request on, counting the body's bytes as the app reads them."""
        received = 0
        started = False

        async def counted_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def tracked_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await respond(send, 413, f"Request body over {self.max_body:,} bytes")


async def respond(send: Callable, status: int, text: str) -> None:
    """A plain-text answer with ``status``, straight from the middleware."""
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class OneShotSessions:
    """ASGI middleware: forgets the session of a raw API call once its result has been sent.

    ``POST /gradio_api/call/<api>`` without a ``session_hash`` runs in a session named after its
    event id, which nothing can use again. Gradio 6.31 keeps it all the same: a ``SessionState``
    (a copy of every block's config) until ``state_session_capacity`` newer sessions push it out,
    an empty message queue and an empty set of pending ids (the latter for ever). After
    ``GET /gradio_api/call/<api>/<event_id>`` ends, with the result delivered, this drops all
    three, and calls ``forget(session_hash)`` for what the app keeps per session
    (digitpad.app.sessions). A session the client named itself is not named after the event id, and
    stays.
    """

    def __init__(self, app: Any, forget: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.forget = forget

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        match = None
        if scope["type"] == "http" and scope.get("method") == "GET":
            match = CALL_RESULT.match(scope.get("path", ""))
        try:
            await self.app(scope, receive, send)
        finally:
            if match is not None and forget_session(scope.get("app"), match["event_id"]):
                if self.forget is not None:
                    self.forget(match["event_id"])


def launch_options(
    auth: tuple[str, str] | None = None,
    allowed_origins: tuple[str, ...] = (),
    forget: Callable[[str], None] | None = None,
) -> dict:
    """Keyword arguments for ``gr.Blocks.launch`` beyond the app's own; ``forget(session_hash)``
    is called when a one-use session is dropped (:class:`OneShotSessions`)."""
    from starlette.middleware import Middleware

    return {
        "app_kwargs": {
            "middleware": [
                Middleware(Guard, allowed_origins=allowed_origins),
                Middleware(OneShotSessions, forget=forget),
            ],
            "docs_url": None,
            "redoc_url": None,
            "openapi_url": None,
        },
        # Sessions whose state Gradio keeps, least recently used dropped first (Gradio's
        # default: 10,000), each a copy of the page's config; one-shot API calls do not count
        # (OneShotSessions forgets them).
        "state_session_capacity": CAPACITY,
        "enable_monitoring": False,
        "show_error": False,  # an exception in a handler: "Error", never its text or traceback
        "allowed_paths": [],
        "auth": auth,
        "auth_message": "digitpad: a private demo" if auth else None,
    }
