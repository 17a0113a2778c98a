"""Training-time augmentation built for how people draw.

People's digits, even after :func:`digitpad.conversion.to_mnist`, differ from MNIST's in
slant, proportions, position and pen width. Each training batch gets, per image:

- a random affine transform: rotation, anisotropic scale, shear and a small shift;
- a random stroke thickness: a blend towards a 3x3 grey dilation (thick marker) or, more
  gently, erosion (thin pen), or neither.

Runs as TensorFlow ops inside the ``tf.data`` pipeline that :func:`make_dataset` builds (the
batches the trainer and the fine-tune fit on), so it costs little next to the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from keras import ops


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transforms (uniform in [-x, x] unless said otherwise)."""

    rotation_degrees: float = 12.0
    scale: float = 0.12  # each axis scaled by 1 + U(-scale, scale)
    shear: float = 0.2  # horizontal shear, as in slanted handwriting
    shift_pixels: float = 2.5
    thick_probability: float = 0.25
    thin_probability: float = 0.25
    max_thinning: float = 0.6  # full erosion would erase MNIST's thinnest 1-2 px strokes


def augment_batch(images: tf.Tensor, config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """(B, 28, 28) float32 in [0, 1] -> the same shape, randomly transformed."""
    images = images[..., None]  # (B, 28, 28, 1)
    batch = tf.shape(images)[0]
    transforms = _random_affine(batch, tf.cast(tf.shape(images)[1], tf.float32), config)
    images = ops.image.affine_transform(
        images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=0.0
    )
    images = _random_thickness(images, config)
    return tf.clip_by_value(images[..., 0], 0.0, 1.0)


def _random_affine(batch: tf.Tensor, size: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """(B, 8) projective transforms mapping output pixels to input pixels, about the centre."""

    def uniform(limit: float) -> tf.Tensor:
        return tf.random.uniform([batch], -limit, limit)

    angle = uniform(math.radians(config.rotation_degrees))
    scale_x = 1.0 + uniform(config.scale)
    scale_y = 1.0 + uniform(config.scale)
    shear = uniform(config.shear)
    shift_x, shift_y = uniform(config.shift_pixels), uniform(config.shift_pixels)
    # Forward map (input -> output) is A = R(angle) @ Shear @ diag(sx, sy); the op wants the
    # inverse: in = A^-1 (out - c - t) + c.  A^-1 = diag(1/sx, 1/sy) @ Shear^-1 @ R(-angle).
    cos, sin = tf.cos(angle), tf.sin(angle)
    # R(-angle) = [[cos, sin], [-sin, cos]]; Shear^-1 = [[1, -shear], [0, 1]]
    m00 = cos + shear * sin
    m01 = sin - shear * cos
    m10 = -sin
    m11 = cos
    a0, a1 = m00 / scale_x, m01 / scale_x
    b0, b1 = m10 / scale_y, m11 / scale_y
    centre = (size - 1.0) / 2.0
    ox, oy = centre + shift_x, centre + shift_y  # where the centre goes in the output
    a2 = centre - a0 * ox - a1 * oy
    b2 = centre - b0 * ox - b1 * oy
    zeros = tf.zeros([batch])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def _random_thickness(images: tf.Tensor, config: AugmentConfig) -> tf.Tensor:
    """Blend each image towards its grey dilation or erosion by a random amount."""
    batch = tf.shape(images)[0]
    dilated = tf.nn.max_pool2d(images, ksize=3, strides=1, padding="SAME")
    eroded = -tf.nn.max_pool2d(-images, ksize=3, strides=1, padding="SAME")
    draw = tf.random.uniform([batch, 1, 1, 1])
    amount = tf.random.uniform([batch, 1, 1, 1], 0.3, 1.0)
    thick = tf.cast(draw < config.thick_probability, tf.float32) * amount
    thin_band = (draw >= config.thick_probability) & (
        draw < config.thick_probability + config.thin_probability
    )
    thin = tf.cast(thin_band, tf.float32) * amount * config.max_thinning
    return images + thick * (dilated - images) + thin * (eroded - images)


def make_dataset(
    x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool, augment: bool, seed: int
) -> tf.data.Dataset:
    """uint8 (N, 28, 28) images and (N,) labels -> float32 [0, 1] batches, augmented if asked."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def to_unit(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.cast(images, tf.float32) / 255.0
        return (augment_batch(images) if augment else images), labels

    return ds.map(to_unit, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
