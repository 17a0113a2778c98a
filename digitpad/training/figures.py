"""The report's figures, each a PNG written beside the model (digitpad.training.report).

- ``history.png``        training and validation accuracy and loss per epoch
- ``confusion.png``      confusion matrix with counts
- ``samples.png``        random test digits, predicted vs true
- ``misclassified.png``  the test digits the model got wrong, with its top-2 guesses
- ``not_digits.png``     held-out drawings that are no digit, with what the model says of each
- ``styles.png``         MNIST test digits drawn in the world's styles, with what it read

Drawn with matplotlib's object API (``matplotlib.figure.Figure``): no pyplot, no global backend,
no window; each file written atomically (digitpad.files.write_atomic).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from digitpad.files import write_atomic
from digitpad.training.data import Mnist
from digitpad.verdict import NUM_CLASSES, is_sure


def write_figures(
    out: Path,
    mnist: Mnist,
    probs: np.ndarray,
    confusion: np.ndarray,
    history: dict | None,
    not_digits: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    """The figures of the test set into ``out`` (history.png only when there is a history);
    styles.png is :func:`plot_styles`'."""
    if history:
        plot_history(out / "history.png", history)
    plot_confusion(out / "confusion.png", confusion)
    plot_samples(out / "samples.png", mnist.x_test, mnist.y_test, probs)
    plot_misclassified(out / "misclassified.png", mnist.x_test, mnist.y_test, probs)
    plot_not_digits(out / "not_digits.png", not_digits)


def plot_history(path: Path, history: dict) -> None:
    """Training and validation accuracy and loss per epoch."""
    fig = _new_figure((10, 3.8))
    axes = fig.subplots(1, 2)
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
    fig = _new_figure((7.5, 6.5))
    ax = fig.subplots()
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


def plot_styles(
    path: Path, images: np.ndarray, labels: np.ndarray, names: np.ndarray, probs: np.ndarray
) -> None:
    """The first eight digits of each style, one row each, with what the model read; red: wrong
    or not sure."""
    cols = 8
    picks = [
        i for name in dict.fromkeys(names.tolist()) for i in np.flatnonzero(names == name)[:cols]
    ]
    predicted, sure = probs.argmax(axis=1), is_sure(probs)
    titles = [f"{names[i]}: {predicted[i]}" + ("" if sure[i] else "?") for i in picks]
    red = [predicted[i] != labels[i] or not sure[i] for i in picks]
    _digit_grid(
        path,
        images,
        picks,
        titles,
        red,
        "MNIST test digits drawn in the world's styles (red: wrong or not sure)",
        cols=cols,
    )


def _digit_grid(
    path: Path,
    images: np.ndarray,
    indices: Any,
    titles: list[str],
    red: Any,
    suptitle: str,
    cols: int = 8,
) -> None:
    rows = max(1, int(np.ceil(len(indices) / cols)))
    fig = _new_figure((cols * 1.6, rows * 1.75))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i, title, bad in zip(axes.flat, indices, titles, red):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(title, fontsize=7, color="crimson" if bad else "black")
    if not len(indices):
        axes.flat[0].text(0.5, 0.5, "none", ha="center", va="center")
    fig.suptitle(suptitle)
    _save(fig, path, dpi=100)


def _new_figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def _save(fig: Any, path: Path, dpi: int) -> None:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, dpi=dpi, format="png")
    write_atomic(path, buffer.getvalue())
