"""The digit styles MNIST lacks, drawn on the pad: what people who are not 1990s Americans write.

MNIST's writers were American students and Census Bureau staff. Elsewhere people write the same
digits differently, and the model, shown MNIST alone, reads some of them as other digits: a
slashed zero as an 8, a continental 1 as a 7. This module draws those styles the way the app
sees every drawing: strokes on the pad, drawn with its pen (:func:`digitpad.strokes.render`) and
converted by :func:`digitpad.conversion.to_mnist`, so that training and serving cannot
disagree (as digitpad/training/outliers.py does for drawings that are no digit).

Each styled digit is built from a real MNIST digit, so it keeps that writer's hand (slant,
proportions, wobble): the digit's skeleton (:func:`skeleton_of`) is traced with the pad's pen, and
a style edits it, adding the strokes that make the style (a slash, a flag, a crossbar) and
removing what the style leaves out (a closed loop, a round top). The trainer builds styles from
training digits (:func:`make_styled`); the evaluation builds them from MNIST's *test* digits
only, from another random stream (``held_out=True``), so it measures digits never trained on.

The styles (:data:`STYLES`), after the conventions taught in schools and seen in handwriting
around the world:

- ``0``: slashed (Scandinavia, Germany, engineers and programmers: a zero is not an O), with a
  dot inside (the same purpose), drawn in two strokes with a gap or an overshoot at the top;
- ``1``: the continental 1 with a long lead-in flag (most of Europe and Latin America, whose
  writers cross their 7s), the same with a base serif (the typewriter 1, common in Britain, India
  and East Asia);
- ``2``: with a loop where the diagonal meets the base (France, Italy, Latin America);
- ``3``: with a flat top, like a Z over a bowl (German and Eastern European hands);
- ``4``: open at the top (most of the world) and closed as a triangle (printed, and British);
- ``5``: with the top bar drawn apart (the second stroke, lifted and placed again), or as a flag
  rising to the right;
- ``6``: closed, and with the loop left open;
- ``7``: crossed (continental Europe, Latin America), with a curved stem;
- ``9``: with a straight tail, a curved tail (like a hook, common in Europe and India), closed,
  and with the loop left open.

Where a style is one stroke away from another digit (a flagged 1 and a 7 without its cross), the
model learns what the strokes show; where they show nothing more, it sees both digits in the
same shape and learns to say "not sure: 1 or 7?" instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from digitpad import strokes
from digitpad.conversion import to_mnist
from digitpad.strokes import MARGIN

SHAPE_LEVEL = 0.4  # ink of the 4x-upsampled digit, for its skeleton
# A loop the writer filled in: a disk of this radius (4x px; 3 MNIST px) fits inside the ink. Its
# skeleton would be a line, another digit, so such digits are not traced.
BLOB_RADIUS = 12
MIN_HEIGHT, MAX_HEIGHT = 0.35, 0.85  # the digit's height on the pad, a fraction of its side
FORWARD = ((0, 1), (1, -1), (1, 0), (1, 1))  # neighbours joined to a skeleton pixel, each once

Polyline = np.ndarray  # (N, 2) float (row, col) in the 4x digit's pixels


@dataclass(frozen=True)
class Skeleton:
    """A MNIST digit at 4x, as a pen would follow it."""

    pixels: np.ndarray  # (H, W) bool, one pixel wide
    ink: np.ndarray  # (H, W) bool, the digit's ink

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    def points(self) -> np.ndarray:
        """(N, 2) int (row, col) of the skeleton's pixels."""
        return np.argwhere(self.pixels)

    def hole(self) -> tuple[int, int, int, int] | None:
        """The bounding box (top, bottom, left, right; inclusive) of the largest region of paper
        the ink encloses (a 6's, a 9's or a closed 4's loop), or None when nothing is enclosed."""
        paper, count = ndimage.label(~np.pad(self.ink, 1))
        sizes = np.bincount(paper.ravel())
        sizes[paper[0, 0]] = 0  # the outside
        sizes[0] = 0
        if count < 2 or sizes.max() < 20:
            return None
        rows, cols = np.nonzero(paper == int(np.argmax(sizes)))
        return rows.min() - 1, rows.max() - 1, cols.min() - 1, cols.max() - 1


@dataclass(frozen=True)
class Styled:
    """A style applied to a skeleton: the skeleton pixels kept, and the strokes it adds."""

    kept: np.ndarray  # (H, W) bool
    added: list[Polyline]


