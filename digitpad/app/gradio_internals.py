"""Gradio's private internals, behind one door that checks itself at start-up.

The app needs a few things Gradio 6 does not offer publicly. Each one is used here and nowhere
else (tests/app/test_gradio_internals.py greps the package for private Gradio names), and
:func:`check` confirms at start-up that each still exists in the installed Gradio, as a browser
polyfill checks for the feature it patches: ``demo.py`` stops with one line naming the Gradio
version and what changed, instead of failing on a visitor's request. requirements.txt pins the
minor version the tests pass on.

- :func:`endpoint_function`: the ``BlockFunction`` of an event just made by ``gr.api`` (from
  ``gradio.context.get_blocks_context().fns``), to name its inputs and outputs on the API page;
- :func:`hand_each_request`: replaces ``Blocks.call_function`` on the app, so that a batched
  function learns the request of each call in the batch (Gradio passes only the first);
- :func:`pass_upload_path`: replaces ``preprocess`` on a ``gr.Image``, so that an upload's path
  is handed over unopened;
- :func:`share_server_url`: ``gradio.networking.GRADIO_API_SERVER``, asked before ``share=True``;
- :func:`quiet_analytics`: the queue's event analytics (``Blocks._queue``,
  ``ANALYTICS_MAX_EVENTS`` and Gradio's own spelling ``ANAYLTICS_CACHE_FREQUENCY``);
- :func:`forget_session`: a one-use session dropped from ``state_holder`` and the queue's
  ``pending_event_ids_session`` and ``pending_messages_per_session``;
- :data:`CLOSED` and :data:`CALL_RESULT`: route paths copied from ``gradio.routes``.
"""

from __future__ import annotations

import contextvars
import inspect
import re
import sys
from functools import partial
from typing import Any

import gradio as gr
from gradio import networking, queueing, routes, state_holder
from gradio.context import get_blocks_context

# Routes of Gradio's server the app does not use, closed by digitpad.app.guard.Guard: the usage
# dashboard, the vibe editor, the run history, MCP, FastAPI's docs, the components' server route.
CLOSED = re.compile(
    r"^(/gradio_api)?/(monitoring|vibe-edit|undo-vibe-edit|runs|mcp|docs|redoc|openapi\.json"
    r"|component_server)(/|$)",
    re.IGNORECASE,
)
# GET /gradio_api/call/<api>/<event_id>: the result of a raw API call, as server-sent events
CALL_RESULT = re.compile(r"^(/gradio_api)?/call/(v2/)?[^/]+/(?P<event_id>[0-9a-f]{32})/?$")
# What :func:`check` looks for in gradio.routes' source: the routes the two patterns stand for.
ROUTES = ('"/call/{api_name}/{event_id}"', '"/monitoring"', '"/component_server"', '"/runs"')
CALL_FUNCTION_PARAMETERS = ("block_fn", "processed_input", "iterator", "requests")
QUEUE_ATTRIBUTES = (
    "ANALYTICS_MAX_EVENTS",
    "ANAYLTICS_CACHE_FREQUENCY",
    "pending_event_ids_session",
    "pending_messages_per_session",
)
STATE_ATTRIBUTES = ("session_data", "time_last_used", "lock")


class GradioChanged(RuntimeError):
    """The installed Gradio lacks an internal the app relies on; the message says which."""


def check() -> None:
    """Raise :class:`GradioChanged` naming the Gradio version and every internal that is
    missing from it; return quietly when all are there."""
    missing = []
    parameters = list(inspect.signature(gr.Blocks.call_function).parameters)[1:5]
    if parameters != list(CALL_FUNCTION_PARAMETERS):
        missing.append(f"Blocks.call_function{tuple(CALL_FUNCTION_PARAMETERS)}")
    if "preprocess" not in vars(gr.Image):  # its own, not a base class's
        missing.append("Image.preprocess")
    if not isinstance(getattr(networking, "GRADIO_API_SERVER", None), str):
        missing.append("networking.GRADIO_API_SERVER")
    if not hasattr(gr.Blocks(), "_queue"):
        missing.append("Blocks._queue")
    queue_source = inspect.getsource(queueing.Queue.__init__)
    missing += [f"Queue.{a}" for a in QUEUE_ATTRIBUTES if f"self.{a}" not in queue_source]
    holder_source = inspect.getsource(state_holder.StateHolder)
    missing += [f"StateHolder.{a}" for a in STATE_ATTRIBUTES if f"self.{a}" not in holder_source]
    routes_source = inspect.getsource(routes)
    missing += [f"route {r}" for r in ROUTES if r not in routes_source]
    if missing:
        raise GradioChanged(
            f"Gradio {gr.__version__} changed what digitpad relies on ({', '.join(missing)}); "
            "install the version requirements.txt names"
        )


