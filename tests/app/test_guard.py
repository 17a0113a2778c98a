"""digitpad.app.guard's parts on their own: the middlewares in front of a stand-in ASGI app, the
one-use session cleanup, the queue settings and the login flag. (tests/test_security.py sends
the same probes to the real server.)"""

from __future__ import annotations

import asyncio

import pytest

from digitpad.app import gradio_internals, guard, launch, sessions


def call(
    middleware,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: list[bytes] = (b"",),
) -> tuple[int, bytes, list[bytes]]:
    """One request through ``middleware``: (status, body sent back, body the app read)."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(body) - 1}
        for i, chunk in enumerate(body)
    ]
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    sent, read = [], []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return (
        status,
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        read,
    )


def echo_app(read: list[bytes] | None = None):
    """A stand-in for Gradio: reads the whole body, answers 200."""

    async def app(scope, receive, send):
        while True:
            message = await receive()
            if read is not None:
                read.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize(
    "path",
    [
        "/monitoring",
        "/gradio_api/monitoring/x",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/gradio_api/component_server",
        "/mcp",
        "/gradio_api/runs",
        "/MONITORING",
    ],
)
def test_closed_routes(path):
    assert call(guard.Guard(echo_app()), "GET", path)[:2] == (404, b"Not found")


def test_open_routes_pass():
    assert call(guard.Guard(echo_app()), "GET", "/gradio_api/info")[:2] == (200, b"ok")
    assert call(guard.Guard(echo_app()), "GET", "/monitoringfoo")[0] == 200


@pytest.mark.parametrize(
    "origin, host, allowed, status",
    [
        (None, "app.example", (), 200),  # not a browser (gradio_client, curl)
        ("http://app.example", "app.example", (), 200),  # same origin
        ("https://APP.example/", "app.example", (), 200),
        ("http://evil.example", "app.example", (), 403),
        ("null", "app.example", (), 403),
        ("http://evil.example", "app.example", ("http://evil.example",), 200),  # allowed by name
    ],
)
def test_foreign_origins_cannot_change_state(origin, host, allowed, status):
    headers = {"host": host, **({"origin": origin} if origin else {})}
    middleware = guard.Guard(echo_app(), allowed_origins=allowed)
    assert call(middleware, "POST", "/gradio_api/queue/join", headers)[0] == status
    assert call(middleware, "GET", "/gradio_api/info", headers)[0] == 200, "reading is fine"


def test_a_body_over_the_limit_is_refused_from_its_length_or_as_it_streams():
    middleware = guard.Guard(echo_app(), max_body=100)
    assert call(middleware, "POST", "/upload", {"content-length": "101"})[0] == 413
    assert call(middleware, "POST", "/upload", {"content-length": "12x"})[0] == 400
    read: list[bytes] = []
    status, body, _ = call(
        guard.Guard(echo_app(read), max_body=100), "POST", "/upload", body=[b"x" * 60, b"x" * 60]
    )  # no Content-Length
    assert status == 413 and body == b"Request body over 100 bytes"
    assert call(middleware, "POST", "/upload", {"content-length": "100"}, [b"x" * 100])[0] == 200


def gradio_server(sessions: list[str], pending: dict[str, set]):
    """A real Gradio server app (not served: its routes are not called) holding ``sessions``,
    with ``pending`` events still to be delivered for some of them."""
    from asyncio import Queue as AsyncQueue  # what Gradio's queue keeps messages in

    import gradio as gr
    from gradio import routes

    with gr.Blocks() as blocks:
        gr.Markdown("a page")
    blocks.queue()
    server = routes.App.create_app(blocks)
    for session in sessions:  # as Gradio's queue does when an event of the session joins it
        server.state_holder[session]  # its state, made on first use
        blocks._queue.pending_messages_per_session[session] = AsyncQueue()
    blocks._queue.pending_event_ids_session.update(pending)
    return server


def test_a_one_use_session_is_forgotten_once_its_answer_is_sent():
    server = gradio_server(["a" * 32, "visitor"], {"a" * 32: set()})
    queue = server.blocks._queue
    assert gradio_internals.forget_session(server, "a" * 32) is True
    assert list(server.state_holder.session_data) == ["visitor"]
    assert "a" * 32 not in queue.pending_event_ids_session
    assert list(queue.pending_messages_per_session) == ["visitor"]
    waiting = gradio_server(["b" * 32], {"b" * 32: {"event"}})
    assert gradio_internals.forget_session(waiting, "b" * 32) is False, "an answer to be sent"
    assert list(waiting.state_holder.session_data) == ["b" * 32]
    assert gradio_internals.forget_session(object(), "c" * 32) is False, "not a Gradio server"


def test_the_app_forgets_what_it_kept_for_a_one_use_session_too():
    event = "e" * 32
    forgotten: list[str] = []

    async def app(scope, receive, send):
        scope["app"] = gradio_server([event], {})  # what Starlette puts in the scope
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = guard.OneShotSessions(app, forget=forgotten.append)
    call(middleware, "GET", f"/gradio_api/call/predict_sketch/{event}")
    call(middleware, "GET", "/gradio_api/info")
    assert forgotten == [event]


def test_auth_flag():
    assert launch.parse_auth("ann:secret:with:colons") == ("ann", "secret:with:colons")
    assert launch.parse_auth(None) is None
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(ValueError, match="USER:PASSWORD"):
            launch.parse_auth(bad)


def test_launch_options_install_both_middlewares_and_close_the_extras():
    options = guard.launch_options(auth=("ann", "pw"), forget=print)
    middlewares = options["app_kwargs"]["middleware"]
    assert [m.cls for m in middlewares] == [guard.Guard, guard.OneShotSessions]
    assert middlewares[1].kwargs == {"forget": print}
    assert options["app_kwargs"]["openapi_url"] is None and options["enable_monitoring"] is False
    assert options["show_error"] is False and options["allowed_paths"] == []
    assert (
        options["auth"] == ("ann", "pw") and options["state_session_capacity"] == sessions.CAPACITY
    )
