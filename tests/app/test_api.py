"""The real app on 127.0.0.1 through its API (gradio_client), and ``demo.py --share`` offline.

The server is started in-process (conftest's ``served``) or as ``demo.py`` in a subprocess
(tests/harness.py), on a free port, and stopped by the fixture. The README's snippet, kept in
digitpad/app/api.py's docstring, is run exactly as written (only the port differs).
"""

from __future__ import annotations

import base64
import io
import re
import time
import urllib.request

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR, labelling, reading, strokes
from digitpad.app import api, guard, launch
from digitpad.collection import load_collection, load_records
from harness import run_curl_commands, start_server, varied_drawings

pytestmark = pytest.mark.e2e

PHOTO = REPO_DIR / "assets" / "examples" / "photo_5.jpg"
SEVEN = strokes.value_of([[(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]])  # a bar and a slanted stem


def readme_snippet() -> str:
    """The gradio_client example in digitpad/app/api.py's docstring, dedented."""
    block = re.search(r"through it::\n\n((?:    .*\n|\n)+)", api.__doc__).group(1)
    return "\n".join(line[4:] for line in block.splitlines())


def test_the_readme_snippet_works(served, monkeypatch, capsys):
    snippet = readme_snippet()
    assert 'Client("http://127.0.0.1:7860/")' in snippet and 'api_name="/predict_image"' in snippet
    monkeypatch.chdir(REPO_DIR)  # the snippet's example path is relative to the repository
    namespace: dict = {}
    exec(snippet.replace("http://127.0.0.1:7860/", served[1] + "/"), namespace)
    printed = capsys.readouterr().out.splitlines()[-2:]  # after the client's "Loaded as API"
    assert printed[0].startswith("5, ") and printed[0].endswith("% sure")
    assert printed[1] == "5"
    outcome = namespace["reading"]
    assert len(outcome["probabilities"]) == 10 and outcome["sure"] is True
    data = base64.b64decode(outcome["image28"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as seen:  # the 28x28 image the model saw
        assert seen.size == (28, 28)


def test_every_endpoint_is_named(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/predict_sketch", "/predict_image"} <= set(endpoints)


def test_calls_read_together_keep_each_visitors_labels(served, monkeypatch):
    """/predict_sketch reads the calls waiting in the queue together (launch.READ_TOGETHER); in
    one batch, each call is read with its own visitor's labels, never another's."""
    sizes = []
    together = reading.read_sketches

    def counted(predictor, values, memories):
        sizes.append(len(values))
        return together(predictor, values, memories)

    monkeypatch.setattr(reading, "read_sketches", counted)
    fooled, plain = Client(served[1], verbose=False), Client(served[1], verbose=False)
    fooled.predict(SEVEN, "1", api_name="/label_sketch")  # a 7 labelled a 1, on purpose
    jobs = [
        (c, c.submit(SEVEN, api_name="/predict_sketch")) for _ in range(12) for c in (fooled, plain)
    ]
    for caller, job in jobs:
        outcome = job.result(timeout=60)
        assert outcome["digit"] == (1 if caller is fooled else 7)
        assert outcome["adapted"] is (caller is fooled)
    assert max(sizes) > 1, f"no calls were read together: {sizes}"
    assert max(sizes) <= launch.READ_TOGETHER


def test_predict_sketch(client):
    """A script draws with strokes, as the page sends them."""
    outcome = client.predict(SEVEN, api_name="/predict_sketch")
    assert outcome["digit"] == 7 and outcome["verdict"].startswith("7, ")
    assert outcome["image28"].startswith("data:image/png;base64,")


def test_predict_empty_sketch(client):
    outcome = client.predict('{"strokes": []}', api_name="/predict_sketch")
    assert outcome == {
        "digit": None,
        "sure": False,
        "verdict": reading.NO_SKETCH,
        "probabilities": None,
        "image28": None,
        "adapted": False,
        "number": None,
        "digits": [],
    }


def test_unreadable_upload_is_answered_and_the_server_keeps_serving(client, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    outcome = client.predict(handle_file(str(bad)), api_name="/predict_image")
    assert (
        outcome["verdict"].startswith("Can't read that image") and "notes.png" in outcome["verdict"]
    )
    assert outcome["digit"] is None and outcome["image28"] is None
    assert client.predict(handle_file(str(PHOTO)), api_name="/predict_image")["digit"] == 5


def test_share_without_network_still_serves_locally(tmp_path):
    """``demo.py --share`` where the share server cannot be reached (a proxy that refuses every
    connection stands in for a machine without internet, so this holds with or without one)."""
    offline = {
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "ALL_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    server = start_server(DEFAULT_MODEL_PATH, extra=["--share"], env=offline)
    try:
        with urllib.request.urlopen(server.url, timeout=10) as response:
            assert response.status == 200
        client = Client(server.url, verbose=False)
        assert client.predict(handle_file(str(PHOTO)), api_name="/predict_image")["digit"] == 5
    finally:
        server.stop()
    output = "".join(server.output)
    share_lines = [
        line
        for line in output.splitlines()
        if "public link" in line.lower() or "share link" in line.lower()
    ]
    assert len(share_lines) == 1, output
    assert share_lines[0].startswith("* no public link: cannot reach Gradio's share server (")
    assert share_lines[0].endswith("; serving locally only.")


# --- labelling through the API: each Client is one session; demo.py --collect DIR saves --------


def test_label_endpoints_count_in_the_client_s_own_session(served):
    ann, bob = Client(served[1], verbose=False), Client(served[1], verbose=False)
    first = ann.predict(handle_file(str(PHOTO)), "right", api_name="/label_image")
    assert first == {
        "counted": True,
        "label": 5,
        "predicted": 5,
        "number": "5",
        "saved": False,
        "message": "Counted: a 5 (the model said so too).",
        "tally": {"labelled": 1, "right": 1, "model_right": 1, "mistakes": [0] * 10},
    }
    second = ann.predict(SEVEN, "1", api_name="/label_sketch")
    assert (
        second["message"] == "Counted: a 1 (the model said 7)." and second["tally"]["labelled"] == 2
    )
    assert second["tally"]["mistakes"][1] == 1
    other = bob.predict(SEVEN, "7", api_name="/label_sketch")
    assert other["tally"] == {"labelled": 1, "right": 1, "model_right": 1, "mistakes": [0] * 10}
    refused = bob.predict('{"strokes": []}', "7", api_name="/label_sketch")
    assert refused["counted"] is False and refused["tally"]["labelled"] == 1
    assert refused["message"].startswith("Nothing to label yet")


def test_a_client_s_labels_change_its_own_answers_only_until_it_forgets(served):
    """Labelling a 7 wrong on purpose changes what that client is told, nobody else's answer,
    and "forget" undoes it."""
    ann, bob = Client(served[1], verbose=False), Client(served[1], verbose=False)
    assert ann.predict(SEVEN, api_name="/predict_sketch")["digit"] == 7
    done = ann.predict(SEVEN, "1", api_name="/label_sketch")
    assert done["counted"] and done["message"] == "Counted: a 1 (the model said 7)."
    fooled = ann.predict(SEVEN, api_name="/predict_sketch")
    assert (
        fooled["digit"] == 1
        and fooled["adapted"]
        and fooled["verdict"].endswith("like your examples")
    )
    assert bob.predict(SEVEN, api_name="/predict_sketch")["digit"] == 7, "bob's answer is his own"
    assert ann.predict(api_name="/forget_digits") == 1
    again = ann.predict(SEVEN, api_name="/predict_sketch")
    assert again["digit"] == 7 and not again["adapted"]


@pytest.fixture(scope="module")
def collecting(tmp_path_factory):
    """``python demo.py --collect DIR``, started as a user starts it."""
    folder = tmp_path_factory.mktemp("collected") / "my digits"
    server = start_server(DEFAULT_MODEL_PATH, extra=["--collect", str(folder)])
    yield server, folder
    server.stop()


def test_saves_through_the_app_reload_with_their_labels(collecting):
    server, folder = collecting
    deadline = time.monotonic() + 30  # the page is served a moment before the last lines print
    while "* ready in" not in "".join(server.output) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"* saving labelled digits in {folder}" in "".join(server.output)
    client = Client(server.url, verbose=False)
    before = len(load_records(folder))
    one = strokes.value_of([[(0.5, 0.1), (0.5, 0.9)]])
    answers = [
        (handle_file(str(PHOTO)), "right", "/label_image", "Saved: a 5 (the model said so too)."),
        (handle_file(str(PHOTO)), "3", "/label_image", "Changed to a 3 (the model said 5)."),
        (handle_file(str(PHOTO)), "3", "/label_image", "Already counted: a 3."),
        (SEVEN, "7", "/label_sketch", "Saved: a 7 (the model said so too)."),
        (one, "7", "/label_sketch", "Saved: a 7 (the model said 1)."),
    ]
    for source, answer, endpoint, message in answers:
        done = client.predict(source, answer, api_name=endpoint)
        assert done["message"] == message, done
    assert done["tally"] == {
        "labelled": 3,
        "right": 1,
        "model_right": 1,
        "mistakes": [0, 0, 0, 1, 0, 0, 0, 1, 0, 0],
    }
    records = load_records(folder)[before:]
    assert [(r.label, r.predicted) for r in records] == [(3, 5), (7, 7), (7, 1)]
    assert records[0].original.read_bytes() == PHOTO.read_bytes()
    x, y = load_collection(folder)
    assert x.shape[1:] == (28, 28) and len(y) == before + 3


def test_concurrent_saves_from_several_clients_lose_nothing(collecting):
    from concurrent.futures import ThreadPoolExecutor

    server, folder = collecting
    before = len(load_records(folder))
    examples = sorted((REPO_DIR / "assets" / "examples").iterdir())

    def one_client(k: int) -> list[str]:
        client = Client(server.url, verbose=False)
        answers = []
        for i in range(6):
            answer = str((k + i) % 10)
            done = client.predict(
                handle_file(str(examples[(k + i) % len(examples)])), answer, api_name="/label_image"
            )
            assert done["message"].startswith(f"Saved: {labelling.name_answer([int(answer)])} "), (
                done
            )
            answers.append(answer)
        assert done["tally"]["labelled"] == 6, "each client counts its own"
        return answers

    with ThreadPoolExecutor(8) as pool:
        sent = sorted(a for answers in pool.map(one_client, range(8)) for a in answers)
    records = load_records(folder)
    assert len(records) == before + 48
    assert len({r.id for r in records}) == len(records)
    assert sorted(str(r.label) for r in records[before:]) == sent
    x, y = load_collection(folder)  # every image reads back
    assert len(y) == len(records)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- many at once: /predict_sketches and /predict_images -----------------------------------------


def same_reading(bulk: dict, single: dict) -> bool:
    """The same answer, digit for digit: probabilities equal to float precision."""
    close = (bulk["probabilities"] is None and single["probabilities"] is None) or max(
        abs(a - b) for a, b in zip(bulk["probabilities"], single["probabilities"])
    ) < 1e-5
    keys = ("digit", "sure", "verdict", "image28", "adapted")
    return close and all(bulk[k] == single[k] for k in keys)


@pytest.fixture(scope="module")
def people_s_drawings() -> list[str]:
    """Sixty drawings leaning, turned and squeezed as people's are (tests/harness.py)."""
    return [value for _, value in varied_drawings(60)]


def test_bulk_sketches_answer_as_one_at_a_time(client, people_s_drawings):
    """Every kind of input in one call: drawings, an empty pad, a malformed value; each answered
    in its place exactly as /predict_sketch answers it alone."""
    drawings = [*people_s_drawings, '{"strokes": []}', "{nope", *people_s_drawings[:3]]
    readings = client.predict(drawings, api_name="/predict_sketches")
    assert len(readings) == len(drawings)
    for drawing, outcome in zip(drawings, readings):
        assert same_reading(outcome, client.predict(drawing, api_name="/predict_sketch")), drawing
    assert {r["sure"] for r in readings} == {True, False}, "the set has doubtful digits too"
    assert readings[-5]["verdict"] == reading.NO_SKETCH


def test_bulk_images_answer_as_one_at_a_time(client, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    files = [*sorted((REPO_DIR / "assets" / "examples").iterdir()), bad, PHOTO]
    readings = client.predict([handle_file(str(f)) for f in files], api_name="/predict_images")
    assert len(readings) == len(files)
    for path, outcome in zip(files, readings):
        single = client.predict(handle_file(str(path)), api_name="/predict_image")
        assert same_reading(outcome, single), path.name
    assert (
        readings[-2]["verdict"].startswith("Can't read that image")
        and "notes.png" in readings[-2]["verdict"]
    )
    assert readings[-1]["digit"] == 5


def test_bulk_calls_are_bounded(client, served):
    from gradio_client.exceptions import AppError

    one = strokes.value_of([[(0.5, 0.1), (0.5, 0.9)]])
    readings = client.predict([one] * guard.MAX_BULK, api_name="/predict_sketches")
    assert len(readings) == guard.MAX_BULK and {r["digit"] for r in readings} == {1}
    with pytest.raises(
        AppError, match=r"1,001 drawings in one call: at most 1,000; send them in parts"
    ):
        client.predict([one] * (guard.MAX_BULK + 1), api_name="/predict_sketches")
    assert client.predict([], api_name="/predict_images") == []
    with pytest.raises(AppError, match="send the drawings as a list"):
        client.predict(one, api_name="/predict_sketches")
    assert client.predict(SEVEN, api_name="/predict_sketch")["digit"] == 7, "still serving"


def test_bulk_answers_are_the_client_s_own(served):
    """A client's labels adapt its bulk answers as they adapt its single ones, nobody else's."""
    ann, bob = Client(served[1], verbose=False), Client(served[1], verbose=False)
    ann.predict(SEVEN, "1", api_name="/label_sketch")
    assert [r["digit"] for r in ann.predict([SEVEN], api_name="/predict_sketches")] == [1]
    assert [r["digit"] for r in bob.predict([SEVEN], api_name="/predict_sketches")] == [7]


def test_the_documented_curl_commands_work(served):
    """docs/api.md's curl commands, run as written (only the port differs)."""
    sketches, images = run_curl_commands(served[1])
    assert [r["digit"] for r in sketches] == [7, 1]
    assert [r["verdict"].split(",")[0] for r in images] == ["5", "7"]


def test_a_number_through_the_api_is_read_and_labelled(client):
    """/predict_sketch reads a number left to right; /label_sketch takes the whole number."""
    from harness import number_value

    value = number_value("2026")
    outcome = client.predict(value, api_name="/predict_sketch")
    assert (outcome["number"], outcome["verdict"], outcome["digit"]) == ("2026", "2026, sure", None)
    assert [d["digit"] for d in outcome["digits"]] == [2, 0, 2, 6]
    assert all(len(d["box"]) == 4 for d in outcome["digits"])
    done = client.predict(value, "2026", api_name="/label_sketch")
    assert done["number"] == "2026" and done["message"] == "Counted: 2026 (the model said so too)."
    wrong = client.predict(value, "26", api_name="/label_sketch")
    assert wrong["counted"] is False and "the answer has 2" in wrong["message"]


def test_explain_endpoints_answer_why_as_data(client):
    """/explain_sketch and /explain_image: the steps, a 28x28 heat map in 0..1 with its image,
    the digit and its rival, five neighbours; a number's digit asked for by its position."""
    from harness import number_value

    why = client.predict(SEVEN, 0, api_name="/explain_sketch")
    assert why["digit"] == 7 and why["rival"] not in (None, 7)
    values = np.asarray(why["heatmap"]["values"])
    assert values.shape == (28, 28) and values.min() >= 0 and values.max() == 1
    assert why["heatmap"]["image"].startswith("data:image/png;base64,")
    assert len(why["steps"]) >= 4 and all(s["caption"] for s in why["steps"])
    assert len(why["neighbours"]) == 5 and all(0 <= n["digit"] <= 9 for n in why["neighbours"])
    six = client.predict(number_value("2026"), 3, api_name="/explain_sketch")
    assert six["digit"] == 6, "the fourth digit of 2026"
    photo = client.predict(handle_file(str(PHOTO)), 0, api_name="/explain_image")
    assert photo["digit"] == 5 and photo["message"].startswith("5, ")
    nothing = client.predict('{"strokes": []}', 0, api_name="/explain_sketch")
    assert nothing["digit"] is None and nothing["heatmap"] is None and nothing["message"]
