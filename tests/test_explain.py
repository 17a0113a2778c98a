"""digitpad.explain: "Why this digit?" with the shipped model: the way in, a heat map that is
faithful (hiding its hottest pixels first kills the digit faster than hiding others), the
training digits it is like, and the person's own."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.conversion import to_mnist
from digitpad.explain import (
    CANT_READ,
    Explanation,
    deletion_curves,
    explain,
    hottest_first,
    occlusion_masks,
)
from digitpad.files import LITERT_FILENAME, MODEL_FILENAME
from digitpad.images import to_pixels
from digitpad.labelling import Label
from digitpad.memory import unit
from digitpad.nearest import MISSING, NEIGHBOURS_FILENAME
from digitpad.predictor import Predictor
from digitpad.steps import CENTRED


@pytest.fixture(scope="module")
def sevens(predictor, sample) -> list[tuple[np.ndarray, Explanation]]:
    """A handful of the sample's test 7s, each explained."""
    digits = sample.x_test[sample.y_test == 7][:6]
    return [(digit, explain(predictor, digit)) for digit in digits]


def test_the_steps_end_with_exactly_what_the_model_read(predictor, sevens):
    digit, explanation = sevens[0]
    recognition = predictor.recognise(digit)
    assert explanation.steps[-1].caption == CENTRED
    np.testing.assert_array_equal(explanation.steps[-1].image, to_pixels(to_mnist(digit).image))
    np.testing.assert_array_equal(explanation.image, recognition.image)
    assert explanation.digit == recognition.digit == 7
    assert explanation.rival is not None and explanation.rival != 7
    assert explanation.message == recognition.message


def test_the_heat_map_is_what_hiding_each_square_cost(sevens):
    _, explanation = sevens[0]
    heatmap = explanation.heatmap
    assert heatmap.shape == (28, 28) and heatmap.dtype == np.float32
    assert heatmap.min() == 0.0 and heatmap.max() == 1.0
    covered = occlusion_masks(explanation.image).any(axis=0)
    assert not heatmap[~covered].any(), "no square hid it: no heat"
    assert explanation.heatmap_image().shape == (28, 28, 3)


def _areas(predictor, image, digit, orders) -> np.ndarray:
    return deletion_curves(predictor, image, digit, orders).mean(axis=1)


def faithful(predictor, explanation: Explanation, order: np.ndarray, seed: int = 0) -> bool:
    """Hiding the pixels in ``order`` kills the digit faster (a smaller area under its
    probability) than five random orders on average, and than the reverse order."""
    rng = np.random.default_rng(seed)
    randoms = [rng.permutation(order) for _ in range(5)]
    areas = _areas(predictor, explanation.image, explanation.digit, [order, order[::-1], *randoms])
    return bool(areas[0] < areas[1] and areas[0] < areas[2:].mean())


def test_the_heat_map_of_sevens_is_faithful(predictor, sevens):
    """The deletion test on a handful of clear 7s (the benchmark runs it on 1,000 digits)."""
    verdicts = [faithful(predictor, e, hottest_first(e)) for _, e in sevens]
    assert sum(verdicts) >= len(verdicts) - 1, verdicts


def test_the_deletion_test_can_fail(predictor, sevens):
    """The same check refuses the coolest-first order: the test is not a formality."""
    verdicts = [faithful(predictor, e, hottest_first(e)[::-1]) for _, e in sevens]
    assert sum(verdicts) <= 1, verdicts


def test_a_seven_is_like_training_sevens(sevens):
    for _, explanation in sevens:
        assert explanation.neighbours_note is None
        assert len(explanation.neighbours) == 5
        assert sum(n.digit == 7 for n in explanation.neighbours) >= 4
        assert explanation.neighbours[0].image.shape == (28, 28)


def test_the_persons_own_digits_that_are_near(predictor, sevens):
    digit, explanation = sevens[0]
    _, features = predictor.predict_with_features(explanation.image[None])
    near = Label(digit=1, predicted=7, features=unit(features[0]))
    far = Label(digit=3, predicted=3, features=unit(-features[0]))
    memory = [far, near, Label(digit=2, predicted=2)]  # one without features is skipped
    mine = explain(predictor, digit, memory).yours
    assert [(y.digit, y.predicted) for y in mine] == [(1, 7)]
    assert mine[0].distance < 1e-4


def test_an_index_for_another_model_is_said_and_the_rest_stands(tmp_path, sample):
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy2(DEFAULT_MODEL_PATH, folder / MODEL_FILENAME)
    litert = DEFAULT_MODEL_PATH.with_name(LITERT_FILENAME).read_bytes()
    served = Predictor(litert, keras_path=folder / MODEL_FILENAME)
    explanation = explain(served, sample.x_test[0])
    assert explanation.neighbours == () and explanation.neighbours_note == MISSING
    assert explanation.heatmap is not None and explanation.digit is not None
    (folder / MODEL_FILENAME).write_bytes(b"another model")  # the index beside is now stale
    shutil.copy2(DEFAULT_MODEL_PATH.with_name(NEIGHBOURS_FILENAME), folder / NEIGHBOURS_FILENAME)
    assert "out of date" in explain(served, sample.x_test[0]).neighbours_note


def test_as_json_is_plain_data(predictor, sevens):
    _, explanation = sevens[0]
    data = json.loads(json.dumps(explanation.as_json()))
    assert [s["caption"] for s in data["steps"]][-1] == CENTRED
    assert all(s["image"].startswith("data:image/png;base64,") for s in data["steps"])
    assert np.asarray(data["heatmap"]["values"]).shape == (28, 28)
    assert data["heatmap"]["image"].startswith("data:image/png;base64,")
    assert data["digit"] == 7 and data["rival"] == explanation.rival
    assert {"digit", "image", "distance", "source"} <= set(data["neighbours"][0])
    assert data["yours"] == []


def test_nothing_to_explain_says_why(predictor):
    empty = explain(predictor, np.zeros((40, 40), np.uint8))
    assert empty.message == "draw a digit" and empty.heatmap is None
    assert json.loads(json.dumps(empty.as_json()))["heatmap"] is None
    unreadable = explain(predictor, b"not an image")
    assert unreadable.message.startswith(CANT_READ) and unreadable.steps == ()
