"""Fit a model on MNIST, evaluate it once on the test set, write the report, save the model.

The test set is touched once, after training: early stopping and the best checkpoint are chosen
on a stratified validation slice of the training set.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitpad import ASSETS_DIR
from digitpad.data import Mnist, describe, load_mnist, stratified_split

log = logging.getLogger(__name__)

MODEL_FILENAME = "digitpad.keras"
DRY_RUN_TRAIN_IMAGES = 512
DRY_RUN_TEST_IMAGES = 300
DRY_RUN_NOT_DIGITS = 40  # per family, in the report's not-a-digit check (500 otherwise)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; saved in metrics.json beside the model."""

    arch: str = "default"
    epochs: int = 16
    batch_size: int = 128
    learning_rate: float = 2e-3  # peak of the warm-up + cosine-decay schedule
    seed: int = 42
    val_split: float = 0.1
    augment: bool = True
    patience: int = 5  # early stopping on validation loss
    data: str | None = None  # None: keras.datasets.mnist (download)
    extra_data: str | None = None  # saved digits (folder or .npz) added to the training split
    outliers: float = 0.15  # non-digits (digitpad.outliers) added, per training digit; 0: none
    outlier_weight: float = 0.5  # of their loss term (digitpad.model.outlier_exposure_loss)
    out: str = str(ASSETS_DIR)
    dry_run: bool = False

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool, augment: bool, seed: int):
    """tf.data pipeline: uint8 (N, 28, 28) -> float32 [0, 1] batches, augmented if asked."""
    import tensorflow as tf

    from digitpad.augment import augment_batch

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def to_unit(images, labels):
        images = tf.cast(images, tf.float32) / 255.0
        return (augment_batch(images) if augment else images), labels

    return ds.map(to_unit, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def add_outliers(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Append ``count`` drawings that are no digit (digitpad.outliers, seeded), labelled
    ``NOT_A_DIGIT``; the labels become int32."""
    from digitpad.model import NOT_A_DIGIT
    from digitpad.outliers import TRAIN_FAMILIES, make_outliers

    started = time.perf_counter()
    x_out = make_outliers(count, seed)
    print(f"not digits: {count} drawings ({', '.join(TRAIN_FAMILIES)}) added to the training split, "
          f"made in {time.perf_counter() - started:.0f} s")
    return np.concatenate([x, x_out]), np.concatenate([y.astype(np.int32), np.full(count, NOT_A_DIGIT, np.int32)])


def distribution_strategy():
    """MirroredStrategy when more than one GPU is visible; otherwise the default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        print(f"{len(gpus)} GPUs visible: training with MirroredStrategy")
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def subsample(mnist: Mnist, n_train: int, n_test: int, seed: int) -> Mnist:
    """A small stratified slice of the data, for --dry-run."""
    rng = np.random.default_rng(seed)
    def pick(labels, n):
        per_class = max(1, n // 10)
        idx = [rng.permutation(np.flatnonzero(labels == d))[:per_class] for d in range(10)]
        return np.sort(np.concatenate(idx))
    tr, te = pick(mnist.y_train, n_train), pick(mnist.y_test, n_test)
    return dataclasses.replace(
        mnist, x_train=mnist.x_train[tr], y_train=mnist.y_train[tr],
        x_test=mnist.x_test[te], y_test=mnist.y_test[te], source=f"{mnist.source} (dry-run subset)",
    )


def train(config: TrainConfig) -> dict:
    """Run the whole pipeline; return the metrics written to ``out/metrics.json``."""
    import keras

    from digitpad.model import build_model, compile_model, save_for_serving
    from digitpad.report import evaluate_and_report, measure_inference_speed

    keras.utils.set_random_seed(config.seed)  # once, first thing: Python, NumPy and TF
    print(f"seed: {config.seed}")
    mnist = load_mnist(config.data)
    full_checksum = mnist.checksum
    if config.extra_data:  # loaded before anything slow, so a bad path fails at once
        from digitpad.collect import load_digits

        x_extra, y_extra = load_digits(config.extra_data)
    epochs = config.epochs
    if config.dry_run:
        mnist = subsample(mnist, DRY_RUN_TRAIN_IMAGES, DRY_RUN_TEST_IMAGES, config.seed)
        epochs = 1
    print(describe(mnist))

    train_idx, val_idx = stratified_split(mnist.y_train, config.val_split, config.seed)
    x_train, y_train = mnist.x_train[train_idx], mnist.y_train[train_idx]
    x_val, y_val = mnist.x_train[val_idx], mnist.y_train[val_idx]
    if config.extra_data:  # training only: validation and test stay MNIST's
        x_train, y_train = np.concatenate([x_train, x_extra]), np.concatenate([y_train, y_extra])
        print(f"extra data: {len(y_extra)} digits from {config.extra_data} added to the training split")
    n_outliers = int(round(config.outliers * len(x_train)))
    if n_outliers:  # after the split: validation and test stay digits only
        x_train, y_train = add_outliers(x_train, y_train, n_outliers, config.seed)
    print(f"split: {len(x_train)} train / {len(x_val)} validation (stratified, seed {config.seed}); "
          f"{len(mnist.x_test)} test, used once at the end")

    train_ds = make_dataset(x_train, y_train, config.batch_size, shuffle=True, augment=config.augment, seed=config.seed)
    val_ds = make_dataset(x_val, y_val, 1024, shuffle=False, augment=False, seed=config.seed)
    steps_per_epoch = int(np.ceil(len(x_train) / config.batch_size))
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

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".train-", dir=out))  # checkpoint; never the shipped file
    checkpoint = work / "best.keras"
    callbacks = [
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.CSVLogger(str(out / "history.csv")),
    ]
    started = time.perf_counter()
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    train_seconds = time.perf_counter() - started
    epochs_run = len(history.history["loss"])
    best_epoch = int(np.argmin(history.history["val_loss"])) + 1

    final_path = out / MODEL_FILENAME
    model = save_for_serving(keras.models.load_model(checkpoint, compile=False, safe_mode=True), final_path)
    shutil.rmtree(work, ignore_errors=True)
    print(f"saved {final_path} ({final_path.stat().st_size / 1e6:.2f} MB), best epoch {best_epoch}/{epochs_run}")

    training = {
        "epochs_run": epochs_run,
        "best_epoch": best_epoch,
        "train_seconds": round(train_seconds, 1),
        "train_images_per_second": round(epochs_run * len(x_train) / train_seconds, 1),
        "n_train": int(len(x_train)),  # images trained on: digits and the n_outliers non-digits
        "n_val": int(len(x_val)),
        "final_val_accuracy": float(history.history["val_accuracy"][best_epoch - 1]),
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "data_sha256_full": full_checksum,
        "n_extra": int(len(y_extra)) if config.extra_data else 0,
        "n_outliers": n_outliers,
    }
    training["inference_images_per_second"] = measure_inference_speed(model, mnist.x_test)
    return evaluate_and_report(
        model, final_path, mnist, out, config=config.to_json(), training=training,
        not_digits_per_family=DRY_RUN_NOT_DIGITS if config.dry_run else None,
    )


def evaluate(model_path: Path, data: str | None, out: Path) -> dict:
    """Re-evaluate a saved model on the test set and write the report into ``out``."""
    from digitpad.predictor import load_keras_model
    from digitpad.report import evaluate_and_report, measure_inference_speed

    model = load_keras_model(model_path)
    mnist = load_mnist(data)
    print(describe(mnist))
    out.mkdir(parents=True, exist_ok=True)
    extra = {"inference_images_per_second": measure_inference_speed(model, mnist.x_test)}
    return evaluate_and_report(model, model_path, mnist, out, config={"evaluate": str(model_path), "data": data}, training=extra)
