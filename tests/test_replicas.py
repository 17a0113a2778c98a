"""Two replicas of the app behind a real nginx (Debian's), with deploy/'s site config: each
visitor stays on one replica, visitors spread over both, a browser draws and labels through it,
and stopping a replica mid-run gives its clients an answer or a clear error, never a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest
from gradio_client import Client

from harness import (
    CHROMIUM,
    NGINX,
    AppPage,
    open_chromium,
    pad_value,
    run_curl_commands,
    start_nginx,
    start_server,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not NGINX.is_file(), reason=f"no {NGINX}: install Debian's nginx (apt-get install nginx)"
    ),
]

SEVEN, ONE = pad_value(7), pad_value(1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two replicas (demo.py) and nginx in front of them: (nginx, [replica, replica])."""
    replicas = [start_server(), start_server()]
    nginx = start_nginx([r.url for r in replicas], tmp_path_factory.mktemp("nginx"))
    yield nginx, replicas
    nginx.stop()
    for replica in replicas:
        replica.stop()


def run_clients(client: Callable[[int], None], count: int, timeout: float) -> list[str]:
    """Run ``client(k)`` for k < count at once, in daemon threads: a client whose calls reach
    a replica that does not hold its session waits forever, so the test must not; the errors and
    hangs, as text."""
    problems: list[str] = []

    def run(k: int) -> None:
        try:
            client(k)
        except Exception as error:  # noqa: BLE001 - reported by the test
            problems.append(f"client {k}: {error!r}")

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    hung = [k for k, thread in enumerate(threads) if thread.is_alive()]
    return problems + [f"client {k} hung" for k in hung]


def replica_of_each_cookie(nginx) -> dict[str, set[str]]:
    served: dict[str, set[str]] = {}
    for _, replica, cookie in nginx.routes():
        if cookie != "-":
            served.setdefault(cookie, set()).add(replica)
    return served


def test_each_client_stays_on_its_replica_and_clients_spread(cluster):
    """A client's label changes its later answers (its record is on the replica it labelled
    on); every request carrying a client's cookie reached one replica; both served clients."""
    nginx, replicas = cluster

    def one_client(k: int) -> None:
        client = Client(nginx.url, verbose=False)
        assert client.predict(SEVEN, api_name="/predict_sketch")["digit"] == 7
        assert client.predict(SEVEN, "1", api_name="/label_sketch")["counted"]
        adapted = client.predict(SEVEN, api_name="/predict_sketch")
        assert adapted["digit"] == 1 and adapted["adapted"], f"client {k} lost its label"

    assert run_clients(one_client, 12, timeout=120) == []
    served = replica_of_each_cookie(nginx)
    assert len(served) >= 12 and all(len(replicas_) == 1 for replicas_ in served.values()), served
    used = {next(iter(r)) for r in served.values()}
    assert used == {r.url.split("://")[1].rstrip("/") for r in replicas}, "both replicas serve"


def test_the_documented_curl_commands_work_through_nginx(cluster):
    """docs/api.md's curl commands, each run with a new cookie jar: the upload, the call and its
    result reach the same replica, whichever it is."""
    nginx, _ = cluster
    for _ in range(6):
        sketches, images = run_curl_commands(nginx.url)
        assert [r["digit"] for r in sketches] == [7, 1]
        assert [r["verdict"].split(",")[0] for r in images] == ["5", "7"]
    assert len({replica for _, replica, _ in nginx.routes()}) == 2, "both replicas served"


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no {CHROMIUM}")
def test_a_browser_draws_and_labels_through_nginx(cluster):
    from playwright.sync_api import sync_playwright

    nginx, _ = cluster
    with sync_playwright() as playwright:
        browser = open_chromium(playwright)
        page = AppPage(browser, nginx.url)
        try:
            page.draw_digit(7)
            page.wait_for_verdict("text.startsWith('7, ')")
            page.page.click("#answer-right")
            page.page.locator("#labelled").get_by_text(
                "Counted: a 7 (the model said so too)."
            ).wait_for()
            assert "1 digit labelled" in page.page.inner_text("#tally")
        finally:
            page.close()
            browser.close()


def test_stopping_a_replica_mid_run_gives_answers_or_clear_errors(tmp_path):
    """Eight clients read drawings through nginx while one replica is stopped: every call ends,
    in an answer or an error, well within its timeout; new visitors are then served."""
    replicas = [start_server(), start_server()]
    nginx = start_nginx([r.url for r in replicas], tmp_path / "nginx")
    outcomes: list[str] = []
    stop = threading.Event()

    def one_client() -> None:
        with httpx.Client(base_url=nginx.url, timeout=20) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    event = http.post("gradio_api/call/predict_sketch", json={"data": [SEVEN]})
                    event.raise_for_status()
                    stream = http.get(f"gradio_api/call/predict_sketch/{event.json()['event_id']}")
                    outcomes.append("answer" if "event: complete" in stream.text else "error")
                except httpx.HTTPError:
                    outcomes.append("error")
                assert time.monotonic() - started < 20, "no call hangs"

    try:
        clients = [threading.Thread(target=one_client) for _ in range(8)]
        for client in clients:
            client.start()
        time.sleep(3)
        replicas[0].stop()
        time.sleep(3)
        stop.set()
        for client in clients:
            client.join(timeout=60)
            assert not client.is_alive(), "a client hung"
        assert outcomes.count("answer") > 0
        fresh = Client(nginx.url, verbose=False)
        assert fresh.predict(SEVEN, api_name="/predict_sketch")["digit"] == 7
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()
