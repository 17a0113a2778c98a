"""digitpad.training.finetune on a person's saved digits: a real tiny run that writes its before/after
report, polite refusals, the held-out split, and --extra-data in a full (dry-run) training."""

from __future__ import annotations

import json

import numpy as np
import pytest

import train_model
from digitpad import DEFAULT_MODEL_PATH, collection
from digitpad.conversion import to_mnist
from digitpad.files import sha256_file
from digitpad.training.finetune import MIN_DIGITS, NotEnoughDigits, holdout_split

pytestmark = pytest.mark.slow


def draw(image28: np.ndarray) -> np.ndarray:
    """An MNIST digit as a browser canvas gives it: dark ink on a white 280x280 RGBA image."""
    ink = 255 - np.kron(image28, np.ones((10, 10), np.uint8))
    return np.dstack([ink, ink, ink, np.full_like(ink, 255)])


def save_person(folder, mnist, per_digit: int, offset: int = 0) -> None:
    """``per_digit`` MNIST test digits of each class, saved as a person would through the app:
    the canvas, and the 28x28 image the conversion makes of it."""
    for d in range(10):
        for i in np.flatnonzero(mnist.y_test == d)[offset : offset + per_digit]:
            canvas = draw(mnist.x_test[i])
            collection.save_digit(folder, canvas, to_mnist(canvas).image, d, prediction=None)


@pytest.fixture(scope="module")
def base_model():
    return DEFAULT_MODEL_PATH


