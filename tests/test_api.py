"""The real app on 127.0.0.1 through its API (gradio_client), and ``demo.py --share`` offline.

The server is started in-process with ``prevent_thread_lock=True`` on a free port and closed by
the fixture. The README's snippet, kept in digitpad/app.py's docstring, is run exactly as written
(only the port differs).
"""

from __future__ import annotations

import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR
from digitpad import app, pad
from conftest import free_port

needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL_PATH.is_file(),
    reason=f"no shipped model at {DEFAULT_MODEL_PATH}; create it with `python train_model.py`",
)
pytestmark = needs_model


@pytest.fixture(scope="module")
def server(predictor):
    metrics = app.read_metrics(DEFAULT_MODEL_PATH.parent / "metrics.json")
    demo = app.build_app(predictor, metrics=metrics)
    url = app.launch(demo, host="127.0.0.1", port=free_port(), prevent_thread_lock=True)
    yield url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def readme_snippet() -> str:
    """The gradio_client example in digitpad/app.py's docstring, dedented."""
    block = re.search(r"through its API::\n\n((?:    .*\n|\n)+)", app.__doc__).group(1)
    return "\n".join(line[4:] for line in block.splitlines())


def test_the_readme_snippet_works(server, monkeypatch, capsys):
    snippet = readme_snippet()
    assert 'Client("http://127.0.0.1:7860/")' in snippet and 'api_name="/predict_image"' in snippet
    monkeypatch.chdir(REPO_DIR)  # the snippet's example path is relative to the repository
    namespace: dict = {}
    exec(snippet.replace("http://127.0.0.1:7860/", server), namespace)
    printed = capsys.readouterr().out.splitlines()[-2:]  # after the client's "Loaded as API"
    assert printed[0].startswith("5, ") and printed[0].endswith("% sure")
    assert printed[1] == "5"
    assert len(namespace["label"]["confidences"]) == 10
    with Image.open(namespace["seen"]) as seen:  # the 28x28 image the model saw
        assert seen.size == (28, 28)


def test_every_endpoint_is_named(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/predict_sketch", "/predict_image"} <= set(endpoints)


def test_predict_sketch(client):
    """A script draws with strokes, as the page sends them (a 7: a bar and a slanted stem)."""
    seven = pad.value_of([[(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]])
    label, verdict, seen = client.predict(seven, api_name="/predict_sketch")
    assert label["label"] == "7" and verdict.startswith("7")
    assert Path(seen).is_file()


def test_predict_empty_sketch(client):
    label, verdict, seen = client.predict('{"strokes": []}', api_name="/predict_sketch")
    assert verdict == app.NO_SKETCH and seen is None
    assert not label or not label.get("confidences")


def test_unreadable_upload_is_answered_and_the_server_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    label, verdict, seen = client.predict(handle_file(str(bad)), api_name="/predict_image")
    assert verdict.startswith("Can't read that image") and "notes.png" in verdict
    assert seen is None
    photo = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
    label, verdict, _ = client.predict(handle_file(str(photo)), api_name="/predict_image")
    assert label["label"] == "5"


def test_share_without_network_still_serves_locally(tmp_path):
    """``demo.py --share`` where the share server cannot be reached (a proxy that refuses every
    connection stands in for a machine without internet, so this holds with or without one)."""
    sys.path.insert(0, str(REPO_DIR / "scripts"))
    from benchmark_browser import start_server

    offline = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
               "ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}
    server = start_server(DEFAULT_MODEL_PATH, extra=["--share"], env=offline)
    try:
        with urllib.request.urlopen(server.url, timeout=10) as response:
            assert response.status == 200
        from gradio_client import Client, handle_file

        client = Client(server.url, verbose=False)
        photo = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
        label, _, _ = client.predict(handle_file(str(photo)), api_name="/predict_image")
        assert label["label"] == "5"
    finally:
        server.stop()
    output = "".join(server.output)
    share_lines = [line for line in output.splitlines() if "public link" in line.lower()
                   or "share link" in line.lower()]
    assert len(share_lines) == 1, output
    assert share_lines[0].startswith("* no public link: cannot reach Gradio's share server (")
    assert share_lines[0].endswith("; serving locally only.")


# --- labelling through the API: demo.py --collect DIR -----------------------------------------


def test_label_endpoints_count_without_saving(client):
    from gradio_client import handle_file

    photo = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
    text, done = client.predict(handle_file(str(photo)), "right", api_name="/label_image")
    assert done == "Counted: a 5 (the model said so too)."
    assert text.startswith("**")


@pytest.fixture(scope="module")
def collecting(tmp_path_factory):
    """``python demo.py --collect DIR``, started as a user starts it."""
    sys.path.insert(0, str(REPO_DIR / "scripts"))
    from benchmark_browser import start_server

    folder = tmp_path_factory.mktemp("collected") / "my digits"
    server = start_server(DEFAULT_MODEL_PATH, extra=["--collect", str(folder)])
    yield server, folder
    server.stop()


def test_saves_through_the_app_reload_with_their_labels(collecting):
    from gradio_client import Client, handle_file

    from digitpad import collect

    server, folder = collecting
    deadline = time.monotonic() + 30  # the page is served a moment before the last lines print
    while "* ready in" not in "".join(server.output) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"* saving labelled digits in {folder}" in "".join(server.output)
    client = Client(server.url, verbose=False)
    before = len(collect.load_records(folder))
    photo = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
    sketch = pad.value_of([[(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]])
    answers = [(handle_file(str(photo)), "right", "/label_image", 5),
               (handle_file(str(photo)), "3", "/label_image", 3),
               (sketch, "7", "/label_sketch", 7),
               (sketch, "1", "/label_sketch", 1)]
    for source, answer, endpoint, _ in answers:
        text, done = client.predict(source, answer, api_name=endpoint)
        assert done.startswith("Saved: a "), done
    assert text == "**4** digits labelled; the model got **2** right (50%). Mistakes per digit: 1: 1, 3: 1."
    records = collect.load_records(folder)[before:]
    assert [r.label for r in records] == [a[3] for a in answers]
    assert [r.predicted for r in records] == [5, 5, 7, 7]
    assert records[0].original.read_bytes() == photo.read_bytes()
    x, y = collect.load_collection(folder)
    assert x.shape[1:] == (28, 28) and len(y) == before + 4


def test_concurrent_saves_from_several_clients_lose_nothing(collecting):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    from digitpad import collect

    server, folder = collecting
    before = len(collect.load_records(folder))
    examples = sorted((REPO_DIR / "assets" / "examples").iterdir())

    def one_client(k: int) -> list[str]:
        client = Client(server.url, verbose=False)
        answers = []
        for i in range(6):
            answer = str((k + i) % 10)
            _, done = client.predict(handle_file(str(examples[(k + i) % len(examples)])), answer,
                                     api_name="/label_image")
            assert done.startswith(f"Saved: a {answer} "), done
            answers.append(answer)
        return answers

    with ThreadPoolExecutor(8) as pool:
        sent = sorted(a for answers in pool.map(one_client, range(8)) for a in answers)
    records = collect.load_records(folder)
    assert len(records) == before + 48
    assert len({r.id for r in records}) == len(records)
    assert sorted(str(r.label) for r in records[before:]) == sent
    x, y = collect.load_collection(folder)  # every image reads back
    assert len(y) == len(records)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
