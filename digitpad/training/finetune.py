"""Fine-tune the shipped model on one person's digits, and measure whether it helped.

    python train_model.py fine-tune DIGITS [--model PATH] [--out DIR]

1. The person's digits (a collection folder written by the app, or an exported ``.npz``) are
   split, seeded and stratified by digit, into training digits and held-out digits. With fewer
   than ``MIN_DIGITS`` there is nothing worth holding out, and it stops with a clear message.
2. *Before*: the starting model's accuracy on the MNIST test set and on the held-out digits.
3. A few epochs at a low learning rate on the person's training digits, repeated so that they
   make up ``personal_share`` of every epoch, mixed with a random subset of MNIST's training set
   so that the model does not forget MNIST, and with drawings that are no digit
   (digitpad.training.outliers) so that it keeps saying "not sure" about them; with the usual
   augmentation. Batch normalisation stays in inference mode (its statistics are MNIST's; a few
   dozen digits would skew them).
   The held-out digits are never trained on and never used to choose anything.
4. *After*: the same two numbers. ``out/`` gets the model (``digitpad.keras``), its report
   (``metrics.json`` and figures, so the app's SHA-256 check accepts it) and ``fine_tune.json``
   (before, after, per-digit results on the held-out digits, config).

It writes into a run folder under ``runs/``, never over the shipped model; serve the result with
``python demo.py --model runs/<name>/digitpad.keras``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.collection import load_digits
from digitpad.files import (
    MODEL_FILENAME,
    DataError,
    load_keras_model,
    output_folder,
    save_for_serving,
    sha256_file,
    write_json,
)
from digitpad.training.config import DRY_RUN_MNIST_MIX, FineTuneConfig
from digitpad.training.data import Mnist
from digitpad.training.train import add_neighbours, open_run, report_run
from digitpad.verdict import NUM_CLASSES

MIN_DIGITS = 10  # below this, a held-out part would be too small to say anything
MIN_HELDOUT = 3
MNIST_TOLERANCE = 0.001  # a fine-tune costing MNIST more accuracy than this is flagged


class NotEnoughDigits(DataError):
    """Too few of the person's digits to train on some and hold some out."""


@dataclass(frozen=True)
class Person:
    """One person's digits, split into the part trained on and the part held out to measure."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_held: np.ndarray
    y_held: np.ndarray
    n_total: int


def holdout_split(
    labels: np.ndarray, fraction: float, seed: int, *, source: str = "the extra data"
) -> tuple[np.ndarray, np.ndarray]:
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
            f"digits (saved with digitpad.collection) and run again."
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
    person = split_person(config)  # numpy only: a refusal comes before TensorFlow loads
    out = output_folder(config.out)
    opened = open_run(config.seed, config.data, config.dry_run)
    base = load_keras_model(config.model)  # SHA-256 checked against the metrics.json beside it
    before = measure(base, opened.mnist, person)
    print(
        f"before: MNIST test {before['mnist_test_accuracy']:.2%}, "
        f"your held-out digits {before['heldout_accuracy']:.2%}"
    )
    x_mix, y_mix, mix = training_mix(opened.mnist, person, config)
    epochs = 1 if config.dry_run else config.epochs
    history, seconds = fit_frozen(base, x_mix, y_mix, config, epochs)
    tuned = save_for_serving(base, out / MODEL_FILENAME)
    print(f"saved {out / MODEL_FILENAME} ({(out / MODEL_FILENAME).stat().st_size / 1e6:.2f} MB)")
    after = measure(tuned, opened.mnist, person)
    training = {
        "epochs_run": len(history["loss"]),
        "train_seconds": round(seconds, 1),
        **mix,
        "fine_tune_history": {k: [float(v) for v in values] for k, values in history.items()},
        "data_sha256_full": opened.full_checksum,
        "base_model": {"path": config.model, "sha256": sha256_file(config.model)},
    }
    metrics = report_run(
        tuned, out / MODEL_FILENAME, opened.mnist, out, config.to_json(), training, config.dry_run
    )
    metrics = add_neighbours(tuned, out, opened.mnist, config.seed, config.dry_run, metrics)
    summary = summarise(config, opened.mnist, person, before, after, training, metrics)
    write_json(out / "fine_tune.json", summary)
    print(format_comparison(summary))
    print(
        f"wrote {out / 'fine_tune.json'}; serve it with: "
        f"python demo.py --model {out / MODEL_FILENAME}"
    )
    return summary


def split_person(config: FineTuneConfig) -> Person:
    """The person's digits, split (stratified, seeded) into training and held-out digits."""
    x, y = load_digits(config.extra_data)
    train_idx, held_idx = holdout_split(
        y, config.holdout_fraction, config.seed, source=config.extra_data
    )
    person = Person(x[train_idx], y[train_idx], x[held_idx], y[held_idx], len(y))
    print(
        f"your digits: {person.n_total} from {config.extra_data}: {len(person.y_train)} to train "
        f"on, {len(person.y_held)} held out (stratified, seed {config.seed})"
    )
    print(
        "  per digit (train/held out): "
        + " ".join(
            f"{d}:{np.sum(person.y_train == d)}/{np.sum(person.y_held == d)}"
            for d in range(NUM_CLASSES)
        )
    )
    return person


