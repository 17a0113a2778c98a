"""digitpad.memory: an empty memory changes nothing; a labelled example speaks only near it, the
closer the more, and only when no other digit's example is about as near; and, with the shipped
model, a person's label changes their next answers."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad import reading, strokes
from digitpad.labelling import Label
from digitpad.memory import FIRM, FIRM_RADIUS, RADIUS, RATIO, adapt, towards, unit
from digitpad.predictor import Recognition
from digitpad.verdict import Prediction
from harness import label_sketch, pad_value


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


def near(k: int, distance: float) -> np.ndarray:
    """A unit vector at cosine ``distance`` from direction(0), towards direction(k)."""
    angle = np.arccos(1 - distance)
    return unit(np.cos(angle) * direction(0) + np.sin(angle) * direction(k))


def test_the_nearest_digit_speaks_only_when_clearly_nearer_than_any_other():
    query = direction(0)
    six = Label(6, 6, features=near(1, RADIUS * 0.2))
    zero = Label(0, 8, features=near(2, RADIUS * 0.2 / RATIO * 1.01))  # just beyond RATIO
    adapted, spoke = adapt(probs(8), query, [six, zero])
    assert spoke == 1 and adapted.argmax() == 6
    zero = Label(0, 8, features=near(2, RADIUS * 0.2 / RATIO * 0.99))  # within it: a tie
    adapted, spoke = adapt(probs(8), query, [six, zero])
    assert spoke == 0 and np.array_equal(adapted, probs(8)), "the person's hand can't tell"


def test_a_distant_example_puts_its_digit_first_but_not_sure():
    three = Label(3, 8, features=near(1, 0.99 * RADIUS))
    adapted, spoke = adapt(probs(8, 0.99), direction(0), [three])
    assert spoke == 1 and adapted.argmax() == 3
    assert adapted[3] - adapted[8] < 0.02, "just enough to come first: 'not sure: 3 or 8?'"
    assert Prediction(adapted).verdict == "not sure: 3 or 8?"
    assert np.isclose(towards(probs(2), 2, 0.5)[2], 0.95), "the model's digit: half way to 1"


def test_the_verdict_says_when_the_examples_changed_the_answer():
    model = Prediction(probs(8, 0.99))
    recognition = Recognition(np.zeros((28, 28), np.float32), model, model.verdict, direction(0))
    three = [Label(3, 8, features=near(1, 0.9 * RADIUS))]
    assert reading.adapt_reading(recognition, three).message == (
        "not sure: 3 or 8? 3 is like your examples"
    )
    three = [Label(3, 8, features=direction(0))]
    assert reading.adapt_reading(recognition, three).message == "3, 100% sure, like your examples"
    assert reading.adapt_reading(recognition, ()).message == "8, 99% sure"


def test_a_firm_answer_moves_only_for_its_like():
    firm = probs(8, FIRM)
    three = Label(3, 8, features=near(1, (FIRM_RADIUS + RADIUS) / 2))
    assert adapt(firm, direction(0), [three]) == (firm, 0)
    assert adapt(probs(8, 0.99), direction(0), [three])[0].argmax() == 3, "when not firm"
    three = Label(3, 8, features=near(1, FIRM_RADIUS / 2))
    assert adapt(firm, direction(0), [three])[0].argmax() == 3


def test_an_example_that_agrees_with_the_model_leaves_its_answer():
    for p in (probs(8, 0.6), probs(8, FIRM)):
        assert adapt(p, direction(0), [Label(8, 8, features=direction(0))]) == (p, 0)


def test_unit_length():
    assert np.isclose(np.linalg.norm(unit(np.array([3.0, 4.0]))), 1)
    assert not np.isnan(unit(np.zeros(3))).any()


# --- with the shipped model ---------------------------------------------------------------------


def label_as(predictor, value: str, digit: int) -> Label:
    return label_sketch(predictor, None, value, str(digit)).label


def test_a_label_changes_the_answer_for_that_drawing_and_its_like(predictor):
    seven = pad_value(7)
    assert reading.read_sketch(predictor, seven).digit == 7
    wrong = label_as(predictor, seven, 1)  # labelled wrong on purpose
    outcome = reading.read_sketch(predictor, seven, [wrong])
    assert outcome.digit == 1 and outcome.adapted and outcome.examples == 1
    assert outcome.message.endswith(", like your examples") and outcome.model_prediction.digit == 7
    assert outcome.as_json()["adapted"] is True
    nudged = strokes.value_of([[(x + 0.01, y) for x, y in s] for s in strokes.read_strokes(seven)])
    assert reading.read_sketch(predictor, nudged, [wrong]).digit == 1, "its like, too"
    for digit in (0, 2, 3, 4, 6):  # other digits are too far from it to be moved
        other = reading.read_sketch(predictor, pad_value(digit), [wrong])
        assert other.digit == digit and not other.adapted and other.examples == 0


@pytest.mark.parametrize("family", ["scribbles", "letters"])
def test_non_digits_do_not_become_sure_because_of_labels(predictor, family):
    from digitpad.training.outliers import MAKERS

    labels = [label_as(predictor, pad_value(d), d) for d in (0, 1, 2, 3, 4, 6, 7)]
    rng = np.random.default_rng(11)
    for _ in range(30):
        drawing = strokes.value_of(MAKERS[family](rng))
        alone, adapted = (
            reading.read_sketch(predictor, drawing, memory_) for memory_ in ((), labels)
        )
        if adapted.prediction is not None and adapted.prediction.sure:
            assert alone.prediction.sure, "sure only if the model alone was"
