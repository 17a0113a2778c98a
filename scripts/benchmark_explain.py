"""Measure "Why this digit?" (digitpad.explain): is the heat map faithful, and what does it cost?

    python scripts/benchmark_explain.py --data ../shared/data/mnist.npz   # 1,000 test digits

1. **Deletion test**, on ``--count`` MNIST test digits (seeded): each digit is explained, then
   its pixels are hidden (set to 0) a share at a time in three orders: the heat map's, hottest
   first (digitpad.explain.hottest_first), a random one, and the heat map's reversed (coolest
   first), and the model's probability of its original top digit is read at each share
   (digitpad.explain.deletion_curves). A faithful map's order kills the digit fastest: a smaller
   area under the curve. Two protocols, both printed:

   - **ink pixels only** (the pixels > 0), the strict one: hiding paper changes nothing, so
     every order hides the same ink, only in another order;
   - **all 784 pixels**, the usual one (Petsiuk et al.'s deletion metric): a random order then
     spends most of its steps on paper.

   It prints the mean curves at a few shares, the mean areas, and the share of digits whose
   heat-map area is below the random order's (and below the coolest-first order's).
2. **Cost**: p50 and p95 of one full explanation in this process (``explain`` and ``as_json``),
   on the digits as given (28x28) and drawn 280x280 as a canvas would send them.
3. **The plain reading path**: ``Predictor.recognise`` timed with the conversion as it is and
   with the conversion of ``--baseline`` (a git ref: the code before "keep_steps" was added),
   interleaved in the same run, and their outputs compared bit for bit; and once right after an
   explanation (whose batch makes the interpreter reallocate for the next single image).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR
from digitpad.explain import DELETION_FRACTIONS, deletion_curves, explain, hottest_first

SHOWN = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)  # shares hidden printed in the curves' table
ORDERS = ("heat map", "random", "coolest first")
CANVAS = 280  # the side of the canvases timed (the pad's render size)
READS = 300  # digits read through the plain path, per variant


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO_DIR.parent / "shared/data/mnist.npz"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--count", type=int, default=1000, help="digits (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    parser.add_argument(
        "--baseline",
        default="main",
        help="git ref whose digitpad/conversion.py the plain path is compared with "
        "(default: %(default)s; '' skips it)",
    )
    return parser.parse_args(argv)


def all_pixel_order(explanation: object) -> np.ndarray:
    """All 784 pixels, the heat map's hottest first (its evidence; brighter first among equals)."""
    image = explanation.image.ravel()
    return np.lexsort((-image, -explanation.evidence.ravel()))


def deletion_test(predictor: object, digits: np.ndarray, seed: int) -> tuple:
    """Per protocol: (count, 3, fractions) curves; the explained top digits; and the
    explanations' times, seconds."""
    rng = np.random.default_rng(seed)
    curves = {"ink pixels only": [], "all pixels": []}
    seconds, tops = [], []
    for digit in digits:
        started = time.perf_counter()
        explanation = explain(predictor, digit)
        explanation.as_json()
        seconds.append(time.perf_counter() - started)
        tops.append(explanation.digit)
        for protocol, order in (
            ("ink pixels only", hottest_first(explanation)),
            ("all pixels", all_pixel_order(explanation)),
        ):
            orders = [order, rng.permutation(order), order[::-1]]
            curves[protocol].append(
                deletion_curves(predictor, explanation.image, explanation.digit, orders)
            )
    return {name: np.stack(c) for name, c in curves.items()}, np.array(tops), np.array(seconds)


def print_deletion(curves: dict, tops: np.ndarray) -> None:
    """The mean curves and areas per order, and the shares of digits won. An empty 28x28 reads
    as a sure 1 to this model, so hiding a 1's ink leaves a 1 whatever the order: the shares
    are also given without the digits read as 1."""
    columns = [int(np.argmin(np.abs(DELETION_FRACTIONS - f))) for f in SHOWN]
    for protocol, values in curves.items():
        areas = values.mean(axis=2)  # (count, 3)
        print(f"\n== deletion test, {protocol}: P(original top digit) as pixels are hidden ==")
        print("hidden:        " + "".join(f"{f:>7.0%}" for f in SHOWN) + "    area")
        for k, name in enumerate(ORDERS):
            mean = values[:, k].mean(axis=0)
            row = "".join(f"{mean[c]:7.3f}" for c in columns)
            print(f"{name:<15}{row}   {areas[:, k].mean():.3f}")
        for label, rows in (("all digits", tops >= 0), ("digits not read as 1", tops != 1)):
            below_random = float(np.mean(areas[rows, 0] < areas[rows, 1]))
            below_coolest = float(np.mean(areas[rows, 0] < areas[rows, 2]))
            print(
                f"{label} ({rows.sum()}): heat-map area below random's {below_random:.1%}, "
                f"below coolest-first's {below_coolest:.1%}"
            )


