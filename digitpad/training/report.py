"""The training report: ``metrics.json``, ``history.csv``, the figures and the printed report.

Written next to the model by ``train_model.py train`` (and ``evaluate``, ``fine-tune``):
``metrics.json`` holds the test accuracy and loss, per-class precision/recall/F1, sizes, speeds,
the data's checksum, library versions and the full config; ``history.csv`` the training curves,
one row per epoch; the figures are digitpad.training.figures'.

Besides accuracy it measures what the app's "sure" rule (digitpad.verdict.is_sure) makes of
the test digits (how many are answered "sure", and how many of those are right) and of
``NOT_DIGITS_PER_FAMILY`` held-out non-digits of each family (how many are wrongly "sure").
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.files import METRICS_FILENAME, sha256_file, write_atomic, write_json
from digitpad.training import figures
from digitpad.training.data import Mnist
from digitpad.training.outliers import FAMILIES, TRAIN_FAMILIES, make_outliers
from digitpad.verdict import NUM_CLASSES, is_sure

NOT_DIGITS_PER_FAMILY = 500
DIGITS_PER_STYLE = 200
HISTORY_FILENAME = "history.csv"


def predict_probabilities(model: Any, x_uint8: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 10) probabilities, in batches, through a direct model call."""
    chunks = [
        np.asarray(model(x_uint8[i : i + batch_size].astype(np.float32) / 255.0, training=False))
        for i in range(0, len(x_uint8), batch_size)
    ]
    return np.concatenate(chunks)


