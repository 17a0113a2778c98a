"""digitpad.app.gradio_internals: the one door to Gradio's internals checks that each is there,
and nothing else in the package touches one."""

from __future__ import annotations

import re

import gradio as gr
import pytest

from digitpad import REPO_DIR
from digitpad.app import gradio_internals
from digitpad.app.gradio_internals import GradioChanged, check

# Private Gradio names (and the modules that hold them) the app relies on.
PRIVATE = re.compile(
    r"gradio\.context|get_blocks_context|\._queue\b|state_holder|pending_event_ids_session"
    r"|pending_messages_per_session|ANAYLTICS|ANALYTICS_MAX_EVENTS|GRADIO_API_SERVER"
    r"|networking|call_function|\.preprocess\b|\._broken\b"
)


def test_every_internal_is_there_in_the_installed_gradio():
    check()  # raises GradioChanged otherwise


@pytest.mark.parametrize(
    "remove, named",
    [
        ((gradio_internals.networking, "GRADIO_API_SERVER"), "networking.GRADIO_API_SERVER"),
        ((gr.Image, "preprocess"), "Image.preprocess"),
    ],
)
def test_a_missing_internal_is_named_with_the_gradio_version(monkeypatch, remove, named):
    monkeypatch.delattr(*remove)
    with pytest.raises(GradioChanged) as caught:
        check()
    message = str(caught.value)
    assert f"Gradio {gr.__version__} changed" in message and named in message
    assert "\n" not in message, "one line"


def test_a_changed_route_is_named(monkeypatch):
    monkeypatch.setattr(gradio_internals, "ROUTES", (*gradio_internals.ROUTES, '"/no-such-route"'))
    with pytest.raises(GradioChanged, match='route "/no-such-route"'):
        check()


def test_no_private_gradio_name_outside_the_door():
    door = REPO_DIR / "digitpad" / "app" / "gradio_internals.py"
    found = [
        f"{path.relative_to(REPO_DIR)}:{number}: {line.strip()}"
        for path in sorted((REPO_DIR / "digitpad").rglob("*.py"))
        if path != door
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert found == []


def test_an_upload_s_path_is_passed_unopened():
    opened = []
    image = gradio_internals.pass_upload_path(gr.Image(type="filepath"))
    image_preprocess = image.preprocess.args[0]
    assert image_preprocess is not None
    upload = gr.FileData(path="/tmp/upload.txt", url="http://x/upload.txt")
    assert image.preprocess(upload) == "/tmp/upload.txt"
    assert gradio_internals.pass_path(lambda payload: opened.append(payload) or "opened", None)
    assert opened == [None], "no upload: Gradio's own preprocessing"
