"""scripts/make_person.py's simulated writers: a hand draws every digit, in order; with its own
shapes, one person's drawings of a digit resemble each other more than different people's do."""

from __future__ import annotations

import numpy as np
from make_person import make_hand, wobble, writer_digits


def drawings(sample, shapes: int | None, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hand = make_hand(rng, strong=False)
    values, labels = writer_digits(hand, sample.x_test, sample.y_test, 4, rng, shapes)
    images = np.stack([v.render(56).astype(np.float32) for v in values])
    return 255 - images, labels


def likeness(images: np.ndarray) -> float:
    """Mean correlation between two drawings of the same digit (rendered at 56x56)."""
    flat = images.reshape(len(images), -1)
    flat = (flat - flat.mean(1, keepdims=True)) / (flat.std(1, keepdims=True) + 1e-9)
    pairs = flat @ flat.T / flat.shape[1]
    return float(pairs[np.triu_indices(len(flat), 1)].mean())


def test_every_digit_in_order(sample):
    _, labels = drawings(sample, None)
    assert labels.tolist() == list(range(10)) * 4


def test_a_person_with_their_own_shapes_draws_a_digit_alike(sample):
    own, labels = drawings(sample, 1)
    many, _ = drawings(sample, None)
    alike = [likeness(own[labels == d]) for d in range(10)]
    apart = [likeness(many[labels == d]) for d in range(10)]
    assert np.mean(alike) > np.mean(apart) + 0.1
    assert all(a < 0.999 for a in alike), "no two drawings are the same"


def test_wobble_bends_a_little_and_stays_on_the_pad():
    rng = np.random.default_rng(0)
    stroke = np.stack([np.linspace(0, 1, 50), np.full(50, 0.5)], axis=1)
    bent = wobble([stroke], rng, amount=0.04)[0]
    moved = np.linalg.norm(bent - stroke, axis=1)
    assert 0 < moved.max() <= 0.04 * np.sqrt(2) + 1e-9
    assert bent.min() >= 0 and bent.max() <= 1
    assert not np.array_equal(bent, wobble([stroke], rng, amount=0.04)[0])
