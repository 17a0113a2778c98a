"""digitpad.training.train end to end: a real dry run, its report, re-evaluation, the training split; and
the shipped model's own figures."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from digitpad.files import OutputError, read_json, recorded_sha256, sha256_file
from digitpad.predictor import Predictor
from digitpad.training.config import TrainConfig
from digitpad.training.data import NOT_A_DIGIT, load_mnist, subsample
from digitpad.training.report import predict_probabilities
from digitpad.training.ship import SHIPPED_FILES
from digitpad.training.train import evaluate, make_split, train

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, sample_mnist_path):
    out = tmp_path_factory.mktemp("dry") / "run"
    config = TrainConfig(out=str(out), data=str(sample_mnist_path), seed=7, dry_run=True)
    metrics = train(config)
    return out, metrics


def test_a_dry_run_writes_every_report_file(dry_run):
    out, _ = dry_run
    assert sorted(p.name for p in out.iterdir()) == sorted(SHIPPED_FILES)
    for name in SHIPPED_FILES:
        assert (out / name).stat().st_size > 0, name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG_MAGIC


def test_a_run_writes_its_neighbour_index_recorded(dry_run):
    """Every run indexes training digits for its model's explanations (digitpad.nearest)."""
    from digitpad.nearest import METRICS_KEY, NEIGHBOURS_FILENAME, NeighbourIndex, index_for

    out, metrics = dry_run
    record = metrics[METRICS_KEY]
    assert record == read_json(out / "metrics.json")[METRICS_KEY]
    assert record["sha256"] == sha256_file(out / NEIGHBOURS_FILENAME)
    assert record["model_sha256"] == metrics["model"]["sha256"]
    assert isinstance(index_for(out / "digitpad.keras"), NeighbourIndex)


def test_the_metrics_measure_the_saved_model(dry_run, sample_mnist_path):
    """metrics.json's figures are what the saved file gives on the dry run's test slice."""
    out, metrics = dry_run
    assert json.loads((out / "metrics.json").read_text()) == metrics
    test = subsample(load_mnist(sample_mnist_path), 512, 300, seed=7)
    predicted = Predictor.load(out / "digitpad.keras").predict_batch(test.x_test / np.float32(255))
    errors = int((predicted.argmax(axis=1) != test.y_test).sum())
    assert metrics["n_test"] == 300 and metrics["test_errors"] == errors
    assert metrics["test_accuracy"] == round(1 - errors / 300, 5)
    assert sum(m["support"] for m in metrics["per_class"].values()) == 300
    assert np.array(metrics["confusion_matrix"]).sum() == 300
    assert metrics["model"] == {
        "file": "digitpad.keras",
        "sha256": sha256_file(out / "digitpad.keras"),
        "bytes": (out / "digitpad.keras").stat().st_size,
    }


def test_the_metrics_record_the_run(dry_run):
    _, metrics = dry_run
    assert metrics["config"] == {
        **TrainConfig().to_json(),
        "out": metrics["config"]["out"],
        "data": metrics["config"]["data"],
        "seed": 7,
        "dry_run": True,
    }
    training = metrics["training"]
    assert (
        training["epochs_run"] == 1
        and training["best_epoch"] == 1
        and training["train_seconds"] > 0
    )
    digits = training["n_train"] - training["n_outliers"] - training["n_styled"]
    assert training["n_styled"] == round(0.15 * digits) > 0
    assert training["n_outliers"] == round(0.15 * (digits + training["n_styled"]))
    assert digits + training["n_val"] == 510, "51 of each digit"
    assert training["n_val"] == 50, "5 of each digit: a stratified 10%"
    assert {"tensorflow", "keras", "numpy", "python"} <= set(metrics["versions"])
    assert len(metrics["data"]["sha256"]) == 64 and metrics["parameters"] > 100_000
    assert [f for f, row in metrics["not_digits"].items() if not row["trained_on_family"]] == [
        "letters"
    ]
    assert all(row["n"] == 40 for row in metrics["not_digits"].values())
    assert metrics["styles"]["1 flag"]["n"] == 5 and metrics["styles"]["all styles"]["n"] == 90


def test_the_history_has_one_row_per_epoch(dry_run):
    out, metrics = dry_run
    rows = list(csv.DictReader((out / "history.csv").open()))
    assert len(rows) == 1
    assert float(rows[0]["val_loss"]) == pytest.approx(
        metrics["training"]["history"]["val_loss"][0]
    )


def test_evaluate_writes_the_report_elsewhere(dry_run, tmp_path, sample_mnist_path, capsys):
    out, _ = dry_run
    metrics = evaluate(out / "digitpad.keras", str(sample_mnist_path), tmp_path / "eval")
    assert metrics["n_test"] == 500 and metrics["model"]["sha256"] == sha256_file(
        out / "digitpad.keras"
    )
    assert {"confusion.png", "samples.png", "misclassified.png", "metrics.json"} <= {
        p.name for p in (tmp_path / "eval").iterdir()
    }
    printed = capsys.readouterr().out
    assert "classification report" in printed and "test accuracy:" in printed
    with pytest.raises(OutputError, match="already holds a model"):
        evaluate(out / "digitpad.keras", str(sample_mnist_path), out)


def test_the_split_keeps_validation_and_test_mnist_s(sample):
    config = TrainConfig(seed=1, outliers=0.5, styles=0.2)
    extra = (sample.x_test[:10], sample.y_test[:10])
    split = make_split(sample, config, extra)
    assert len(split.x_val) == 60 and set(np.unique(split.y_val)) == set(range(10))
    assert split.n_extra == 10 and split.n_styled == round(0.2 * 540)
    assert split.n_outliers == round(0.5 * (540 + split.n_styled + 10)), "per digit, all kinds"
    assert len(split.x_train) == 540 + split.n_styled + 10 + split.n_outliers
    assert (split.y_train == NOT_A_DIGIT).sum() == split.n_outliers
    train_images = {image.tobytes() for image in split.x_train}
    assert not any(image.tobytes() in train_images for image in split.x_val)
    plain = make_split(sample, dataclasses.replace(config, outliers=0, styles=0), None)
    assert (plain.n_outliers, plain.n_extra, plain.n_styled) == (0, 0, 0)
    assert len(plain.x_train) == 540


# --- the shipped model ---------------------------------------------------------------------------


def test_shipped_model_accuracy(predictor, mnist_path):
    """>= 99.6% on the full test set when DIGITPAD_MNIST gives it; the sample otherwise."""
    mnist = load_mnist(mnist_path)
    accuracy = float(
        (predict_probabilities(predictor.model, mnist.x_test).argmax(1) == mnist.y_test).mean()
    )
    if len(mnist.x_test) == 10000:
        assert accuracy >= 0.996
    else:  # 500 held-out test digits: 99.6% would be 2 errors; allow sampling noise
        assert accuracy >= 0.99


def test_shipped_model_is_small_and_recorded(predictor):
    from digitpad import DEFAULT_MODEL_PATH

    assert DEFAULT_MODEL_PATH.stat().st_size <= 2_000_000
    assert recorded_sha256(DEFAULT_MODEL_PATH) == sha256_file(DEFAULT_MODEL_PATH)
