"""Measure reading numbers: on the pad and in photos, and digits at any size, through the app's
own path (digitpad.reading.read: one digit read whole, an input that may hold several split by
digitpad.numbers), as /predict_sketch and /predict_image read them.

    python scripts/benchmark_numbers.py --data ../shared/data/mnist.npz --count 300 --seed 2025

Numbers of 2-6 digits are built from MNIST *test* digits, never trained on: each digit traced as
pad strokes (digitpad.training.styles), in the hand of a simulated writer (scripts/make_person.py's
``make_hand``: half their digits in one of the world's styles, their own slant and proportions),
at a size of the number's own and each digit a little larger or smaller, spaced from wide apart
to touching, written anywhere across the pad. The same numbers are then photographed: drawn
dark on light paper with texture, uneven light, blur, noise and JPEG. Printed:

- exact-number accuracy per length, digit accuracy (1 - edit distance / length), the share of
  numbers read "sure" and wrong, and how many single digits come out as exactly one piece;
- the in-process cost of reading a 4-digit number against one digit (ms);
- single digits at 100%, 60%, 40% and 30% of their size, read right: the page's pen (before)
  against the pen in proportion to the digit (after, digitpad.strokes.render_fitted).

Tune on one ``--seed`` and report another.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(REPO_DIR / "scripts"))
from make_person import draw_in_hand, make_hand  # noqa: E402

from digitpad import DEFAULT_MODEL_PATH  # noqa: E402
from digitpad.conversion import to_mnist  # noqa: E402
from digitpad.predictor import Predictor  # noqa: E402
from digitpad.reading import read  # noqa: E402
from digitpad.strokes import Drawing, render  # noqa: E402
from digitpad.training import styles  # noqa: E402
from digitpad.training.data import load_mnist  # noqa: E402

LENGTHS = (2, 3, 4, 5, 6)
SPACINGS = {
    "wide": (0.4, 0.7),
    "normal": (0.15, 0.35),
    "tight": (0.03, 0.12),
    "touching": (-0.08, 0.0),
}
SIZES = (1.0, 0.6, 0.4, 0.3)
DIGIT_JITTER = 0.12  # each digit's size, relative to the number's
PHOTO_SIZE = (1000, 750)  # px, landscape
PHOTO_PEN = (0.07, 0.13)  # the pen's width, of the digits' height


@dataclass(frozen=True)
class Number:
    text: str
    strokes: list  # pad strokes
    spacing: str


def digit_shape(hand, x: np.ndarray, label: int, rng: np.random.Generator) -> list | None:
    """One MNIST digit as the writer draws it, as pen strokes normalised to a height of 1, its
    box's top-left at (0, 0)."""
    strokes = draw_in_hand(hand, x, label, rng)
    if strokes is None:
        return None
    strokes = styles.pen_strokes(strokes)
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    height = max(high[1] - low[1], 1e-3)
    return [(s - low) / height for s in strokes]


def make_number(mnist, length: int, rng: np.random.Generator) -> Number:
    """A number of ``length`` digits from MNIST test digits, written across the pad."""
    hand = make_hand(rng, strong=False)
    spacing = str(rng.choice(list(SPACINGS)))
    shapes, text = [], ""
    while len(shapes) < length:
        label = int(rng.integers(10))
        index = int(rng.choice(np.flatnonzero(mnist.y_test == label)))
        shape = digit_shape(hand, mnist.x_test[index], label, rng)
        if shape is not None:
            shapes.append(shape)
            text += str(label)
    sizes = rng.uniform(1 - DIGIT_JITTER, 1 + DIGIT_JITTER, length)
    gaps = rng.uniform(*SPACINGS[spacing], length)
    widths = [max(np.concatenate(s)[:, 0].max(), 0.05) * z for s, z in zip(shapes, sizes)]
    span = sum(widths) + gaps[:-1].sum()  # in units of the number's height
    height = min(rng.uniform(0.12, 0.35), 0.9 / span)
    left = rng.uniform(0.05, max(0.05, 0.95 - span * height))
    top = rng.uniform(0.05, max(0.05, 0.95 - height * (1 + DIGIT_JITTER)))
    strokes, x = [], left
    for shape, size, width, gap in zip(shapes, sizes, widths, gaps):
        dy = rng.normal(0, 0.05) * height
        strokes += [np.clip(s * size * height + [x, top + dy], 0, 1) for s in shape]
        x += (width + gap) * height
    return Number(text, strokes, spacing)


