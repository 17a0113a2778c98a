"""The drawing pad's strokes: what the page sends, bounded and parsed, and drawn with its pen.

Why not Gradio's ``gr.Sketchpad``: for each stroke its frontend renders the background, the
layer and the composite to PNG and uploads them three times (and again on each loading-status
change), and it keeps the canvas redrawing at 60 fps for half a second after every pointer
event; without a GPU that is software WebGL with a read-back per frame, and stroke-to-label took
most of a second in headless Chromium on the development machine, the model's part a few ms
(docs/measurements.md, "In a browser"). It also starts with no tool selected, clears only once
with a separate button, and can draw its square off-centre on a slow first load.

This pad draws with the browser's 2-D canvas (no WebGL), and on each pen lift sends the strokes
themselves, a few hundred numbers, as the component's value: no image is encoded or uploaded. The
server renders them (:func:`render`) exactly as the page drew them, at ``RENDER_SIZE``, and the
usual conversion (digitpad.conversion.to_mnist) takes it from there. Stroke-to-label is then
the queue's round trip plus a few ms (``scripts/benchmark_browser.py`` measures it).

The value is JSON text (what ``gr.HTML`` carries, and what scripts send to ``/predict_sketch``)::

    {"strokes": [[[x, y], [x, y], ...], ...]}

one list of points per stroke, in the order drawn; ``x`` and ``y`` are fractions of the square
pad's side from its top-left corner (0..1), so the value does not depend on the size the pad is
shown at. ``""`` or no strokes is an empty pad. It comes from the client, so :func:`read_strokes`
bounds it (size, strokes, points, finite numbers) before anything else is done with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# MNIST's strokes are about 0.125 of the digit's long side (digitpad.conversion.MNIST_STROKE).
# A digit drawn over ~3/4 of the pad then wants a stroke of 0.094 of the pad: a pen of radius
# 0.047 pad. The conversion also evens out strokes much too thick or thin, so this is a
# comfortable default, not a requirement. The page and render() draw with the same pen.
PEN_RADIUS = 0.047  # of the pad's side
RENDER_SIZE = 280  # px, the side of the image render() makes (10x MNIST's 28)
PAD_SIZE = 360  # CSS px, the side the pad is shown at (less on a narrow phone screen)
INK, PAPER = 0, 255  # render(): black ink on white paper, as the page shows it
# What the model is shown (render_fitted): the strokes' box scaled to fill the field, less a
# margin, drawn with a pen FITTED_STROKE of the box's long side wide: MNIST's stroke-to-size ratio
# (digitpad.conversion.MNIST_STROKE; not imported: the conversion imports this module).
FITTED_STROKE = 0.125
FIT_MARGIN = 0.1  # of the field, each side
MIN_FIT_SIDE = 0.05  # of the pad: a mark smaller than this is drawn as if it were this large

# Limits on what a client may send. A digit drawn by hand is 1-5 strokes of a few dozen points
# each (the page drops points closer than MIN_STEP); these leave ample room.
MAX_VALUE_CHARS = 256 * 1024
MAX_STROKES = 64
MAX_POINTS = 16_384
MIN_STEP = 0.003  # of the pad's side: points closer than this to the last one are not sent
MARGIN = 0.05  # of the pad's side: a person's strokes stay this far inside it (simulated writers)


@dataclass(frozen=True, eq=False)
class Drawing:
    """A drawing on the pad: its strokes, each (N, 2) float64 in [0, 1], in the order drawn.

    Everything that reads images takes it (digitpad.images.as_image renders it with the pad's
    pen), and a saved digit keeps its strokes (digitpad.collection).
    """

    strokes: tuple[np.ndarray, ...]

    def render(self, size: int = RENDER_SIZE) -> np.ndarray:
        """(size, size) uint8, black ink on white paper, as the page shows it."""
        return render(self.strokes, size)

    def render_fitted(self, size: int = RENDER_SIZE) -> np.ndarray:
        """(size, size) uint8 for the model: fitted to the strokes' box, with a pen in proportion
        to them (:func:`render_fitted`). What digitpad.conversion.to_mnist converts."""
        return render_fitted(self.strokes, size)

    def as_lists(self) -> list[list[list[float]]]:
        """The strokes as JSON-ready lists, rounded as the page sends them."""
        return [np.round(stroke, 4).tolist() for stroke in self.strokes]


def read_drawing(value: object) -> Drawing | None:
    """The pad's value -> :class:`Drawing`, or None for an empty pad. Raises ValueError with a
    short reason for a value that is not a drawing (see :func:`read_strokes`)."""
    strokes = read_strokes(value)
    return Drawing(tuple(strokes)) if strokes else None


def read_strokes(value: object) -> list[np.ndarray]:
    """The pad's value (JSON text, or the parsed dict) -> strokes, each (N, 2) float64 in [0, 1].

    ``None``, ``""`` and ``{"strokes": []}`` give ``[]`` (an empty pad). Raises ValueError with
    a short reason for anything else that is not a bounded list of strokes of finite points.
    Coordinates a little off the pad (a pen lifted past its edge) are clipped to it.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise ValueError(f"the drawing is over {MAX_VALUE_CHARS:,} characters")
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested thousands deep
            raise ValueError("the drawing is not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("strokes"), (list, tuple)):
        raise ValueError('the drawing must be {"strokes": [[[x, y], ...], ...]}')
    strokes = value["strokes"]
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"the drawing has {len(strokes)} strokes; at most {MAX_STROKES}")
    points = 0
    out = []
    for stroke in strokes:
        if not isinstance(stroke, (list, tuple)) or not stroke:
            raise ValueError("the drawing's strokes must each be a non-empty list of [x, y] points")
        points += len(stroke)
        if points > MAX_POINTS:
            raise ValueError(f"the drawing has over {MAX_POINTS:,} points")
        if not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(_is_number(c) for c in p)
            for p in stroke
        ):
            raise ValueError("the drawing's points must each be [x, y], two numbers")
        array = np.asarray(stroke, dtype=np.float64)
        if not np.isfinite(array).all():
            raise ValueError("the drawing has a point that is not a finite number")
        out.append(np.clip(array, 0.0, 1.0))
    return out


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def render(strokes: Sequence[np.ndarray], size: int = RENDER_SIZE) -> np.ndarray:
    """Strokes (from :func:`read_strokes`) -> (size, size) uint8, black ink on white paper,
    drawn with round caps and joins as the page draws them."""
    pixels = [np.asarray(stroke, np.float64) * size for stroke in strokes]
    return _draw(pixels, PEN_RADIUS * size, size)


