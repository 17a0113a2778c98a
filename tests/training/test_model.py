"""digitpad.training.model: shapes, probabilities, save/reload, and the outlier-exposure loss and digit
accuracy it trains with."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.training.config import ARCHITECTURES
from digitpad.training.data import NOT_A_DIGIT
from digitpad.training.model import DigitAccuracy, build_model, outlier_exposure_loss


@pytest.fixture(scope="module")
def batch(sample):
    return sample.x_test[:32].astype(np.float32) / 255.0


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_shapes_and_probabilities(arch, batch):
    model = build_model(arch)
    assert model.input_shape == (None, 28, 28)
    assert model.output_shape == (None, 10)
    probs = np.asarray(model(batch, training=False))
    assert probs.shape == (32, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()


def test_an_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture 'resnet'"):
        build_model("resnet")


def test_tutorial_layout_is_the_tutorials():
    model = build_model("tutorial")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[kinds.index("Conv2D") :] == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
    ]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(32, (3, 3)), (64, (3, 3))]


def test_default_model_is_small_enough_to_ship():
    model = build_model("default")
    assert (
        200_000 < model.count_params() < 500_000
    )  # ~1.3 MB of float32 weights: under the 2 MB cap
    assert any(type(layer).__name__ == "BatchNormalization" for layer in model.layers)


def test_normalisation_is_inside_the_model():
    model = build_model("default")
    rescale = model.get_layer("standardise")
    assert rescale.scale == pytest.approx(1 / 0.308108, rel=1e-4)


def test_the_shipped_model_survives_a_save_and_reload_and_reads_mnist(tmp_path, sample):
    """The trained model, saved and opened again in safe mode, gives the same answers, and they
    are right on the real MNIST sample (an untrained model would round-trip just as well)."""
    import keras

    from digitpad.files import load_keras_model

    model = load_keras_model(DEFAULT_MODEL_PATH)
    images = sample.x_test[:300].astype(np.float32) / 255  # the model reads [0, 1]
    before = np.asarray(model(images, training=False))
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True, compile=False)
    after = np.asarray(reloaded(images, training=False))
    np.testing.assert_allclose(after, before, atol=1e-6)
    assert (after.argmax(axis=1) == sample.y_test[:300]).mean() >= 0.98


def loss_of(labels, probabilities, weight=0.5) -> np.ndarray:
    return np.asarray(
        outlier_exposure_loss(weight)(np.array(labels), np.array(probabilities, np.float32))
    )


def test_loss_is_cross_entropy_for_digits():
    p = np.array([[0.7, 0.1, 0.2] + [0.0] * 7, [0.05] * 8 + [0.3, 0.3]], np.float32)
    assert loss_of([0, 9], p) == pytest.approx([-math.log(0.7), -math.log(0.3)], rel=1e-5)
    assert loss_of([[2], [8]], p) == pytest.approx([-math.log(0.2), -math.log(0.3)], rel=1e-5), (
        "(B, 1) labels"
    )


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
