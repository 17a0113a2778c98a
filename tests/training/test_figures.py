"""digitpad.training.figures: every figure of the report is written, and shows what it says."""

from __future__ import annotations

import numpy as np
from PIL import Image

from digitpad.training import figures, report


def one_hot(digits: list[int], p: float = 0.95) -> np.ndarray:
    probs = np.full((len(digits), 10), (1 - p) / 9, np.float32)
    probs[np.arange(len(digits)), digits] = p
    return probs


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_every_figure_is_written(tmp_path, sample):
    labels = sample.y_test[:50]
    probs = one_hot(list(labels))
    probs[:5] = one_hot([(d + 1) % 10 for d in labels[:5]])  # five mistakes to show
    not_digits = {
        "scribbles": (sample.x_train[:8], one_hot([0] * 8, p=0.2)),
        "letters": (sample.x_train[8:12], one_hot([4] * 4)),
    }
    history = {
        "loss": [1.0, 0.5],
        "val_loss": [0.9, 0.6],
        "accuracy": [0.7, 0.9],
        "val_accuracy": [0.72, 0.88],
    }
    _, confusion = report.classification_metrics(labels, probs.argmax(axis=1))
    mnist = type("Slice", (), {"x_test": sample.x_test[:50], "y_test": labels})
    figures.write_figures(tmp_path, mnist, probs, confusion, history, not_digits)
    names = ["history.png", "confusion.png", "samples.png", "misclassified.png", "not_digits.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC
        with Image.open(tmp_path / name) as image:
            assert min(image.size) >= 150, (name, image.size)
    (tmp_path / "no-history").mkdir()
    figures.write_figures(tmp_path / "no-history", mnist, probs, confusion, None, not_digits)
    assert not (tmp_path / "no-history" / "history.png").exists()
