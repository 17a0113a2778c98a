"""Alternatives to digitpad/memory.py's adaptation, tried on the same simulated writers.

    python scripts/explore_memory.py --data ../shared/data/mnist.npz

The writers are scripts/benchmark_memory.py's "many hands" kind (40, seed 0), the kind on which
the earlier rule (``radius``: every example within the radius votes) gained least; each labels
their first 20 digits and the rest are read, on the choosing half (every other writer). Printed
per variant and setting: accuracy without and with the labels, and how many writers end up
worse. Then, for the digits the model misreads, how often the nearest labelled example (in the
model's features) carries the right label. docs/measurements.md ("Learning a person's hand")
quotes it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # import digitpad from the repo

import benchmark_memory  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

FIRST = 20  # labelled digits per writer


def unit(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.reshape(len(vectors), -1).astype(np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def space(writer: dict, kind: str) -> np.ndarray:
    """Each digit of the writer as a unit vector: the model's features, or its 28x28 image."""
    readings = writer["readings"]
    if kind == "features":
        return unit(np.stack([r.features for r in readings]))
    images = np.stack([r.image for r in readings])
    sigma = {"pixels": 0.0, "blurred pixels": 1.0}[kind]
    return unit(np.stack([gaussian_filter(i, sigma) for i in images]) if sigma else images)


def radius(p, d, labels, r: float) -> np.ndarray:
    """The earlier digitpad.memory's rule: the labels within ``r``, the nearer the more."""
    near = d < r
    if not near.any():
        return p
    closeness = 1 - d[near] / r
    votes = np.bincount(labels[near], closeness, 10)
    weight = closeness.max()
    return (1 - weight) * p + weight * votes / votes.sum()


def knn_blend(p, d, labels, t: float, k: int = 5) -> np.ndarray:
    """A kNN cache: the k nearest vote with weights exp(-d/t), blended in by exp(-d_min/t)."""
    nearest = np.argsort(d)[:k]
    votes = np.bincount(labels[nearest], np.exp(-d[nearest] / t), 10)
    weight = np.exp(-d[nearest[0]] / t)
    return (1 - weight) * p + weight * votes / votes.sum()


def prototypes(p, d, labels, t: float, strength: float = 10.0) -> np.ndarray:
    """A bonus to each labelled class's log-probability from its nearest example's similarity."""
    bonus = np.zeros(10)
    for c in np.unique(labels):
        bonus[c] = strength * np.exp(-d[labels == c].min() / t)
    return np.exp(np.log(p + 1e-9) + bonus)


def score(writers: list[dict], kind: str, rule, setting: float) -> tuple[float, float, int]:
    before, after = [], []
    for writer in writers:
        vectors, labels = space(writer, kind), np.asarray(writer["labels"])
        probabilities = np.stack([r.model_prediction.probabilities for r in writer["readings"]])
        answers = [
            rule(p, 1 - vectors[:FIRST] @ v, labels[:FIRST], setting).argmax()
            for p, v in zip(probabilities[FIRST:], vectors[FIRST:])
        ]
        before.append(np.mean(probabilities[FIRST:].argmax(1) == labels[FIRST:]))
        after.append(np.mean(np.array(answers) == labels[FIRST:]))
    worse = sum(a < b - 1e-9 for a, b in zip(after, before))
    return float(np.mean(before)), float(np.mean(after)), worse


def nearest_is_right(writers: list[dict]) -> tuple[float, float, int]:
    """Of all digits, and of the misread ones: how often the nearest labelled example (model
    features) has the digit's label."""
    right, right_misread = [], []
    for writer in writers:
        vectors, labels = space(writer, "features"), np.asarray(writer["labels"])
        for i in range(FIRST, len(labels)):
            nearest = np.argmin(1 - vectors[:FIRST] @ vectors[i])
            hit = labels[nearest] == labels[i]
            right.append(hit)
            if writer["readings"][i].model_prediction.digit != labels[i]:
                right_misread.append(hit)
    return float(np.mean(right)), float(np.mean(right_misread)), len(right_misread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="MNIST .npz or IDX folder (its test half)")
    args = parser.parse_args(argv)
    from digitpad import DEFAULT_MODEL_PATH
    from digitpad.predictor import Predictor
    from digitpad.training.data import load_mnist

    predictor = Predictor.load(DEFAULT_MODEL_PATH)
    writers = benchmark_memory.simulate(predictor, load_mnist(args.data), 40, 0, None)
    choosing = writers[::2]
    print(f"first {FIRST} labelled, the rest read; {len(choosing)} writers (the choosing half)")
    trials = [("features", radius, r) for r in (0.05, 0.1, 0.2, 0.3)]
    trials += [("features", knn_blend, t) for t in (0.05, 0.1, 0.2)]
    trials += [("features", prototypes, t) for t in (0.05, 0.1)]
    trials += [(k, radius, r) for k in ("pixels", "blurred pixels") for r in (0.1, 0.2, 0.3)]
    for kind, rule, setting in trials:
        before, after, worse = score(choosing, kind, rule, setting)
        print(
            f"{kind:15} {rule.__name__:10} {setting:<5} {before:.2%} -> {after:.2%}, "
            f"writers worse: {worse}"
        )
    everyone, misread, count = nearest_is_right(writers)
    print(
        f"nearest labelled example has the right label: {everyone:.0%} of all digits, "
        f"{misread:.0%} of the {count} misread ones"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
