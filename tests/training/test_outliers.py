"""Drawings that are no digit (digitpad.training.outliers), how they join a training split, and what the
shipped model makes of held-out ones. (The loss that trains on them is tests/training/test_model.py's.)"""

from __future__ import annotations

import numpy as np
import pytest

from digitpad import strokes
from digitpad.training import outliers
from digitpad.training.data import NOT_A_DIGIT
from digitpad.verdict import is_sure


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
        lines = outliers.MAKERS[family](rng)
        assert lines and all(np.all((s >= 0) & (s <= 1)) and s.shape[1] == 2 for s in lines)
        assert strokes.read_strokes(strokes.value_of(lines)), "a value the pad could have sent"


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


def test_non_digits_join_a_training_split_labelled_as_such(sample, capsys):
    x, y = outliers.add_outliers(sample.x_train[:20], sample.y_train[:20], 6, seed=1)
    assert x.shape == (26, 28, 28) and x.dtype == np.uint8
    assert y.dtype == np.int32 and y[:20].tolist() == sample.y_train[:20].tolist()
    assert y[20:].tolist() == [NOT_A_DIGIT] * 6
    np.testing.assert_array_equal(x[20:], outliers.make_outliers(6, seed=1))
    assert "not digits: 6 drawings (scribbles, hatching, shapes)" in capsys.readouterr().out


# --- the shipped model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def held_out():
    return {
        family: outliers.make_outliers(100, seed=0, families=(family,), held_out=True)
        for family in outliers.FAMILIES
    }


@pytest.mark.parametrize("family", outliers.TRAIN_FAMILIES)
def test_shipped_model_is_not_sure_of_held_out_non_digits(predictor, held_out, family):
    sure = is_sure(predictor.predict_batch(held_out[family] / np.float32(255)))
    assert sure.mean() <= 0.05, f"{family}: {sure.sum()} of 100 answered 'sure'"


def test_shipped_model_is_mostly_unsure_of_letters_it_never_saw(predictor, held_out):
    """Trained on MNIST alone, the model was sure of 58% of these letters."""
    sure = is_sure(predictor.predict_batch(held_out["letters"] / np.float32(255)))
    assert sure.mean() <= 0.3, f"{sure.sum()} of 100 letters answered 'sure'"
