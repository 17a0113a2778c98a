"""Fine-tune the shipped model on one person's digits, and measure whether it helped.

    python train_model.py --extra-data DIR --fine-tune [--model PATH] [--out DIR]

1. The person's digits (a collection folder written by the app, or an exported ``.npz``) are
   split, seeded and stratified by digit, into training digits and held-out digits. With fewer
   than ``MIN_DIGITS`` there is nothing worth holding out, and it stops with a clear message.
2. *Before*: the starting model's accuracy on the MNIST test set and on the held-out digits.
3. A few epochs at a low learning rate on the person's training digits, repeated so that they
   make up ``personal_share`` of every epoch, mixed with a random subset of MNIST's training set
   so that the model does not forget MNIST, and with drawings that are no digit
   (digitpad.outliers) so that it keeps saying "not sure" about them; with the usual
   augmentation. Batch normalisation stays in inference mode (its statistics are MNIST's; a few
   dozen digits would skew them).
   The held-out digits are never trained on and never used to choose anything.
4. *After*: the same two numbers. ``out/`` gets the model (``digitpad.keras``), its report
   (``metrics.json`` and figures, so the app's SHA-256 check accepts it) and ``fine_tune.json``
   (before, after, per-digit results on the held-out digits, config).

The default ``out`` is ``runs/fine-tune/``, never the shipped model; serve the result with
``python demo.py --model runs/fine-tune/digitpad.keras``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digitpad import DEFAULT_MODEL_PATH, REPO_DIR
from digitpad.data import NUM_CLASSES, DataError, describe, load_mnist
from digitpad.train import TrainConfig

log = logging.getLogger(__name__)

DEFAULT_OUT = REPO_DIR / "runs" / "fine-tune"
MIN_DIGITS = 10  # below this, a held-out part would be too small to say anything
MIN_HELDOUT = 3
DRY_RUN_MNIST_MIX = 256


class NotEnoughDigits(DataError):
    """Too few of the person's digits to train on some and hold some out."""


@dataclass(frozen=True)
class FineTuneConfig:
    """Everything that determines a fine-tune; saved in fine_tune.json and metrics.json."""

    extra_data: str  # collection folder or exported .npz
    model: str = str(DEFAULT_MODEL_PATH)  # the model to start from
    data: str | None = None  # MNIST: None downloads through Keras, else .npz or IDX folder
    out: str = str(DEFAULT_OUT)
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 1e-4  # start of a cosine decay; the full training peaks at 2e-3
    seed: int = 42
    holdout_fraction: float = 0.25  # of the person's digits, held out to measure
    mnist_mix: int = 6000  # random MNIST training images mixed into every epoch
    personal_share: float = 0.25  # the person's (repeated) digits' share of every epoch
    outliers: float = TrainConfig.outliers  # non-digits per image of the mix: it stays unsure
    outlier_weight: float = TrainConfig.outlier_weight
    augment: bool = True
    dry_run: bool = False  # a few hundred MNIST images and one epoch

    def to_json(self) -> dict:
        return {"fine_tune": True, **dataclasses.asdict(self)}


