"""Drawings that are no digit, for training the model to say "not sure" about them.

A model trained on MNIST alone has only ever seen digits: given a random scribble it still puts
all its probability on some digit, and most random scribbles drawn on the pad got a "sure"
answer (docs/measurements.md, "Drawings that are no digit"). The "sure" rule
(:func:`digitpad.verdict.is_sure`) cannot catch an input the model is
confident about. Outlier exposure (Hendrycks, Mazeika and Dietterich, "Deep anomaly detection
with outlier exposure", ICLR 2019) fixes it in training: add images that are no digit, and train
the model to spread its probability evenly over the ten digits for them
(:func:`digitpad.training.model.outlier_exposure_loss`). The model keeps its ten outputs, and the app, the
CLI and the "sure" rule stay as they are.

Each non-digit is made the way the app makes what the model sees: strokes in the pad's unit
square, drawn with the pad's pen (:func:`digitpad.strokes.render`) and converted by
:func:`digitpad.conversion.to_mnist`. Families:

- ``scribbles``: 3-14 straight strokes of 2-5 random points each (also what
  ``scripts/benchmark_conversion.py --scribbles-only`` measures, on its own seeds);
- ``hatching``: parallel lines, or two sets of them crossed into a grid;
- ``shapes``: triangles, quadrilaterals and stars, sometimes one inside another;
- ``letters``: capital letters that look like no digit (A E F H K M N R V W X Y), with a
  hand's jitter. **Never trained on**: :data:`TRAIN_FAMILIES` leaves them out, so the report's
  figure for them measures whether the model learned "no digit" or only the families it saw.

Shapes that people draw *as* digits, or that come out like one at 28x28, are left out on
purpose: no circles, ellipses or polygons of five sides or more (0), no smooth wandering curves
(tried: many came out as a 2, 6 or 9), no single lines (1), no T (7), no S, Z, O, I, B, G, L or C.
"""

from __future__ import annotations

import math
import time

import numpy as np

from digitpad import strokes
from digitpad.conversion import to_mnist
from digitpad.strokes import MARGIN
from digitpad.training.data import NOT_A_DIGIT

FAMILIES = ("scribbles", "hatching", "shapes", "letters")
TRAIN_FAMILIES = ("scribbles", "hatching", "shapes")  # letters are held out

# Capital letters as strokes in a unit box (x right, y down), none of them like a digit.
LETTERS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.75, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.48), (0.75, 0.48)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(0.95, 0), (0, 0.58)], [(0.3, 0.4), (1, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "R": [
        [(0, 1), (0, 0), (0.7, 0), (0.95, 0.13), (0.95, 0.37), (0.7, 0.5), (0, 0.5)],
        [(0.45, 0.5), (1, 1)],
    ],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "Y": [[(0, 0), (0.5, 0.5), (1, 0)], [(0.5, 0.5), (0.5, 1)]],
}

Strokes = list  # of (N, 2) float arrays in [0, 1], as digitpad.strokes.read_strokes returns


def scribble(rng: np.random.Generator) -> Strokes:
    """3-14 straight strokes of 2-5 points each, anywhere on the pad."""
    return [
        rng.uniform(MARGIN, 1 - MARGIN, size=(rng.integers(2, 6), 2))
        for _ in range(rng.integers(3, 15))
    ]


def hatching(rng: np.random.Generator) -> Strokes:
    """4-9 parallel lines across a random box; half the time a second set crosses them."""
    strokes = []
    angles = [rng.uniform(0, math.pi)] + ([rng.uniform(0, math.pi)] if rng.random() < 0.5 else [])
    for angle in angles:
        count = int(rng.integers(4, 10))
        direction = np.array([math.cos(angle), math.sin(angle)])
        across = np.array([-direction[1], direction[0]])
        length = rng.uniform(0.4, 0.9)
        offsets = np.linspace(-0.5, 0.5, count) * rng.uniform(0.35, 0.8)
        for offset in offsets:
            middle = 0.5 + offset * across + rng.normal(0, 0.02, 2)
            half = 0.5 * length * rng.uniform(0.8, 1.0) * direction
            strokes.append(_wobble(np.array([middle - half, middle + half]), rng))
    return [np.clip(s, MARGIN, 1 - MARGIN) for s in strokes]


def shape(rng: np.random.Generator) -> Strokes:
    """A triangle, a quadrilateral or a star (5-7 points), now and then with a second one inside."""
    strokes = []
    for scale in [1.0] + ([rng.uniform(0.35, 0.6)] if rng.random() < 0.3 else []):
        star = rng.random() < 0.4
        corners = int(rng.integers(5, 8)) if star else int(rng.integers(3, 5))
        angles = rng.uniform(0, 2 * math.pi) + np.arange(corners * (2 if star else 1)) * (
            math.pi / corners if star else 2 * math.pi / corners
        )
        radii = (
            np.where(np.arange(len(angles)) % 2 == 1, rng.uniform(0.35, 0.55), 1.0)
            if star
            else np.ones(len(angles))
        )
        outline = np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)
        outline = np.concatenate([outline, outline[:1]])  # closed
        strokes.append(_wobble(outline * scale, rng))
    return _place(strokes, rng)


