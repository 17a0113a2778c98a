"""digitpad.training.neighbours: the index a run writes beside its model, with the real model
on the committed MNIST sample."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from digitpad import DEFAULT_MODEL_PATH
from digitpad.files import (
    METRICS_FILENAME,
    MODEL_FILENAME,
    OutputError,
    read_json,
    sha256_file,
    write_json,
)
from digitpad.nearest import METRICS_KEY, NEIGHBOURS_FILENAME, NeighbourIndex, index_for
from digitpad.training import neighbours
from digitpad.training.neighbours import MNIST_SOURCE, build_index, select


def test_select_takes_each_digit_from_mnist_and_the_styles(sample):
    images, labels, sources = select(sample, seed=1, per_digit=4, styled_draws=40)
    mnist = sources == MNIST_SOURCE
    assert images.shape == (len(labels), 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels[mnist], minlength=10).tolist() == [4] * 10
    assert (~mnist).sum() > 0 and np.bincount(labels[~mnist], minlength=10).max() <= 4
    again = select(sample, seed=1, per_digit=4, styled_draws=40)
    np.testing.assert_array_equal(again[0], images), "seeded"


def test_the_index_holds_the_features_the_served_model_reads(predictor, sample):
    index = build_index(predictor.model, "a" * 64, sample, seed=1, dry_run=True)
    assert index.model_sha256 == "a" * 64
    np.testing.assert_allclose(np.linalg.norm(index.features, axis=1), 1.0, atol=1e-5)
    _, served = predictor.predict_with_features(index.images.astype(np.float32) / 255)
    served /= np.linalg.norm(served, axis=1, keepdims=True)
    assert np.min(np.sum(served * index.features, axis=1)) > 0.999, "LiteRT reads the same"


def test_a_run_gets_its_index_beside_its_model_recorded(predictor, sample, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy2(DEFAULT_MODEL_PATH, run / MODEL_FILENAME)
    write_json(run / METRICS_FILENAME, {"model": {"sha256": sha256_file(run / MODEL_FILENAME)}})
    record = neighbours.write_beside(
        predictor.model, run / MODEL_FILENAME, sample, seed=1, dry_run=True
    )
    assert record == read_json(run / METRICS_FILENAME)[METRICS_KEY]
    assert record["sha256"] == sha256_file(run / NEIGHBOURS_FILENAME)
    assert record["model_sha256"] == sha256_file(run / MODEL_FILENAME)
    assert isinstance(index_for(run / MODEL_FILENAME), NeighbourIndex), "the core accepts it"


def test_the_shipped_models_index_is_never_written_into_assets(sample_mnist_path):
    with pytest.raises(OutputError, match="--index-only"):
        neighbours.rebuild(DEFAULT_MODEL_PATH, str(sample_mnist_path), None, seed=1)
