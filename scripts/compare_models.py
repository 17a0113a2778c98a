"""Compare models on fresh samples, larger than the report's: is a new model at least as good?

    python scripts/make_eval_set.py --out runs/eval-seed1 --per-subset 2000 --seed 1   # once
    python scripts/compare_models.py runs/prev/digitpad.keras assets/digitpad.keras \\
        --data ../shared/data/mnist.npz --eval-data runs/eval-seed1

The training report measures 200 digits per style and 500 non-digits per family, and the
evaluation set holds 600 images per kind: there one drawing moves a line by 0.5, 0.2 and 0.17
points, so whether a new model is "no worse" than the old one is decided by chance. This script
reads the same kinds of input, drawn from other random streams than the report's (``--seed``), in
larger numbers, through each model (``Predictor``, as the app reads), side by side:

1. each of digitpad.training.styles' styles on its own sample of MNIST's *test* digits (``--per-style``;
   a digit can serve several styles, but each style uses it once), and the digits as written;
2. held-out non-digits of every family of digitpad.training.outliers (``--per-family``);
3. the images of an evaluation set made by scripts/make_eval_set.py (``--eval-data``), if given;
4. MNIST's test set.

For each: how many are read right, how many are answered "sure" and wrong, and for styles how
many of the doubtful answers name the right digit among their two (the report's "named").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))  # run as a script from anywhere: import digitpad from the repo
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digitpad.verdict import is_sure  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="the .keras files to compare")
    parser.add_argument(
        "--data",
        default=str(REPO_DIR.parent / "shared" / "data" / "mnist.npz"),
        help="MNIST .npz or IDX folder (default: %(default)s)",
    )
    parser.add_argument("--eval-data", type=Path, default=None, help="a make_eval_set.py folder")
    parser.add_argument("--per-style", type=int, default=1000, help="(default: %(default)s)")
    parser.add_argument("--per-family", type=int, default=2000, help="(default: %(default)s)")
    parser.add_argument(
        "--seed", type=int, default=1, help="of the drawings; the report's is 0 (default: 1)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_DIR / "bench_out" / "compare.json",
        help="results as JSON (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from digitpad.predictor import Predictor
    from digitpad.training.data import load_mnist

    missing = [str(path) for path in args.models if not path.is_file()]
    if missing:
        print(f"no model at {', '.join(missing)}: pass .keras files, e.g. assets/digitpad.keras")
        return 2
    predictors = {
        name_of(path, args.models): Predictor.load(path, verify=False) for path in args.models
    }
    reads = {name: predictor.predict_batch for name, predictor in predictors.items()}
    mnist = load_mnist(args.data)
    results = {"models": [str(path) for path in args.models], "seed": args.seed}
    inputs = {
        "styles": style_inputs(mnist, args.per_style, args.seed),
        "non-digits": not_digit_inputs(args.per_family, args.seed),
        "MNIST test": {"MNIST test": (mnist.x_test / np.float32(255), mnist.y_test)},
    }
    if args.eval_data is not None:
        inputs["evaluation set"] = eval_set_inputs(args.eval_data)
    for section, kinds in inputs.items():
        results[section] = compare(reads, kinds, totals=section == "styles")
        print_section(section, results[section], list(reads))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {args.out}")
    return 0


def name_of(path: Path, paths: list[Path]) -> str:
    """A short column name: the model's folder (``assets``, ``styles-v4``), or its path if two
    models share a folder name."""
    folders = [p.resolve().parent.name for p in paths]
    return (
        path.resolve().parent.name if folders.count(path.resolve().parent.name) == 1 else str(path)
    )


def style_inputs(mnist, per_style: int, seed: int) -> dict:
    """{style: (images in [0, 1], labels)}: each style drawn on its own from MNIST's test digits."""
    from digitpad.training.styles import AS_WRITTEN, STYLES, make_styled

    kinds = {}
    for name in (*STYLES, AS_WRITTEN):
        x, y, _ = make_styled(
            mnist.x_test, mnist.y_test, per_style, seed, held_out=True, styles=(name,)
        )
        kinds[name] = (x / np.float32(255), y)
    return kinds


def not_digit_inputs(per_family: int, seed: int) -> dict:
    """{family: (images in [0, 1], no labels)}: held-out drawings of each non-digit family."""
    from digitpad.training.outliers import FAMILIES, make_outliers

    return {
        family: (make_outliers(per_family, seed, (family,), held_out=True) / np.float32(255), None)
        for family in FAMILIES
    }


def eval_set_inputs(folder: Path) -> dict:
    """{kind: (images in [0, 1], labels)} of a make_eval_set.py folder, through ``to_mnist``; an
    image the conversion finds no digit in is read as a blank image (benchmark_conversion.py
    counts those: its "no digit" column)."""
    from benchmark_conversion import eval_subsets

    from digitpad.conversion import to_mnist

    kinds = {}
    blank = np.zeros((28, 28), np.float32)
    for kind, (paths, labels) in eval_subsets(folder).items():
        images = [to_mnist(path).image for path in paths]
        kinds[kind] = (np.stack([blank if image is None else image for image in images]), labels)
    return kinds


def compare(reads: dict, kinds: dict, totals: bool) -> dict:
    """{kind: {model: row}}, with an "all styles" row (the styles, not the digits as written)
    when ``totals``."""
    from digitpad.training.styles import AS_WRITTEN

    table: dict = {}
    probabilities = {name: {} for name in reads}
    for kind, (images, labels) in kinds.items():
        table[kind] = {}
        for name, read in reads.items():
            probs = read(images) if len(images) else np.empty((0, 10), np.float32)
            probabilities[name][kind] = probs
            table[kind][name] = row(probs, labels)
    if totals:
        styled = [kind for kind in kinds if kind != AS_WRITTEN]
        labels = np.concatenate([kinds[kind][1] for kind in styled])
        table["all styles"] = {
            name: row(np.concatenate([probabilities[name][kind] for kind in styled]), labels)
            for name in reads
        }
    return table


def row(probs: np.ndarray, labels: np.ndarray | None) -> dict:
    """For digits, the report's row (digitpad.training.report.style_row: n, accuracy, sure and wrong,
    named); for non-digits (no labels), n and how many are answered "sure"."""
    from digitpad.training.report import style_row

    if labels is not None:
        return style_row(probs, labels)
    return {"n": len(probs), "sure": int(is_sure(probs).sum()) if len(probs) else 0}


def print_section(section: str, table: dict, names: list[str]) -> None:
    print(f"\n== {section} ==")
    print(f"{'':18} {'n':>6}  " + "  ".join(f"{name[-26:]:>26}" for name in names))
    for kind, rows in table.items():
        n = next(iter(rows.values()))["n"]
        print(f"{kind:18} {n:>6}  " + "  ".join(f"{cell(rows[name]):>26}" for name in names))


def cell(r: dict) -> str:
    """One model's row: '99.10%   3 sure-wrong  95%' for digits, '6 sure (0.30%)' for
    non-digits."""
    if "accuracy" not in r:
        return f"{r['sure']} sure ({r['sure'] / max(r['n'], 1):.2%})"
    if not r["n"]:
        return "-"
    named = "-" if r["named_right"] is None else f"{r['named_right']:.0%}"
    return f"{r['accuracy']:7.2%} {r['wrong_but_sure']:>3} sure-wrong {named:>4}"


if __name__ == "__main__":
    sys.exit(main())
