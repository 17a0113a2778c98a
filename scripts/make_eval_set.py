"""Build the realistic evaluation set: MNIST *test* digits redrawn the way people give them to us.

    python scripts/make_eval_set.py --data /path/to/mnist.npz            # -> eval_data/

Each subset holds the same MNIST test digits (paired comparisons), redrawn:

- ``canvas-transparent``: pen strokes on a transparent RGBA canvas, ink in the alpha channel,
  hidden pixels RGB 0 (what Gradio's sketchpad layer holds);
- ``canvas-white``: dark ink on an opaque white canvas (the sketchpad's composite);
- ``canvas-dark``: light ink on a dark canvas (dark mode), half opaque, half light ink on
  transparent;
- ``photo``: a pen digit on paper, photographed: paper tint and texture, uneven lighting and
  vignetting, a slight rotation, blur, sensor noise, JPEG, and an EXIF orientation tag (the
  pixels are stored rotated as a phone camera does).

Canvases are 400-800 px; the digit is 15-85% of the canvas, anywhere on it; the pen width is
3-22% of the digit's height (MNIST's strokes are about 12%, at most 23%). A stroke is drawn
along the digit's skeleton with a round pen, anti-aliased (drawn at 2x, then halved); a quarter
of the digits are drawn as a filled marker shape instead. Some canvases get a stray dot far
from the digit.

Seeded: the same command writes the same images. ``eval_data/`` is git-ignored.
Writes ``eval_data/manifest.json``: one record per image (file, subset, label, MNIST index).

``--examples assets/examples`` instead writes the few committed example inputs used by the app
and the tests: digits drawn from hand-placed pen paths (not MNIST), named ``<kind>_<digit>``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo

from digitpad.training.styles import digit_shape, thin  # noqa: E402  (the same skeleton the styles trace)

SUBSETS = ("canvas-transparent", "canvas-white", "canvas-dark", "photo")
EXIF_ORIENTATION = 0x0112
# Orientation tag -> how the camera stores an upright scene (the inverse of what viewers apply).
STORED_ROTATION = {
    1: None,
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=str(REPO_DIR.parent / "shared" / "data" / "mnist.npz"),
        help="MNIST .npz or IDX folder (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_DIR / "eval_data",
        help="output folder (default: %(default)s)",
    )
    parser.add_argument("--per-subset", type=int, default=600, help="(default: %(default)s)")
    parser.add_argument("--subsets", nargs="+", default=list(SUBSETS), choices=SUBSETS)
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument(
        "--examples",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the small committed examples to DIR instead",
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.examples:
        write_examples(args.examples)
        return
    from digitpad.training.data import load_mnist

    mnist = load_mnist(args.data)
    picker = np.random.default_rng(args.seed)
    indices = picker.choice(len(mnist.x_test), size=args.per_subset, replace=False)
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    started = time.perf_counter()
    for _subset_number, subset in enumerate(args.subsets):
        folder = args.out / subset
        folder.mkdir(exist_ok=True)
        rng = np.random.default_rng([args.seed, SUBSETS.index(subset)])
        for count, index in enumerate(indices):
            digit, label = mnist.x_test[index], int(mnist.y_test[index])
            image, extension, save_options = DRAWERS[subset](digit, rng)
            path = folder / f"{count:04d}_{label}.{extension}"
            image.save(path, **save_options)
            records.append(
                {
                    "file": str(path.relative_to(args.out)),
                    "subset": subset,
                    "label": label,
                    "mnist_index": int(index),
                }
            )
        print(f"{subset}: {len(indices)} images ({time.perf_counter() - started:.0f} s)")
    manifest = {
        "seed": args.seed,
        "data": str(args.data),
        "per_subset": args.per_subset,
        "images": records,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {len(records)} images and manifest.json to {args.out}")


# --- the pen ---------------------------------------------------------------------------------


def draw_digit(
    digit,
    rng,
    size: tuple[int, int],
    height: float,
    pen: float,
    centre,
    angle=0.0,
    marker: bool = False,
) -> np.ndarray:
    """The digit as anti-aliased ink coverage (H, W) float in [0, 1] on a canvas of ``size``.

    ``height``: the digit's height in px; ``pen``: the pen width in px; ``centre``: (x, y)."""
    shape = digit_shape(digit)
    scale = height / shape.shape[0]
    supersample = 2
    width_px, height_px = size
    canvas = Image.new("L", (width_px * supersample, height_px * supersample), 0)
    cos, sin = math.cos(angle), math.sin(angle)

    def to_canvas(row, col):
        y, x = (row - shape.shape[0] / 2) * scale, (col - shape.shape[1] / 2) * scale
        x, y = cos * x - sin * y, sin * x + cos * y
        return ((centre[0] + x) * supersample, (centre[1] + y) * supersample)

    def fill(mask: np.ndarray) -> None:  # paint a (rows, cols) mask of the shape, scaled, rotated
        big = Image.fromarray(mask.astype(np.uint8) * 255)
        target = (
            max(1, round(shape.shape[1] * scale * supersample)),
            max(1, round(shape.shape[0] * scale * supersample)),
        )
        big = big.resize(target, Image.Resampling.BILINEAR)
        big = big.rotate(-math.degrees(angle), expand=True)
        x0 = round(centre[0] * supersample - big.width / 2)
        y0 = round(centre[1] * supersample - big.height / 2)
        canvas.paste(255, (x0, y0), big.point(lambda v: 255 if v >= 128 else 0))

    if marker:  # a filled shape: the smooth digit thresholded
        fill(shape > rng.uniform(0.25, 0.6))
    else:
        skeleton = thin(shape > 0.4)  # the pen follows the digit's skeleton
        rows, cols = np.nonzero(skeleton)
        points = {(r, c) for r, c in zip(rows, cols)}
        draw = ImageDraw.Draw(canvas)
        radius = pen * supersample / 2
        for r, c in points:
            x, y = to_canvas(r, c)
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                if (r + dr, c + dc) in points:
                    draw.line(
                        (x, y, *to_canvas(r + dr, c + dc)),
                        fill=255,
                        width=max(1, round(pen * supersample)),
                    )
        # A loop the writer filled in (a blob in the 4x digit, 6 MNIST px across or more) is
        # filled in again: its skeleton alone would be a different digit.
        disk = np.hypot(*np.mgrid[-12:13, -12:13]) <= 12
        blobs = ndimage.binary_opening(shape > 0.4, structure=disk)
        if blobs.any():
            fill(blobs)
    return np.asarray(canvas.reduce(supersample), dtype=np.float32) / 255


