"""MNIST digits traced on the drawing pad: what the model is shown when a person draws there.

MNIST's strokes swell and thin along a digit and have a scanner's soft edges. What the app gives
the model is different: a digit drawn on the pad with a round pen of one width
(:mod:`digitpad.pad`), at whatever size the person drew it, converted by
:func:`digitpad.preprocessing.to_mnist`. :func:`trace` makes that out of a MNIST digit: the pen
follows the digit's skeleton on the pad, at a random size and place, with the pad's own renderer
(:func:`digitpad.pad.render`), and the result goes through the app's conversion. The trainer
adds such tracings of some training digits (``TrainConfig.traced``), so the model learns
shapes, not MNIST's pen.

The realistic evaluation set (``scripts/make_eval_set.py``) follows the same skeletons
(:func:`thin`), of *test* digits, with its own pen: widths from 3% to 22% of the digit, drawn
anti-aliased at twice the size, filled-in markers, canvases of every kind and photos.
"""

from __future__ import annotations

import numpy as np

SHAPE_LEVEL = 0.4  # ink of the 4x-upsampled digit, for its skeleton
MIN_HEIGHT, MAX_HEIGHT = 0.35, 0.9  # the digit's height on the pad, a fraction of its side
MARGIN = 0.05  # of the pad: the pen stays this far inside it
# A loop the writer filled in: a disk of this radius (4x px; 3 MNIST px) fits inside the ink. Its
# skeleton would be a line, another digit, so such digits are not traced.
BLOB_RADIUS = 12
FORWARD = ((0, 1), (1, -1), (1, 0), (1, 1))  # neighbours joined to a skeleton pixel, each once


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: (H, W) bool -> its one-pixel-wide, connected skeleton."""
    image = np.pad(mask.astype(np.uint8), 1)
    centre = image[1:-1, 1:-1]  # a view: removals update image
    while True:
        changed = False
        for step in (0, 1):
            p = image
            # Neighbours P2..P9, clockwise from north, of every interior pixel.
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                 p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(x.astype(np.int8) for x in n)
            transitions = sum((n[i] < n[(i + 1) % 8]).view(np.int8) for i in range(8))
            if step == 0:
                side = (n[0] & n[2] & n[4]) | (n[2] & n[4] & n[6])
            else:
                side = (n[0] & n[2] & n[6]) | (n[0] & n[4] & n[6])
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & (side == 0)
            if remove.any():
                centre[remove] = 0
                changed = True
        if not changed:
            return centre.astype(bool)


def digit_shape(digit: np.ndarray) -> np.ndarray:
    """A MNIST digit (28, 28) uint8 cropped to its ink and upsampled 4x: (H, W) float in [0, 1]."""
    from PIL import Image

    rows, cols = np.nonzero(digit)
    crop = digit[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    size = (crop.shape[1] * 4, crop.shape[0] * 4)
    return np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC)) / 255.0


def skeleton_strokes(shape: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """A digit's ink (H, W) bool -> its skeleton as pad strokes: one (2, 2) segment per pair of neighbouring skeleton
    pixels (a lone pixel: a (1, 2) dot), in the pad's [0, 1] coordinates, the digit
    MIN_HEIGHT-MAX_HEIGHT of the pad high (narrower if it would not fit), anywhere on it."""
    skeleton = thin(shape)
    height, width = skeleton.shape
    room = 1 - 2 * MARGIN
    scale = min(rng.uniform(MIN_HEIGHT, MAX_HEIGHT) / height, room / width)  # pad per pixel
    left = MARGIN + rng.uniform(0, room - width * scale)
    top = MARGIN + rng.uniform(0, room - height * scale)
    rows, cols = np.nonzero(skeleton)
    on = set(zip(rows.tolist(), cols.tolist()))

    def point(row: int, col: int) -> tuple[float, float]:
        return (left + (col + 0.5) * scale, top + (row + 0.5) * scale)

    strokes = []
    for row, col in on:
        ends = [(row + dr, col + dc) for dr, dc in FORWARD if (row + dr, col + dc) in on]
        strokes += [np.array([point(row, col), point(*end)]) for end in ends]
        if not ends:
            strokes.append(np.array([point(row, col)]))
    return strokes


def trace(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """A MNIST digit (28, 28) uint8 -> traced on the pad and converted: (28, 28) uint8, or None
    when it has a filled-in loop (see BLOB_RADIUS) or the conversion finds no digit in it."""
    from scipy import ndimage

    from digitpad import pad
    from digitpad.preprocessing import to_mnist

    shape = digit_shape(digit) > SHAPE_LEVEL
    if ndimage.distance_transform_edt(np.pad(shape, 1)).max() > BLOB_RADIUS:
        return None
    image = to_mnist(pad.render(skeleton_strokes(shape, rng))).image
    return None if image is None else np.rint(image * 255).astype(np.uint8)


def make_traced(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Tracings of ``count`` digits of ``x`` (uint8 (N, 28, 28), labels ``y``) picked at random
    without repeats (seeded): (count', 28, 28) uint8 and their labels, count' <= count (a digit
    with a filled-in loop, or whose tracing the conversion rejects, is left out)."""
    rng = np.random.default_rng([seed, 0x7ACE])
    picked = rng.choice(len(x), size=min(count, len(x)), replace=False)
    traced = [(trace(x[i], rng), y[i]) for i in picked]
    kept = [(image, label) for image, label in traced if image is not None]
    if not kept:
        return np.empty((0, *x.shape[1:]), np.uint8), np.empty(0, y.dtype)
    images, labels = zip(*kept)
    return np.stack(images), np.array(labels, y.dtype)
