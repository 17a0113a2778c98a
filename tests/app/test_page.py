"""digitpad.app.page: the page's layout and content, and its wiring (no server: tests/app/test_api.py and
tests/app/test_events.py serve it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digitpad import DEFAULT_METRICS_PATH, strokes
from digitpad.app import api, gradio_internals, launch, page
from digitpad.app.sessions import Sessions
from harness import EXAMPLES


@pytest.fixture(scope="module")
def demo(predictor):
    return launch.build_app(predictor, metrics=None)


def test_build_app_launches_nothing(demo):
    assert not demo.is_running
    # Gradio writes a .pyi beside a module that defines a component class; none here
    assert not Path(page.__file__).with_suffix(".pyi").exists()
    assert isinstance(demo.visitors, Sessions)


def test_every_endpoint_is_named_and_the_rest_private(demo):
    public = {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}
    assert public == {
        "predict_sketch",
        "predict_image",
        "label_sketch",
        "label_image",
        "predict_sketches",
        "predict_images",
        "forget_digits",
        "explain_sketch",
        "explain_image",
    }


@pytest.mark.parametrize(
    "name, parameters, returns, kind",
    [
        ("/predict_sketch", ["drawing"], "reading", "object"),
        ("/predict_image", ["image"], "reading", "object"),
        ("/label_sketch", ["drawing", "answer"], "labelled", "object"),
        ("/label_image", ["image", "answer"], "labelled", "object"),
        ("/predict_sketches", ["drawings"], "readings", "array"),
        ("/predict_images", ["images"], "readings", "array"),
        ("/explain_sketch", ["drawing", "position"], "explanation", "object"),
        ("/explain_image", ["image", "position"], "explanation", "object"),
    ],
)
def test_every_endpoint_is_described_named_typed_and_exemplified(
    demo, name, parameters, returns, kind
):
    endpoint = demo.get_api_info()["named_endpoints"][name]
    assert endpoint["description"] and "partial(" not in endpoint["description"]
    assert "\n" not in endpoint["description"], "one line"
    assert [p["parameter_name"] for p in endpoint["parameters"]] == parameters
    assert [p["label"] for p in endpoint["parameters"]] == parameters
    for parameter in endpoint["parameters"]:
        assert parameter["example_input"] not in ("...", "", "Hello!!", None), parameter
        assert parameter["type"], parameter
    (result,) = endpoint["returns"]
    assert result["label"] == returns and result["type"]["type"] == kind
    shape = result["type"]["items"] if kind == "array" else result["type"]
    typed = set(shape["properties"])  # a reading, a label, or an explanation: typed fields
    assert {"digit", "verdict"} <= typed or {"counted", "tally"} <= typed or {"heatmap"} <= typed


def test_the_page_script_draws_with_the_pad_pen():
    component = page.drawing_pad()
    js = component.js_on_load
    assert f"RADIUS = {strokes.PEN_RADIUS!r}" in js and f"MIN_STEP = {strokes.MIN_STEP!r}" in js
    assert "__" not in js.replace("__digitpad", "")  # every placeholder filled in
    assert f"min({strokes.PAD_SIZE}px, 100%)" in component.css_template
    assert 'class="digitpad-undo"' in component.html_template
    assert component.elem_id == "sketchpad"


def test_web_files_fill_in_their_placeholders(tmp_path, monkeypatch):
    monkeypatch.setattr(page, "WEB_DIR", tmp_path)
    (tmp_path / "x.css").write_text("a { width: __SIZE__px; } b { color: __COLOUR__; }")
    assert page.web_file("x.css", size=12, colour="red") == "a { width: 12px; } b { color: red; }"


def test_how_it_works_quotes_the_measured_accuracy():
    metrics = {
        "test_accuracy": 0.99567,
        "n_test": 10000,
        "test_errors": 43,
        "training": {"n_train": 54000},
    }
    note = page.how_it_works(metrics)
    assert "99.57%" in note and "10,000" in note and "43 mistakes" in note and "54,000" in note
    assert "not recorded" in page.how_it_works(None)


def test_how_it_works_uses_the_shipped_metrics():
    metrics = json.loads(DEFAULT_METRICS_PATH.read_text())
    assert f"{metrics['test_accuracy']:.2%}" in page.how_it_works(metrics)


def test_there_are_examples_to_click():
    assert [p.name for p in page.find_examples()] == [p.name for p in EXAMPLES]
    assert any(p.name.startswith("photo_") for p in EXAMPLES)
    assert page.find_examples(Path("/nonexistent")) == []


def test_the_page_says_whether_digits_are_saved(tmp_path):
    assert "nothing is saved" in page.collect_note(None) and "**" not in page.collect_note(None)
    assert "Saving is on" in page.collect_note(tmp_path)
    assert str(tmp_path) not in page.collect_note(tmp_path)  # the host's paths stay private


def test_an_upload_path_is_passed_unopened():
    class Payload:
        path, url = "/tmp/gradio/abc/digit.png", "/gradio_api/file=/tmp/gradio/abc/digit.png"

    assert (
        gradio_internals.pass_path(lambda payload: "opened", Payload())
        == "/tmp/gradio/abc/digit.png"
    )
    assert gradio_internals.pass_path(lambda payload: "opened", None) == "opened"
    assert api.uploaded_path({"path": "/tmp/gradio/abc/digit.png", "meta": {}}) == Payload.path
    assert api.uploaded_path(None) is None and api.uploaded_path({"path": 7}) is None
