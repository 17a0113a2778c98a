"""The CNN architectures.

Both take what :func:`digitpad.conversion.to_mnist` produces, a batch of 28x28 float32 images
in [0, 1] with white ink on black, shape (B, 28, 28), and return probabilities for the ten
digits, shape (B, 10). Standardisation happens inside the model (a ``Rescaling`` layer with
MNIST's mean and standard deviation), so training and serving cannot disagree.

- ``default``: three convolution blocks with batch normalisation and dropout, strided 5x5
  convolutions instead of pooling (after C. Deotte's "How to choose CNN architecture MNIST",
  a single network of this shape reaches 99.6-99.7% with augmentation). ~330k parameters.
- ``tutorial``: the layout of most MNIST tutorials, kept to compare with the same code and data.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers, ops

from digitpad.conversion import IMAGE_SIZE
from digitpad.training.config import ARCHITECTURES
from digitpad.verdict import NUM_CLASSES

IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE)  # MNIST's field, as digitpad.conversion makes it
# MNIST training-set pixel statistics on the [0, 1] scale (mean 33.3184 / 255, std 78.5675 / 255).
MNIST_MEAN = 0.130660
MNIST_STD = 0.308108


def build_model(arch: str = "default") -> keras.Model:
    """A fresh, uncompiled model: (B, 28, 28) in [0, 1] -> (B, 10) probabilities."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Reshape((*IMAGE_SHAPE, 1))(inputs)  # (B, 28, 28, 1)
    x = layers.Rescaling(1.0 / MNIST_STD, offset=-MNIST_MEAN / MNIST_STD, name="standardise")(x)
    x = _default_body(x) if arch == "default" else _tutorial_body(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"digitpad_{arch}")


def _conv_bn(x: Any, filters: int, kernel: int, strides: int = 1, padding: str = "valid") -> Any:
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def _default_body(x: Any) -> Any:
    x = _conv_bn(x, 32, 3)  # (B, 26, 26, 32)
    x = _conv_bn(x, 32, 3)  # (B, 24, 24, 32)
    x = _conv_bn(x, 32, 5, strides=2, padding="same")  # (B, 12, 12, 32): learned pooling
    x = layers.Dropout(0.4)(x)
    x = _conv_bn(x, 64, 3)  # (B, 10, 10, 64)
    x = _conv_bn(x, 64, 3)  # (B, 8, 8, 64)
    x = _conv_bn(x, 64, 5, strides=2, padding="same")  # (B, 4, 4, 64)
    x = layers.Dropout(0.4)(x)
    x = _conv_bn(x, 128, 4)  # (B, 1, 1, 128)
    x = layers.Flatten()(x)
    return layers.Dropout(0.4)(x)


def _tutorial_body(x: Any) -> Any:
    x = layers.Conv2D(32, 3, activation="relu")(x)  # (B, 26, 26, 32)
    x = layers.MaxPooling2D()(x)  # (B, 13, 13, 32)
    x = layers.Conv2D(64, 3, activation="relu")(x)  # (B, 11, 11, 64)
    x = layers.MaxPooling2D()(x)  # (B, 5, 5, 64)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    return layers.Dropout(0.5)(x)


def outlier_exposure_loss(outlier_weight: float) -> Any:
    """Cross-entropy for digits; for a non-digit (label ``NOT_A_DIGIT``), ``outlier_weight``
    times the KL divergence from the uniform distribution to the prediction.

    The second term is outlier exposure's (Hendrycks et al., ICLR 2019; their weight is 0.5):
    it pulls a non-digit's probabilities towards 1/10 each, so the "sure" rule says "not sure".
    It is zero at the uniform distribution (the cross-entropy to it minus log 10), so the loss
    reads as plain cross-entropy on digits. With no non-digit in a batch it *is* that.
    """

    def loss(y_true: Any, y_pred: Any) -> Any:  # (B,) or (B, 1) int labels, (B, 10) probabilities
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        is_digit = labels >= 0
        log_p = ops.log(ops.clip(y_pred, 1e-7, 1.0))
        digit_term = -ops.take_along_axis(log_p, ops.maximum(labels, 0)[:, None], axis=1)[:, 0]
        flat_term = -ops.mean(log_p, axis=1) - math.log(NUM_CLASSES)
        return ops.where(is_digit, digit_term, outlier_weight * flat_term)

    loss.__name__ = "outlier_exposure_loss"
    return loss


class DigitAccuracy(keras.metrics.Metric):
    """Accuracy over the digits of each batch; non-digits (``NOT_A_DIGIT``) are not counted."""

    def __init__(self, name: str = "accuracy", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.right = self.add_variable(shape=(), initializer="zeros", name="right")
        self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        is_digit = ops.cast(labels >= 0, "float32")
        hit = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), labels), "float32") * is_digit
        self.right.assign_add(ops.sum(hit))
        self.seen.assign_add(ops.sum(is_digit))

    def result(self) -> Any:
        return self.right / ops.maximum(self.seen, 1.0)

    def reset_state(self) -> None:
        self.right.assign(0.0)
        self.seen.assign(0.0)


def compile_model(
    model: keras.Model, learning_rate: float | Any, outlier_weight: float
) -> keras.Model:
    """Adam; cross-entropy on digits plus outlier exposure on non-digits
    (:func:`outlier_exposure_loss`); accuracy on the digits."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=outlier_exposure_loss(outlier_weight),
        metrics=[DigitAccuracy()],
    )
    return model
