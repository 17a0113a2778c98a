"""Build the neighbour index a model's explanations show ("like these training digits").

    python train_model.py neighbours runs/NAME --data ../shared/data/mnist.npz   # (re)build
    python train_model.py neighbours assets/digitpad.keras --out runs/neighbours-shipped \\
        --data ../shared/data/mnist.npz          # for the shipped model; then ship it with
    python train_model.py ship runs/neighbours-shipped --index-only

``train`` and ``fine-tune`` build it at the end of every run, beside the model
(digitpad.nearest.NEIGHBOURS_FILENAME), and record it in the run's ``metrics.json`` with its
SHA-256 and the SHA-256 of the model whose features it holds; ``ship`` refuses a run without it
(digitpad.training.ship). The digits: ``PER_DIGIT`` of each kind from MNIST's training set, and
up to ``STYLED_PER_DIGIT`` of each drawn in the world's styles on the pad
(digitpad.training.styles), seeded; their features are the ones the classifier reads, through
the Keras model (the LiteRT model served computes the same, tests/test_predictor.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from digitpad.files import (
    METRICS_FILENAME,
    MODEL_FILENAME,
    OutputError,
    load_keras_model,
    output_folder,
    read_json,
    sha256_file,
    write_json,
)
from digitpad.nearest import METRICS_KEY, NEIGHBOURS_FILENAME, NeighbourIndex, write_index
from digitpad.training.data import Mnist, load_mnist

PER_DIGIT = 100  # MNIST training digits of each kind in the index
STYLED_PER_DIGIT = 50  # at most this many of each kind drawn in the world's styles ...
STYLED_DRAWS = 1000  # ... out of this many drawn (the training mix in turn: 8 has no style)
DRY_RUN_PER_DIGIT = 3  # a dry run's index: a smoke test of the same code
DRY_RUN_STYLED_DRAWS = 30
SEED_OFFSET = 0x4E1  # the index's random stream, apart from the run's other ones
MNIST_SOURCE = "mnist"


def select(
    mnist: Mnist, seed: int, per_digit: int, styled_draws: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The index's digits: images (N, 28, 28) uint8, labels (N,) and sources (N,) str."""
    from digitpad.training.styles import TRAINING_MIX, make_styled

    rng = np.random.default_rng([seed, SEED_OFFSET])
    chosen = np.concatenate(
        [
            rng.permutation(np.flatnonzero(mnist.y_train == d))[:per_digit]
            for d in range(10)  # a dry run's slice may lack a digit: then fewer
        ]
    )
    images, labels = [mnist.x_train[chosen]], [mnist.y_train[chosen].astype(np.int64)]
    sources = [np.full(len(chosen), MNIST_SOURCE)]
    x, y, names = make_styled(
        mnist.x_train, mnist.y_train, styled_draws, seed + SEED_OFFSET, styles=TRAINING_MIX
    )
    cap = min(STYLED_PER_DIGIT, per_digit)
    kept = np.concatenate([np.flatnonzero(y == d)[:cap] for d in range(10)]).astype(int)
    images.append(x[kept])
    labels.append(y[kept].astype(np.int64))
    sources.append(names[kept].astype(str))
    return np.concatenate(images), np.concatenate(labels), np.concatenate(sources)


def features_of(model: Any, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, F) float32: what the classifier (layer "probabilities") reads."""
    import keras

    reader = keras.Model(model.input, model.get_layer("probabilities").input)
    chunks = [
        np.asarray(reader(images[i : i + batch_size].astype(np.float32) / 255.0, training=False))
        for i in range(0, len(images), batch_size)
    ]
    return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)


def build_index(
    model: Any, model_sha256: str, mnist: Mnist, seed: int, *, dry_run: bool = False
) -> NeighbourIndex:
    """The index for ``model`` (whose file has ``model_sha256``), from ``mnist``'s training set."""
    per_digit = DRY_RUN_PER_DIGIT if dry_run else PER_DIGIT
    draws = DRY_RUN_STYLED_DRAWS if dry_run else STYLED_DRAWS
    images, labels, sources = select(mnist, seed, per_digit, draws)
    features = features_of(model, images)
    features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-9)
    return NeighbourIndex(images, labels, features, sources, model_sha256)


def write_beside(
    model: Any, model_path: Path, mnist: Mnist, seed: int, *, dry_run: bool = False
) -> dict:
    """Build the index for the model saved at ``model_path``, write it beside it and record it
    in the ``metrics.json`` there (which must exist: the run's report). Returns the record."""
    from digitpad.nearest import index_record

    model_path = Path(model_path)
    model_sha256 = sha256_file(model_path)
    index = build_index(model, model_sha256, mnist, seed, dry_run=dry_run)
    path = model_path.with_name(NEIGHBOURS_FILENAME)
    write_index(path, index)
    record = index_record(path, model_sha256)
    metrics_path = model_path.with_name(METRICS_FILENAME)
    metrics = read_json(metrics_path) or {}
    metrics[METRICS_KEY] = record
    write_json(metrics_path, metrics)
    print(f"neighbours: {len(index.labels)} training digits indexed in {path}")
    return record


def rebuild(run_or_model: str | Path, data: str | None, out: str | Path | None, seed: int) -> Path:
    """``python train_model.py neighbours``: the index for a run's model (or a ``.keras``),
    beside it and recorded in its ``metrics.json``; with ``out``, into that folder instead (for
    the shipped model: assets/ changes only through ``ship --index-only``)."""
    from digitpad import ASSETS_DIR
    from digitpad.nearest import index_record

    target = Path(run_or_model)
    model_path = target / MODEL_FILENAME if target.is_dir() else target
    if out is None and model_path.resolve().parent == ASSETS_DIR:
        raise OutputError(
            f"{model_path} is the shipped model: write its index elsewhere (--out DIR), "
            f"then `python train_model.py ship DIR --index-only`."
        )
    model = load_keras_model(model_path)  # SHA-256 checked against its metrics.json
    mnist = load_mnist(data)
    if out is None:
        write_beside(model, model_path, mnist, seed)
        return model_path.with_name(NEIGHBOURS_FILENAME)
    out = output_folder(out)  # never inside assets/
    path = out / NEIGHBOURS_FILENAME
    model_sha256 = sha256_file(model_path)
    write_index(path, build_index(model, model_sha256, mnist, seed))
    write_json(out / f"{Path(NEIGHBOURS_FILENAME).stem}.json", index_record(path, model_sha256))
    print(f"neighbours: wrote {path} for {model_path}")
    return path
