"""Drawings that are no digit (digitpad.outliers), the loss that trains on them
(digitpad.model.outlier_exposure_loss), and what the shipped model makes of held-out ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitpad import outliers, pad
from digitpad.model import NOT_A_DIGIT, DigitAccuracy, outlier_exposure_loss
from digitpad.predictor import is_sure


@pytest.mark.parametrize("family", outliers.FAMILIES)
def test_each_family_makes_mnist_format_images(family):
    images = outliers.make_outliers(12, seed=1, families=(family,))
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8
    ink = images.astype(np.float32).sum(axis=(1, 2)) / 255
    assert np.all(ink > 10), "every drawing has ink left after the conversion"
    assert len({image.tobytes() for image in images}) == 12, "all different"


@pytest.mark.parametrize("family", outliers.FAMILIES)
def test_strokes_stay_on_the_pad(family):
    rng = np.random.default_rng(0)
    for _ in range(50):
        strokes = outliers.MAKERS[family](rng)
        assert strokes and all(np.all((s >= 0) & (s <= 1)) and s.shape[1] == 2 for s in strokes)
        assert pad.read_strokes(pad.value_of(strokes)), "a value the pad could have sent"


def test_seeded_and_held_out_is_another_stream():
    first = outliers.make_outliers(6, seed=3)
    assert np.array_equal(first, outliers.make_outliers(6, seed=3))
    assert not np.array_equal(first, outliers.make_outliers(6, seed=4))
    held_out = outliers.make_outliers(6, seed=3, held_out=True)
    assert not any(np.array_equal(a, b) for a in first for b in held_out)


def test_families_in_turn_and_letters_never_trained_on():
    assert "letters" in outliers.FAMILIES and "letters" not in outliers.TRAIN_FAMILIES
    assert set(outliers.TRAIN_FAMILIES) < set(outliers.FAMILIES) == set(outliers.MAKERS)
    together = outliers.make_outliers(6, seed=5)  # scribble, hatching, shape, scribble, ...
    assert together.shape == (6, 28, 28)
    with pytest.raises(ValueError, match="unknown outlier families"):
        outliers.make_outliers(2, seed=0, families=("circles",))
    with pytest.raises(ValueError):
        outliers.make_outliers(2, seed=0, families=())


def test_no_letter_is_a_digit_shape():
    assert not set(outliers.LETTERS) & set("OISZBGLCTDQ")


# --- the loss and the metric ---------------------------------------------------------------------


def loss_of(labels, probabilities, weight=0.5) -> np.ndarray:
    return np.asarray(outlier_exposure_loss(weight)(np.array(labels), np.array(probabilities, np.float32)))


def test_loss_is_cross_entropy_for_digits():
    p = np.array([[0.7, 0.1, 0.2] + [0.0] * 7, [0.05] * 8 + [0.3, 0.3]], np.float32)
    assert loss_of([0, 9], p) == pytest.approx([-math.log(0.7), -math.log(0.3)], rel=1e-5)
    assert loss_of([[2], [8]], p) == pytest.approx([-math.log(0.2), -math.log(0.3)], rel=1e-5), "(B, 1) labels"


def test_loss_for_a_non_digit_is_zero_when_flat_and_grows_when_confident():
    flat, sure = [[0.1] * 10], [[0.91] + [0.01] * 9]
    assert loss_of([NOT_A_DIGIT], flat)[0] == pytest.approx(0.0, abs=1e-6)
    confident = loss_of([NOT_A_DIGIT], sure, weight=1.0)[0]
    expected = -np.mean(np.log(sure[0])) - math.log(10)  # KL(uniform || p)
    assert confident == pytest.approx(expected, rel=1e-5) and confident > 1.0
    assert loss_of([NOT_A_DIGIT], sure, weight=0.5)[0] == pytest.approx(confident / 2, rel=1e-5)


def test_digit_accuracy_counts_digits_only():
    metric = DigitAccuracy()
    onehot = np.eye(10, dtype=np.float32)
    metric.update_state(np.array([3, 5, NOT_A_DIGIT, NOT_A_DIGIT]), onehot[[3, 4, 0, 7]])
    assert float(metric.result()) == pytest.approx(0.5)
    metric.update_state(np.array([NOT_A_DIGIT]), onehot[[1]])
    assert float(metric.result()) == pytest.approx(0.5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


# --- the shipped model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def held_out():
    return {family: outliers.make_outliers(100, seed=0, families=(family,), held_out=True)
            for family in outliers.FAMILIES}


@pytest.mark.parametrize("family", outliers.TRAIN_FAMILIES)
def test_shipped_model_is_not_sure_of_held_out_non_digits(predictor, held_out, family):
    sure = is_sure(predictor.predict_batch(held_out[family] / np.float32(255)))
    assert sure.mean() <= 0.05, f"{family}: {sure.sum()} of 100 answered 'sure'"


def test_shipped_model_is_mostly_unsure_of_letters_it_never_saw(predictor, held_out):
    """Trained on MNIST alone, the model was sure of 58% of these letters."""
    sure = is_sure(predictor.predict_batch(held_out["letters"] / np.float32(255)))
    assert sure.mean() <= 0.3, f"{sure.sum()} of 100 letters answered 'sure'"