def measure(model: Any, mnist: Mnist, person: Person) -> dict:
    """Accuracy on the MNIST test set and on the person's held-out digits."""
    from digitpad.training.report import predict_probabilities

    mnist_pred = predict_probabilities(model, mnist.x_test).argmax(axis=1)
    held_pred = predict_probabilities(model, person.x_held).argmax(axis=1)
    return {
        "mnist_test_accuracy": round(float(np.mean(mnist_pred == mnist.y_test)), 5),
        "mnist_test_errors": int(np.sum(mnist_pred != mnist.y_test)),
        "heldout_accuracy": round(float(np.mean(held_pred == person.y_held)), 5),
        "heldout_errors": int(np.sum(held_pred != person.y_held)),
        "heldout_predictions": held_pred.astype(int).tolist(),
    }


def training_mix(
    mnist: Mnist, person: Person, config: FineTuneConfig
) -> tuple[np.ndarray, np.ndarray, dict]:
    """A random MNIST subset plus the person's digits repeated to ``personal_share`` of it, plus
    non-digits (without them a fine-tune would unlearn "not sure" for scribbles)."""
    from digitpad.training.outliers import add_outliers

    rng = np.random.default_rng(config.seed)
    mnist_mix = min(config.mnist_mix, DRY_RUN_MNIST_MIX) if config.dry_run else config.mnist_mix
    n_mnist = min(mnist_mix, len(mnist.x_train))
    pick = rng.choice(len(mnist.x_train), size=n_mnist, replace=False)
    share = config.personal_share
    own = len(person.y_train)
    repeats = max(1, int(round(share / (1.0 - share) * n_mnist / own))) if n_mnist else 1
    x_mix = np.concatenate([mnist.x_train[pick], np.tile(person.x_train, (repeats, 1, 1))])
    y_mix = np.concatenate([mnist.y_train[pick], np.tile(person.y_train, repeats)])
    print(
        f"training mix: {n_mnist} MNIST training images + your {own} digits x {repeats} "
        f"= {len(y_mix)} per epoch, learning rate {config.learning_rate:g}"
    )
    n_outliers = int(round(config.outliers * len(y_mix)))
    if n_outliers:
        x_mix, y_mix = add_outliers(x_mix, y_mix, n_outliers, config.seed)
    record = {
        "n_mnist_mix": int(n_mnist),
        "n_personal": person.n_total,
        "n_personal_train": own,
        "n_heldout": int(len(person.y_held)),
        "personal_repeats": int(repeats),
        "n_outliers": n_outliers,
    }
    return x_mix, y_mix, record