def photograph(strokes: list, rng: np.random.Generator) -> bytes:
    """The strokes written with a pen on paper and photographed: JPEG bytes."""
    width, height = PHOTO_SIZE
    scale = width * 0.9
    points = np.concatenate(strokes)
    digit_height = float(np.ptp(points[:, 1])) * scale
    pen = max(2.0, rng.uniform(*PHOTO_PEN) * digit_height / 1.1)
    offset = np.array(
        [0.05 * width, (height - scale * float(points[:, 1].max() + points[:, 1].min())) / 2]
    )
    ink = Image.new("L", PHOTO_SIZE, 0)
    draw = ImageDraw.Draw(ink)
    for stroke in strokes:
        xy = [tuple(p * scale + offset) for p in stroke]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=round(pen), joint="curve")
        for x, y in xy:
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    coverage = np.asarray(ink, np.float32)[..., None] / 255
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    xx, yy = xx / width - 0.5, yy / height - 0.5
    paper = rng.uniform(0.72, 0.95) * np.array([1.0, rng.uniform(0.95, 1), rng.uniform(0.85, 1)])
    mottle = ndimage.gaussian_filter(rng.standard_normal((height // 8, width // 8)), 3)
    mottle = np.asarray(Image.fromarray(mottle.astype(np.float32)).resize(PHOTO_SIZE))
    texture = (
        1 + 0.04 * mottle / (mottle.std() + 1e-6) + 0.015 * rng.standard_normal((height, width))
    )
    direction = rng.uniform(0, 2 * math.pi)
    light = 1 + rng.uniform(0.1, 0.4) * (math.cos(direction) * xx + math.sin(direction) * yy)
    light = (light * (1 - rng.uniform(0, 0.5) * (xx**2 + yy**2)) * texture)[..., None]
    colour = rng.uniform(0.05, 0.3) * np.array([1.0, 1.0, rng.uniform(1.0, 2.0)])
    rgb = (paper * (1 - coverage) + colour * coverage) * light
    image = Image.fromarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 93)))
    return buffer.getvalue()


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def measure(predictor, numbers: list[Number], sources: list) -> dict:
    """Per length: exact share, digit accuracy, sure-and-wrong share; and by spacing."""
    rows: dict = {}
    for number, source in zip(numbers, sources):
        reading = read(predictor, source)
        text = reading.text or ""
        for key in (len(number.text), number.spacing, "all"):
            row = rows.setdefault(
                key, {"n": 0, "exact": 0, "digits": 0, "errors": 0, "sure": 0, "sure_wrong": 0}
            )
            row["n"] += 1
            row["exact"] += text == number.text
            row["digits"] += len(number.text)
            row["errors"] += edit_distance(text, number.text)
            row["sure"] += reading.sure
            row["sure_wrong"] += reading.sure and text != number.text
    return rows


def print_table(title: str, rows: dict) -> None:
    print(f"\n{title}")
    print(f"{'':>10} {'numbers':>8} {'exact':>8} {'digits':>8} {'sure':>8} {'sure+wrong':>11}")
    keys = [k for k in LENGTHS if k in rows] + [k for k in SPACINGS if k in rows] + ["all"]
    for key in keys:
        r = rows[key]
        print(
            f"{key!s:>10} {r['n']:>8} {r['exact'] / r['n']:>8.1%} "
            f"{1 - r['errors'] / r['digits']:>8.1%} {r['sure'] / r['n']:>8.1%} "
            f"{r['sure_wrong'] / r['n']:>11.1%}"
        )


