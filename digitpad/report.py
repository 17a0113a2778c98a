"""The training report: ``metrics.json``, figures and the printed classification report.

Written next to the model by ``train_model.py train`` (and ``evaluate``, ``fine-tune``):

- ``metrics.json``       test accuracy and loss, per-class precision/recall/F1, sizes, speeds,
                         data checksum, library versions, the full config
- ``history.png``        training and validation accuracy and loss per epoch
- ``confusion.png``      confusion matrix with counts
- ``samples.png``        random test digits, predicted vs true
- ``misclassified.png``  the test digits the model got wrong, with its top-2 guesses
- ``not_digits.png``     held-out drawings that are no digit (digitpad.outliers), with what the
                         model says about each

Besides accuracy it measures what the app's "sure" rule (digitpad.verdict.is_sure) makes of
the test digits (how many are answered "sure", and how many of those are right) and of
``NOT_DIGITS_PER_FAMILY`` held-out non-digits of each family (how many are wrongly "sure").
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.data import NUM_CLASSES, Mnist
from digitpad.files import METRICS_FILENAME, sha256_file, write_json
from digitpad.outliers import FAMILIES, TRAIN_FAMILIES, make_outliers
from digitpad.verdict import is_sure

NOT_DIGITS_PER_FAMILY = 500
DIGITS_PER_STYLE = 200


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
    """Held-out drawings of each family of digitpad.outliers -> ({family: counts}, {family: (images,
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


def style_check(predict: Callable[[np.ndarray], np.ndarray], mnist: Mnist, per_style: int
                ) -> tuple[dict, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """MNIST's *test* digits drawn on the pad in each of digitpad.styles' styles, and as written
    (held-out variants: never trained on) -> ({style: row}, (images, labels, style names,
    probabilities)). ``predict`` maps (N, 28, 28) uint8 images to (N, 10) probabilities."""
    from digitpad.styles import AS_WRITTEN, STYLES, make_styled

    order = (*STYLES, AS_WRITTEN)
    x, y, names = make_styled(mnist.x_test, mnist.y_test, per_style * len(order), 0,
                              held_out=True, styles=order)
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
        lines.append(f"{name:18} {row['n']:>5} {row['accuracy']:>8.2%} {row['sure_share']:>7.1%} "
                     f"{row['wrong_but_sure']:>10} {named:>7}")
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
    metrics["styles"], styled = style_check(lambda x: predict_probabilities(model, x), mnist,
                                            digits_per_style or DIGITS_PER_STYLE)
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
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / METRICS_FILENAME, metrics)
    write_figures(
        out, mnist, probs, np.asarray(metrics["confusion_matrix"]), training.get("history"), seen
    )
    plot_styles(out / "styles.png", *styled)
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


def write_figures(
    out: Path,
    mnist: Mnist,
    probs: np.ndarray,
    confusion: np.ndarray,
    history: dict | None,
    not_digits: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Every figure of the report into ``out`` (history.png only when there is a history)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    if history:
        plot_history(out / "history.png", history)
    plot_confusion(out / "confusion.png", confusion)
    plot_samples(out / "samples.png", mnist.x_test, mnist.y_test, probs)
    plot_misclassified(out / "misclassified.png", mnist.x_test, mnist.y_test, probs)
    plot_not_digits(out / "not_digits.png", not_digits)


def plot_history(path: Path, history: dict) -> None:
    """Training and validation accuracy and loss per epoch."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ("accuracy", "loss")):
        ax.plot(epochs, history[key], "o-", label="training (augmented)")
        ax.plot(epochs, history[f"val_{key}"], "o-", label="validation")
        ax.set(xlabel="epoch", ylabel=key, title=key)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path, dpi=110)


def plot_confusion(path: Path, confusion: np.ndarray) -> None:
    """The confusion matrix (rows: true digit), log-shaded, with its counts."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    ax.imshow(np.log1p(confusion), cmap="Blues")
    for i in range(NUM_CLASSES):
        for j in range(NUM_CLASSES):
            if confusion[i, j]:
                ax.text(
                    j,
                    i,
                    str(confusion[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if i == j else "black",
                )
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"confusion matrix, {int(confusion.sum())} test digits",
    )
    _save(fig, path, dpi=110)


def plot_samples(path: Path, images: np.ndarray, labels: np.ndarray, probs: np.ndarray) -> None:
    """40 random test digits (seeded), predicted against true; mistakes in red."""
    predicted = probs.argmax(axis=1)
    picks = np.random.default_rng(0).choice(len(labels), size=min(40, len(labels)), replace=False)
    _digit_grid(
        path,
        images,
        picks,
        [f"pred {predicted[i]} / true {labels[i]}" for i in picks],
        [predicted[i] != labels[i] for i in picks],
        "random test digits",
    )


def plot_misclassified(
    path: Path, images: np.ndarray, labels: np.ndarray, probs: np.ndarray
) -> None:
    """The misclassified test digits (the first 60), with the model's top two guesses."""
    wrong_all = np.flatnonzero(probs.argmax(axis=1) != labels)
    wrong = wrong_all[:60]
    top2 = np.argsort(probs, axis=1)[:, ::-1][:, :2]
    titles = [
        f"true {labels[i]}: {top2[i, 0]} {probs[i, top2[i, 0]]:.0%}, "
        f"{top2[i, 1]} {probs[i, top2[i, 1]]:.0%}"
        for i in wrong
    ]
    title = (
        f"all {len(wrong_all)} misclassified test digits (top-2 guesses)"
        if len(wrong) == len(wrong_all)
        else f"first {len(wrong)} misclassified test digits"
    )
    _digit_grid(path, images, wrong, titles, [True] * len(wrong), title)


def plot_not_digits(path: Path, not_digits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """The first eight held-out non-digits of each family, one row each; red: wrongly "sure"."""
    cols = 8
    images = np.concatenate([images[:cols] for images, _ in not_digits.values()])
    probs = np.concatenate([family_probs[:cols] for _, family_probs in not_digits.values()])
    sure = is_sure(probs)
    names = [
        family for family, (family_images, _) in not_digits.items() for _ in family_images[:cols]
    ]
    titles = [
        f"{name}: {p.argmax()} {p.max():.0%}" if s else f"{name}: not sure"
        for name, p, s in zip(names, probs, sure)
    ]
    _digit_grid(
        path,
        images,
        range(len(images)),
        titles,
        sure,
        "held-out drawings that are no digit (red: answered 'sure')",
        cols=cols,
    )


def plot_styles(path: Path, images: np.ndarray, labels: np.ndarray, names: np.ndarray,
                probs: np.ndarray) -> None:
    """The first eight digits of each style, one row each, with what the model read; red: wrong
    or not sure."""
    cols = 8
    picks = [i for name in dict.fromkeys(names.tolist()) for i in np.flatnonzero(names == name)[:cols]]
    predicted, sure = probs.argmax(axis=1), is_sure(probs)
    titles = [f"{names[i]}: {predicted[i]}" + ("" if sure[i] else "?") for i in picks]
    red = [predicted[i] != labels[i] or not sure[i] for i in picks]
    _digit_grid(path, images, picks, titles, red,
                "MNIST test digits drawn in the world's styles (red: wrong or not sure)", cols=cols)


def _digit_grid(
    path: Path,
    images: np.ndarray,
    indices: Any,
    titles: list[str],
    red: Any,
    suptitle: str,
    cols: int = 8,
) -> None:
    import matplotlib.pyplot as plt

    rows = max(1, int(np.ceil(len(indices) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.75), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i, title, bad in zip(axes.flat, indices, titles, red):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(title, fontsize=7, color="crimson" if bad else "black")
    if not len(indices):
        axes.flat[0].text(0.5, 0.5, "none", ha="center", va="center")
    fig.suptitle(suptitle)
    _save(fig, path, dpi=100)


def _save(fig: Any, path: Path, dpi: int) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