# --- the skeleton --------------------------------------------------------------------------------


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
                 p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]  # fmt: skip
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
    rows, cols = np.nonzero(digit)
    crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    size = (crop.shape[1] * 4, crop.shape[0] * 4)
    return np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC)) / 255.0


def skeleton_of(digit: np.ndarray) -> Skeleton | None:
    """A MNIST digit (28, 28) uint8 -> its :class:`Skeleton`, or None for a digit with a loop
    filled in (its skeleton would be another digit) or no ink."""
    if not digit.any():
        return None
    ink = digit_shape(digit) > SHAPE_LEVEL
    if not ink.any() or ndimage.distance_transform_edt(np.pad(ink, 1)).max() > BLOB_RADIUS:
        return None
    return Skeleton(thin(ink), ink)


# --- geometry helpers ----------------------------------------------------------------------------


def band(sk: Skeleton, top: float, bottom: float) -> np.ndarray:
    """The skeleton's points whose row lies between these fractions of its height."""
    points = sk.points()
    rows = points[:, 0] / max(sk.height - 1, 1)
    return points[(rows >= top) & (rows <= bottom)]


def line(start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> Polyline:
    """A straight stroke from ``start`` to ``end`` (row, col), as points."""
    t = np.linspace(0, 1, steps)[:, None]
    return np.asarray(start, float) + t * (np.asarray(end, float) - np.asarray(start, float))


def curve(
    start: Sequence[float], control: Sequence[float], end: Sequence[float], steps: int = 12
) -> Polyline:
    """A quadratic Bezier stroke from ``start`` to ``end`` pulled towards ``control``."""
    t = np.linspace(0, 1, steps)[:, None]
    p0, p1, p2 = (np.asarray(p, float) for p in (start, control, end))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def circle(
    centre: tuple[float, float],
    radius: float,
    start: float = 0.0,
    turn: float = 1.0,
    steps: int = 16,
) -> Polyline:
    """A round stroke about ``centre``: ``turn`` of a full circle from angle ``start``."""
    angles = start + np.linspace(0, 2 * math.pi * turn, steps)
    return np.stack([centre[0] - radius * np.sin(angles), centre[1] + radius * np.cos(angles)], 1)


def erase(kept: np.ndarray, centre: tuple[float, float], radius: float) -> np.ndarray:
    """``kept`` without the pixels within ``radius`` of ``centre``."""
    rows, cols = np.ogrid[: kept.shape[0], : kept.shape[1]]
    return kept & (np.hypot(rows - centre[0], cols - centre[1]) > radius)


def top_point(sk: Skeleton) -> np.ndarray:
    """(row, col) of the skeleton's top: the mean of its highest pixels."""
    points = sk.points()
    return points[points[:, 0] <= points[:, 0].min() + 2].mean(axis=0)


def bottom_point(sk: Skeleton) -> np.ndarray:
    points = sk.points()
    return points[points[:, 0] >= points[:, 0].max() - 2].mean(axis=0)


# --- the styles ----------------------------------------------------------------------------------

Style = Callable[[Skeleton, np.random.Generator], "Styled | None"]


def as_traced(sk: Skeleton, rng: np.random.Generator) -> Styled:
    """The digit as its writer drew it, traced with the pad's pen."""
    return Styled(sk.pixels, [])


def with_hole(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A digit whose loop is closed (a 6, a 9, a triangle 4), as drawn; None if it is open."""
    return Styled(sk.pixels, []) if sk.hole() else None


def without_hole(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A digit whose loop is open: as drawn when it is, else with its loop cut where it closes
    (at the top of a 4's triangle)."""
    hole = sk.hole()
    if hole is None:
        return Styled(sk.pixels, [])
    top, _, left, right = hole
    return Styled(erase(sk.pixels, (top - 2, (left + right) / 2), 0.1 * sk.height), [])


def open_loop(where: str) -> Style:
    """A 6 or 9 whose loop is left open: cut at the hole's upper left (a 6, where the bowl comes
    back to the stem) or lower right (a 9, where the loop comes back to the stem)."""

    def style(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
        hole = sk.hole()
        if hole is None:
            return None
        top, bottom, left, right = hole
        row, col = (
            (top, left + 0.25 * (right - left))
            if where == "upper left"
            else (bottom, right - 0.25 * (right - left))
        )
        radius = rng.uniform(0.07, 0.12) * sk.height
        return Styled(erase(sk.pixels, (row, col), radius), [])

    style.__doc__ = f"A loop left open at its {where}."
    return style


def slashed_zero(sk: Skeleton, rng: np.random.Generator) -> Styled:
    """A slash through the zero from its lower left to its upper right, steep, inside the oval
    or past it (Ø)."""
    h, w = sk.height, sk.width
    centre = ((h - 1) / 2 + rng.normal(0, 0.03 * h), (w - 1) / 2 + rng.normal(0, 0.05 * w))
    angle = math.radians(rng.uniform(50, 80))  # above the horizontal
    half = 0.5 * h * (1 + rng.uniform(-0.15, 0.3)) / math.sin(angle)
    offset = np.array([-math.sin(angle), math.cos(angle)]) * half
    return Styled(sk.pixels, [line(np.add(centre, -offset), np.add(centre, offset))])


def dotted_zero(sk: Skeleton, rng: np.random.Generator) -> Styled:
    """A dot in the middle of the zero."""
    h, w = sk.height, sk.width
    dot = ((h - 1) / 2 + rng.normal(0, 0.04 * h), (w - 1) / 2 + rng.normal(0, 0.06 * w))
    return Styled(sk.pixels, [np.array([dot, dot]) + rng.normal(0, 0.01 * h, (2, 2))])


def two_stroke_zero(sk: Skeleton, rng: np.random.Generator) -> Styled:
    """A zero drawn in two strokes, or one that does not quite meet itself: a gap at the top,
    bridged half the time by an end that overshoots the start."""
    h, w = sk.height, sk.width
    row, col = top_point(sk)
    gap = rng.uniform(0.05, 0.13) * w
    kept = erase(sk.pixels, (row, col), gap)
    if rng.random() < 0.5:
        return Styled(kept, [])
    reach = rng.uniform(0.1, 0.25) * w
    start = (row + rng.uniform(0.3, 1.0) * gap, col - gap * 1.1)
    end = (row + rng.uniform(-0.05, 0.05) * h, col + gap + reach)
    return Styled(kept, [curve(start, (row - 0.03 * h, col), end)])


def flagged_one(serif: bool) -> Style:
    """The continental 1: a long lead-in flag from the top, down to the left; with ``serif``, a
    base as well."""

    def style(sk: Skeleton, rng: np.random.Generator) -> Styled:
        h = sk.height
        row, col = top_point(sk)
        # The flag rises at 25-60 degrees: flatter and longer, it is a 7's bar.
        length, angle = rng.uniform(0.2, 0.45) * h, math.radians(rng.uniform(25, 60))
        added = [line((row + length * math.sin(angle), col - length * math.cos(angle)), (row, col))]
        if serif:
            base_row, base_col = bottom_point(sk)
            half = rng.uniform(0.14, 0.3) * h
            shift = rng.uniform(-0.3, 0.3) * half
            added.append(
                line((base_row, base_col - half + shift), (base_row, base_col + half + shift))
            )
        return Styled(sk.pixels, added)

    style.__doc__ = "A flagged 1" + (" with a base serif." if serif else ".")
    return style


def closed_four(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A 4 closed as a triangle: as drawn when it is; else its left arm above the bar is redrawn
    as a diagonal from the stem's top down to the bar's left end."""
    if sk.hole():
        return Styled(sk.pixels, [])
    h, w = sk.height, sk.width
    upper, middle = band(sk, 0.0, 0.2), band(sk, 0.4, 0.85)
    if len(upper) == 0 or len(middle) == 0:
        return None
    stem = upper[np.argmax(upper[:, 1])]
    bar = middle[np.argmin(middle[:, 1])]
    if stem[1] - bar[1] < 0.3 * w:
        return None
    rows, cols = np.ogrid[:h, :w]
    kept = sk.pixels & ~((rows < bar[0] - 0.05 * h) & (cols < stem[1] - 0.15 * w))
    return Styled(kept, [line(tuple(stem), tuple(bar))])


def looped_two(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A small loop where the diagonal meets the base, at the lower left."""
    low = band(sk, 0.6, 1.0)
    if len(low) == 0:
        return None
    corner = low[np.argmax(low[:, 0] / sk.height - low[:, 1] / sk.width)]
    radius = rng.uniform(0.06, 0.12) * sk.height
    centre = (corner[0] - 0.9 * radius, corner[1] + rng.uniform(-0.2, 0.5) * radius)
    return Styled(sk.pixels, [circle(centre, radius, start=-math.pi / 2, turn=1.05)])


def flat_three(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A flat top and a diagonal down to the middle, over the lower bowl (like a Z over a 3)."""
    h, w = sk.height, sk.width
    cut = rng.uniform(0.42, 0.5)
    upper, middle = band(sk, 0.0, 0.3), band(sk, cut, cut + 0.15)
    if len(middle) == 0 or len(upper) == 0:
        return None
    mid = middle[np.argmin(middle[:, 1])]  # the cusp, on the left
    kept = sk.pixels.copy()
    kept[: int(cut * h)] = False
    bowl = np.argwhere(kept)
    if len(bowl) == 0 or np.ptp(bowl[:, 1]) < 0.5 * w or np.ptp(bowl[:, 0]) < 0.3 * h:
        return None  # too little of a lower bowl: it would read as a 7
    left = upper[:, 1].min() + rng.uniform(-0.05, 0.1) * w
    right = max(upper[:, 1].max(), mid[1] + 0.45 * w)
    top = rng.uniform(0.0, 0.04) * h
    end = (top + rng.normal(0, 0.02 * h), right)
    return Styled(kept, [line((top, left), end), line(end, tuple(mid))])


def parted_five(flag: bool) -> Style:
    """A 5 whose top bar is a second stroke: drawn apart (lifted and placed again), or, with
    ``flag``, rising to the right from the stem's top."""

    def style(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
        h, w = sk.height, sk.width
        top = band(sk, 0.0, 0.22)
        if len(top) < 4:
            return None
        stem = top[top[:, 1] <= top[:, 1].min() + 0.15 * w].mean(axis=0)
        bar = top[top[:, 1] > stem[1] + 0.15 * w]
        if len(bar) == 0:
            return None
        kept = sk.pixels.copy()
        rows, cols = np.ogrid[:h, :w]
        kept &= ~((rows < 0.22 * h) & (cols > stem[1] + 0.12 * w))
        right = bar[:, 1].max()
        if flag:
            rise = rng.uniform(0.05, 0.15) * h
            added = curve(
                tuple(stem), (stem[0] - 0.5 * rise, stem[1] + 0.3 * w), (stem[0] - rise, right)
            )
        else:
            row = bar[:, 0].mean() - rng.uniform(0.02, 0.1) * h
            gap = rng.uniform(0.02, 0.15) * w
            added = line((row, stem[1] + gap), (row + rng.normal(0, 0.03 * h), right + 0.05 * w))
        return Styled(kept, [added])

    style.__doc__ = "A 5 with its bar " + ("as a rising flag." if flag else "drawn apart.")
    return style


def crossed_seven(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A bar across the stem, a little below the middle (the continental 7)."""
    h = sk.height
    middle = band(sk, 0.45, 0.65)
    if len(middle) == 0:
        return None
    row, col = middle.mean(axis=0)
    half, tilt = rng.uniform(0.12, 0.28) * h, rng.normal(0, 0.03 * h)
    shift = rng.uniform(-0.3, 0.3) * half
    return Styled(
        sk.pixels, [line((row + tilt, col - half + shift), (row - tilt, col + half + shift))]
    )


def curved_seven(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """The stem drawn as a curve: straight down from the bar's end, sweeping left at the foot."""
    h, w = sk.height, sk.width
    top = band(sk, 0.0, 0.25)
    if len(top) == 0:
        return None
    joint = top[np.argmax(top[:, 1])]
    if joint[1] - top[:, 1].min() < 0.45 * w:
        return None  # too short a bar: with a curved stem it would be a 1 with a flag
    kept = sk.pixels.copy()
    kept[int(joint[0] + 0.1 * h) :] = False
    foot = (h - 1, joint[1] - rng.uniform(0.3, 0.6) * w)
    bend = (
        joint[0] + rng.uniform(0.5, 0.8) * (h - joint[0]),
        joint[1] + rng.uniform(-0.05, 0.1) * w,
    )
    return Styled(kept, [curve(tuple(joint), bend, foot)])


def hooked_nine(sk: Skeleton, rng: np.random.Generator) -> Styled | None:
    """A 9 whose tail curves to the left at the foot, like a hook."""
    h, w = sk.height, sk.width
    hole = sk.hole()
    if hole is None or hole[1] > 0.7 * h:
        return None
    below = sk.points()
    below = below[(below[:, 0] >= hole[1]) & (below[:, 0] <= hole[1] + 0.12 * h)]
    if len(below) == 0:
        return None
    start = below[np.argmax(below[:, 1])]
    kept = sk.pixels.copy()
    kept[int(start[0] + 0.02 * h) :] = False
    foot = (h - 1 - rng.uniform(0, 0.05) * h, start[1] - rng.uniform(0.25, 0.55) * w)
    bend = (h - 1, start[1] + rng.uniform(-0.05, 0.1) * w)
    return Styled(kept, [curve(tuple(start), bend, foot)])


# (style name, digit, how it is drawn). A style that does not apply to a digit (an open loop
# asked of a digit without one) returns None, and another digit is taken.
AS_WRITTEN = "as written"  # any digit, traced as its writer drew it: the styles' baseline
STYLES: dict[str, tuple[int, Style]] = {
    "0 slashed": (0, slashed_zero),
    "0 dotted": (0, dotted_zero),
    "0 two strokes": (0, two_stroke_zero),
    "1 flag": (1, flagged_one(serif=False)),
    "1 flag and base": (1, flagged_one(serif=True)),
    "2 looped": (2, looped_two),
    "3 flat top": (3, flat_three),
    "4 open": (4, without_hole),
    "4 closed": (4, closed_four),
    "5 bar apart": (5, parted_five(flag=False)),
    "5 flag": (5, parted_five(flag=True)),
    "6 closed": (6, with_hole),
    "6 open": (6, open_loop("upper left")),
    "7 crossed": (7, crossed_seven),
    "7 curved stem": (7, curved_seven),
    "9 straight tail": (9, with_hole),
    "9 curved tail": (9, hooked_nine),
    "9 open": (9, open_loop("lower right")),
}
# What the style is, seen in the drawing that comes out (the 28x28 image): a loop closed, or
# open. A drawing that does not show it (a loop that closed again at the pen's width, a
# triangle that came out flat) is not that style, and another digit is taken.
CLOSED, OPEN = True, False
LOOPS = {
    "4 open": OPEN,
    "4 closed": CLOSED,
    "6 closed": CLOSED,
    "6 open": OPEN,
    "9 straight tail": CLOSED,
    "9 open": OPEN,
}


# --- on the pad ----------------------------------------------------------------------------------


def pad_strokes(styled: Styled, rng: np.random.Generator) -> list[np.ndarray]:
    """The styled skeleton as the pad's strokes, in its [0, 1] coordinates: a segment for every
    pair of neighbouring skeleton pixels (a dot for a lone one) and the added strokes, the whole
    MIN_HEIGHT-MAX_HEIGHT of the pad high (smaller if it would not fit), anywhere on it."""
    kept = styled.kept
    on = set(map(tuple, np.argwhere(kept).tolist()))
    segments = []
    for row, col in on:
        ends = [(row + dr, col + dc) for dr, dc in FORWARD if (row + dr, col + dc) in on]
        segments += [np.array([(row, col), end], float) for end in ends]
        if not ends:
            segments.append(np.array([(row, col)], float))
    strokes = segments + [np.asarray(p, float) for p in styled.added]
    points = np.concatenate(strokes)
    low, span = points.min(axis=0), np.maximum(np.ptp(points, axis=0), 1.0)  # (row, col)
    room = 1 - 2 * MARGIN
    scale = min(rng.uniform(MIN_HEIGHT, MAX_HEIGHT) / span[0], room / span[0], room / span[1])
    corner = MARGIN + rng.uniform(0, 1, 2) * (room - span * scale)  # (top, left)
    return [np.clip((s - low) * scale + corner, 0, 1)[:, ::-1] for s in strokes]  # -> (x, y)


def pen_strokes(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """:func:`pad_strokes`' segments (one per pair of neighbouring skeleton pixels) chained into
    polylines, as a pen draws them: a few strokes per digit, as the page sends them (it allows
    digitpad.strokes.MAX_STROKES). The added strokes, already polylines, are kept as they are. The
    drawing is the same ink; only the strokes are fewer."""
    segments = [s for s in strokes if len(s) == 2]
    kept = [s for s in strokes if len(s) != 2]
    key = lambda point: (round(float(point[0]), 6), round(float(point[1]), 6))  # noqa: E731
    links = {frozenset((key(a), key(b))) for a, b in segments}
    neighbours: dict[tuple, set[tuple]] = {}
    for link in links:
        a, b = tuple(link)
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    length = lambda a, b: math.dist(a, b)  # noqa: E731
    for link in list(links):  # a diagonal step with a corner pixel beside it: the corner's path
        a, b = tuple(link)
        if any(
            length(a, b) > max(length(a, c), length(b, c)) for c in neighbours[a] & neighbours[b]
        ):
            neighbours[a].discard(b)
            neighbours[b].discard(a)
    neighbours = {n: sorted(others) for n, others in neighbours.items()}
    # pad_strokes draws a dot at a pixel with no neighbour after it: on a line, a dot it covers
    kept = [s for s in kept if len(s) != 1 or key(s[0]) not in neighbours]
    used: set[frozenset] = set()

    def free(node: tuple) -> list[tuple]:
        return [n for n in neighbours[node] if frozenset((node, n)) not in used]

    chained = []
    while True:
        starts = [n for n in neighbours if free(n)]
        if not starts:
            break
        node = min(starts, key=lambda n: (len(free(n)) % 2 == 0, len(free(n))))  # an end first
        path = [node]
        while free(node):
            nxt = free(node)[0]
            used.add(frozenset((node, nxt)))
            path.append(nxt)
            node = nxt
        chained.append(np.asarray(path, np.float64))
    return chained + kept


def draw_style(name: str, digit: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """One MNIST digit (28, 28) uint8 in style ``name``, drawn on the pad and converted: (28, 28)
    uint8 (255 = ink), or None when the style does not apply to it (or no digit comes out)."""
    skeleton = skeleton_of(digit)
    style = as_traced if name == AS_WRITTEN else STYLES[name][1]
    styled = None if skeleton is None else style(skeleton, rng)
    if styled is None or not (styled.kept.any() or styled.added):
        return None
    image = to_mnist(strokes.render(pad_strokes(styled, rng))).image
    if image is None or (name in LOOPS and has_loop(image) != LOOPS[name]):
        return None
    return np.rint(image * 255).astype(np.uint8)


def has_loop(image: np.ndarray) -> bool:
    """Whether a 28x28 image (floats in [0, 1]) encloses paper: a closed loop."""
    paper, _ = ndimage.label(np.pad(image < 0.35, 1, constant_values=True))  # 4-connected
    enclosed = np.bincount(paper.ravel())
    enclosed[paper[0, 0]] = enclosed[0] = 0
    return bool((enclosed >= 3).any())


def make_styled(
    x: np.ndarray,
    y: np.ndarray,
    count: int,
    seed: int,
    *,
    held_out: bool = False,
    styles: tuple[str, ...] = tuple(STYLES),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` styled digits drawn from the MNIST digits ``x`` (uint8 (N, 28, 28), labels
    ``y``), the styles in turn (seeded): images (count', 28, 28) uint8, their labels and their
    style names; count' < count only when a style runs out of digits it applies to.

    Each digit is used at most once; a style that does not apply to a digit (an open loop asked
    of a digit without one) leaves it for the others. :data:`AS_WRITTEN` takes the ten digits in
    turn. ``held_out=True`` draws from a separate
    random stream, for measuring: pass MNIST's test digits, which the model never trained on.
    """
    rng = np.random.default_rng([seed, 0x57E5, int(held_out)])
    pools = {d: rng.permutation(np.flatnonzero(y == d)) for d in range(10)}
    cursor = {(name, d): 0 for name in styles for d in range(10)}
    used: set[int] = set()
    images, labels, names = [], [], []
    written = 0  # digits drawn AS_WRITTEN so far: they take the ten digits in turn
    for k in range(count):
        name = styles[k % len(styles)]
        digit = written % 10 if name == AS_WRITTEN else STYLES[name][0]
        pool = pools[digit]
        while cursor[name, digit] < len(pool):
            index = int(pool[cursor[name, digit]])
            cursor[name, digit] += 1
            image = None if index in used else draw_style(name, x[index], rng)
            if image is not None:
                used.add(index)
                images.append(image)
                labels.append(digit)
                names.append(name)
                written += name == AS_WRITTEN
                break
    if not images:
        return np.empty((0, 28, 28), np.uint8), np.empty(0, np.int32), np.empty(0, str)
    return np.stack(images), np.asarray(labels, np.int32), np.asarray(names)


# What the trainer adds: every style, and as many digits as written, traced on the pad too, so
# that the pad's look alone never says "a style" (and the model sees all ten digits drawn there).
TRAINING_MIX = tuple(name for style in STYLES for name in (style, AS_WRITTEN))
