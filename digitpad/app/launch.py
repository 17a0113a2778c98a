"""Build the app and serve it: the Blocks and their events, the queue's throughput, the launch.

    python demo.py                      # http://127.0.0.1:7860

``build_app(predictor)`` builds the ``gr.Blocks`` (the page, digitpad.app.page; its events,
digitpad.app.events; the API, digitpad.app.api) and launches nothing; ``launch(app, ...)`` serves
it with the queue's throughput settings below and behind digitpad.app.guard's limits.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

# No outbound calls at run time: Gradio reads this when it is imported (version check, analytics).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from digitpad.app import api, events, gradio_internals, guard, page  # noqa: E402
from digitpad.app.gradio_internals import hand_each_request  # noqa: E402
from digitpad.app.serving import READ_TOGETHER, Serving  # noqa: E402
from digitpad.app.sessions import Sessions  # noqa: E402
from digitpad.files import FULL_TEST_SET  # noqa: E402
from digitpad.labelling import Label  # noqa: E402
from digitpad.predictor import Predictor  # noqa: E402

# The app's work is a few ms of CPU per prediction, holding the GIL most of it: one worker per
# core (more only adds threads contending for the GIL; `python scripts/load_test.py` compares).
# Beyond QUEUE_SIZE waiting events, Gradio answers "queue full" at once instead of letting the
# wait (and memory) grow without end.
CONCURRENCY = 2
QUEUE_SIZE = 64
# How often people waiting in the queue are told their place and ETA. Gradio's default ("auto")
# tells every waiting event each time any event starts: with 30 waiting, 30 messages per
# prediction, work that grows with the square of the queue. Once a second is plenty for the
# page's queue display (`python scripts/load_test.py --requests 800 --clients 32`, alternated
# with runs with "auto", measured it: docs/measurements.md).
STATUS_UPDATE_SECONDS = 1.0
# Uploads and outputs in Gradio's cache folder: every 10 minutes, delete those over an hour old.
DELETE_CACHE = (600, 3600)  # (frequency, age) in seconds
ANALYTICS_EVENTS = 1  # the queue's per-event records for the (disabled) monitoring dashboard


def build_app(
    predictor: Predictor,
    *,
    metrics: dict | None = None,
    examples: list[Path] | None = None,
    collect_dir: Path | None = None,
    sessions: Sessions | None = None,
    owner: tuple[Label, ...] = (),
    read_together: int = READ_TOGETHER,
) -> gr.Blocks:
    """The Blocks: drawing and photo tabs, the result panel, the answer buttons and the tally,
    examples and the note, and the API. With ``collect_dir``, labelled digits are saved there;
    with ``owner``, every session's answers adapt to those labelled digits. Each visitor's record
    is kept in ``sessions`` (a new store by default), also reachable as ``app.visitors``.
    ``read_together``: how many drawings waiting in the queue (pen lifts, /predict_sketch calls)
    are read at once."""
    examples = page.find_examples() if examples is None else examples
    serving = Serving(predictor, collect_dir, sessions or Sessions(), tuple(owner), read_together)
    with gr.Blocks(title="digitpad", analytics_enabled=False) as app:
        shown = page.lay_out(examples, collect_dir, len(owner), metrics)
        events.wire_page(shown, serving)
        events.wire_labels(shown, serving)
        events.wire_why(shown, serving)
        api.wire_api(serving)
        app.unload(events.forgetting(serving.sessions))
    hand_each_request(app)  # drawings read together, each with its visitor's own labels
    app.visitors = serving.sessions
    return app


def share_problem(timeout: float = 5.0) -> str | None:
    """Why Gradio's share server cannot be reached, or None when it can.

    Asked before launching with ``share=True``: without it, Gradio waits for its own requests to
    fail and then prints a multi-line message that does not say why.
    """
    import httpx

    try:
        response = httpx.get(gradio_internals.share_server_url(), timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError as error:
        return f"cannot reach Gradio's share server ({type(error).__name__}: {error})"
    return None


def launch(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    prevent_thread_lock: bool = False,
    auth: tuple[str, str] | None = None,
) -> str:
    """Serve ``app``; returns the local URL (at once with ``prevent_thread_lock``, else when the
    server stops). With ``share``, a public link too when the share server can be reached; when
    it cannot, one line says so and why, and the app is served locally all the same."""
    no_share = share_problem() if share else None
    set_up_queue(app)  # queue limits, no queue bypass, uploads deleted
    visitors = getattr(app, "visitors", None)
    app.launch(
        server_name=host,
        server_port=port,
        share=share and no_share is None,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        footer_links=["api", "gradio", "settings"],
        run_history=False,  # no run records in the browser (and no extra upload per stroke)
        max_file_size=guard.MAX_UPLOAD,
        css=page.web_file("app.css"),
        **guard.launch_options(auth=auth, forget=visitors.forget if visitors else None),
    )
    print(f"* digitpad is running on {app.local_url}", flush=True)
    if share:
        if app.share_url:
            print(f"* public link: {app.share_url}", flush=True)
        else:
            why = no_share or "Gradio could not start its tunnel"
            print(f"* no public link: {why}; serving locally only.", flush=True)
    if not prevent_thread_lock:
        app.block_thread()
    return app.local_url


def set_up_queue(blocks: gr.Blocks) -> None:
    """Queue limits (and no queue-bypassing REST routes), upload cleanup and no event analytics
    on a ``gr.Blocks``, before it is launched."""
    # api_open=False: /gradio_api/run/... and /api/... refuse queued events, so nothing skips the
    # queue's limits; the browser and gradio_client both use the queue.
    blocks.queue(
        default_concurrency_limit=CONCURRENCY,
        max_size=QUEUE_SIZE,
        api_open=False,
        status_update_rate=STATUS_UPDATE_SECONDS,
    )
    blocks.delete_cache = DELETE_CACHE
    # Gradio 6.31 records every event (up to 10,000) for its monitoring dashboard, and after each
    # event rebuilds a pandas summary of all the records (milliseconds, in a thread holding the
    # GIL). The dashboard is off (launch_options) and its routes closed (Guard): keep one
    # record, and never summarise.
    gradio_internals.quiet_analytics(blocks, ANALYTICS_EVENTS)


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"USER:PASSWORD"`` -> (user, password); None -> None. Raises ValueError otherwise."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth wants USER:PASSWORD")
    return user, password


def writable_folder(folder: Path) -> Path:
    """``folder``, resolved, when digits can be saved there: an existing folder this user can
    write in, or one that can be created (its nearest existing parent is such a folder). Nothing
    is created here: :func:`make_folder` does it once the app is about to serve. ValueError,
    saying why and what to pass, otherwise."""
    folder = folder.expanduser().resolve()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"--collect {folder}: {existing} is a file; pass a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "that folder" if existing == folder else f"{existing}"
        raise ValueError(f"--collect {folder}: cannot write in {where}; pass one you can write to.")
    return folder


def make_folder(folder: Path) -> None:
    """Create ``folder`` (checked by :func:`writable_folder`), with its parents."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"--collect {folder}: cannot create it ({error.strerror}).") from error


def port_problem(host: str, port: int) -> str | None:
    """Why the app could not listen on ``host:port``, in a line that says what to do; None when
    it can. Asked before the model loads, so a busy port is said at once."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except PermissionError:
            return (
                f"--port {port}: this user may not listen on ports below 1024; "
                "pass --port 7860 (or another port above 1023)."
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"--port {port}: another program is listening there; stop it, or pass "
                    f"another port (--port {port + 1})."
                )
            if error.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME, socket.EAI_NODATA):
                return f"--host {host}: not an address of this machine; pass --host 127.0.0.1."
            return f"--host {host} --port {port}: cannot listen there ({error.strerror})."
    return None


def model_caveat(model: Path, metrics: dict | None) -> str | None:
    """What a visitor should know about a model that is not a full, measured run, in a line;
    None for one that is (the shipped model is)."""
    if metrics is None:
        return f"{model} has no metrics.json beside it: its accuracy was never measured."
    if metrics.get("config", {}).get("dry_run"):
        return f"{model} is a dry run (a smoke test on a few hundred images): expect wrong answers."
    if metrics.get("n_test") != FULL_TEST_SET:
        return f"{model} was measured on {metrics.get('n_test')} MNIST test images, not all."
    return None
