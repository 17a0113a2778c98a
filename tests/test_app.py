"""digitpad.app's handlers on drawings, uploads and bad input; labelling; the page content.

Drawings are the drawing pad's value: the digits tests/test_browser.py draws with the mouse
(scripts/benchmark_browser.py's ``STROKES``, in the same box on the pad), as the page sends them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitpad import ASSETS_DIR, DEFAULT_METRICS_PATH, DEFAULT_MODEL_PATH, REPO_DIR
from digitpad import app, pad

sys.path.insert(0, str(REPO_DIR / "scripts"))
from benchmark_browser import STROKES, pad_value  # noqa: E402

EXAMPLES = sorted((ASSETS_DIR / "examples").glob("*_[0-9].*"))
needs_model = pytest.mark.skipif(
    not DEFAULT_MODEL_PATH.is_file(),
    reason=f"no shipped model at {DEFAULT_MODEL_PATH}; create it with `python train_model.py`",
)


def expected_digit(path: Path) -> int:
    return int(path.name.rsplit("_", 1)[1].split(".")[0])  # "photo_5.jpg" -> 5


def drawn(digit: int) -> str:
    """The pad's value after drawing ``digit`` as the browser tests do."""
    return pad_value(digit)


def assert_outputs(outputs, digit: int | None) -> None:
    label, verdict, seen = outputs
    if digit is None:
        assert label is None and seen is None
        return
    assert sorted(label) == [str(d) for d in range(10)]
    assert sum(label.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(label, key=label.get) == str(digit), verdict
    assert str(digit) in verdict
    assert seen.shape == (28, 28) and seen.dtype == np.uint8
    assert seen.max() == 255 and seen.mean() < 100  # white ink on black, as MNIST


# --- the drawing pad ----------------------------------------------------------------------------


@needs_model
@pytest.mark.parametrize("digit", sorted(STROKES))
def test_drawings_are_read(predictor, digit):
    assert_outputs(app.predict_sketch(predictor, drawn(digit)), digit)


@pytest.mark.parametrize("value", [None, "", "  ", '{"strokes": []}'])
def test_empty_pad_says_draw_a_digit(predictor, value):
    """On load, after Clear, after undoing every stroke."""
    assert app.predict_sketch(predictor, value) == (None, app.NO_SKETCH, None)


# --- uploads ------------------------------------------------------------------------------------


@needs_model
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_read(predictor, path):
    assert_outputs(app.predict_image(predictor, str(path)), expected_digit(path))


def test_there_are_examples_to_click():
    assert [p.name for p in app.find_examples()] == [p.name for p in EXAMPLES]
    assert any(p.name.startswith("photo_") for p in EXAMPLES)


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"],
                         ids=["empty", "text", "truncated-png"])
def test_unreadable_upload_says_so(predictor, tmp_path, content):
    upload = tmp_path / "gradio-cache" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(content)
    label, verdict, seen = app.predict_image(predictor, str(upload))
    assert label is None and seen is None
    assert verdict.startswith("Can't read that image: ")
    assert "my digit.png" in verdict and str(tmp_path) not in verdict  # no server paths shown


def test_photo_removed(predictor):
    assert app.predict_image(predictor, None) == (None, app.NO_PHOTO, None)


# --- page content -------------------------------------------------------------------------------


def test_the_model_input_is_shown_as_it_is():
    image = np.zeros((28, 28), np.float32)
    image[3, 5] = 1.0
    image[10, 11] = 0.5
    image[0, 0] = 1.7  # out of range: clipped
    pixels = app.as_pixels(image)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert (pixels[3, 5], pixels[10, 11], pixels[0, 0]) == (255, 128, 255)
    assert pixels.sum() == 2 * 255 + 128


def test_how_it_works_quotes_the_measured_accuracy(tmp_path):
    metrics = {"test_accuracy": 0.99567, "n_test": 10000, "test_errors": 43,
               "training": {"n_train": 54000}}
    note = app.how_it_works(metrics)
    assert "99.57%" in note and "10,000" in note and "43 mistakes" in note and "54,000" in note
    assert "not recorded" in app.how_it_works(None)
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert app.read_metrics(tmp_path / "metrics.json") == metrics
    assert app.read_metrics(tmp_path / "missing.json") is None


@pytest.mark.skipif(not DEFAULT_METRICS_PATH.is_file(), reason="no shipped assets/metrics.json")
def test_how_it_works_uses_the_shipped_metrics():
    metrics = json.loads(DEFAULT_METRICS_PATH.read_text())
    note = app.how_it_works(app.read_metrics(DEFAULT_METRICS_PATH))
    assert f"{metrics['test_accuracy']:.2%}" in note


def test_build_app_launches_nothing(predictor):
    demo = app.build_app(predictor, metrics=None)
    assert not demo.is_running
    # Gradio writes a .pyi beside a module that defines a component class; none here
    assert not Path(app.__file__).with_suffix(".pyi").exists()
    api_names = {fn.api_name for fn in demo.fns.values()}
    assert {"predict_sketch", "predict_image", "label_sketch", "label_image"} <= api_names


def test_pen_draws_mnist_like_strokes():
    """A digit drawn over 3/4 of the pad with the pen has MNIST's stroke/height ratio, within the
    range the conversion leaves alone."""
    from digitpad.preprocessing import MNIST_STROKE, THICK_STROKE, THIN_STROKE, stroke_width

    assert abs(2 * pad.PEN_RADIUS / 0.75 - MNIST_STROKE) < 0.01
    ink = pad.drawing_of(drawn(7)) < 128
    rows = np.flatnonzero(ink.any(axis=1))
    assert THIN_STROKE < stroke_width(ink) / (rows[-1] - rows[0] + 1) < THICK_STROKE


