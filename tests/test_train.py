"""The trainer end to end: a real --dry-run, --evaluate, and the shipped model's accuracy."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import train_model
from digitpad.data import load_mnist

REPORT_FILES = ["digitpad.keras", "metrics.json", "history.csv", "history.png", "confusion.png",
                "samples.png", "misclassified.png", "not_digits.png"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, sample_mnist_path):
    out = tmp_path_factory.mktemp("dry")
    code = train_model.main(["--dry-run", "--data", str(sample_mnist_path), "--out", str(out), "--seed", "7"])
    assert code == 0
    return out


def test_dry_run_writes_every_report_file(dry_run):
    for name in REPORT_FILES:
        path = dry_run / name
        assert path.is_file() and path.stat().st_size > 0, name
    for name in REPORT_FILES[3:]:
        assert (dry_run / name).read_bytes()[:8] == PNG_MAGIC
    assert not list(dry_run.glob(".train-*")), "the checkpoint folder is cleaned up"


def test_dry_run_metrics_content(dry_run):
    metrics = json.loads((dry_run / "metrics.json").read_text())
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_loss"] > 0
    assert metrics["n_test"] == 300
    assert set(metrics["per_class"]) == {str(d) for d in range(10)}
    assert all(set(m) == {"precision", "recall", "f1", "support"} for m in metrics["per_class"].values())
    assert sum(m["support"] for m in metrics["per_class"].values()) == 300
    assert np.array(metrics["confusion_matrix"]).sum() == 300
    assert metrics["parameters"] > 100_000
    assert metrics["config"]["seed"] == 7 and metrics["config"]["dry_run"] is True
    assert metrics["config"]["arch"] == "default" and metrics["config"]["augment"] is True
    training = metrics["training"]
    assert training["epochs_run"] == 1 and training["train_seconds"] > 0
    assert training["train_images_per_second"] > 0 and training["inference_images_per_second"] > 0
    assert len(metrics["data"]["sha256"]) == 64 and len(metrics["model"]["sha256"]) == 64
    assert metrics["model"]["bytes"] == (dry_run / "digitpad.keras").stat().st_size
    assert {"tensorflow", "keras", "numpy", "python"} <= set(metrics["versions"])
    assert training["n_outliers"] == round(0.15 * (training["n_train"] - training["n_outliers"])) > 0, (
        "non-digits were trained on")
    assert 0.0 <= metrics["sure"]["share"] <= 1.0 and metrics["sure"]["wrong_but_sure"] >= 0
    assert set(metrics["not_digits"]) == {"scribbles", "hatching", "shapes", "letters"}
    assert [f for f, row in metrics["not_digits"].items() if not row["trained_on_family"]] == ["letters"]
    assert all(row["n"] == 40 and 0 <= row["sure"] <= 40 for row in metrics["not_digits"].values())


def test_dry_run_history_csv(dry_run):
    rows = list(csv.DictReader((dry_run / "history.csv").open()))
    assert len(rows) == 1
    assert {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"} <= set(rows[0])


def test_saved_model_loads_in_safe_mode_and_verifies(dry_run):
    from digitpad.predictor import Predictor

    predictor = Predictor.load(dry_run / "digitpad.keras")  # SHA-256 checked against metrics.json
    probs = predictor.predict_batch(np.zeros((3, 28, 28), np.float32))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_evaluate_writes_the_report_elsewhere(dry_run, tmp_path, sample_mnist_path, capsys):
    out = tmp_path / "eval"
    code = train_model.main(["--evaluate", "--model", str(dry_run / "digitpad.keras"),
                             "--data", str(sample_mnist_path), "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 500
    for name in ("confusion.png", "samples.png", "misclassified.png"):
        assert (out / name).is_file()
    printed = capsys.readouterr().out
    assert "classification report" in printed and "test accuracy:" in printed


def test_bad_data_exits_with_a_message(tmp_path, capsys):
    code = train_model.main(["--dry-run", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path)])
    assert code == 2
    assert "pass --data PATH" in capsys.readouterr().err


def test_shipped_model_accuracy(predictor, mnist_path):
    """>= 99.6% on the full test set when DIGITPAD_MNIST gives it; the sample otherwise."""
    from digitpad.report import predict_probabilities

    mnist = load_mnist(mnist_path)
    accuracy = float((predict_probabilities(predictor.model, mnist.x_test).argmax(1) == mnist.y_test).mean())
    if len(mnist.x_test) == 10000:
        assert accuracy >= 0.996
    else:  # 500 held-out test digits: 99.6% would be 2 errors; allow sampling noise
        assert accuracy >= 0.99


def test_shipped_model_is_small_and_recorded(model_path):
    from digitpad.predictor import recorded_sha256, sha256_of

    assert model_path.stat().st_size <= 2_000_000
    assert recorded_sha256(model_path) == sha256_of(model_path)