def render_fitted(strokes: Sequence[np.ndarray], size: int = RENDER_SIZE) -> np.ndarray:
    """Strokes -> (size, size) uint8, black ink on white paper, for the model: the strokes' own
    box scaled to fill the field, drawn with a pen in proportion to their size.

    The page's pen is one width whatever the digit's size, so a digit drawn small comes out with
    strokes far thicker than MNIST's, and its loops fill up (a small 8 reads as a blob). Drawn
    here with a pen FITTED_STROKE of the strokes' long side wide, a digit looks the same at any
    size. Marks smaller than MIN_FIT_SIDE of the pad are drawn as if they were that large, so a
    dot stays a dot rather than growing into a disc the size of a digit.
    """
    if not strokes:
        return _draw([], 0.0, size)
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)  # (x, y), pad fractions
    long_side = max(float(np.max(high - low)), MIN_FIT_SIDE)
    pen = FITTED_STROKE * long_side  # the pen's width, pad fractions
    scale = (1 - 2 * FIT_MARGIN) * size / (long_side + pen)  # px per pad fraction
    centre = (low + high) / 2
    pixels = [(np.asarray(s, np.float64) - centre) * scale + size / 2 for s in strokes]
    return _draw(pixels, pen * scale / 2, size)


def _draw(strokes: Sequence[np.ndarray], radius: float, size: int) -> np.ndarray:
    """Strokes in pixels -> (size, size) uint8, drawn with a round pen of ``radius`` px."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), PAPER)
    draw = ImageDraw.Draw(image)
    width = max(1, round(2 * radius))
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        # Each segment a wide line (one call draws them all, segment by segment), with a disc at
        # every point: round caps and joins, as the page's lineCap/lineJoin "round". (PIL's
        # joint="curve" leaves pinholes where many short segments meet at small angles, as a
        # hand-drawn stroke's do.)
        if len(points) > 1:
            draw.line(points, fill=INK, width=width)
        for x, y in points:  # PIL's box includes its last pixel: "- 1" makes it 2 * radius across
            draw.ellipse((x - radius, y - radius, x + radius - 1, y + radius - 1), fill=INK)
    return np.asarray(image)


def value_of(strokes: Iterable[Iterable[Sequence[float]]]) -> str:
    """Strokes (sequences of (x, y) in [0, 1]) -> the pad's value, as the page sends it."""
    return json.dumps(
        {"strokes": [[[round(float(x), 4), round(float(y), 4)] for x, y in s] for s in strokes]}
    )
