"""digitpad.model and digitpad.augment: shapes, probabilities, save/reload, augmentation ranges."""

from __future__ import annotations

import numpy as np
import pytest

from digitpad.model import ARCHITECTURES, build_model


@pytest.fixture(scope="module")
def batch(sample_mnist_path):
    with np.load(sample_mnist_path) as npz:
        return npz["x_test"][:32].astype(np.float32) / 255.0


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_shapes_and_probabilities(arch, batch):
    model = build_model(arch)
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)
    probs = np.asarray(model(batch, training=False))
    assert probs.shape == (32, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_tutorial_layout_is_the_tutorials():
    model = build_model("tutorial")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[kinds.index("Conv2D"):] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout", "Dense"]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(32, (3, 3)), (64, (3, 3))]


def test_default_model_is_small_enough_to_ship():
    model = build_model("default")
    assert 200_000 < model.count_params() < 500_000  # ~1.3 MB of float32 weights: under the 2 MB cap
    assert any(type(layer).__name__ == "BatchNormalization" for layer in model.layers)


def test_normalisation_is_inside_the_model():
    model = build_model("default")
    rescale = model.get_layer("standardise")
    assert rescale.scale == pytest.approx(1 / 0.308108, rel=1e-4)


def test_save_and_reload_give_the_same_predictions(tmp_path, batch):
    import keras

    model = build_model("default")
    before = np.asarray(model(batch, training=False))
    path = tmp_path / "m.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(reloaded(batch, training=False)), before, atol=1e-6)


def test_augmentation_keeps_shape_range_and_varies(batch):
    import tensorflow as tf

    from digitpad.augment import AugmentConfig, augment_batch

    out = augment_batch(tf.constant(batch)).numpy()
    assert out.shape == batch.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert np.abs(out - batch).mean() > 0.01  # it changed something
    # ink is moved and reshaped, not lost: total ink within a broad band of the original
    ratio = out.sum(axis=(1, 2)) / batch.sum(axis=(1, 2))
    assert (ratio > 0.3).all() and (ratio < 3.0).all()
    none = AugmentConfig(rotation_degrees=0, scale=0, shear=0, shift_pixels=0, thick_probability=0, thin_probability=0)
    np.testing.assert_allclose(augment_batch(tf.constant(batch), none).numpy(), batch, atol=1e-5)


def test_augmentation_shift_moves_the_digit(batch):
    import tensorflow as tf

    from digitpad.augment import AugmentConfig, augment_batch

    tf.random.set_seed(0)
    shifted = augment_batch(tf.constant(batch), AugmentConfig(0, 0, 0, 4.0, 0, 0)).numpy()
    cols = np.arange(28)
    com = lambda b: (b.sum(axis=1) * cols).sum(axis=1) / b.sum(axis=(1, 2))
    moved = np.abs(com(shifted) - com(batch))
    assert moved.max() > 1.0 and moved.max() < 4.6
