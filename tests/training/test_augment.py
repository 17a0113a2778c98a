"""digitpad.training.augment: the random transforms keep images valid and vary them; the tf.data pipeline
batches, scales and shuffles."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from digitpad.training.augment import AugmentConfig, augment_batch, make_dataset


@pytest.fixture(scope="module")
def batch(sample):
    return sample.x_test[:32].astype(np.float32) / 255.0


def test_augmentation_keeps_shape_range_and_varies(batch):
    out = augment_batch(tf.constant(batch)).numpy()
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - batch).mean() > 0.01  # it changed something
    # ink is moved and reshaped, not lost: total ink within a broad band of the original
    ratio = out.sum(axis=(1, 2)) / batch.sum(axis=(1, 2))
    assert (ratio > 0.3).all() and (ratio < 3.0).all()
    none = AugmentConfig(
        rotation_degrees=0,
        scale=0,
        shear=0,
        shift_pixels=0,
        thick_probability=0,
        thin_probability=0,
    )
    np.testing.assert_allclose(augment_batch(tf.constant(batch), none).numpy(), batch, atol=1e-5)


def test_augmentation_shift_moves_the_digit(batch):
    tf.random.set_seed(0)
    shifted = augment_batch(tf.constant(batch), AugmentConfig(0, 0, 0, 4.0, 0, 0)).numpy()
    cols = np.arange(28)

    def com(b):
        return (b.sum(axis=1) * cols).sum(axis=1) / b.sum(axis=(1, 2))

    moved = np.abs(com(shifted) - com(batch))
    assert moved.max() > 1.0 and moved.max() < 4.6


def test_the_pipeline_scales_batches_and_shuffles(sample):
    x, y = sample.x_train[:100], sample.y_train[:100]
    plain = list(make_dataset(x, y, 32, shuffle=False, augment=False, seed=0))
    assert [len(labels) for _, labels in plain] == [32, 32, 32, 4]
    images, labels = plain[0]
    assert images.dtype == tf.float32 and images.shape == (32, 28, 28)
    np.testing.assert_allclose(images.numpy(), x[:32] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), y[:32])
    shuffled = np.concatenate(
        [labels for _, labels in make_dataset(x, y, 32, shuffle=True, augment=True, seed=0)]
    )
    assert sorted(shuffled.tolist()) == sorted(y.tolist()) and shuffled.tolist() != y.tolist()
