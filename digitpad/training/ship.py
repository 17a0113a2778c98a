"""Ship a run: make its model and report the ones in assets/, which the app serves.

``python train_model.py ship RUN`` is the only way to replace them. :func:`check_shippable` refuses a
dry run, a run not measured on all of MNIST's test images, a model whose SHA-256 is not the
one its ``metrics.json`` records, and a run whose neighbour index (digitpad.nearest) is missing
or built for another model; :func:`ship` then writes every file atomically, adding the model
converted for the LiteRT interpreter (digitpad.files.litert_model), which the app serves without
loading TensorFlow.

``python train_model.py ship DIR --index-only`` (:func:`ship_index`) ships a neighbour index
alone, for the model already shipped (``train_model.py neighbours assets/digitpad.keras --out
DIR`` builds it): refused unless it was built for that very model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitpad import ASSETS_DIR
from digitpad.files import (
    FULL_TEST_SET,
    LITERT_FILENAME,
    METRICS_FILENAME,
    MODEL_FILENAME,
    OutputError,
    file_record,
    litert_model,
    load_keras_model,
    read_json,
    recorded_sha256,
    sha256_file,
    write_atomic,
    write_json,
)
from digitpad.nearest import METRICS_KEY, NEIGHBOURS_FILENAME, index_record

# What a training run writes and what ships in assets/: the model, its report and figures.
SHIPPED_FILES = (
    MODEL_FILENAME,
    METRICS_FILENAME,
    NEIGHBOURS_FILENAME,  # the training digits its explanations show (digitpad.nearest)
    "history.csv",  # digitpad.training.report.HISTORY_FILENAME
    "history.png",
    "confusion.png",
    "samples.png",
    "misclassified.png",
    "not_digits.png",
    "styles.png",
)


def check_shippable(run: str | Path) -> dict:
    """The metrics of the run in folder ``run``, when its model may replace the shipped one: a
    full run (no dry run), measured on all of MNIST's test set, its file the one it measured.
    Raises :class:`OutputError` saying why not."""
    run = Path(run)
    metrics = read_json(run / METRICS_FILENAME) if (run / METRICS_FILENAME).is_file() else None
    if not (run / MODEL_FILENAME).is_file() or metrics is None:
        raise OutputError(
            f"{run} holds no trained model with its {METRICS_FILENAME}; pass the "
            "folder a `train_model.py train` or `fine-tune` run wrote."
        )
    if metrics.get("config", {}).get("dry_run"):
        raise OutputError(
            f"{run} is a dry run (a smoke test on a few hundred images): it never ships."
        )
    if metrics.get("n_test") != FULL_TEST_SET:
        raise OutputError(
            f"{run} was measured on {metrics.get('n_test')} test images, not all "
            f"{FULL_TEST_SET:,}: train with the full MNIST (--data mnist.npz)."
        )
    if recorded_sha256(run / MODEL_FILENAME) != sha256_file(run / MODEL_FILENAME):
        raise OutputError(
            f"{run / MODEL_FILENAME} is not the model its {METRICS_FILENAME} measured."
        )
    check_index(run, metrics)
    return metrics


def check_index(run: Path, metrics: dict) -> None:
    """The run's neighbour index is there, is the file its metrics.json records, and holds the
    features of the run's model. Raises :class:`OutputError` saying why not."""
    path, record = run / NEIGHBOURS_FILENAME, metrics.get(METRICS_KEY)
    rebuild = f"rebuild it: `python train_model.py neighbours {run} --data PATH/mnist.npz`"
    if not path.is_file() or not isinstance(record, dict):
        raise OutputError(f"{run} has no neighbour index ({NEIGHBOURS_FILENAME}): {rebuild}.")
    if record.get("sha256") != sha256_file(path):
        raise OutputError(f"{path} is not the index its {METRICS_FILENAME} records: {rebuild}.")
    model_sha256 = metrics["model"]["sha256"]
    if record.get("model_sha256") != model_sha256 or index_model(path) != model_sha256:
        raise OutputError(f"{path} was built for another model: {rebuild}.")


def index_model(path: Path) -> str | None:
    """The SHA-256 of the model an index file says it holds the features of; None if unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return str(data["model_sha256"])
    except (OSError, ValueError, KeyError):
        return None


def ship(run: str | Path, assets: str | Path = ASSETS_DIR) -> list[str]:
    """Replace the shipped model and its report in ``assets`` with those of the run in ``run``
    (checked by :func:`check_shippable`), and add the model converted for LiteRT, recorded in
    the shipped ``metrics.json``. Report files the run lacks are removed, so the report in
    ``assets`` is all the run's. Each file is replaced atomically, the metrics (which the app
    checks the models against) last. Returns what changed, one line per file."""
    run, assets = Path(run), Path(assets)
    metrics = check_shippable(run)
    litert = litert_model(load_keras_model(run / MODEL_FILENAME))
    write_atomic(assets / LITERT_FILENAME, litert)
    metrics["model"]["litert"] = file_record(assets / LITERT_FILENAME)
    done = [f"wrote {assets / LITERT_FILENAME} (the model for the LiteRT interpreter)"]
    for name in SHIPPED_FILES:
        source, target = run / name, assets / name
        if name == METRICS_FILENAME:
            continue
        if source.is_file():
            write_atomic(target, source.read_bytes())
            done.append(f"replaced {target}")
        elif target.exists():
            target.unlink()
            done.append(f"removed {target} (the run has none)")
    write_json(assets / METRICS_FILENAME, metrics)
    done.append(f"replaced {assets / METRICS_FILENAME}, with the LiteRT model's SHA-256")
    return done


def ship_index(folder: str | Path, assets: str | Path = ASSETS_DIR) -> list[str]:
    """Ship the neighbour index in ``folder`` for the model already in ``assets``: refused unless
    it holds that model's features (the SHA-256 the shipped ``metrics.json`` records, which is
    the shipped file's). Copies it and records it in the shipped ``metrics.json``."""
    folder, assets = Path(folder), Path(assets)
    source = folder / NEIGHBOURS_FILENAME
    metrics = (
        read_json(assets / METRICS_FILENAME) if (assets / METRICS_FILENAME).is_file() else None
    )
    if not source.is_file() or metrics is None:
        raise OutputError(f"{folder} holds no {NEIGHBOURS_FILENAME}, or {assets} no metrics.")
    model_sha256 = metrics.get("model", {}).get("sha256")
    if model_sha256 != sha256_file(assets / MODEL_FILENAME):
        raise OutputError(f"{assets / MODEL_FILENAME} is not the model its metrics record.")
    if index_model(source) != model_sha256:
        raise OutputError(f"{source} was built for another model than {assets / MODEL_FILENAME}.")
    write_atomic(assets / NEIGHBOURS_FILENAME, source.read_bytes())
    metrics[METRICS_KEY] = index_record(assets / NEIGHBOURS_FILENAME, model_sha256)
    write_json(assets / METRICS_FILENAME, metrics)
    return [
        f"replaced {assets / NEIGHBOURS_FILENAME}",
        f"recorded it in {assets / METRICS_FILENAME}",
    ]