@pytest.fixture(scope="module")
def person(tmp_path_factory, sample):
    folder = tmp_path_factory.mktemp("person")
    save_person(folder, sample, per_digit=3)
    return folder


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, base_model, person, sample_mnist_path):
    """A real fine-tune: 30 saved digits, 200 MNIST images mixed in, one epoch."""
    out = tmp_path_factory.mktemp("tuned")
    base_sha = sha256_file(base_model)
    code = train_model.main(
        [
            "fine-tune",
            str(person),
            "--model",
            str(base_model),
            "--data",
            str(sample_mnist_path),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--mnist-mix",
            "200",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    assert sha256_file(base_model) == base_sha, "the model it started from is untouched"
    return out


def test_fine_tune_writes_before_after_report(tuned, base_model, person, capsys):
    report = json.loads((tuned / "fine_tune.json").read_text())
    labels = np.array(report["heldout_labels"])
    for when in ("before", "after"):
        predictions = np.array(report[when]["heldout_predictions"])
        assert len(predictions) == report["n_heldout"] == len(labels)
        errors = int((predictions != labels).sum())
        assert report[when]["heldout_errors"] == errors
        assert report[when]["heldout_accuracy"] == round(1 - errors / len(labels), 5)
        assert report[when]["mnist_test_accuracy"] == round(
            1 - report[when]["mnist_test_errors"] / 500, 5
        )
    assert report["before"]["mnist_test_accuracy"] >= 0.99, "the shipped model, on the sample"
    assert report["n_mnist_test"] == 500  # the sample's test set
    assert report["n_heldout"] == 8 and report["n_personal_train"] == 22  # round(0.25 * 30)
    assert sum(d["n"] for d in report["heldout_per_digit"].values()) == 8
    assert report["base_model"]["sha256"] == sha256_file(base_model)
    assert report["config"]["fine_tune"] is True and report["config"]["epochs"] == 1
    assert report["config"]["mnist_mix"] == 200 and report["config"]["seed"] == 3
    training = report["training"]
    assert training["epochs_run"] == 1 and training["n_mnist_mix"] == 200
    # The person's 22 training digits make up a quarter of the mix: 22 x 3 next to 200.
    assert training["personal_repeats"] == 3


def test_fine_tuned_model_is_small_verified_and_matches_its_report(tuned, base_model):
    from digitpad.predictor import Predictor

    path = tuned / "digitpad.keras"
    assert path.stat().st_size < 1.2 * base_model.stat().st_size, "no optimizer state in the file"
    predictor = Predictor.load(path)  # SHA-256 checked against the metrics.json beside it
    assert all(layer.trainable for layer in predictor.model.layers), "saved trainable, as it came"
    metrics = json.loads((tuned / "metrics.json").read_text())
    report = json.loads((tuned / "fine_tune.json").read_text())
    assert metrics["test_accuracy"] == report["after"]["mnist_test_accuracy"]
    assert metrics["model"]["sha256"] == report["model"]["sha256"] == sha256_file(path)
    assert metrics["config"]["fine_tune"] is True
    for name in ("confusion.png", "samples.png", "misclassified.png"):
        assert (tuned / name).is_file()
    assert not [p for p in tuned.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_too_few_digits_are_refused_politely(
    tmp_path, sample, base_model, sample_mnist_path, capsys
):
    save_person(tmp_path / "few", sample, per_digit=1, offset=10)
    for path in sorted((tmp_path / "few").glob("*.json"))[MIN_DIGITS - 4 :]:
        path.unlink()  # 6 digits left
    collection.export_npz(tmp_path / "few", tmp_path / "few.npz", test_fraction=0)
    for extra in (tmp_path / "few", tmp_path / "few.npz"):
        out = tmp_path / "out"
        code = train_model.main(
            [
                "fine-tune",
                str(extra),
                "--model",
                str(base_model),
                "--data",
                str(sample_mnist_path),
                "--out",
                str(out),
            ]
        )
        assert code == 2
        err = capsys.readouterr().err
        assert (
            err.startswith("error: ") and "holds 6 labelled digits" in err and "at least 10" in err
        )
        assert "Traceback" not in err
        assert not out.exists(), "nothing is written"


def test_missing_model_or_data_is_refused_politely(tmp_path, person, sample_mnist_path, capsys):
    code = train_model.main(
        [
            "fine-tune",
            str(person),
            "--model",
            str(tmp_path / "none.keras"),
            "--data",
            str(sample_mnist_path),
            "--out",
            str(tmp_path / "a"),
        ]
    )
    assert code == 2 and "No model at" in capsys.readouterr().err
    code = train_model.main(["fine-tune", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b")])
    assert code == 2 and "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        train_model.main(["fine-tune"])
    assert exit_info.value.code == 2 and "DIGITS" in capsys.readouterr().err


def test_holdout_split_is_disjoint_stratified_and_seeded():
    labels = np.repeat(np.arange(10), 4)  # 4 of each digit
    train, held = holdout_split(labels, 0.25, seed=0)
    assert len(held) == 10 and len(train) == 30
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(40))
    assert np.bincount(labels[held], minlength=10).tolist() == [1] * 10  # one of each
    again = holdout_split(labels, 0.25, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((train, held), again))
    assert not np.array_equal(held, holdout_split(labels, 0.25, seed=1)[1])
    uneven = np.array([7] * 12 + [1])  # a digit seen once stays in training
    train, held = holdout_split(uneven, 0.25, seed=0)
    assert 12 in train and len(held) == 3
    with pytest.raises(NotEnoughDigits, match="holds 9 labelled digits"):
        holdout_split(np.arange(9) % 10, 0.25, seed=0)
    with pytest.raises(NotEnoughDigits, match="leaves 2 to train on"):
        holdout_split(labels[:10], 0.8, seed=0)


def test_extra_data_in_a_full_training_run(tmp_path, person, sample_mnist_path, capsys):
    out = tmp_path / "full"
    code = train_model.main(
        [
            "train",
            "--dry-run",
            "--extra-data",
            str(person),
            "--data",
            str(sample_mnist_path),
            "--out",
            str(out),
            "--seed",
            "7",
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["n_extra"] == 30
    assert metrics["config"]["extra_data"] == str(person)
    assert metrics["n_test"] == 300, "the test set stays MNIST's"
    assert "extra data: 30 digits" in capsys.readouterr().out


def test_a_fine_tune_that_costs_mnist_says_so_plainly():
    from digitpad.training.finetune import MNIST_TOLERANCE, mnist_warning

    assert mnist_warning(0.9972, 0.9972) is None
    assert mnist_warning(0.9972, 0.9972 - MNIST_TOLERANCE) is None, "a tenth of a point is noise"
    warning = mnist_warning(0.9972, 0.9934)
    assert warning.startswith("WARNING: MNIST test accuracy fell by 0.38 points (99.72% -> 99.34%)")
    assert "\n" not in warning
