"""Fit a model on MNIST, evaluate it once on the test set, write the report, save the model.

    python train_model.py train --data ../shared/data/mnist.npz     # -> runs/<name>/

The test set is touched once, after training: early stopping and the best checkpoint are chosen
on a stratified validation slice of the training set. A run writes into its own folder under
``runs/`` (never ``assets/``: ``python train_model.py ship RUN`` replaces the shipped model).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.collection import load_digits, stratified_split
from digitpad.files import MODEL_FILENAME, load_keras_model, output_folder, save_for_serving
from digitpad.training.config import (
    DRY_RUN_NOT_DIGITS,
    DRY_RUN_STYLE_DIGITS,
    DRY_RUN_TEST_IMAGES,
    DRY_RUN_TRAIN_IMAGES,
    TrainConfig,
)
from digitpad.training.data import Mnist, describe, load_mnist, subsample


@dataclass(frozen=True)
class Opened:
    """What every run starts from: the data to use, and the checksum of the full data set."""

    mnist: Mnist  # a dry run's small slice, or all of it
    full_checksum: str  # names the data set even when a dry run used a slice of it


@dataclass(frozen=True)
class Split:
    """The images a training run fits on and validates on."""

    x_train: np.ndarray
    y_train: np.ndarray  # int32 once non-digits (NOT_A_DIGIT) are in
    x_val: np.ndarray
    y_val: np.ndarray
    n_extra: int
    n_outliers: int
    n_styled: int


def open_run(seed: int, data: str | None, dry_run: bool) -> Opened:
    """The shared opening of training and fine-tuning: seed everything once, first thing; load
    MNIST; for a dry run, keep a small stratified slice; print a look at the data."""
    import keras

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow
    print(f"seed: {seed}")
    mnist = load_mnist(data)
    full_checksum = mnist.checksum
    if dry_run:
        mnist = subsample(mnist, DRY_RUN_TRAIN_IMAGES, DRY_RUN_TEST_IMAGES, seed)
    print(describe(mnist))
    return Opened(mnist, full_checksum)


def train(config: TrainConfig) -> dict:
    """Run the whole pipeline; return the metrics written to ``out/metrics.json``."""
    extra = load_digits(config.extra_data) if config.extra_data else None  # a bad path fails now
    out = output_folder(config.out)  # refused before anything slow: never assets/
    opened = open_run(config.seed, config.data, config.dry_run)
    split = make_split(opened.mnist, config, extra)
    epochs = 1 if config.dry_run else config.epochs
    model = build_compiled(
        config, steps_per_epoch=int(np.ceil(len(split.x_train) / config.batch_size)), epochs=epochs
    )
    model, fitted = fit(model, split, config, epochs, out)
    training = {
        **fitted,
        "data_sha256_full": opened.full_checksum,
        "n_extra": split.n_extra,
        "n_outliers": split.n_outliers,
        "n_styled": split.n_styled,
    }
    metrics = report_run(
        model, out / MODEL_FILENAME, opened.mnist, out, config.to_json(), training, config.dry_run
    )
    return add_neighbours(model, out, opened.mnist, config.seed, config.dry_run, metrics)


def add_neighbours(
    model: Any, out: Path, mnist: Mnist, seed: int, dry_run: bool, metrics: dict
) -> dict:
    """The run's neighbour index (digitpad.training.neighbours), written beside its model and
    recorded in its metrics.json; ``metrics`` with that record."""
    from digitpad.nearest import METRICS_KEY
    from digitpad.training.neighbours import write_beside

    record = write_beside(model, out / MODEL_FILENAME, mnist, seed, dry_run=dry_run)
    return {**metrics, METRICS_KEY: record}


def make_split(
    mnist: Mnist, config: TrainConfig, extra: tuple[np.ndarray, np.ndarray] | None
) -> Split:
    """Training and validation images: MNIST's training set split stratified. The training part
    alone gets the person's digits, digits drawn on the pad in the world's styles, and the
    non-digits (validation and test stay MNIST's)."""
    from digitpad.training.outliers import add_outliers

    train_idx, val_idx = stratified_split(mnist.y_train, config.val_split, config.seed)
    x_train, y_train = mnist.x_train[train_idx], mnist.y_train[train_idx]
    x_val, y_val = mnist.x_train[val_idx], mnist.y_train[val_idx]
    n_digits = len(x_train)
    if config.styles:  # from the training digits only: the validation ones stay unseen
        x_train, y_train = add_styled(
            x_train, y_train, int(round(config.styles * n_digits)), config.seed
        )
    n_styled = len(x_train) - n_digits
    n_extra = 0
    if extra is not None:
        x_train, y_train = np.concatenate([x_train, extra[0]]), np.concatenate([y_train, extra[1]])
        n_extra = len(extra[1])
        print(f"extra data: {n_extra} digits from {config.extra_data} added to the training split")
    # Per training digit, the ones drawn on the pad included: counted per MNIST digit alone, the
    # styles diluted the non-digits' share of an epoch, and a held-out scribble turned "sure"
    # (docs/measurements.md, "Drawings that are no digit").
    n_outliers = int(round(config.outliers * len(x_train)))
    if n_outliers:
        x_train, y_train = add_outliers(x_train, y_train, n_outliers, config.seed)
    print(
        f"split: {len(x_train)} train / {len(x_val)} validation (stratified, seed {config.seed}); "
        f"{len(mnist.x_test)} test, used once at the end"
    )
    return Split(x_train, y_train, x_val, y_val, n_extra, n_outliers, n_styled)


def add_styled(
    x: np.ndarray, y: np.ndarray, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``y`` with ``count`` of their digits drawn again on the pad (digitpad.training.styles'
    training mix: each style, and as many as written)."""
    from digitpad.training.styles import TRAINING_MIX, make_styled

    started = time.perf_counter()
    x_styled, y_styled, _ = make_styled(x, y, count, seed, styles=TRAINING_MIX)
    print(
        f"styles: {len(y_styled)} digits drawn on the pad (half in the styles MNIST lacks) "
        f"added to the training split, made in {time.perf_counter() - started:.0f} s"
    )
    return np.concatenate([x, x_styled]), np.concatenate([y.astype(np.int32), y_styled])


def build_compiled(config: TrainConfig, steps_per_epoch: int, epochs: int) -> Any:
    """A fresh model of ``config.arch``, compiled with a warm-up + cosine-decay schedule (under
    MirroredStrategy when several GPUs are visible); its summary printed."""
    import keras

    from digitpad.training.model import build_model, compile_model

    total_steps = max(1, epochs * steps_per_epoch)
    warmup = min(steps_per_epoch, total_steps // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
        decay_steps=max(1, total_steps - warmup),
        alpha=0.01,
    )
    with distribution_strategy().scope():
        model = compile_model(build_model(config.arch), schedule, config.outlier_weight)
    model.summary(print_fn=print)
    return model


def distribution_strategy() -> Any:
    """MirroredStrategy when more than one GPU is visible; otherwise the default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        print(f"{len(gpus)} GPUs visible: training with MirroredStrategy")
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def fit(model: Any, split: Split, config: TrainConfig, epochs: int, out: Path) -> tuple[Any, dict]:
    """Fit with early stopping; keep the epoch with the best validation loss, saved for serving
    as ``out/digitpad.keras``. Returns that model and the training record."""
    import keras

    from digitpad.training.augment import make_dataset

    train_ds = make_dataset(
        split.x_train,
        split.y_train,
        config.batch_size,
        shuffle=True,
        augment=config.augment,
        seed=config.seed,
    )
    val_ds = make_dataset(
        split.x_val, split.y_val, 1024, shuffle=False, augment=False, seed=config.seed
    )
    work = Path(tempfile.mkdtemp(prefix=".train-", dir=out))  # the checkpoint, while it runs
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            work / "best.keras", monitor="val_loss", save_best_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
    ]
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself; Keras' own would be ignored
        verbose=1 if sys.stdout.isatty() else 2,
    ).history
    seconds = time.perf_counter() - started
    best = keras.models.load_model(work / "best.keras", compile=False, safe_mode=True)
    model = save_for_serving(best, out / MODEL_FILENAME)
    shutil.rmtree(work, ignore_errors=True)
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    print(
        f"saved {out / MODEL_FILENAME} ({(out / MODEL_FILENAME).stat().st_size / 1e6:.2f} MB), "
        f"best epoch {best_epoch}/{len(history['loss'])}"
    )
    return model, {
        "epochs_run": len(history["loss"]),
        "best_epoch": best_epoch,
        "train_seconds": round(seconds, 1),
        "train_images_per_second": round(len(history["loss"]) * len(split.x_train) / seconds, 1),
        "n_train": int(len(split.x_train)),  # images trained on: digits and non-digits
        "n_val": int(len(split.x_val)),
        "final_val_accuracy": float(history["val_accuracy"][best_epoch - 1]),
        "history": {k: [float(v) for v in values] for k, values in history.items()},
    }


def report_run(
    model: Any,
    model_path: Path,
    mnist: Mnist,
    out: Path,
    config: dict,
    training: dict,
    dry_run: bool,
) -> dict:
    """Measure batched inference speed, then evaluate once and write the report."""
    from digitpad.training.report import evaluate_and_report, measure_inference_speed

    training = {
        **training,
        "inference_images_per_second": measure_inference_speed(model, mnist.x_test),
    }
    return evaluate_and_report(
        model,
        model_path,
        mnist,
        out,
        config=config,
        training=training,
        not_digits_per_family=DRY_RUN_NOT_DIGITS if dry_run else None,
        digits_per_style=DRY_RUN_STYLE_DIGITS if dry_run else None,
    )


def evaluate(model_path: Path, data: str | None, out: Path) -> dict:
    """Re-evaluate a saved model on the test set and write the report into ``out``."""
    out = output_folder(out)
    model = load_keras_model(model_path)
    mnist = load_mnist(data)
    print(describe(mnist))
    metrics = report_run(
        model,
        Path(model_path),
        mnist,
        out,
        {"evaluate": str(model_path), "data": data},
        {},
        dry_run=False,
    )
    print(f"wrote the report of {model_path} to {out}/ (metrics.json and the figures)")
    return metrics