def endpoint_function(dependency: dict) -> Any:
    """The ``BlockFunction`` of the event ``gr.api`` just made (``dependency`` is what it
    returned): its ``inputs`` and ``outputs`` are the API page's components."""
    return get_blocks_context().fns[dependency["id"]]


def pass_upload_path(image: gr.Image) -> gr.Image:
    """``image`` (a ``gr.Image(type="filepath")``) handing its event an upload's path unopened
    (:func:`pass_path`), so that a file that is not an image gets the app's own message."""
    image.preprocess = partial(pass_path, image.preprocess)
    return image


def share_server_url() -> str:
    """Where Gradio asks for a share link."""
    return networking.GRADIO_API_SERVER


def quiet_analytics(blocks: gr.Blocks, max_events: int) -> None:
    """Keep at most ``max_events`` of the queue's per-event records (for the monitoring
    dashboard, which the app turns off), and never rebuild their summary (Gradio 6.31 rebuilds
    a pandas summary of all of them after every event, in a thread holding the GIL)."""
    queue = blocks._queue
    queue.ANALYTICS_MAX_EVENTS = max_events
    queue.ANAYLTICS_CACHE_FREQUENCY = sys.maxsize  # Gradio's spelling


def pass_path(preprocess: Any, payload: Any) -> Any:
    """An uploaded file's path, unopened (reading it is digitpad.images' job, EXIF orientation
    included); anything else (None, a data: URL) as ``preprocess`` makes it."""
    if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
        return payload.path
    return preprocess(payload)


# The requests of the calls Gradio hands a batched function together (:func:`hand_each_request`).
BATCH_REQUESTS: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "digitpad_batch_requests", default=None
)


def hand_each_request(app: gr.Blocks) -> None:
    """Gradio 6 passes a batched function the request of the first call in the batch alone
    (``Blocks.call_function`` takes ``requests[0]``). Keep them all, for the function's thread,
    where :func:`calls_requests` finds them: each visitor's labels are theirs alone."""
    original = app.call_function

    async def call_function(block_fn, processed_input, iterator=None, requests=None, *more, **kw):
        token = BATCH_REQUESTS.set(requests if isinstance(requests, list) else None)
        try:
            return await original(block_fn, processed_input, iterator, requests, *more, **kw)
        finally:
            BATCH_REQUESTS.reset(token)

    app.call_function = call_function


def calls_requests(request: Any, count: int) -> list:
    """The request of each of the ``count`` calls a batched function was handed. When they
    cannot be told apart, none (``None``: no session, so no visitor's labels), never one
    visitor's for another's call."""
    requests = BATCH_REQUESTS.get()
    if requests is not None and len(requests) == count:
        return requests
    return [request] if count == 1 else [None] * count


CLOSED = re.compile(
    r"^(/gradio_api)?/(monitoring|vibe-edit|undo-vibe-edit|runs|mcp|docs|redoc|openapi\.json"
    r"|component_server)(/|$)",
    re.IGNORECASE,
)


# GET /gradio_api/call/<api>/<event_id>: the result of a raw API call, as server-sent events
CALL_RESULT = re.compile(r"^(/gradio_api)?/call/(v2/)?[^/]+/(?P<event_id>[0-9a-f]{32})/?$")


def forget_session(server: Any, session_hash: str) -> bool:
    """Drop the session ``session_hash`` from the Gradio app ``server`` unless one of its events
    is still waiting to be delivered; True when it was dropped."""
    holder = getattr(server, "state_holder", None)
    queue = getattr(getattr(server, "blocks", None), "_queue", None)
    if holder is None or queue is None:
        return False
    if queue.pending_event_ids_session.get(session_hash):
        return False  # a result not yet sent (the client went away early): Gradio's to clean up
    with holder.lock:
        holder.session_data.pop(session_hash, None)
        holder.time_last_used.pop(session_hash, None)
    queue.pending_event_ids_session.pop(session_hash, None)
    messages = queue.pending_messages_per_session.get(session_hash)
    if messages is not None and messages.empty():
        del queue.pending_messages_per_session[session_hash]
    return True
