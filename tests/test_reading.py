"""digitpad.reading with the shipped model: drawings, uploads and bad input give the page's three
outputs; labelling says what it did and saves only when asked.

Drawings are the drawing pad's value: the digits tests/app/test_events.py draws with the mouse
(tests/harness.py's ``STROKES``, in the same box on the pad), as the page sends them.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from digitpad import images, reading, strokes
from digitpad.reading import NO_PHOTO, NO_SKETCH, Reading
from harness import EXAMPLES, STROKES, expected_digit, label_sketch, number_value, pad_value

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
    np.testing.assert_array_equal(seen, images.to_pixels(reading.image))
    assert seen.shape == (28, 28) and seen.max() == 255 and seen.mean() < 100  # as MNIST


# --- the drawing pad and uploads ----------------------------------------------------------------


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_drawings_are_read(predictor, digit):
    assert_read(reading.read_sketch(predictor, pad_value(digit)), digit)


@pytest.mark.parametrize("value", [None, "", "  ", '{"strokes": []}'])
def test_empty_pad_says_draw_a_digit(predictor, value):
    """On load, after Clear, after undoing every stroke."""
    assert reading.read_sketch(predictor, value) == Reading(NO_SKETCH)
    assert Reading(NO_SKETCH).as_json() == {
        "digit": None,
        "sure": False,
        "verdict": NO_SKETCH,
        "probabilities": None,
        "image28": None,
        "adapted": False,
        "number": None,
        "digits": [],
    }


def test_a_value_that_is_no_drawing_says_why(predictor):
    assert reading.read_sketch(predictor, "{nope") == Reading(
        "Can't read that drawing: the drawing is not JSON.", problem=True
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_read(predictor, path):
    assert_read(reading.read_image(predictor, str(path)), expected_digit(path))


@pytest.mark.parametrize(
    "content",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"],
    ids=["empty", "text", "truncated-png"],
)
def test_unreadable_upload_says_so_without_the_server_path(predictor, tmp_path, content):
    upload = tmp_path / "gradio-cache" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(content)
    outcome = reading.read_image(predictor, str(upload))
    assert outcome.problem and outcome.prediction is None and outcome.image is None
    assert outcome.message.startswith("Can't read that image: my digit.png: ")
    assert "Error" not in outcome.message, "no exception names, a line that says what to do"
    assert str(tmp_path) not in outcome.message  # no server paths shown


def test_photo_removed(predictor):
    assert reading.read_image(predictor, None) == Reading(NO_PHOTO)


def test_the_model_input_is_shown_as_it_is():
    image = np.zeros((28, 28), np.float32)
    image[3, 5] = 1.0
    image[10, 11] = 0.5
    image[0, 0] = 1.7  # out of range: clipped
    pixels = images.to_pixels(image)
    assert pixels.shape == (28, 28) and pixels.dtype == np.uint8
    assert (pixels[3, 5], pixels[10, 11], pixels[0, 0]) == (255, 128, 255)
    assert pixels.sum() == 2 * 255 + 128


# --- labelling ----------------------------------------------------------------------------------


def test_drawings_read_together_each_with_its_own_memory(predictor):
    """predict_sketches: what predict_sketch says of each, one at a time, each value adapted to
    its own memory (several visitors' calls read together)."""
    seven = pad_value(7)
    wrong = label_sketch(predictor, None, seven, "1").label  # a 7 labelled a 1
    values = [seven, seven, "", "not json", pad_value(3)]
    memories = [(wrong,), (), (), (wrong,), (wrong,)]
    together = reading.read_sketches(predictor, values, memories)
    alone = [reading.read_sketch(predictor, v, m) for v, m in zip(values, memories)]
    assert [r.message for r in together] == [r.message for r in alone]
    assert [r.digit for r in together] == [1, 7, None, None, 3]
    assert together[3].problem and not together[2].problem
    with pytest.raises(ValueError):
        reading.read_sketches(predictor, values, memories[:2])


def test_a_number_is_read_left_to_right_each_digit_as_one_alone(predictor):
    number = reading.read_sketch(predictor, number_value("2026"))
    assert number.text == "2026" and number.message == "2026, sure" and number.sure
    assert number.digit is None and number.prediction is None, "no single digit"
    lefts = [d.box[0] for d in number.digits]
    assert lefts == sorted(lefts) and len(lefts) == 4
    alone = reading.read_sketch(predictor, pad_value(6))
    assert number.digits[3].digit == alone.digit == 6
    data = json.loads(json.dumps(number.as_json()))
    assert (data["number"], data["digit"], data["probabilities"], data["image28"]) == (
        "2026",
        None,
        None,
        None,
    )
    assert [d["digit"] for d in data["digits"]] == [2, 0, 2, 6]
    assert all(len(d["probabilities"]) == 10 and d["image28"] for d in data["digits"])


def test_a_single_digit_reads_as_before_with_its_box(predictor):
    seven = reading.read_sketch(predictor, pad_value(7))
    assert seven.digits == () and seven.text == "7" and seven.each_digit == (seven,)
    x0, y0, x1, y1 = seven.box
    assert 0 < x0 < x1 < 1 and 0 < y0 < y1 < 1
    data = seven.as_json()
    assert data["number"] == "7" and [d["digit"] for d in data["digits"]] == [7]


def test_one_digit_and_a_stray_mark_read_as_that_digit(predictor):
    """Specks, a stray dot, a scribble beside one digit: not a number of two marks, but the digit,
    as it was read before numbers were."""
    seven = json.loads(pad_value(7))["strokes"]
    squeezed = [[(0.1 + 0.6 * x, y) for x, y in stroke] for stroke in seven]
    with_dot = strokes.value_of([*squeezed, [(0.92, 0.5)]])
    outcome = reading.read_sketch(predictor, with_dot)
    assert outcome.digits == () and outcome.digit == 7 and outcome.text == "7"
