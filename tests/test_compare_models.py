"""scripts/compare_models.py on the committed MNIST sample: two copies of the shipped model read
every kind of input alike, and the counts add up to what the predictor itself reads."""

from __future__ import annotations

import json
import shutil

import compare_models
import numpy as np
import pytest
from PIL import Image

from digitpad import DEFAULT_MODEL_PATH
from digitpad.predictor import Predictor
from digitpad.training.data import load_mnist
from digitpad.training.styles import AS_WRITTEN, STYLES


def eval_folder(tmp_path, mnist, count: int = 4):
    """A make_eval_set.py-like folder: MNIST test digits, dark on white, as PNG files."""
    folder = tmp_path / "eval"
    (folder / "canvas-white").mkdir(parents=True)
    records = []
    for i in range(count):
        name = f"canvas-white/{i:04d}_{mnist.y_test[i]}.png"
        Image.fromarray(255 - mnist.x_test[i]).resize((280, 280)).save(folder / name)
        records.append({"file": name, "subset": "canvas-white", "label": int(mnist.y_test[i])})
    (folder / "manifest.json").write_text(json.dumps({"images": records}))
    return folder


@pytest.mark.slow
def test_two_copies_of_a_model_compare_equal(tmp_path, sample_mnist_path, capsys):
    copy = tmp_path / "copy" / "digitpad.keras"
    copy.parent.mkdir()
    shutil.copy(DEFAULT_MODEL_PATH, copy)
    mnist = load_mnist(sample_mnist_path)
    out = tmp_path / "compare.json"
    argv = [
        str(DEFAULT_MODEL_PATH),
        str(copy),
        "--data",
        str(sample_mnist_path),
        "--eval-data",
        str(eval_folder(tmp_path, mnist)),
        "--per-style",
        "3",
        "--per-family",
        "4",
        "--out",
        str(out),
    ]
    assert compare_models.main(argv) == 0
    results = json.loads(out.read_text())
    for section in ("styles", "non-digits", "MNIST test", "evaluation set"):
        for kind, rows in results[section].items():
            assert rows["assets"] == rows["copy"], (section, kind)
    styles = results["styles"]
    assert set(styles) == {*STYLES, AS_WRITTEN, "all styles"}
    assert all(
        0 < rows["assets"]["n"] <= 3 for kind, rows in styles.items() if kind != "all styles"
    )
    assert styles["all styles"]["assets"]["n"] == sum(
        styles[kind]["assets"]["n"] for kind in STYLES
    )
    assert all(rows["assets"]["n"] == 4 for rows in results["non-digits"].values())

    read = Predictor.load(DEFAULT_MODEL_PATH).predict_batch
    right = np.mean(read(mnist.x_test / np.float32(255)).argmax(1) == mnist.y_test)
    assert results["MNIST test"]["MNIST test"]["assets"]["accuracy"] == round(float(right), 5)
    white = results["evaluation set"]["canvas-white"]["assets"]
    assert white["n"] == 4 and white["accuracy"] == 1, "plain MNIST digits on white are read"
    assert "== styles ==" in capsys.readouterr().out


def test_a_missing_model_is_named(tmp_path, sample_mnist_path, capsys):
    assert (
        compare_models.main([str(tmp_path / "nope.keras"), "--data", str(sample_mnist_path)]) == 2
    )
    assert "no model at" in capsys.readouterr().out
