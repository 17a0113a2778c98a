"""Simulate one person's handwriting: a collection to try ``--fine-tune`` on without drawing.

    python scripts/make_person.py --data ../shared/data/mnist.npz --out runs/person --count 200
    python train_model.py --extra-data runs/person --fine-tune --data ../shared/data/mnist.npz

The "person" writes the European way and with their own habits, applied the same way to every
digit (with a little jitter): 7s with a crossbar, 1s with a long up-stroke, a left lean, and a
thick pen. The digits underneath are MNIST training digits from the validation slice the shipped
model was never trained on (``stratified_split(y_train, 0.1, 42)``, as ``train_model.py`` splits
by default), so neither the "before" numbers nor the MNIST test set are contaminated. Each one is
drawn dark on a white 400x400 canvas, saved with :func:`digitpad.collection.save_digit` exactly as
the app saves a corrected digit, its 28x28 image made by :func:`digitpad.conversion.to_mnist`.

Seeded: the same command writes the same digits (under new random file names).

:func:`make_hand` and :func:`writer_digits` simulate writers on the drawing pad instead, in the
world's styles (digitpad.training.styles) and a slant of their own: scripts/benchmark_memory.py measures
how the app adapts to them.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo
from digitpad.collection import save_digit, stratified_split  # noqa: E402
from digitpad.conversion import to_mnist  # noqa: E402
from digitpad.training.data import load_mnist  # noqa: E402

SCALE = 4  # work at 112x112: strokes drawn there stay smooth at 28x28
CANVAS = 400
LEAN = -0.3  # horizontal shear; MNIST's writers mostly lean right, this person to the left
PEN = 2 * SCALE  # width of the added strokes at the working scale (MNIST's are ~2-3 px at 28)


def draw_like_the_person(image28: np.ndarray, label: int, rng: np.random.Generator) -> Image.Image:
    """One MNIST digit (uint8 28x28, 255 = ink) -> a 400x400 RGB canvas in the person's hand."""
    size = 28 * SCALE
    big = Image.fromarray(image28).resize((size, size), Image.BILINEAR)
    ink = np.asarray(big) > 127
    ys, xs = np.nonzero(ink)
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    pen = ImageDraw.Draw(big)
    if label == 7:  # crossbar through the stem, a little below the middle
        y = top + (0.55 + rng.uniform(-0.05, 0.05)) * height
        row = np.abs(ys - y) <= SCALE
        cx = xs[row].mean() if row.any() else xs.mean()
        half = (0.22 + rng.uniform(-0.03, 0.03)) * height
        pen.line([(cx - half, y), (cx + half, y)], fill=255, width=PEN)
    elif label == 1:  # long up-stroke from the top, down to the left
        head = ys <= top + 2 * SCALE
        x0, y0 = xs[head].mean(), float(top)
        reach = (0.3 + rng.uniform(-0.04, 0.04)) * height
        pen.line([(x0, y0), (x0 - reach, y0 + 0.8 * reach)], fill=255, width=PEN)
    big = big.filter(ImageFilter.MaxFilter(5))  # a thicker pen: +2 px on each side at 4x
    shear = LEAN + rng.uniform(-0.05, 0.05)
    centre = size / 2
    # AFFINE maps output (x, y) to input (x + shear * (y - c), y): the digit leans by -shear.
    big = big.transform(
        (size, size), Image.AFFINE, (1, shear, -shear * centre, 0, 1, 0), Image.BILINEAR
    )
    # Onto the canvas, somewhere near the middle, 55-75% of its height; dark ink on white.
    target = int(CANVAS * rng.uniform(0.55, 0.75))
    digit = big.resize((target, target), Image.BILINEAR)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    left, top = (int(rng.uniform(0.05, 0.95) * (CANVAS - target)) for _ in range(2))
    canvas.paste(digit, (left, top))
    return Image.fromarray(255 - np.asarray(canvas)).convert("RGB")


# --- writers on the pad: a hand of the world's styles, and a slant of their own -------------------


@dataclass(frozen=True)
class Hand:
    """How one writer draws on the pad: a style for each digit (digitpad.training.styles, or as written),
    and their own slant, tilt and proportions, the same in every digit (with a little jitter)."""

    styles: dict[int, str]
    shear: float  # horizontal lean: x moves by shear * (y - centre)
    angle: float  # degrees
    aspect: float  # width over height, relative


def make_hand(rng: np.random.Generator, strong: bool) -> Hand:
    """A random writer: half their digits in a style of the world's; with ``strong``, a lean and
    a tilt beyond what the model was trained on (its errors then come in patterns: what a
    person's labels can teach), else a mild one."""
    from digitpad.training.styles import AS_WRITTEN, STYLES

    choices = {d: [n for n, (digit, _) in STYLES.items() if digit == d] for d in range(10)}
    styles = {
        d: (str(rng.choice(choices[d])) if choices[d] and rng.random() < 0.5 else AS_WRITTEN)
        for d in range(10)
    }
    sign = rng.choice([-1.0, 1.0], size=2)
    shear = sign[0] * (rng.uniform(0.5, 0.8) if strong else rng.uniform(0.0, 0.25))
    angle = sign[1] * (rng.uniform(12, 25) if strong else rng.uniform(0, 8))
    return Hand(styles, shear, angle, math.exp(rng.uniform(-0.25, 0.25)))


