"""digitpad.memory: an empty memory changes nothing; a labelled example speaks only near it, the
closer the more; and, with the shipped model, a person's label changes their next answers."""

from __future__ import annotations

import numpy as np
import pytest
from harness import pad_value

from digitpad import handlers, pad
from digitpad.memory import RADIUS, adapt, unit
from digitpad.sessions import Label


def probs(top: int, p: float = 0.9) -> np.ndarray:
    out = np.full(10, (1 - p) / 9, np.float32)
    out[top] = p
    return out


def direction(k: int) -> np.ndarray:
    f = np.zeros(8, np.float32)
    f[k] = 1
    return f


def test_an_empty_memory_or_no_features_changes_nothing():
    p = probs(8)
    assert adapt(p, direction(0), ()) == (p, 0)
    assert adapt(p, None, [Label(0, 8, features=direction(0))]) == (p, 0)
    assert adapt(p, direction(0), [Label(0, 8)])[1] == 0, "a label without features is silent"


def test_an_example_speaks_only_within_the_radius_and_the_closer_the_more():
    example = Label(0, 8, features=direction(0))
    same, _ = adapt(probs(8), direction(0), [example])
    assert same.argmax() == 0 and same[0] > 0.99, "at distance 0 the label wins"
    angle = np.arccos(1 - RADIUS / 2)  # half the radius away
    half = unit(np.cos(angle) * direction(0) + np.sin(angle) * direction(1))
    halfway, spoke = adapt(probs(8), half, [example])
    assert spoke == 1 and 0.5 < halfway[0] < same[0]
    far, spoke = adapt(probs(8), direction(1), [example])
    assert spoke == 0 and np.array_equal(far, probs(8))
    assert np.isclose(halfway.sum(), 1) and halfway.dtype == np.float32


def test_neighbours_vote_by_closeness():
    examples = [
        Label(0, 8, features=direction(0)),
        Label(6, 6, features=direction(0)),
        Label(6, 6, features=direction(0)),
    ]
    adapted, spoke = adapt(probs(8), direction(0), examples)
    assert spoke == 3 and adapted.argmax() == 6 and adapted[6] > adapted[0] > adapted[8]


def test_unit_length():
    assert np.isclose(np.linalg.norm(unit(np.array([3.0, 4.0]))), 1)
    assert not np.isnan(unit(np.zeros(3))).any()


# --- with the shipped model ---------------------------------------------------------------------


def label_as(predictor, value: str, digit: int) -> Label:
    return handlers.label_sketch(predictor, None, value, str(digit)).label


def test_a_label_changes_the_answer_for_that_drawing_and_its_like(predictor):
    seven = pad_value(7)
    assert handlers.predict_sketch(predictor, seven).digit == 7
    wrong = label_as(predictor, seven, 1)  # labelled wrong on purpose
    reading = handlers.predict_sketch(predictor, seven, [wrong])
    assert reading.digit == 1 and reading.adapted and reading.examples == 1
    assert reading.message.endswith(", like your examples") and reading.model.digit == 7
    assert reading.as_json()["adapted"] is True
    nudged = pad.value_of([[(x + 0.01, y) for x, y in s] for s in pad.read_strokes(seven)])
    assert handlers.predict_sketch(predictor, nudged, [wrong]).digit == 1, "its like, too"
    for digit in (0, 2, 3, 4, 6):  # other digits are too far from it to be moved
        other = handlers.predict_sketch(predictor, pad_value(digit), [wrong])
        assert other.digit == digit and not other.adapted and other.examples == 0


@pytest.mark.parametrize("family", ["scribbles", "letters"])
def test_non_digits_do_not_become_sure_because_of_labels(predictor, family):
    from digitpad.outliers import MAKERS

    labels = [label_as(predictor, pad_value(d), d) for d in (0, 1, 2, 3, 4, 6, 7)]
    rng = np.random.default_rng(11)
    for _ in range(30):
        drawing = pad.value_of(MAKERS[family](rng))
        alone, adapted = (
            handlers.predict_sketch(predictor, drawing, memory_) for memory_ in ((), labels)
        )
        if adapted.prediction is not None and adapted.prediction.sure:
            assert alone.prediction.sure, "sure only if the model alone was"
