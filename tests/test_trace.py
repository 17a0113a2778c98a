"""digitpad.trace: MNIST digits traced on the drawing pad, as the trainer adds them."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.data import load_mnist
from digitpad.trace import BLOB_RADIUS, digit_shape, make_traced, skeleton_strokes, thin, trace


@pytest.fixture(scope="module")
def mnist(sample_mnist_path):
    return load_mnist(sample_mnist_path)


def test_thin_leaves_a_one_pixel_line_along_a_thick_bar():
    bar = np.zeros((20, 60), bool)
    bar[6:14, 5:55] = True
    skeleton = thin(bar)
    assert skeleton.sum() >= 35 and (skeleton & ~bar).sum() == 0
    columns = skeleton[:, 10:50].sum(axis=0)
    assert (columns == 1).all(), "one pixel thick along the bar"
    assert set(np.flatnonzero(skeleton[:, 30])) <= {9, 10}, "on the bar's middle line"


def test_strokes_stay_on_the_pad_at_a_height_in_range():
    rng = np.random.default_rng(0)
    shape = np.zeros((80, 40), bool)
    shape[4:76, 18:22] = True  # a 1
    for _ in range(20):
        points = np.concatenate(skeleton_strokes(shape, rng))
        assert points.min() >= 0.05 - 1e-9 and points.max() <= 0.95 + 1e-9
        height = points[:, 1].max() - points[:, 1].min()
        assert 0.3 <= height <= 0.9


def test_a_traced_digit_is_in_mnist_format_and_looks_like_its_source(mnist):
    rng = np.random.default_rng(1)
    for digit in mnist.x_train[:20]:
        traced = trace(digit, rng)
        if traced is None:
            continue
        assert traced.shape == (28, 28) and traced.dtype == np.uint8
        rows, cols = np.nonzero(traced)
        assert rows.max() - rows.min() < 21 and cols.max() - cols.min() < 21  # the 20 px box
        # the same digit: much of its ink where the source's is (pen widths differ)
        source, ink = digit > 64, traced > 64
        assert (source & ink).sum() / ink.sum() > 0.5, "traced ink mostly on the source's"


def test_a_filled_in_loop_is_not_traced():
    """Its skeleton would be a line (another digit); the same 9 with an open loop is traced."""
    yy, xx = np.mgrid[:28, :28]
    distance = np.hypot(yy - 10, xx - 14)
    open_nine = np.zeros((28, 28), np.uint8)
    open_nine[(distance <= 5) & (distance >= 3.5)] = 255  # a loop 11 px across, 2 px thick
    open_nine[10:26, 17:20] = 255  # and a stem
    filled_nine = open_nine.copy()
    filled_nine[distance <= 5] = 255
    assert digit_shape(filled_nine).shape == (4 * 21, 4 * 11)  # cropped to the ink, 4x
    assert 2 * 5 * 4 > 2 * BLOB_RADIUS  # the filled loop is a blob
    assert trace(filled_nine, np.random.default_rng(0)) is None
    assert trace(open_nine, np.random.default_rng(0)) is not None


def test_make_traced_is_seeded_and_keeps_the_labels(mnist):
    x, y = mnist.x_train[:60], mnist.y_train[:60]
    images, labels = make_traced(x, y, 12, seed=3)
    again, _ = make_traced(x, y, 12, seed=3)
    assert 8 <= len(images) <= 12 and images.dtype == np.uint8 and labels.dtype == y.dtype
    np.testing.assert_array_equal(images, again)
    assert set(labels.tolist()) <= set(y.tolist())


@pytest.mark.parametrize("count", [0, 1000])
def test_make_traced_counts(mnist, count):
    x, y = mnist.x_train[:30], mnist.y_train[:30]
    images, labels = make_traced(x, y, count, seed=0)
    assert len(images) == len(labels) <= min(count, 30)
    assert images.shape[1:] == (28, 28)