def random_placement(rng, canvas: tuple[int, int], low=0.15, high=0.85):
    """Digit height, pen width and centre, anywhere on the canvas."""
    width, height = canvas
    digit_height = max(40.0, rng.uniform(low, high) * min(width, height))
    pen = max(2.0, math.exp(rng.uniform(math.log(0.03), math.log(0.22))) * digit_height)
    half = digit_height / 2 + pen
    centre = (
        rng.uniform(min(half, width / 2), max(width - half, width / 2)),
        rng.uniform(min(half, height / 2), max(height - half, height / 2)),
    )
    return digit_height, pen, centre


def stray_dot(rng, coverage: np.ndarray, pen: float, centre, digit_height: float) -> None:
    """An accidental click: a pen-sized dot well away from the digit (in place)."""
    height, width = coverage.shape
    for _ in range(20):
        x, y = rng.uniform(pen, width - pen), rng.uniform(pen, height - pen)
        if math.hypot(x - centre[0], y - centre[1]) > 0.9 * digit_height:
            yy, xx = np.ogrid[:height, :width]
            coverage[np.hypot(xx - x, yy - y) <= pen / 2] = 1.0
            return


def canvas_coverage(digit, rng):
    size = (int(rng.integers(400, 801)), int(rng.integers(400, 801)))
    if rng.random() < 0.5:
        size = (size[0], size[0])  # the sketchpad is square by default
    digit_height, pen, centre = random_placement(rng, size)
    coverage = draw_digit(digit, rng, size, digit_height, pen, centre, marker=rng.random() < 0.25)
    if rng.random() < 0.15:
        stray_dot(rng, coverage, pen, centre, digit_height)
    return coverage


def dark_colour(rng) -> np.ndarray:
    return np.array([0, 0, 0]) if rng.random() < 0.6 else rng.integers(0, 90, 3)


def draw_canvas_transparent(digit, rng):
    coverage = canvas_coverage(digit, rng)
    rgba = np.zeros((*coverage.shape, 4), np.uint8)
    rgba[..., :3] = np.where(coverage[..., None] > 0, dark_colour(rng), 0)
    rgba[..., 3] = np.rint(coverage * 255)
    return Image.fromarray(rgba, "RGBA"), "png", {}


def draw_canvas_white(digit, rng):
    coverage = canvas_coverage(digit, rng)[..., None]
    rgb = 255 * (1 - coverage) + dark_colour(rng) * coverage
    return Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB"), "png", {}