def holdout_split(labels: np.ndarray, fraction: float, seed: int, *, source: str = "the extra data") -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held_out) with ``round(fraction * N)`` (at least MIN_HELDOUT) held out.

    Stratified where the counts allow: each digit gives up the same share of its examples, ties
    broken at random (seeded); a digit seen only once stays in training unless ``fraction`` is
    about a half. Raises :class:`NotEnoughDigits` when there are too few digits for both parts.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the held-out fraction must be in (0, 1), got {fraction}")
    n_held = max(MIN_HELDOUT, int(round(n * fraction)))
    if n < MIN_DIGITS:
        raise NotEnoughDigits(
            f"{source} holds {n} labelled digit{'s' if n != 1 else ''}; fine-tuning needs at least "
            f"{MIN_DIGITS}, so that some can be held out to measure whether it helped. Label more "
            f"digits (saved with digitpad.collect) and run again."
        )
    if n - n_held < MIN_HELDOUT:
        raise NotEnoughDigits(
            f"holding out {fraction:.0%} of {source}'s {n} digits leaves {n - n_held} to train on; "
            f"lower --holdout or label more digits."
        )
    rng = np.random.default_rng(seed)
    quantile = np.empty(n)
    for digit in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == digit))
        quantile[members] = (np.arange(len(members)) + 0.5) / len(members)  # (rank + 0.5) / count
    order = np.lexsort((rng.random(n), quantile))  # by quantile, ties at random
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def fine_tune(config: FineTuneConfig) -> dict:
    """Run the whole fine-tune; return what it writes to ``out/fine_tune.json``."""
    from digitpad.collect import load_digits

    # The person's digits first, with numpy only: a refusal comes before TensorFlow loads.
    x_person, y_person = load_digits(config.extra_data)
    train_idx, held_idx = holdout_split(y_person, config.holdout_fraction, config.seed, source=config.extra_data)

    import keras

    from digitpad.model import compile_model, save_for_serving
    from digitpad.predictor import load_keras_model, sha256_of
    from digitpad.report import evaluate_and_report, predict_probabilities
    from digitpad.train import (DRY_RUN_NOT_DIGITS, DRY_RUN_TEST_IMAGES, DRY_RUN_TRAIN_IMAGES, MODEL_FILENAME,
                                add_outliers, make_dataset, subsample)

    keras.utils.set_random_seed(config.seed)  # the split above is seeded with it too
    print(f"seed: {config.seed}")
    model_path = Path(config.model)
    base = load_keras_model(model_path)  # SHA-256 checked against the metrics.json beside it
    base_sha256 = sha256_of(model_path)
    mnist = load_mnist(config.data)
    full_checksum = mnist.checksum
    epochs, mnist_mix = config.epochs, config.mnist_mix
    if config.dry_run:
        mnist = subsample(mnist, DRY_RUN_TRAIN_IMAGES, DRY_RUN_TEST_IMAGES, config.seed)
        epochs, mnist_mix = 1, min(mnist_mix, DRY_RUN_MNIST_MIX)
    print(describe(mnist))

    x_own, y_own = x_person[train_idx], y_person[train_idx]
    x_held, y_held = x_person[held_idx], y_person[held_idx]
    print(f"your digits: {len(y_person)} from {config.extra_data}: {len(y_own)} to train on, "
          f"{len(y_held)} held out (stratified, seed {config.seed})")
    print("  per digit (train/held out): " + " ".join(
        f"{d}:{np.sum(y_own == d)}/{np.sum(y_held == d)}" for d in range(NUM_CLASSES)))

    def measure(model) -> dict:
        mnist_pred = predict_probabilities(model, mnist.x_test).argmax(axis=1)
        held_pred = predict_probabilities(model, x_held).argmax(axis=1)
        return {
            "mnist_test_accuracy": round(float(np.mean(mnist_pred == mnist.y_test)), 5),
            "mnist_test_errors": int(np.sum(mnist_pred != mnist.y_test)),
            "heldout_accuracy": round(float(np.mean(held_pred == y_held)), 5),
            "heldout_errors": int(np.sum(held_pred != y_held)),
            "heldout_predictions": held_pred.astype(int).tolist(),
        }

    before = measure(base)
    print(f"before: MNIST test {before['mnist_test_accuracy']:.2%}, "
          f"your held-out digits {before['heldout_accuracy']:.2%}")

    # The mix: a random MNIST subset plus the person's digits repeated to personal_share.
    rng = np.random.default_rng(config.seed)
    n_mnist = min(mnist_mix, len(mnist.x_train))
    pick = rng.choice(len(mnist.x_train), size=n_mnist, replace=False)
    share = config.personal_share
    repeats = max(1, int(round(share / (1.0 - share) * n_mnist / len(y_own)))) if n_mnist else 1
    x_mix = np.concatenate([mnist.x_train[pick], np.tile(x_own, (repeats, 1, 1))])
    y_mix = np.concatenate([mnist.y_train[pick], np.tile(y_own, repeats)])
    print(f"training mix: {n_mnist} MNIST training images + your {len(y_own)} digits x {repeats} "
          f"= {len(y_mix)} per epoch, {epochs} epoch(s), learning rate {config.learning_rate:g}")
    n_outliers = int(round(config.outliers * len(y_mix)))
    if n_outliers:  # without them, a fine-tune would unlearn "not sure" for non-digits
        x_mix, y_mix = add_outliers(x_mix, y_mix, n_outliers, config.seed)
    dataset = make_dataset(x_mix, y_mix, config.batch_size, shuffle=True, augment=config.augment, seed=config.seed)
    total_steps = max(1, epochs * int(np.ceil(len(y_mix) / config.batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total_steps, alpha=0.1)

    model = base
    frozen = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in frozen:
        layer.trainable = False  # Keras 3: a frozen BatchNormalization runs in inference mode
    compile_model(model, schedule, config.outlier_weight)
    started = time.perf_counter()
    history = model.fit(dataset, epochs=epochs, verbose=1 if sys.stdout.isatty() else 2)
    train_seconds = time.perf_counter() - started
    for layer in frozen:
        layer.trainable = True  # saved as it came: trainable by the next run

    out = Path(config.out)
    final_path = out / MODEL_FILENAME
    tuned = save_for_serving(model, final_path)
    print(f"saved {final_path} ({final_path.stat().st_size / 1e6:.2f} MB)")

    after = measure(tuned)
    per_digit = {
        str(d): {
            "n": int(np.sum(y_held == d)),
            "right_before": int(np.sum((y_held == d) & (np.asarray(before["heldout_predictions"]) == d))),
            "right_after": int(np.sum((y_held == d) & (np.asarray(after["heldout_predictions"]) == d))),
        }
        for d in range(NUM_CLASSES) if np.any(y_held == d)
    }
    training = {
        "epochs_run": len(history.history["loss"]),
        "train_seconds": round(train_seconds, 1),
        "n_mnist_mix": int(n_mnist),
        "n_personal": int(len(y_person)),
        "n_personal_train": int(len(y_own)),
        "n_heldout": int(len(y_held)),
        "personal_repeats": int(repeats),
        "n_outliers": n_outliers,
        "steps": int(total_steps),
        "fine_tune_history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        "data_sha256_full": full_checksum,
        "base_model": {"path": str(model_path), "sha256": base_sha256},
    }
    metrics = evaluate_and_report(tuned, final_path, mnist, out, config=config.to_json(), training=training,
                                  not_digits_per_family=DRY_RUN_NOT_DIGITS if config.dry_run else None)
    summary = {
        "before": before,
        "after": after,
        "heldout_labels": y_held.astype(int).tolist(),
        "heldout_per_digit": per_digit,
        "n_mnist_test": int(len(mnist.y_test)),
        "n_heldout": int(len(y_held)),
        "n_personal_train": int(len(y_own)),
        "base_model": training["base_model"],
        "model": {"path": str(final_path), "sha256": metrics["model"]["sha256"], "bytes": metrics["model"]["bytes"]},
        "data": {"extra": str(config.extra_data), "mnist": mnist.source, "mnist_sha256": mnist.checksum},
        "training": training,
        "config": config.to_json(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    tmp = out / "fine_tune.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, out / "fine_tune.json")
    print(format_comparison(summary))
    print(f"wrote {out / 'fine_tune.json'}; serve it with: python demo.py --model {final_path}")
    return summary


def format_comparison(summary: dict) -> str:
    """The before/after table printed at the end."""
    before, after = summary["before"], summary["after"]
    rows = [
        (f"MNIST test ({summary['n_mnist_test']} digits)", "mnist_test_accuracy", "mnist_test_errors"),
        (f"your held-out digits ({summary['n_heldout']})", "heldout_accuracy", "heldout_errors"),
    ]
    lines = [f"\n{'':34}{'before':>16}{'after':>16}"]
    for name, accuracy, errors in rows:
        lines.append(f"{name:34}{before[accuracy]:>9.2%} ({before[errors]:>3})"
                     f"{after[accuracy]:>9.2%} ({after[errors]:>3})")
    lines.append(f"(accuracy, errors in brackets; one held-out digit is {1 / summary['n_heldout']:.1%}, "
                 f"so a change of a digit or two is noise)")
    return "\n".join(lines)