# --- labelling: "Right, or wrong? It's a ..." -----------------------------------------------------


class Unsure:
    """A predictor torn between 4 and 9, for the one answer the shipped model rarely gives."""

    def recognise(self, source):
        from digitpad.predictor import Prediction, Recognition

        probabilities = np.zeros(10, np.float32)
        probabilities[[4, 9]] = [0.55, 0.45]
        prediction = Prediction(probabilities)
        return Recognition(np.zeros((28, 28), np.float32), prediction, prediction.verdict)


@needs_model
def test_labels_count_in_the_tally_and_are_not_saved_by_default(predictor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tally, text, done = app.label_sketch(predictor, None, drawn(7), app.RIGHT, None)
    assert done == "Counted: a 7 (the model said so too)."
    tally, text, done = app.label_sketch(predictor, None, drawn(7), "1", tally)
    assert done == "Counted: a 1 (the model said 7)."
    assert tally == {"labelled": 2, "right": 1, "mistakes": [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]}
    assert text == "**2** digits labelled; the model got **1** right (50%). Mistakes per digit: 1: 1."
    assert list(tmp_path.iterdir()) == []


@needs_model
def test_labels_are_saved_with_both_images(predictor, tmp_path):
    from digitpad import collect

    photo = next(p for p in EXAMPLES if p.name.startswith("photo_"))
    tally, _, done = app.label_sketch(predictor, tmp_path, drawn(7), "1", None)
    assert done == "Saved: a 1 (the model said 7)."
    tally, text, done = app.label_digit(predictor, tmp_path, str(photo), app.RIGHT, tally)
    assert done == f"Saved: a {expected_digit(photo)} (the model said so too)."
    sketched, snapped = collect.load_records(tmp_path)
    assert (sketched.label, sketched.predicted, snapped.label) == (1, 7, expected_digit(photo))
    record = json.loads((tmp_path / f"{sketched.id}.json").read_text())
    assert record["strokes"] == json.loads(drawn(7))["strokes"]  # the drawing, redrawable
    assert "strokes" not in json.loads((tmp_path / f"{snapped.id}.json").read_text())
    # the drawing as the person saw it; the photo byte for byte
    drawing = pad.drawing_of(drawn(7))
    with Image.open(sketched.original) as original:
        np.testing.assert_array_equal(np.asarray(original), drawing)
    assert snapped.original.read_bytes() == photo.read_bytes()
    # the 28x28 image is the one the model saw
    seen = predictor.recognise(drawing).image
    np.testing.assert_allclose(collect.read_image28(sketched.image28) / 255, seen, atol=1 / 255)
    assert tally["labelled"] == 2 and "**2** digits labelled" in text


@needs_model
def test_the_buttons_label_the_input_in_view(predictor, tmp_path):
    sketch = drawn(7)
    photo = next(p for p in EXAMPLES if p.name.startswith("photo_"))
    _, _, done = app.label_input(predictor, None, app.RIGHT, app.DRAW, sketch, str(photo), None)
    assert done.startswith("Counted: a 7")
    _, _, done = app.label_input(predictor, None, app.RIGHT, app.PHOTO, sketch, str(photo), None)
    assert done.startswith(f"Counted: a {expected_digit(photo)}")


@pytest.mark.parametrize("answer", ["x", "10", "", None])
def test_an_answer_that_is_no_digit_changes_nothing(predictor, tmp_path, answer):
    tally = {"labelled": 1, "right": 1, "mistakes": [0] * 10}
    result = app.label_sketch(predictor, tmp_path, drawn(7), answer, tally)
    assert result[0] == tally and result[2].startswith("Not a digit")
    assert list(tmp_path.iterdir()) == []


def test_nothing_to_label(predictor, tmp_path):
    for value, why in ((None, "Nothing to label yet"), ('{"strokes": []}', "Nothing to label yet"),
                       (pad.value_of([[(0.5, 0.5)]]), "Nothing to label: no digit found: only a dot"),
                       ("{broken", "Can't read that drawing: ")):
        tally, text, done = app.label_sketch(predictor, tmp_path, value, "3", None)
        assert done.startswith(why) and tally["labelled"] == 0 and text == "No digits labelled yet."
    assert list(tmp_path.iterdir()) == []


def test_unreadable_upload_is_not_labelled(predictor, tmp_path):
    upload = tmp_path / "uploads" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(b"not an image")
    _, _, done = app.label_digit(predictor, tmp_path / "kept", str(upload), "3", None)
    assert done.startswith("Can't read that image: ") and "my digit.png" in done
    assert str(upload.parent) not in done and not (tmp_path / "kept").exists()


def test_right_needs_a_sure_answer(tmp_path):
    tally, _, done = app.label_digit(Unsure(), tmp_path, "any input", app.RIGHT, None)
    assert done == "The model was not sure (not sure: 4 or 9?): click the digit it is."
    assert tally["labelled"] == 0 and list(tmp_path.iterdir()) == []
    tally, _, done = app.label_digit(Unsure(), None, "any input", "9", None)
    assert done == "Counted: a 9 (the model said 4)." and tally["mistakes"][9] == 1


@needs_model
def test_a_failed_save_is_not_counted_and_says_so(predictor, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the collection should be")
    tally, text, done = app.label_sketch(predictor, blocked, drawn(7), "7", None)
    assert done.startswith("Could not save it (") and "not counted" in done
    assert tally["labelled"] == 0 and blocked.read_text() == "a file where the collection should be"


def test_the_page_says_whether_digits_are_saved(tmp_path):
    assert "nothing is saved" in app.collect_note(None)
    assert "Saving is on" in app.collect_note(tmp_path)
    assert str(tmp_path) not in app.collect_note(tmp_path)  # the host's paths stay private