def draw_in_hand(
    hand: Hand, digit: np.ndarray, label: int, rng: np.random.Generator
) -> list | None:
    """One MNIST digit (28x28 uint8) as the writer draws it on the pad: the pad's strokes, or
    None when the writer's style does not apply to this digit."""
    from digitpad.training import styles

    skeleton = styles.skeleton_of(digit)
    name = hand.styles[label]
    style = styles.as_traced if name == styles.AS_WRITTEN else styles.STYLES[name][1]
    styled = None if skeleton is None else style(skeleton, rng)
    if styled is None:
        return None
    strokes = styles.pad_strokes(styled, rng)
    points = np.concatenate(strokes)
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    angle = math.radians(hand.angle + rng.normal(0, 2))
    rotate = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    lean = np.array([[1.0, -(hand.shear + rng.normal(0, 0.05))], [0.0, 1.0]])
    matrix = rotate @ lean @ np.diag([hand.aspect, 1 / hand.aspect])
    return [np.clip((s - centre) @ matrix.T * 0.9 + 0.5, 0, 1) for s in strokes]


def writer_digits(
    hand: Hand,
    x: np.ndarray,
    y: np.ndarray,
    per_digit: int,
    rng: np.random.Generator,
    shapes: int | None = None,
) -> tuple[list, np.ndarray]:
    """``per_digit`` of each digit in the writer's hand, from the MNIST digits ``x`` (their
    labels ``y``): (the pad's values, in order 0, 1, ..., 9, 0, 1, ...; labels). Each drawing
    is a new MNIST digit, or, with ``shapes``, one of the writer's own ``shapes`` shapes of that
    digit (MNIST digits chosen once), drawn again each time with the pen's and the hand's
    jitter: a person's digits resemble each other more than different people's do."""
    from digitpad import strokes

    pools = {d: rng.permutation(np.flatnonzero(y == d)) for d in range(10)}
    if shapes is not None:
        own = {d: _own_shapes(hand, x, d, pool, shapes, rng) for d, pool in pools.items()}
        pools = {d: rng.choice(pool, 100 * per_digit) for d, pool in own.items()}
    pools = {d: iter(pool) for d, pool in pools.items()}
    values, labels = [], []
    for _ in range(per_digit):
        for d in range(10):
            for index in pools[d]:
                drawn = draw_in_hand(hand, x[index], d, rng)
                if drawn is not None and shapes is not None:
                    drawn = wobble(drawn, rng)
                if drawn is not None:
                    values.append(strokes.Drawing(tuple(drawn)))
                    labels.append(d)
                    break
    return values, np.asarray(labels)


def wobble(strokes: list, rng: np.random.Generator, amount: float = 0.04) -> list:
    """The strokes (points in [0, 1]) bent by a smooth random displacement of about ``amount``
    of the pad: no two drawings of the same shape by the same hand are the same."""
    waves = rng.normal(0, 2 * math.pi * 1.5, size=(2, 2, 2))  # (x/y, two waves, wave vector)
    phases = rng.uniform(0, 2 * math.pi, size=(2, 2))
    weights = rng.uniform(0.5, 1.0, size=(2, 2)) * amount / 2

    def bent(points: np.ndarray) -> np.ndarray:
        shift = np.sin(points @ waves.transpose(0, 2, 1) + phases[:, None, :])  # (2, P, 2)
        return np.clip(points + (shift * weights[:, None, :]).sum(-1).T, 0, 1)

    return [bent(s) for s in strokes]


def _own_shapes(
    hand: Hand, x: np.ndarray, digit: int, pool: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """The first ``count`` MNIST digits of ``pool`` that the writer's style applies to."""
    own = []
    for i in pool[: 50 * count]:
        if draw_in_hand(hand, x[i], digit, rng) is not None:
            own.append(i)
            if len(own) == count:
                break
    return np.asarray(own or pool[:count])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True, help="full MNIST (.npz or IDX folder)")
    parser.add_argument("--out", type=Path, required=True, help="collection folder to write into")
    parser.add_argument(
        "--count",
        type=int,
        default=200,
        help="digits, spread evenly over 0-9 (default: %(default)s)",
    )
    parser.add_argument(
        "--offset",
        type=int,
        default=0,
        help="skip this many per digit: a second, disjoint set (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    mnist = load_mnist(args.data)
    _, unseen = stratified_split(mnist.y_train, 0.1, 42)  # the shipped model's validation slice
    order = np.random.default_rng(args.seed)  # which digits: the same whatever --count/--offset
    pools = [order.permutation(unseen[mnist.y_train[unseen] == d]) for d in range(10)]
    rng = np.random.default_rng([args.seed, args.offset])  # how they are drawn
    per_digit = args.count // 10
    saved = 0
    for d in range(10):
        pool = pools[d][args.offset : args.offset + per_digit]
        for i in pool:
            canvas = draw_like_the_person(mnist.x_train[i], d, rng)
            conversion = to_mnist(canvas)
            if conversion.image is None:
                continue
            save_digit(args.out, canvas, conversion.image, d)
            saved += 1
    print(f"saved {saved} digits in {args.out}")


if __name__ == "__main__":
    main()
