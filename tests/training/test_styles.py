"""digitpad.training.styles: each style is drawn on the pad from a real MNIST digit, looks like itself, is
seeded, keeps training and held-out streams apart; and the shipped model reads the styles."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.strokes import MARGIN
from digitpad.training import styles
from digitpad.training.report import style_check
from digitpad.training.styles import AS_WRITTEN, STYLES, TRAINING_MIX, make_styled, skeleton_of


@pytest.fixture(scope="module")
def made(sample):
    """Four of each style (and as written), from the sample's test digits."""
    order = (*STYLES, AS_WRITTEN)
    return make_styled(
        sample.x_test, sample.y_test, 4 * len(order), seed=0, held_out=True, styles=order
    )


def test_every_style_is_made_in_mnist_format(made):
    x, y, names = made
    assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and len(x) == len(y) == len(names)
    for name, (digit, _) in STYLES.items():
        assert (names == name).sum() == 4, name
        assert set(y[names == name]) == {digit}
    assert sorted(y[names == AS_WRITTEN]) == [0, 1, 2, 3]  # the digits in turn
    assert (x.reshape(len(x), -1).max(axis=1) == 255).all()
    assert len({image.tobytes() for image in x}) == len(x), "each digit used once"


def test_seeded_and_held_out_is_another_stream(sample):
    first = make_styled(sample.x_test, sample.y_test, 6, seed=3)[0]
    assert np.array_equal(first, make_styled(sample.x_test, sample.y_test, 6, seed=3)[0])
    assert not np.array_equal(first, make_styled(sample.x_test, sample.y_test, 6, seed=4)[0])
    held = make_styled(sample.x_test, sample.y_test, 6, seed=3, held_out=True)[0]
    assert not any(np.array_equal(a, b) for a in first for b in held)


def test_the_training_mix_is_half_styles_half_as_written():
    assert TRAINING_MIX.count(AS_WRITTEN) == len(STYLES) == len(TRAINING_MIX) // 2
    assert set(TRAINING_MIX) == {*STYLES, AS_WRITTEN}


def skeleton(shape: str) -> styles.Skeleton:
    """A drawn test shape at 4x: an 'O' ring, or a '1' bar."""
    rows, cols = np.mgrid[:80, :60]
    if shape == "O":
        ring = np.abs(np.hypot((rows - 40) / 38, (cols - 30) / 28) - 0.85) < 0.12
    else:
        ring = (np.abs(cols - 30) < 4) & (rows > 2) & (rows < 78)
    return styles.Skeleton(styles.thin(ring), ring)


def test_a_ring_has_a_hole_and_a_bar_none():
    assert skeleton("O").hole() is not None and skeleton("1").hole() is None


def test_a_slashed_zero_crosses_its_ring_from_lower_left_to_upper_right():
    rng = np.random.default_rng(0)
    styled = styles.slashed_zero(skeleton("O"), rng)
    (slash,) = styled.added
    start, end = slash[0], slash[-1]
    assert start[0] > end[0] and start[1] < end[1], "lower left to upper right"
    middle = slash[len(slash) // 2]
    assert abs(middle[0] - 40) < 10 and abs(middle[1] - 30) < 10


def test_a_flagged_one_leads_in_from_the_lower_left():
    rng = np.random.default_rng(1)
    sk = skeleton("1")
    (flag,) = styles.flagged_one(serif=False)(sk, rng).added
    assert flag[-1][0] == pytest.approx(styles.top_point(sk)[0])
    assert flag[0][0] > flag[-1][0] and flag[0][1] < flag[-1][1]
    flag, base = styles.flagged_one(serif=True)(sk, rng).added
    assert base[0][0] == pytest.approx(base[-1][0]), "a level base"


def test_a_style_that_does_not_apply_says_so():
    rng = np.random.default_rng(0)
    assert styles.with_hole(skeleton("1"), rng) is None
    assert styles.open_loop("upper left")(skeleton("1"), rng) is None
    opened = styles.open_loop("upper left")(skeleton("O"), rng)
    assert opened.kept.sum() < skeleton("O").pixels.sum()


def test_blobs_and_blanks_are_not_traced():
    blob = np.zeros((28, 28), np.uint8)
    blob[6:22, 6:22] = 255  # a filled-in square: its skeleton would be a dot
    assert skeleton_of(blob) is None and skeleton_of(np.zeros((28, 28), np.uint8)) is None


def test_the_pad_strokes_fit_the_pad():
    rng = np.random.default_rng(2)
    for _ in range(20):
        strokes = styles.pad_strokes(styles.slashed_zero(skeleton("O"), rng), rng)
        points = np.concatenate(strokes)
        assert points.min() >= 0 and points.max() <= 1
        height = np.ptp(points[:, 1])
        assert styles.MIN_HEIGHT - 0.01 <= height <= 1 - 2 * MARGIN + 0.01


def test_the_shipped_model_reads_the_styles(predictor, sample):
    """On the sample's test digits, 10 of each style: the per-style figures on all of MNIST's
    test digits are the training report's (assets/metrics.json)."""
    rows, _ = style_check(lambda x: predictor.predict_batch(x / np.float32(255)), sample, 10)
    assert rows["all styles"]["accuracy"] >= 0.97, rows["all styles"]
    assert rows["all styles"]["wrong_but_sure"] <= 2, rows["all styles"]
    assert rows["as written"]["accuracy"] >= 0.9