def draw_canvas_dark(digit, rng):
    coverage = canvas_coverage(digit, rng)[..., None]
    ink = rng.integers(200, 256, 3) if rng.random() < 0.7 else np.array([255, 255, 255])
    if rng.random() < 0.5:  # opaque dark-mode canvas
        background = np.array([11, 15, 25]) if rng.random() < 0.5 else rng.integers(0, 60, 3)
        rgb = background * (1 - coverage) + ink * coverage
        return Image.fromarray(np.rint(rgb).astype(np.uint8), "RGB"), "png", {}
    rgba = np.zeros((*coverage.shape[:2], 4), np.uint8)  # light ink on a transparent layer
    rgba[..., :3] = np.where(coverage > 0, ink, 0)
    rgba[..., 3] = np.rint(coverage[..., 0] * 255)
    return Image.fromarray(rgba, "RGBA"), "png", {}


def draw_photo(digit, rng):
    """Pen on paper under a lamp, photographed with a phone."""
    long_side = int(rng.integers(900, 1401))
    size = (long_side, int(long_side * rng.uniform(0.7, 1.0)))
    if rng.random() < 0.5:
        size = size[::-1]
    width, height = size
    digit_height = rng.uniform(0.2, 0.6) * min(size)
    pen = max(2.0, rng.uniform(0.04, 0.15) * digit_height)
    centre = (width * (0.5 + rng.uniform(-0.2, 0.2)), height * (0.5 + rng.uniform(-0.2, 0.2)))
    angle = math.radians(rng.uniform(-8, 8))
    coverage = draw_digit(digit, rng, size, digit_height, pen, centre, angle=angle)

    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    xx, yy = xx / width - 0.5, yy / height - 0.5
    # Paper: a warm or grey tint, a mottled texture and grain.
    brightness = rng.uniform(0.72, 0.95)
    paper = brightness * np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])
    mottle = ndimage.gaussian_filter(rng.standard_normal((height // 8, width // 8)), 3)
    mottle = Image.fromarray(mottle.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    mottle = np.asarray(mottle)
    grain = 0.015 * rng.standard_normal((height, width))
    texture = 1 + 0.04 * mottle / (mottle.std() + 1e-6) + grain
    # Lamp: a linear gradient in a random direction and a vignette.
    direction = rng.uniform(0, 2 * math.pi)
    gradient = 1 + rng.uniform(0.1, 0.45) * (math.cos(direction) * xx + math.sin(direction) * yy)
    vignette = 1 - rng.uniform(0, 0.6) * (xx**2 + yy**2)
    light = (gradient * vignette * texture).astype(np.float32)[..., None]
    ink_colour = rng.uniform(0.05, 0.35) * np.array([1.0, 1.0, rng.uniform(1.0, 2.2)])
    opacity = rng.uniform(0.75, 1.0)
    ink = opacity * coverage[..., None]
    surface = paper * (1 - ink) + ink_colour * opacity * coverage[..., None]
    rgb = surface * light
    image = Image.fromarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.0)))
    noisy = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(2, 10), (height, width, 1))
    image = Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")

    orientation = int(rng.choice([1, 1, 3, 6, 8]))
    if STORED_ROTATION[orientation] is not None:
        image = image.transpose(STORED_ROTATION[orientation])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    return image, "jpg", {"quality": int(rng.integers(60, 93)), "exif": exif}


# --- the committed examples -------------------------------------------------------------------

# Pen paths in a unit box (x right, y down), as someone draws them: a list of strokes.
PEN_PATHS = {
    0: [
        [
            (0.5, 0.02),
            (0.15, 0.2),
            (0.05, 0.55),
            (0.25, 0.92),
            (0.6, 0.97),
            (0.9, 0.7),
            (0.9, 0.3),
            (0.7, 0.05),
            (0.45, 0.04),
        ]
    ],
    2: [
        [
            (0.1, 0.25),
            (0.35, 0.03),
            (0.7, 0.05),
            (0.85, 0.3),
            (0.6, 0.6),
            (0.1, 0.95),
            (0.5, 0.93),
            (0.92, 0.95),
        ]
    ],
    3: [
        [
            (0.12, 0.12),
            (0.5, 0.01),
            (0.85, 0.18),
            (0.72, 0.42),
            (0.4, 0.5),
            (0.78, 0.58),
            (0.9, 0.8),
            (0.6, 0.98),
            (0.1, 0.88),
        ]
    ],
    4: [[(0.62, 0.02), (0.35, 0.38), (0.08, 0.66), (0.92, 0.66)], [(0.7, 0.3), (0.66, 0.98)]],
    5: [
        [
            (0.28, 0.04),
            (0.2, 0.45),
            (0.55, 0.38),
            (0.85, 0.6),
            (0.75, 0.9),
            (0.45, 0.98),
            (0.12, 0.86),
        ],
        [(0.28, 0.04), (0.9, 0.04)],
    ],
    7: [[(0.08, 0.06), (0.5, 0.03), (0.92, 0.05), (0.6, 0.5), (0.38, 0.97)]],
}


