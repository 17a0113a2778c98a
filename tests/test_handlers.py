"""digitpad.handlers with the shipped model: drawings, uploads and bad input give the page's three
outputs; labelling says what it did and saves only when asked.

Drawings are the drawing pad's value: the digits tests/test_browser.py draws with the mouse
(scripts/harness.py's ``STROKES``, in the same box on the pad), as the page sends them.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from harness import EXAMPLES, STROKES, expected_digit, pad_value
from PIL import Image

from digitpad import collect, handlers, pad
from digitpad.data import load_records, read_image28
from digitpad.handlers import NO_PHOTO, NO_SKETCH, RIGHT, Labelled, Reading
from digitpad.predictor import Recognition
from digitpad.sessions import Label
from digitpad.verdict import Prediction

PHOTO = next(p for p in EXAMPLES if p.name.startswith("photo_"))


def assert_read(reading: Reading, digit: int) -> None:
    """Read as ``digit``, sure; what the API returns for it is the same, as plain data."""
    assert reading.digit == digit and not reading.problem, reading.message
    assert reading.message.startswith(f"{digit}, ") and reading.message.endswith("% sure")
    result = json.loads(json.dumps(reading.as_json()))
    assert (
        result["digit"] == digit and result["sure"] is True and result["verdict"] == reading.message
    )
    assert len(result["probabilities"]) == 10 and sum(result["probabilities"]) == pytest.approx(
        1, abs=1e-4
    )
    assert max(range(10), key=result["probabilities"].__getitem__) == digit
    header, data = result["image28"].split(",", 1)
    assert header == "data:image/png;base64"
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))
    np.testing.assert_array_equal(seen, handlers.as_pixels(reading.image))
    assert seen.shape == (28, 28) and seen.max() == 255 and seen.mean() < 100  # as MNIST


# --- the drawing pad and uploads ----------------------------------------------------------------


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_drawings_are_read(predictor, digit):
    assert_read(handlers.predict_sketch(predictor, pad_value(digit)), digit)


@pytest.mark.parametrize("value", [None, "", "  ", '{"strokes": []}'])
def test_empty_pad_says_draw_a_digit(predictor, value):
    """On load, after Clear, after undoing every stroke."""
    assert handlers.predict_sketch(predictor, value) == Reading(NO_SKETCH)
    assert Reading(NO_SKETCH).as_json() == {
        "digit": None,
        "sure": False,
        "verdict": NO_SKETCH,
        "probabilities": None,
        "image28": None,
        "adapted": False,
    }


def test_a_value_that_is_no_drawing_says_why(predictor):
    assert handlers.predict_sketch(predictor, "{nope") == Reading(
        "Can't read that drawing: the drawing is not JSON.", problem=True
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_read(predictor, path):
    assert_read(handlers.predict_image(predictor, str(path)), expected_digit(path))


@pytest.mark.parametrize(
    "content",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"],
    ids=["empty", "text", "truncated-png"],
)
def test_unreadable_upload_says_so_without_the_server_path(predictor, tmp_path, content):
    upload = tmp_path / "gradio-cache" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(content)
    reading = handlers.predict_image(predictor, str(upload))
    assert reading.problem and reading.prediction is None and reading.image is None
    assert reading.message.startswith("Can't read that image: my digit.png: ")
    assert "Error" not in reading.message, "no exception names, a line that says what to do"
    assert str(tmp_path) not in reading.message  # no server paths shown


def test_photo_removed(predictor):
    assert handlers.predict_image(predictor, None) == Reading(NO_PHOTO)


def test_the_model_input_is_shown_as_it_is():
    image = np.zeros((28, 28), np.float32)
    image[3, 5] = 1.0
    image[10, 11] = 0.5
    image[0, 0] = 1.7  # out of range: clipped
    pixels = handlers.as_pixels(image)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert (pixels[3, 5], pixels[10, 11], pixels[0, 0]) == (255, 128, 255)
    assert pixels.sum() == 2 * 255 + 128


# --- labelling ----------------------------------------------------------------------------------


class Unsure:
    """A predictor torn between 4 and 9, for the one answer the shipped model rarely gives."""

    def recognise(self, source: object) -> Recognition:
        probabilities = np.zeros(10, np.float32)
        probabilities[[4, 9]] = [0.55, 0.45]
        prediction = Prediction(probabilities)
        return Recognition(np.zeros((28, 28), np.float32), prediction, prediction.verdict)


def test_labels_are_counted_and_not_saved_by_default(predictor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    right = handlers.label_sketch(predictor, None, pad_value(7), RIGHT)
    assert right.message == "Counted: a 7 (the model said so too)." and not right.saved
    assert (right.label.digit, right.label.predicted, right.label.record) == (7, 7, None)
    assert right.label.features.shape == (128,)
    wrong = handlers.label_sketch(predictor, None, pad_value(1), "8")
    assert wrong.message == "Counted: an 8 (the model said 1)."
    assert list(tmp_path.iterdir()) == []


def test_the_same_answer_twice_counts_once_and_a_new_one_replaces_it(predictor, tmp_path):
    first = handlers.label_sketch(predictor, tmp_path, pad_value(7), RIGHT)
    again = handlers.label_sketch(predictor, tmp_path, pad_value(7), "7", first.label)
    assert again == Labelled("Already counted: a 7.")
    changed = handlers.label_sketch(predictor, tmp_path, pad_value(7), "1", first.label)
    assert changed.message == "Changed to a 1 (the model said 7)."
    assert changed.label.record == first.label.record, (
        "the saved digit is relabelled, not saved again"
    )
    (record,) = load_records(tmp_path)
    assert record.label == 1 and record.predicted == 7


def test_an_input_s_key_is_its_content():
    drawing = pad.read_drawing(pad_value(7))
    assert handlers.key_of(drawing) == handlers.key_of(pad.read_drawing(pad_value(7)))
    assert handlers.key_of(drawing) != handlers.key_of(pad.read_drawing(pad_value(1)))
    assert handlers.key_of(str(PHOTO)) == handlers.key_of(PHOTO)


def test_labels_are_saved_with_both_images(predictor, tmp_path):
    sketched = handlers.label_sketch(predictor, tmp_path, pad_value(7), "1")
    assert sketched.message == "Saved: a 1 (the model said 7)." and sketched.saved
    snapped = handlers.label(predictor, tmp_path, str(PHOTO), RIGHT)
    assert snapped.message == f"Saved: a {expected_digit(PHOTO)} (the model said so too)."
    drawn, photo = load_records(tmp_path)
    assert (drawn.label, drawn.predicted, photo.label) == (1, 7, expected_digit(PHOTO))
    assert sketched.label.record == drawn.id
    record = json.loads((tmp_path / f"{drawn.id}.json").read_text())
    assert record["strokes"] == json.loads(pad_value(7))["strokes"]  # the drawing, redrawable
    assert "strokes" not in json.loads((tmp_path / f"{photo.id}.json").read_text())
    drawing = pad.read_drawing(pad_value(7))
    with Image.open(drawn.original) as original:  # the drawing as the person saw it
        np.testing.assert_array_equal(np.asarray(original), drawing.render())
    assert photo.original.read_bytes() == PHOTO.read_bytes()  # the photo byte for byte
    seen = predictor.recognise(drawing).image  # the 28x28 image is the one the model saw
    np.testing.assert_allclose(read_image28(drawn.image28) / 255, seen, atol=1 / 255)


@pytest.mark.parametrize("answer", ["x", "10", "", None])
def test_an_answer_that_is_no_digit_changes_nothing(predictor, tmp_path, answer):
    done = handlers.label_sketch(predictor, tmp_path, pad_value(7), answer)
    assert done.label is None and done.message.startswith("Not a digit")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "value, why",
    [
        (None, "Nothing to label yet: draw a digit or show a photo first."),
        ('{"strokes": []}', "Nothing to label yet: draw a digit or show a photo first."),
        (pad.value_of([[(0.5, 0.5)]]), "Nothing to label: no digit found: only a dot."),
        ("{broken", "Can't read that drawing: the drawing is not JSON."),
    ],
)
def test_nothing_to_label(predictor, tmp_path, value, why):
    assert handlers.label_sketch(predictor, tmp_path, value, "3") == Labelled(why)
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_upload_is_not_labelled(predictor, tmp_path):
    upload = tmp_path / "uploads" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(b"not an image")
    done = handlers.label(predictor, tmp_path / "kept", str(upload), "3")
    assert done.label is None and done.message.startswith("Can't read that image: my digit.png: ")
    assert str(upload.parent) not in done.message and not (tmp_path / "kept").exists()


def test_right_needs_a_sure_answer(tmp_path):
    done = handlers.label(Unsure(), tmp_path, "any input", RIGHT)
    assert done == Labelled("The model wasn't sure (4 or 9?): click the digit it is.")
    assert list(tmp_path.iterdir()) == []
    done = handlers.label(Unsure(), None, "any input", "9")
    assert done.message == "Counted: a 9 (the model said 4)." and done.label.digit == 9


def test_a_failed_save_is_not_counted_and_says_so(predictor, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the collection should be")
    done = handlers.label_sketch(predictor, blocked, pad_value(7), "7")
    assert done.label is None and done.message.startswith("Could not save it (")
    assert "not counted" in done.message
    assert blocked.read_text() == "a file where the collection should be"


def test_what_the_api_returns_is_plain_data():
    done = Labelled("Counted: a 7 (the model said 1).", Label(7, 1))
    tally = collect.update_tally(collect.new_tally(), 7, 1)
    assert json.loads(json.dumps(done.as_json(tally))) == {
        "counted": True,
        "label": 7,
        "predicted": 1,
        "saved": False,
        "message": "Counted: a 7 (the model said 1).",
        "tally": tally,
    }
    assert Labelled("Nothing to label yet.").as_json(tally)["counted"] is False


def test_drawings_read_together_each_with_its_own_memory(predictor):
    """predict_sketches: what predict_sketch says of each, one at a time, each value adapted to
    its own memory (several visitors' calls read together)."""
    seven = pad_value(7)
    wrong = handlers.label_sketch(predictor, None, seven, "1").label  # a 7 labelled a 1
    values = [seven, seven, "", "not json", pad_value(3)]
    memories = [(wrong,), (), (), (wrong,), (wrong,)]
    together = handlers.predict_sketches(predictor, values, memories)
    alone = [handlers.predict_sketch(predictor, v, m) for v, m in zip(values, memories)]
    assert [r.message for r in together] == [r.message for r in alone]
    assert [r.digit for r in together] == [1, 7, None, None, 3]
    assert together[3].problem and not together[2].problem
    with pytest.raises(ValueError):
        handlers.predict_sketches(predictor, values, memories[:2])
