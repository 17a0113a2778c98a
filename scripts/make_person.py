"""Simulate one person's handwriting: a collection to try ``--fine-tune`` on without drawing.

    python scripts/make_person.py --data ../shared/data/mnist.npz --out runs/person --count 200
    python train_model.py --extra-data runs/person --fine-tune --data ../shared/data/mnist.npz

The "person" writes the European way and with their own habits, applied the same way to every
digit (with a little jitter): 7s with a crossbar, 1s with a long up-stroke, a left lean, and a
thick pen. The digits underneath are MNIST training digits from the validation slice the shipped
model was never trained on (``stratified_split(y_train, 0.1, 42)``, as ``train_model.py`` splits
by default), so neither the "before" numbers nor the MNIST test set are contaminated. Each one is
drawn dark on a white 400x400 canvas, saved with :func:`digitpad.collect.save_digit` exactly as
the app saves a corrected digit, its 28x28 image made by :func:`digitpad.preprocessing.to_mnist`.

Seeded: the same command writes the same digits (under new random file names).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo
from digitpad.collect import save_digit  # noqa: E402
from digitpad.data import load_mnist, stratified_split  # noqa: E402
from digitpad.preprocessing import to_mnist  # noqa: E402

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