def single_digits(mnist, count: int, rng: np.random.Generator) -> list[tuple[int, list]]:
    """Single MNIST test digits as pad strokes, a third of them in one of the world's styles."""
    out = []
    order = rng.permutation(len(mnist.y_test))
    for index in order:
        label = int(mnist.y_test[index])
        skeleton = styles.skeleton_of(mnist.x_test[index])
        names = [n for n, (d, _) in styles.STYLES.items() if d == label]
        name = str(rng.choice(names)) if names and rng.random() < 1 / 3 else styles.AS_WRITTEN
        style = styles.as_traced if name == styles.AS_WRITTEN else styles.STYLES[name][1]
        styled = None if skeleton is None else style(skeleton, rng)
        if styled is not None:
            out.append((label, styles.pen_strokes(styles.pad_strokes(styled, rng))))
        if len(out) == count:
            break
    return out


def size_sweep(predictor, digits: list[tuple[int, list]]) -> None:
    print("\nsingle digits read right, by size: the page's pen (before) vs in proportion (after)")
    print(f"{'size':>6} {'before':>8} {'after':>8}")
    labels = np.array([label for label, _ in digits])
    for size in SIZES:
        before, after = [], []
        for _, strokes in digits:
            points = np.concatenate(strokes)
            centre = (points.min(axis=0) + points.max(axis=0)) / 2
            small = [(s - centre) * size + centre for s in strokes]
            before.append(to_mnist(Image.fromarray(render(small))).image)
            after.append(to_mnist(Drawing(tuple(small))).image)
        scores = [accuracy(predictor, images, labels) for images in (before, after)]
        print(f"{size:>6.0%} {scores[0]:>8.1%} {scores[1]:>8.1%}")


def accuracy(predictor, images: list, labels: np.ndarray) -> float:
    found = [i for i, image in enumerate(images) if image is not None]
    read = predictor.predict_batch(np.stack([images[i] for i in found])).argmax(axis=1)
    return float((read == labels[found]).sum() / len(labels))


def single_pieces(predictor, digits: list[tuple[int, list]]) -> None:
    one = right = 0
    for label, strokes in digits:
        reading = read(predictor, Drawing(tuple(strokes)))
        one += len(reading.each_digit) == 1
        right += reading.text == str(label)
    n = len(digits)
    print(f"\nsingle digits (a third styled), {n}: one piece {one / n:.1%}, right {right / n:.1%}")


def cost(predictor, numbers: list[Number], digits: list[tuple[int, list]]) -> None:
    fours = [Drawing(tuple(n.strokes)) for n in numbers if len(n.text) == 4][:30]
    ones = [Drawing(tuple(s)) for _, s in digits[:30]]
    times = {}
    for name, drawings in (("one digit", ones), ("4-digit number", fours)):
        start = time.perf_counter()
        for drawing in drawings:
            read(predictor, drawing)
        times[name] = 1000 * (time.perf_counter() - start) / max(len(drawings), 1)
    print(
        "\nin-process cost per reading (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in times.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=str(REPO_DIR.parent / "shared/data/mnist.npz"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--count", type=int, default=300, help="numbers (default: %(default)s)")
    parser.add_argument("--digits", type=int, default=500, help="single digits (%(default)s)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-photos", action="store_true")
    args = parser.parse_args()
    print(f"seed {args.seed}, {args.count} numbers, {args.digits} single digits")
    mnist = load_mnist(args.data)
    predictor = Predictor.load(args.model)
    rng = np.random.default_rng(args.seed)
    numbers = [make_number(mnist, LENGTHS[k % len(LENGTHS)], rng) for k in range(args.count)]
    print_table(
        "pen numbers on the pad",
        measure(predictor, numbers, [Drawing(tuple(n.strokes)) for n in numbers]),
    )
    if not args.no_photos:
        photos = [photograph(n.strokes, rng) for n in numbers]
        print_table("the same numbers, photographed on paper", measure(predictor, numbers, photos))
    digits = single_digits(mnist, args.digits, rng)
    single_pieces(predictor, digits)
    cost(predictor, numbers, digits)
    size_sweep(predictor, digits)


if __name__ == "__main__":
    main()