def letter(rng: np.random.Generator, name: str | None = None) -> Strokes:
    """One of :data:`LETTERS` (or ``name``), drawn with a hand's slant, proportions and jitter."""
    name = name or str(rng.choice(sorted(LETTERS)))
    strokes = [_wobble(np.asarray(stroke, float) - 0.5, rng) for stroke in LETTERS[name]]
    return _place(strokes, rng)


MAKERS = {"scribbles": scribble, "hatching": hatching, "shapes": shape, "letters": letter}


def add_outliers(
    x: np.ndarray, y: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Append ``count`` training non-digits (:func:`make_outliers`, seeded) to images ``x`` and
    labels ``y``, labelled ``NOT_A_DIGIT``; the labels become int32."""
    started = time.perf_counter()
    x_out = make_outliers(count, seed)
    print(
        f"not digits: {count} drawings ({', '.join(TRAIN_FAMILIES)}) added to the training split, "
        f"made in {time.perf_counter() - started:.0f} s"
    )
    labels = np.concatenate([y.astype(np.int32), np.full(count, NOT_A_DIGIT, np.int32)])
    return np.concatenate([x, x_out]), labels


def make_outliers(
    count: int, seed: int, families: tuple[str, ...] = TRAIN_FAMILIES, *, held_out: bool = False
) -> np.ndarray:
    """``count`` non-digits in MNIST's format, (count, 28, 28) uint8, white ink on black, drawn
    from ``families`` in turn (seeded). A drawing the conversion finds no digit in is replaced.

    ``held_out=True`` draws from a separate random stream, for measuring: whatever the training
    seed, those drawings are not the ones trained on.
    """
    unknown = set(families) - set(MAKERS)
    if unknown or not families:
        raise ValueError(f"unknown outlier families {sorted(unknown)}; choose from {FAMILIES}")
    rng = np.random.default_rng([seed, 0x0D16, int(held_out)])  # not the benchmark's streams
    images = np.empty((count, 28, 28), np.uint8)
    made = 0
    while made < count:
        image = to_mnist(strokes.render(MAKERS[families[made % len(families)]](rng))).image
        if image is not None:
            images[made] = np.rint(image * 255)
            made += 1
    return images


def _place(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """Strokes drawn about (0, 0) in a unit-ish box -> slanted, stretched and put on the pad."""
    angle = math.radians(rng.uniform(-15, 15))
    shear = rng.uniform(-0.25, 0.25)
    size = rng.uniform(0.35, 0.8)
    aspect = math.exp(rng.uniform(-0.3, 0.3))
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = matrix @ np.array([[1, shear], [0, 1]]) @ np.diag([size * aspect, size / aspect])
    points = np.concatenate(strokes) @ matrix.T
    span = points.max(axis=0) - points.min(axis=0)
    fit = min(1.0, (1 - 2 * MARGIN) / max(float(span.max()), 1e-6))
    low = MARGIN - points.min(axis=0) * fit
    high = 1 - MARGIN - points.max(axis=0) * fit
    centre = rng.uniform(np.minimum(low, high), np.maximum(low, high))
    return [np.clip(stroke @ matrix.T * fit + centre, 0, 1) for stroke in strokes]


def _wobble(
    stroke: np.ndarray, rng: np.random.Generator, pieces: int = 6, jitter: float = 0.015
) -> np.ndarray:
    """Each straight segment as ``pieces`` points with a little noise, as a hand draws a line."""
    stroke = stroke + rng.normal(0, 2 * jitter, stroke.shape)  # corners a little off
    t = np.linspace(0, 1, pieces, endpoint=False)[:, None]
    points = [start + t * (end - start) for start, end in zip(stroke[:-1], stroke[1:])]
    points = np.concatenate(points + [stroke[-1:]])
    return points + rng.normal(0, jitter / 3, points.shape)
