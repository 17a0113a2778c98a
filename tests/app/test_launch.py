"""A short load on the real app: 16 clients at once, a few hundred predictions, no error, no crash;
and what the server keeps per request stays bounded (issue 6).

The figures (throughput, latency percentiles, memory over 5,000 requests) come from
``scripts/load_test.py``; this only checks that the app holds up under concurrent clients.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import load_test
import pytest

from digitpad.app import launch, sessions
from harness import NGINX, free_port, pad_value

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind, requests", [("drawing", 320), ("photo", 160)])
def test_sixteen_clients_get_answers_and_the_server_survives(tmp_path, kind, requests):
    out = tmp_path / "load.json"
    assert (
        load_test.main(
            [
                "--requests",
                str(requests),
                "--clients",
                "16",
                "--processes",
                "2",
                "--input",
                kind,
                "--out",
                str(out),
            ]
        )
        == 0
    )  # 1: the server died
    report = json.loads(out.read_text())
    (step,) = report["steps"]
    assert step["errors"] == {} and step["ok"] == step["requests"] == requests
    assert report["rss_after_mb"] - report["rss_before_mb"] < 100


@pytest.mark.skipif(not NGINX.is_file(), reason=f"no {NGINX}: install Debian's nginx")
def test_the_load_test_runs_through_nginx_in_front_of_two_replicas(tmp_path):
    out = tmp_path / "load.json"
    argv = ["--replicas", "2", "--requests", "120", "--clients", "8", "--processes", "2"]
    assert load_test.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    (step,) = report["steps"]
    assert report["replicas"] == 2 and step["errors"] == {} and step["ok"] == 120
    assert report["floor_per_second"] > 0 and 0 < step["of_floor"]


def call(
    url: str, payload: dict, session_hash: str | None = None, endpoint: str = "predict_image"
) -> str:
    """One raw API call, as scripts/load_test.py makes it: POST, then the result's event stream;
    the last event's name ("complete" or "error")."""
    body = {"data": payload["data"]} | ({"session_hash": session_hash} if session_hash else {})
    response = httpx.post(f"{url}/gradio_api/call/{endpoint}", json=body, timeout=30)
    response.raise_for_status()
    event_id = response.json()["event_id"]
    event = None
    result = f"{url}/gradio_api/call/{endpoint}/{event_id}"
    with httpx.stream("GET", result, timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
    return event


def test_raw_api_calls_leave_no_session_state_behind(predictor):
    """Gradio 6.31 keeps a SessionState (~55 KB: a copy of every block's config) for each session
    hash, up to 10,000, and each raw API call is a new session: 42-70 KB of RSS per request
    before digitpad.app.guard.OneShotSessions forgot them. A session the client named stays."""
    demo = launch.build_app(predictor)
    url = launch.launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True).rstrip(
        "/"
    )
    try:
        server, queue = demo.server_app, demo._queue
        payload = {"data": [load_test.upload(url + "/", load_test.EXAMPLE)]}
        assert call(url, payload, session_hash="visitor") == "complete"
        events = [call(url, payload) for _ in range(150)]
        assert events == ["complete"] * 150
        deadline = time.monotonic() + 5  # the last stream's session is dropped as it closes
        while len(server.state_holder.session_data) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(server.state_holder.session_data) == ["visitor"]  # Gradio alone: all 151
        assert set(queue.pending_event_ids_session) <= {"visitor"}
        assert set(queue.pending_messages_per_session) <= {"visitor"}
        assert server.state_holder.capacity == sessions.CAPACITY  # what is left is bounded
        assert len(queue.event_analytics) <= launch.ANALYTICS_EVENTS  # Gradio's own: 10,000
        # places in line are sent once a second, not to every waiting event on each start
        assert not queue.live_updates and queue.update_intervals == launch.STATUS_UPDATE_SECONDS
    finally:
        demo.close()


def test_beyond_the_queue_clients_are_told_it_is_full(predictor, monkeypatch):
    """More requests at once than the queue holds: the extra ones get Gradio's "queue full"
    answer at once, every other one its prediction, and the server goes on serving. (With a
    queue of 3 and one worker, so that a few dozen requests are enough.)"""
    monkeypatch.setattr(launch, "QUEUE_SIZE", 3)
    monkeypatch.setattr(launch, "CONCURRENCY", 1)
    demo = launch.build_app(predictor)
    url = launch.launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
    try:
        payload = {"data": [pad_value(7)]}
        results = asyncio.run(
            load_test.run_clients(url, "predict_sketch", payload, 40, 40, "client")
        )
        kinds = [kind for _, kind in results]
        assert len(kinds) == 40
        assert set(kinds) == {None, "queue full"}, set(kinds)  # answers and refusals, nothing else
        assert kinds.count(None) >= 3  # at least what the queue holds was served
        assert call(url.rstrip("/"), payload, endpoint="predict_sketch") == "complete"
    finally:
        demo.close()