def percentiles(seconds: np.ndarray) -> str:
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"


def canvases(digits: np.ndarray) -> list[np.ndarray]:
    """The digits black on white, 280x280, as a canvas would send them."""
    from PIL import Image

    return [
        255 - np.asarray(Image.fromarray(d).resize((CANVAS, CANVAS), Image.Resampling.BILINEAR))
        for d in digits
    ]


def time_explanations(predictor: object, sources: list) -> np.ndarray:
    seconds = []
    for source in sources:
        started = time.perf_counter()
        explain(predictor, source).as_json()
        seconds.append(time.perf_counter() - started)
    return np.array(seconds)


def baseline_conversion(ref: str) -> object | None:
    """digitpad/conversion.py as it is at git ``ref``, imported as its own module."""
    try:
        source = subprocess.run(
            ["git", "-C", str(REPO_DIR), "show", f"{ref}:digitpad/conversion.py"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"(no baseline: cannot read {ref}:digitpad/conversion.py: {error})")
        return None
    path = Path(tempfile.mkdtemp()) / "conversion_baseline.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("conversion_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["conversion_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def time_reading(predictor: object, sources: list, baseline: object | None) -> None:
    """Predictor.recognise with this conversion and with the baseline's, interleaved by
    round; then right after an explanation each time."""
    import digitpad.predictor as predictor_module

    current = (predictor_module.to_mnist, predictor_module.Conversion)
    variants = {"this branch": current}
    if baseline is not None:  # with its own Conversion class: recognise checks isinstance
        variants["baseline"] = (baseline.to_mnist, baseline.Conversion)
        same = all(np.array_equal(current[0](s).image, baseline.to_mnist(s).image) for s in sources)
        print(f"conversion outputs identical to the baseline's on {len(sources)} inputs: {same}")
    seconds = {name: [] for name in variants}
    try:
        for round_ in range(5):  # a warm-up, then rounds in turn: each goes first as often
            order = list(variants.items())[:: -1 if round_ % 2 else 1]
            for name, (convert, kind) in order:
                predictor_module.to_mnist, predictor_module.Conversion = convert, kind
                for source in sources:
                    started = time.perf_counter()
                    predictor.recognise(source)
                    if round_:
                        seconds[name].append(time.perf_counter() - started)
    finally:
        predictor_module.to_mnist, predictor_module.Conversion = current
    after = []
    for source in sources[:100]:
        explain(predictor, source)
        started = time.perf_counter()
        predictor.recognise(source)
        after.append(time.perf_counter() - started)
    for name, values in seconds.items():
        print(f"recognise, conversion of {name}: {percentiles(np.array(values))}")
    print(f"recognise right after an explanation: {percentiles(np.array(after))}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digitpad.predictor import Predictor
    from digitpad.training.data import load_mnist

    predictor = Predictor.load(args.model)
    mnist = load_mnist(args.data)
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(len(mnist.y_test), min(args.count, len(mnist.y_test)), replace=False)
    digits = mnist.x_test[chosen]
    started = time.perf_counter()
    curves, tops, seconds = deletion_test(predictor, digits, args.seed)
    print(
        f"{len(digits)} MNIST test digits (seed {args.seed}), explained and deleted in "
        f"{time.perf_counter() - started:.0f} s"
    )
    print_deletion(curves, tops)
    print("\n== cost of one explanation (explain + as_json, in process) ==")
    print(f"28x28 digits as given:      {percentiles(seconds)}")
    drawn = canvases(digits[:READS])
    print(
        f"{CANVAS}x{CANVAS} canvases:           {percentiles(time_explanations(predictor, drawn))}"
    )
    print("\n== the plain reading path (Predictor.recognise) ==")
    baseline = baseline_conversion(args.baseline) if args.baseline else None
    time_reading(predictor, drawn, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