def smooth(points: list[tuple[float, float]], steps: int = 12) -> list[tuple[float, float]]:
    """Catmull-Rom through the points: the curve a hand makes through them."""
    padded = [points[0], *points, points[-1]]
    curve = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = (np.array(padded[j]) for j in (i - 1, i, i + 1, i + 2))
        for t in np.linspace(0, 1, steps, endpoint=False):
            curve.append(
                0.5
                * (
                    (2 * p1)
                    + (-p0 + p2) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                    + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
                )
            )
    curve.append(np.array(points[-1]))
    return [tuple(p) for p in curve]


def pen_coverage(
    digit: int, size: tuple[int, int], box: tuple[float, float, float, float], pen: float
) -> np.ndarray:
    """Anti-aliased coverage (H, W) of ``PEN_PATHS[digit]`` drawn into ``box`` (x, y, w, h)."""
    supersample = 4
    canvas = Image.new("L", (size[0] * supersample, size[1] * supersample), 0)
    draw = ImageDraw.Draw(canvas)
    x0, y0, width, height = box
    radius = pen * supersample / 2
    for stroke in PEN_PATHS[digit]:
        points = [
            ((x0 + x * width) * supersample, (y0 + y * height) * supersample)
            for x, y in smooth(stroke)
        ]
        draw.line(points, fill=255, width=round(pen * supersample), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas.reduce(supersample), dtype=np.float32) / 255


def write_examples(folder: Path) -> None:
    """The committed examples: a sketchpad layer, a white and a dark canvas, a small digit in a
    corner, a fat marker, and a photographed digit with an EXIF rotation."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)

    def save(name: str, image: Image.Image, **options) -> None:
        image.save(folder / name, **options)
        print(f"wrote {folder / name} ({(folder / name).stat().st_size // 1024} KB)")

    coverage = pen_coverage(3, (600, 600), (190, 110, 220, 380), 18)
    rgba = np.zeros((600, 600, 4), np.uint8)
    rgba[..., 3] = np.rint(coverage * 255)
    save("sketch_3.png", Image.fromarray(rgba, "RGBA"), optimize=True)

    coverage = pen_coverage(7, (600, 600), (90, 60, 260, 330), 14)
    save(
        "canvas_7.png",
        Image.fromarray(np.rint(255 * (1 - coverage)).astype(np.uint8), "L"),
        optimize=True,
    )

    coverage = pen_coverage(4, (600, 600), (200, 150, 250, 330), 22)
    dark = np.array([11, 15, 25]) * (1 - coverage[..., None]) + 240 * coverage[..., None]
    save("dark_4.png", Image.fromarray(np.rint(dark).astype(np.uint8), "RGB"), optimize=True)

    coverage = pen_coverage(2, (600, 600), (470, 460, 60, 100), 6)
    save(
        "small_2.png",
        Image.fromarray(np.rint(255 * (1 - coverage)).astype(np.uint8), "L"),
        optimize=True,
    )

    coverage = pen_coverage(0, (600, 600), (130, 60, 340, 480), 95)
    rgba = np.zeros((600, 600, 4), np.uint8)
    rgba[..., :3] = (20, 40, 160)
    rgba[..., 3] = np.rint(coverage * 255)
    save("marker_0.png", Image.fromarray(rgba, "RGBA"), optimize=True)

    width, height = 800, 600
    coverage = pen_coverage(5, (width, height), (330, 170, 160, 260), 11)
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    xx, yy = xx / width - 0.5, yy / height - 0.5
    light = (1 + 0.3 * xx) * (1 - 0.4 * (xx**2 + yy**2))
    grain = 1 + 0.02 * rng.standard_normal((height, width))
    ink = coverage[..., None]
    paper = np.array([0.93, 0.9, 0.82]) * (1 - 0.85 * ink) + 0.12 * ink
    rgb = paper * (light * grain)[..., None]
    image = Image.fromarray(np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(1.2)).transpose(STORED_ROTATION[6])
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    save("photo_5.jpg", image, quality=80, exif=exif)


DRAWERS = {
    "canvas-transparent": draw_canvas_transparent,
    "canvas-white": draw_canvas_white,
    "canvas-dark": draw_canvas_dark,
    "photo": draw_photo,
}


if __name__ == "__main__":
    main()