def fit_frozen(
    model: Any, x: np.ndarray, y: np.ndarray, config: FineTuneConfig, epochs: int
) -> tuple[dict, float]:
    """A few epochs at a low, cosine-decayed learning rate, batch normalisation frozen in
    inference mode (its statistics are MNIST's; a few dozen digits would skew them). Returns
    the history and the seconds it took; ``model`` is changed in place."""
    import keras

    from digitpad.training.augment import make_dataset
    from digitpad.training.model import compile_model

    dataset = make_dataset(
        x, y, config.batch_size, shuffle=True, augment=config.augment, seed=config.seed
    )
    total_steps = max(1, epochs * int(np.ceil(len(y) / config.batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=total_steps, alpha=0.1
    )
    frozen = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in frozen:
        layer.trainable = False  # Keras 3: a frozen BatchNormalization runs in inference mode
    compile_model(model, schedule, config.outlier_weight)
    started = time.perf_counter()
    history = model.fit(
        dataset,
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself
        verbose=1 if sys.stdout.isatty() else 2,
    ).history
    seconds = time.perf_counter() - started
    for layer in frozen:
        layer.trainable = True  # saved as it came: trainable by the next run
    return history, seconds


def summarise(
    config: FineTuneConfig,
    mnist: Mnist,
    person: Person,
    before: dict,
    after: dict,
    training: dict,
    metrics: dict,
) -> dict:
    """The record written to ``fine_tune.json``: before, after, per digit, what was trained."""
    held = person.y_held
    per_digit = {
        str(d): {
            "n": int(np.sum(held == d)),
            "right_before": int(
                np.sum((held == d) & (np.asarray(before["heldout_predictions"]) == d))
            ),
            "right_after": int(
                np.sum((held == d) & (np.asarray(after["heldout_predictions"]) == d))
            ),
        }
        for d in range(NUM_CLASSES)
        if np.any(held == d)
    }
    out = Path(config.out)
    return {
        "before": before,
        "after": after,
        "heldout_labels": held.astype(int).tolist(),
        "heldout_per_digit": per_digit,
        "n_mnist_test": int(len(mnist.y_test)),
        "n_heldout": int(len(held)),
        "n_personal_train": int(len(person.y_train)),
        "base_model": training["base_model"],
        "model": {
            "path": str(out / MODEL_FILENAME),
            "sha256": metrics["model"]["sha256"],
            "bytes": metrics["model"]["bytes"],
        },
        "data": {
            "extra": str(config.extra_data),
            "mnist": mnist.source,
            "mnist_sha256": mnist.checksum,
        },
        "training": training,
        "config": config.to_json(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def format_comparison(summary: dict) -> str:
    """The before/after table printed at the end."""
    before, after = summary["before"], summary["after"]
    rows = [
        (
            f"MNIST test ({summary['n_mnist_test']} digits)",
            "mnist_test_accuracy",
            "mnist_test_errors",
        ),
        (f"your held-out digits ({summary['n_heldout']})", "heldout_accuracy", "heldout_errors"),
    ]
    lines = [f"\n{'':34}{'before':>16}{'after':>16}"]
    for name, accuracy, errors in rows:
        lines.append(
            f"{name:34}{before[accuracy]:>9.2%} ({before[errors]:>3})"
            f"{after[accuracy]:>9.2%} ({after[errors]:>3})"
        )
    lines.append(
        f"(accuracy, errors in brackets; one held-out digit is {1 / summary['n_heldout']:.1%}, "
        f"so a change of a digit or two is noise)"
    )
    warning = mnist_warning(before["mnist_test_accuracy"], after["mnist_test_accuracy"])
    return "\n".join(lines + ([warning] if warning else []))


def mnist_warning(before: float, after: float) -> str | None:
    """A plain warning when the fine-tune cost MNIST more than ``MNIST_TOLERANCE`` of accuracy:
    the model now reads other people's digits worse."""
    if round(before - after, 9) <= MNIST_TOLERANCE:  # (rounded: float subtraction)
        return None
    return (
        f"WARNING: MNIST test accuracy fell by {100 * (before - after):.2f} points "
        f"({before:.2%} -> {after:.2%}): this model reads other people's digits worse than the "
        "one it started from. Keep it for your own hand only, or label more digits and try again."
    )
