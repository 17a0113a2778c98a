"""digitpad.labelling: a person says what an input is; it is counted once, saved with --collect, and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from digitpad import labelling, strokes
from digitpad.collection import load_records, read_image28
from digitpad.labelling import RIGHT, Label, Labelling
from digitpad.predictor import Recognition
from digitpad.tally import Tally
from digitpad.verdict import Prediction
from harness import EXAMPLES, expected_digit, label_sketch, number_value, pad_value

PHOTO = next(p for p in EXAMPLES if p.name.startswith("photo_"))


class Unsure:
    """A predictor torn between 4 and 9, for the one answer the shipped model rarely gives."""

    def recognise(self, source: object) -> Recognition:
        probabilities = np.zeros(10, np.float32)
        probabilities[[4, 9]] = [0.55, 0.45]
        prediction = Prediction(probabilities)
        return Recognition(np.zeros((28, 28), np.float32), prediction, prediction.verdict)


def test_labels_are_counted_and_not_saved_by_default(predictor, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    right = label_sketch(predictor, None, pad_value(7), RIGHT)
    assert right.message == "Counted: a 7 (the model said so too)." and not right.saved
    assert (right.label.digit, right.label.predicted, right.label.record) == (7, 7, None)
    assert right.label.features.shape == (128,)
    wrong = label_sketch(predictor, None, pad_value(1), "8")
    assert wrong.message == "Counted: an 8 (the model said 1)."
    assert list(tmp_path.iterdir()) == []


def test_the_same_answer_twice_counts_once_and_a_new_one_replaces_it(predictor, tmp_path):
    first = label_sketch(predictor, tmp_path, pad_value(7), RIGHT)
    again = label_sketch(predictor, tmp_path, pad_value(7), "7", first.labels)
    assert again == Labelling("Already counted: a 7.")
    changed = label_sketch(predictor, tmp_path, pad_value(7), "1", first.labels)
    assert changed.message == "Changed to a 1 (the model said 7)."
    assert changed.label.record == first.label.record, (
        "the saved digit is relabelled, not saved again"
    )
    (record,) = load_records(tmp_path)
    assert record.label == 1 and record.predicted == 7


def test_an_input_s_key_is_its_content():
    drawing = strokes.read_drawing(pad_value(7))
    assert labelling.fingerprint(drawing) == labelling.fingerprint(
        strokes.read_drawing(pad_value(7))
    )
    assert labelling.fingerprint(drawing) != labelling.fingerprint(
        strokes.read_drawing(pad_value(1))
    )
    assert labelling.fingerprint(str(PHOTO)) == labelling.fingerprint(PHOTO)


def test_labels_are_saved_with_both_images(predictor, tmp_path):
    sketched = label_sketch(predictor, tmp_path, pad_value(7), "1")
    assert sketched.message == "Saved: a 1 (the model said 7)." and sketched.saved
    snapped = labelling.label(predictor, tmp_path, str(PHOTO), RIGHT)
    assert snapped.message == f"Saved: a {expected_digit(PHOTO)} (the model said so too)."
    drawn, photo = load_records(tmp_path)
    assert (drawn.label, drawn.predicted, photo.label) == (1, 7, expected_digit(PHOTO))
    assert sketched.label.record == drawn.id
    record = json.loads((tmp_path / f"{drawn.id}.json").read_text())
    assert record["strokes"] == json.loads(pad_value(7))["strokes"]  # the drawing, redrawable
    assert "strokes" not in json.loads((tmp_path / f"{photo.id}.json").read_text())
    drawing = strokes.read_drawing(pad_value(7))
    with Image.open(drawn.original) as original:  # the drawing as the person saw it
        np.testing.assert_array_equal(np.asarray(original), drawing.render())
    assert photo.original.read_bytes() == PHOTO.read_bytes()  # the photo byte for byte
    seen = predictor.recognise(drawing).image  # the 28x28 image is the one the model saw
    np.testing.assert_allclose(read_image28(drawn.image28) / 255, seen, atol=1 / 255)


@pytest.mark.parametrize(
    "answer, why",
    [
        ("x", "Not a digit: 'x'; the answer is 0-9 or 'right'."),
        ("", "Not a digit: ''; the answer is 0-9 or 'right'."),
        (None, "Not a digit: None; the answer is 0-9 or 'right'."),
        ("10", "The model read 1 digit (7) but the answer has 2: type one digit for each."),
    ],
)
def test_an_answer_that_is_no_digit_changes_nothing(predictor, tmp_path, answer, why):
    done = label_sketch(predictor, tmp_path, pad_value(7), answer)
    assert done.labels == () and done.message == why
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "value, why",
    [
        (None, "Nothing to label yet: draw a digit or show a photo first."),
        ('{"strokes": []}', "Nothing to label yet: draw a digit or show a photo first."),
        (strokes.value_of([[(0.5, 0.5)]]), "Nothing to label: no digit found: only a dot."),
        ("{broken", "Can't read that drawing: the drawing is not JSON."),
    ],
)
def test_nothing_to_label(predictor, tmp_path, value, why):
    assert label_sketch(predictor, tmp_path, value, "3") == Labelling(why)
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_upload_is_not_labelled(predictor, tmp_path):
    upload = tmp_path / "uploads" / "my digit.png"
    upload.parent.mkdir()
    upload.write_bytes(b"not an image")
    done = labelling.label(predictor, tmp_path / "kept", str(upload), "3")
    assert done.label is None and done.message.startswith("Can't read that image: my digit.png: ")
    assert str(upload.parent) not in done.message and not (tmp_path / "kept").exists()


def test_right_needs_a_sure_answer(tmp_path):
    done = labelling.label(Unsure(), tmp_path, "any input", RIGHT)
    assert done == Labelling("The model wasn't sure (4 or 9?): click the digit it is.")
    assert list(tmp_path.iterdir()) == []
    done = labelling.label(Unsure(), None, "any input", "9")
    assert done.message == "Counted: a 9 (the model said 4)." and done.label.digit == 9


def test_a_failed_save_is_not_counted_and_says_so(predictor, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the collection should be")
    done = label_sketch(predictor, blocked, pad_value(7), "7")
    assert done.label is None and done.message.startswith("Could not save it (")
    assert "not counted" in done.message
    assert blocked.read_text() == "a file where the collection should be"


def test_what_the_api_returns_is_plain_data():
    done = Labelling("Counted: a 7 (the model said 1).", (Label(7, 1),))
    tally = Tally().count(7, 1, 1)
    assert json.loads(json.dumps(done.as_json(tally))) == {
        "counted": True,
        "label": 7,
        "predicted": 1,
        "number": "7",
        "saved": False,
        "message": "Counted: a 7 (the model said 1).",
        "tally": {"labelled": 1, "right": 0, "model_right": 0, "mistakes": [0] * 7 + [1, 0, 0]},
    }
    assert Labelling("Nothing to label yet.").as_json(tally)["counted"] is False


def test_a_number_is_labelled_digit_by_digit(predictor, tmp_path):
    value = number_value("2026")
    done = label_sketch(predictor, tmp_path, value, "2027")  # the last one "is" a 7
    assert done.message == "Saved: 2027 (the model said 2026)." and done.saved
    assert [label.digit for label in done.labels] == [2, 0, 2, 7]
    assert [label.predicted for label in done.labels] == [2, 0, 2, 6]
    assert done.label is None and done.as_json(Tally())["number"] == "2027"
    records = load_records(tmp_path)
    assert sorted(r.label for r in records) == [0, 2, 2, 7], "each digit saved on its own"
    again = label_sketch(predictor, tmp_path, value, "2027", done.labels)
    assert again.message == "Already counted: 2027." and again.labels == ()
    changed = label_sketch(predictor, tmp_path, value, RIGHT, done.labels)
    assert changed.message == "Changed to 2026 (the model said so too)."
    assert sorted(r.label for r in load_records(tmp_path)) == [0, 2, 2, 6], "relabelled, not added"


@pytest.mark.parametrize(
    "answer, why",
    [
        ("202", "The model read 4 digits (2026) but the answer has 3: type one digit for each."),
        ("20x6", "Not a number: '20x6'; type its digits, like 2026, or 'right'."),
    ],
)
def test_a_number_s_answer_must_have_a_digit_for_each(predictor, answer, why):
    done = label_sketch(predictor, None, number_value("2026"), answer)
    assert done.labels == () and done.message == why