def measure_inference_speed(model: Any, x_uint8: np.ndarray, batch_size: int = 1000) -> float:
    """Images per second for batched inference (one warm-up pass excluded)."""
    sample = x_uint8[: min(len(x_uint8), 5000)]
    predict_probabilities(model, sample[:batch_size], batch_size)
    started = time.perf_counter()
    predict_probabilities(model, sample, batch_size)
    return round(len(sample) / (time.perf_counter() - started), 1)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[dict, np.ndarray]:
    """Per-class precision/recall/F1/support and the confusion matrix (rows = true)."""
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    per_class = {}
    for d in range(NUM_CLASSES):
        tp = confusion[d, d]
        predicted, actual = confusion[:, d].sum(), confusion[d, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[str(d)] = {
            "precision": round(float(precision), 5),
            "recall": round(float(recall), 5),
            "f1": round(float(f1), 5),
            "support": int(actual),
        }
    return per_class, confusion


def format_classification_report(per_class: dict, accuracy: float, total: int) -> str:
    """The per-class table, as scikit-learn's classification_report prints it."""
    lines = [f"{'':>12}{'precision':>10}{'recall':>10}{'f1-score':>10}{'support':>10}", ""]
    for d, m in per_class.items():
        lines.append(
            f"{d:>12}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>10}"
        )
    macro = {k: np.mean([m[k] for m in per_class.values()]) for k in ("precision", "recall", "f1")}
    lines += [
        "",
        f"{'accuracy':>12}{'':>20}{accuracy:>10.4f}{total:>10}",
        f"{'macro avg':>12}{macro['precision']:>10.4f}{macro['recall']:>10.4f}"
        f"{macro['f1']:>10.4f}{total:>10}",
    ]
    return "\n".join(lines)


def library_versions() -> dict:
    """The versions that produced a model: Python, TensorFlow, Keras, NumPy."""
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def sure_answers(probs: np.ndarray, labels: np.ndarray) -> dict:
    """How many of these test digits the app answers "sure", and how many of those are right."""
    sure = is_sure(probs)
    right = probs.argmax(axis=1) == labels
    return {
        "share": round(float(sure.mean()), 5),
        "right_when_sure": round(float(right[sure].mean()), 5) if sure.any() else None,
        "wrong_but_sure": int(np.sum(sure & ~right)),
    }


def not_digit_check(model: Any, per_family: int = NOT_DIGITS_PER_FAMILY) -> tuple[dict, dict]:
    """Held-out drawings of each family of digitpad.training.outliers -> ({family: counts}, {family: (images,
    probabilities)}). "sure" is how many the app would wrongly answer with confidence."""
    counts, seen = {}, {}
    for family in FAMILIES:
        images = make_outliers(per_family, 0, (family,), held_out=True)
        probs = predict_probabilities(model, images)
        sure = int(is_sure(probs).sum())
        counts[family] = {
            "n": per_family,
            "sure": sure,
            "sure_share": round(sure / per_family, 5),
            "trained_on_family": family in TRAIN_FAMILIES,
        }
        seen[family] = (images, probs)
    return counts, seen


def style_check(
    predict: Callable[[np.ndarray], np.ndarray], mnist: Mnist, per_style: int
) -> tuple[dict, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """MNIST's *test* digits drawn on the pad in each of digitpad.training.styles' styles, and as written
    (held-out variants: never trained on) -> ({style: row}, (images, labels, style names,
    probabilities)). ``predict`` maps (N, 28, 28) uint8 images to (N, 10) probabilities."""
    from digitpad.training.styles import AS_WRITTEN, STYLES, make_styled

    order = (*STYLES, AS_WRITTEN)
    x, y, names = make_styled(
        mnist.x_test, mnist.y_test, per_style * len(order), 0, held_out=True, styles=order
    )
    probs = predict(x)
    rows = {name: style_row(probs[names == name], y[names == name]) for name in order}
    rows["all styles"] = style_row(probs[names != AS_WRITTEN], y[names != AS_WRITTEN])
    return rows, (x, y, names, probs)


def style_row(probs: np.ndarray, labels: np.ndarray) -> dict:
    """How one style is read: accuracy, "sure" answers (and the wrong ones among them), and for
    the answers that are wrong or unsure, how often the two digits named include the right one."""
    right = probs.argmax(axis=1) == labels
    sure = is_sure(probs)
    doubtful = ~right | ~sure
    named = (np.argsort(probs, axis=1)[:, -2:] == labels[:, None]).any(axis=1)
    return {
        "n": int(len(labels)),
        "accuracy": round(float(right.mean()), 5) if len(labels) else None,
        "sure_share": round(float(sure.mean()), 5) if len(labels) else None,
        "wrong_but_sure": int(np.sum(sure & ~right)),
        "named_right": round(float(named[doubtful].mean()), 5) if doubtful.any() else None,
    }


def format_style_table(rows: dict) -> str:
    """The per-style table, as the trainer and scripts/benchmark_conversion.py print it."""
    lines = [f"{'style':18} {'n':>5} {'right':>8} {'sure':>7} {'wrong+sure':>10} {'named':>7}"]
    for name, row in rows.items():
        if not row["n"]:
            lines.append(f"{name:18} {0:>5}")
            continue
        named = "-" if row["named_right"] is None else f"{row['named_right']:.1%}"
        lines.append(
            f"{name:18} {row['n']:>5} {row['accuracy']:>8.2%} {row['sure_share']:>7.1%} "
            f"{row['wrong_but_sure']:>10} {named:>7}"
        )
    return "\n".join(lines)


def evaluate_and_report(
    model: Any,
    model_path: Path,
    mnist: Mnist,
    out: Path,
    *,
    config: dict,
    training: dict,
    not_digits_per_family: int | None = None,
    digits_per_style: int | None = None,
) -> dict:
    """Evaluate ``model`` once on the test set, on its digits drawn in the world's styles and on
    held-out non-digits; print the report and write ``metrics.json`` and the figures into
    ``out``. Returns the metrics."""
    probs = predict_probabilities(model, mnist.x_test)
    metrics = score_test_set(probs, mnist.y_test)
    metrics["styles"], styled = style_check(
        lambda x: predict_probabilities(model, x), mnist, digits_per_style or DIGITS_PER_STYLE
    )
    not_digits, seen = not_digit_check(model, not_digits_per_family or NOT_DIGITS_PER_FAMILY)
    metrics["not_digits"] = not_digits
    print_report(metrics)
    model_path = Path(model_path)
    metrics.update(
        {
            "parameters": int(model.count_params()),
            "model": {
                "file": model_path.name,
                "sha256": sha256_file(model_path),
                "bytes": model_path.stat().st_size,
            },
            "data": {"source": mnist.source, "sha256": mnist.checksum},
            "training": training,
            "config": config,
            "versions": library_versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / METRICS_FILENAME, metrics)
    if training.get("history"):
        write_history(out / HISTORY_FILENAME, training["history"])
    figures.write_figures(
        out, mnist, probs, np.asarray(metrics["confusion_matrix"]), training.get("history"), seen
    )
    figures.plot_styles(out / "styles.png", *styled)
    return metrics


def score_test_set(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Accuracy, loss, per-class scores, the confusion matrix and the "sure" answers of (N, 10)
    probabilities against the true labels."""
    y_true = labels.astype(np.int64)
    y_pred = probs.argmax(axis=1)
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y_true)), y_true], 1e-12, 1.0))))
    per_class, confusion = classification_metrics(y_true, y_pred)
    return {
        "test_accuracy": round(float((y_pred == y_true).mean()), 5),
        "test_loss": round(loss, 5),
        "test_errors": int((y_pred != y_true).sum()),
        "n_test": int(len(y_true)),
        "per_class": per_class,
        "sure": sure_answers(probs, y_true),
        "confusion_matrix": confusion.tolist(),
    }


def print_report(metrics: dict) -> None:
    """The classification report, test accuracy and the "sure" figures, as the trainer prints
    them."""
    accuracy, total = metrics["test_accuracy"], metrics["n_test"]
    print("\nclassification report (test set):")
    print(format_classification_report(metrics["per_class"], accuracy, total))
    print(
        f"\ntest loss: {metrics['test_loss']:.4f}\n"
        f"test accuracy: {accuracy:.4f} ({metrics['test_errors']} errors in {total})"
    )
    sure = metrics["sure"]
    right = sure["right_when_sure"]
    print(
        f"answered 'sure': {sure['share']:.2%} of the test digits"
        + (f", {right:.2%} of them right" if right is not None else "")
    )
    if "styles" in metrics:
        print("\nMNIST's test digits drawn on the pad in the world's styles (held out):")
        print(format_style_table(metrics["styles"]))
    print(
        "not digits, held out, wrongly answered 'sure': "
        + ", ".join(
            f"{family} {row['sure_share']:.1%}"
            + ("" if row["trained_on_family"] else " (a family never trained on)")
            for family, row in metrics["not_digits"].items()
        )
    )


# --- figures: one function each ---------------------------------------------------------------


def write_history(path: Path, history: dict[str, list[float]]) -> None:
    """The training curves as CSV, one row per epoch from 0 (the columns Keras' CSVLogger
    writes: ``epoch`` then the metrics in name order)."""
    names = sorted(history)
    rows = [",".join(["epoch", *names])]
    for epoch, values in enumerate(zip(*(history[name] for name in names))):
        rows.append(",".join([str(epoch), *(repr(float(v)) for v in values)]))
    write_atomic(path, ("\n".join(rows) + "\n").encode())
