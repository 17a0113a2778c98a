"""digitpad.verdict: when the model is "sure", and how its answer is worded."""

from __future__ import annotations

import numpy as np

from digitpad.verdict import DIGIT_LIKE, SURE_MARGIN, SURE_PROBABILITY, Prediction, is_sure


def test_sure_needs_a_high_and_clear_top():
    clear = Prediction(np.array([0.01] * 7 + [0.93, 0.0, 0.0], np.float32))
    assert clear.sure and clear.digit == 7 and clear.verdict == "7, 93% sure"
    low = SURE_PROBABILITY - 0.05
    close = Prediction(np.array([0, 0, 0, 0, low, 0, 0, 0, 0, 1 - low], np.float32))
    assert not close.sure
    assert close.verdict in ("not sure: 4 or 9?", "not sure: 9 or 4?")
    top = max(SURE_PROBABILITY, 0.5 + SURE_MARGIN / 2) + 0.01
    clear_enough = Prediction(np.array([top, 1 - top] + [0] * 8, np.float32))
    assert clear_enough.sure
    assert is_sure(np.stack([clear.probabilities, close.probabilities])).tolist() == [True, False]


def test_a_spread_answer_asks_whether_it_is_a_digit():
    spread = Prediction(
        np.array([0.05] * 5 + [DIGIT_LIKE - 0.01, 0.1, 0.15] + [0.0] * 2, np.float32)
        / np.float32(0.05 * 5 + DIGIT_LIKE - 0.01 + 0.25)
    )
    assert spread.confidence < DIGIT_LIKE
    assert spread.verdict == "not sure it is a digit: 5 or 7?"


def test_the_digit_its_confidence_and_the_runner_up():
    probabilities = np.arange(10, dtype=np.float32) / 45
    prediction = Prediction(probabilities)
    assert (prediction.digit, prediction.runner_up) == (9, 8)
    assert prediction.confidence == np.float32(9 / 45)
    assert prediction.verdict == "not sure it is a digit: 9 or 8?"


def test_a_number_s_verdict_names_the_digits_it_doubts():
    from digitpad.verdict import word_number

    assert word_number([("2", True, ""), ("0", True, ""), ("2", True, "")]) == "202, sure"
    assert word_number([("2", True, ""), ("?", False, "7 or 1?"), ("2", True, "")]) == (
        "2?2: not sure of the second digit (7 or 1?)"
    )
    three = [
        ("1", False, "1 or 7?"),
        ("2", True, ""),
        ("3", False, "3 or 5?"),
        ("4", False, "no digit?"),
    ]
    assert word_number(three) == (
        "1234: not sure of the first, third and fourth digits (1 or 7?, 3 or 5?, no digit?)"
    )
